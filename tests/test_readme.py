"""The README's map of the code stays true: every package and module of bot/ is in its tree,
every file it names exists, and every name its glossary gives is in the code."""

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
    modules = {
        p.name
        for folder in ("bot", "bot/core", "bot/transports")
        for p in (REPO / folder).glob("*.py")
        if p.name != "__init__.py"
    }
    assert packages - named == set()
    assert modules - named == set()


def test_every_file_the_tree_names_exists() -> None:
    sources = {p.name for p in REPO.glob("bot/**/*.py")} | {
        p.name for p in REPO.glob("storage/**/*.py")
    }
    for name in re.findall(r"\b(\w+\.py)\b", _tree()):
        assert name in sources, name


def _glossary_names() -> list[str]:
    """The names in backticks of the glossary's "in the code" and "what it is" columns."""
    section = README.split("### Glossary", 1)[1].split("\n\n- ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    names: list[str] = []
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        names += re.findall(r"`([^`]+)`", " ".join(cells[1:]))
    return names


def _class_source(name: str) -> str | None:
    """The source of the module defining class `name` in bot/ or storage/, if any."""
    for path in [*REPO.glob("bot/**/*.py"), *REPO.glob("storage/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        if re.search(rf"^class {name}\b", text, re.MULTILINE):
            return text
    return None


def test_every_name_the_glossary_gives_is_in_the_code() -> None:
    from bot.app import routers
    from bot.core.router import Routes

    commands = Routes(routers()).commands
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [*REPO.glob("bot/**/*.py"), *REPO.glob("storage/**/*.py")]
    )
    labels = {p.stem for p in (REPO / "knowledge").glob("*.toml")}
    names = _glossary_names()
    assert len(names) > 40
    for name in names:
        if "*" in name or "…" in name:  # a family of names (HOTLINE_SLA_*, case:take:…)
            continue
        if name.endswith(".py"):
            assert (REPO / name).is_file(), name
        elif name.startswith("/"):
            assert name[1:] in commands, name
        elif name[0].isupper():
            owner, _, attribute = name.partition(".")
            source = _class_source(owner)
            if source is None:  # an enum member such as SHORT, named after its enum
                assert re.search(rf"\b{name}\b", code), name
            else:
                assert not attribute or re.search(rf"\b{attribute}\b", source), name
        else:
            assert name in labels or re.search(rf"\b{name}\b", code), name
