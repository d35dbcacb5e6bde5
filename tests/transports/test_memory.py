"""After the start: one collection, the survivors frozen, the collector running again."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.transports.memory import pause_collection, settle_after_start


@pytest.fixture
def collector() -> Iterator[None]:
    yield
    gc.enable()
    gc.unfreeze()


@pytest.mark.usefixtures("collector")
def test_settling_collects_freezes_and_resumes_a_paused_collector() -> None:
    pause_collection()
    assert not gc.isenabled()

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    garbage = weakref.ref(Cycle())
    for _ in range(10 * gc.get_threshold()[0]):  # would have set off young collections
        Cycle()
    assert garbage() is not None
    settle_after_start()
    assert garbage() is None
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
