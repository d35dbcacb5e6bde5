"""Loading the knowledge base: one TOML file per label in `knowledge/`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

VARIANTS = ("fr", "ary", "ary-Latn")
KINDS = ("topic", "action")


class KnowledgeError(ValueError):
    """A knowledge file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class KnowledgeEntry:
    id: str
    kind: str  # "topic" or "action"
    answer: dict[str, str] = field(default_factory=dict)  # variant -> text
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)  # variant -> questions
    title: dict[str, str] = field(default_factory=dict)  # variant -> short name, for coaches
    next: str | None = (
        None  # hint of the next step for the engine ("coach", "check_action_plan"...)
    )


def _entry(path: Path) -> KnowledgeEntry:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc
    ident = data.get("id")
    kind = data.get("kind", "topic")
    if not isinstance(ident, str) or not ident:
        raise KnowledgeError(f"{path.name}: missing 'id'")
    if ident == "none":
        raise KnowledgeError(f"{path.name}: 'none' is reserved for out-of-scope messages")
    if kind not in KINDS:
        raise KnowledgeError(f"{path.name}: kind must be one of {KINDS}, not {kind!r}")
    answer = data.get("answer", {})
    examples = data.get("examples", {})
    if not isinstance(answer, dict) or not isinstance(examples, dict):
        raise KnowledgeError(f"{path.name}: [answer] and [examples] must be tables")
    for variant, text in answer.items():
        if variant not in VARIANTS or not isinstance(text, str):
            raise KnowledgeError(f"{path.name}: bad answer for {variant!r}")
    if kind == "topic" and set(answer) != set(VARIANTS):
        raise KnowledgeError(f"{path.name}: a topic needs an answer in {VARIANTS}")
    cleaned: dict[str, tuple[str, ...]] = {}
    for variant, items in examples.items():
        if variant not in VARIANTS or not isinstance(items, list):
            raise KnowledgeError(f"{path.name}: bad examples for {variant!r}")
        if not all(isinstance(item, str) and item.strip() for item in items):
            raise KnowledgeError(f"{path.name}: examples for {variant!r} must be non-empty strings")
        cleaned[variant] = tuple(items)
    if not any(cleaned.values()):
        raise KnowledgeError(f"{path.name}: no examples")
    title = data.get("title", {})
    if not isinstance(title, dict) or not all(
        v in VARIANTS and isinstance(t, str) for v, t in title.items()
    ):
        raise KnowledgeError(f"{path.name}: [title] must map variants to short names")
    nxt = data.get("next")
    if nxt is not None and not isinstance(nxt, str):
        raise KnowledgeError(f"{path.name}: 'next' must be a string")
    return KnowledgeEntry(
        id=ident,
        kind=kind,
        answer={v: answer[v].strip() for v in answer},
        examples=cleaned,
        next=nxt,
        title={v: title[v].strip() for v in title},
    )


def title_of(entry: KnowledgeEntry, lang: str) -> str:
    """The short name of a label in a variant, for review screens (the id if it has none)."""
    return entry.title.get(lang) or entry.title.get("fr") or entry.id


def load_knowledge(directory: Path) -> dict[str, KnowledgeEntry]:
    """Read every `*.toml` in `directory`; raise KnowledgeError on the first problem."""
    if not directory.is_dir():
        raise KnowledgeError(f"knowledge directory not found: {directory}")
    entries: dict[str, KnowledgeEntry] = {}
    for path in sorted(directory.glob("*.toml")):
        entry = _entry(path)
        if entry.id in entries:
            raise KnowledgeError(f"{path.name}: duplicate id {entry.id!r}")
        entries[entry.id] = entry
    if not entries:
        raise KnowledgeError(f"no knowledge files in {directory}")
    return entries
