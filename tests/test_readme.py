"""The README's map of the code stays true: every package and module of bot/ is in its tree,
and every file it names exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _tree() -> str:
    section = README.split("## How it is built", 1)[1]
    return section.split("```", 2)[1]


def test_the_tree_names_every_package_and_top_level_module() -> None:
    tree = _tree()
    named = set(re.findall(r"\b([\w]+(?:\.py|/))", tree))
    packages = {f"{p.parent.name}/" for p in (REPO / "bot").glob("*/__init__.py")}
    modules = {p.name for p in (REPO / "bot").glob("*.py") if p.name != "__init__.py"}
    assert packages - named == set()
    assert modules - named == set()


def test_every_file_the_tree_names_exists() -> None:
    sources = {p.name for p in REPO.glob("bot/**/*.py")} | {
        p.name for p in REPO.glob("storage/**/*.py")
    }
    for name in re.findall(r"\b(\w+\.py)\b", _tree()):
        assert name in sources, name
