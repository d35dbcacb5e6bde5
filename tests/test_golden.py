"""Replays every transcript under tests/golden/transcripts (see tests/golden/runner.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.core.config import Settings
from bot.nlu import Understander
from tests.golden.runner import replay

TRANSCRIPTS = sorted((Path(__file__).parent / "golden" / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
async def test_transcript(path: Path, settings: Settings, understander: Understander) -> None:
    if "/reload" in path.read_text(encoding="utf-8"):
        # A reload retrains with the reviewed messages: give it its own, not the shared one.
        understander = Understander(understander.knowledge_dir)
    actual = await replay(path, settings, understander)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")
