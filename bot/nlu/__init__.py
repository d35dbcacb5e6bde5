"""Understanding what actors write: language variant, intent, knowledge answers.

This is the contract the engine relies on; the implementation lives in the submodules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

VARIANTS = ("fr", "ary", "ary-Latn")

_ARABIC = re.compile(r"[\u0600-\u06FF]")
_ARABIZI_DIGIT = re.compile(r"[a-z][379]|[379][a-z]", re.IGNORECASE)


@dataclass(frozen=True)
class Understanding:
    intent: str  # a knowledge topic id, an action id, or "none"
    score: float  # calibrated confidence in 0..1
    lang: str  # one of VARIANTS


def identify_language(text: str) -> str:
    """A script-based guess: Arabic letters mean Darija in Arabic script."""
    if _ARABIC.search(text):
        return "ary"
    if _ARABIZI_DIGIT.search(text):
        return "ary-Latn"
    return "fr"


class Understander:
    """Maps a message to an intent and serves knowledge answers."""

    def __init__(self, knowledge_dir: Path) -> None:
        self.knowledge_dir = knowledge_dir

    def understand(self, text: str) -> Understanding:
        return Understanding(intent="none", score=0.0, lang=identify_language(text))

    def answer(self, topic: str, lang: str) -> str | None:
        return None

    def reload(self) -> None:
        return None
