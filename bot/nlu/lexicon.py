"""Word lists kept as data in `knowledge/lexicon/`, editable without reading Python.

`sms_fr.txt` spells out SMS French before the model reads a message; `darija_latin.txt`,
`french.txt` and `french_domain.txt` tell Arabizi from French when no learned variant model is
available. They are read once, from the knowledge base the application names at start (`use`,
from the settings; the repository's by default); `fingerprint()` enters the model's cache key,
so editing a list retrains the model at the next start or /reload.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

REPO_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
_directory = REPO_KNOWLEDGE / "lexicon"


def directory() -> Path:
    return _directory


def use(knowledge_dir: Path) -> None:
    """Read the lists of this knowledge base from now on (the next load of an Understander
    reads them again)."""
    global _directory
    _directory = Path(knowledge_dir) / "lexicon"
    reload()


def _lines(name: str) -> list[str]:
    path = directory() / name
    if not path.exists():  # a knowledge base without lists: the normaliser still works
        return []
    return [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@cache
def words(name: str) -> tuple[str, ...]:
    """Every word of a list file (any spacing)."""
    return tuple(word for line in _lines(name) for word in line.split())


@cache
def expansions(name: str) -> dict[str, str]:
    """`abbreviation = expansion` lines."""
    out: dict[str, str] = {}
    for line in _lines(name):
        key, sep, value = line.partition("=")
        if sep and key.strip() and value.strip():
            out[key.strip().lower()] = value.strip().lower()
    return out


def fingerprint() -> str:
    digest = hashlib.sha256()
    folder = directory()
    if folder.is_dir():
        for path in sorted(folder.glob("*.txt")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def reload() -> None:
    words.cache_clear()
    expansions.cache_clear()
