from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu import Understander

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="session")
def understander() -> Understander:
    return Understander(KNOWLEDGE)
