"""Understanding what actors write: language variant, intent, knowledge answers.

This is the contract the engine relies on; the implementation lives in the submodules.
"""

from __future__ import annotations

from bot.nlu.knowledge import VARIANTS, KnowledgeEntry, KnowledgeError, load_knowledge
from bot.nlu.langid import identify_language
from bot.nlu.understander import DEFAULT_THRESHOLD, Understander, Understanding

__all__ = [
    "DEFAULT_THRESHOLD",
    "VARIANTS",
    "KnowledgeEntry",
    "KnowledgeError",
    "Understander",
    "Understanding",
    "identify_language",
    "load_knowledge",
]
