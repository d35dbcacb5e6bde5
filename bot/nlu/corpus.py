"""The training corpus: realistic messages per label and variant, kept as plain text files.

`knowledge/corpus/<label>.<variant>.txt` holds one message per line; `alarming.<variant>.txt`
holds `label | message` lines (alarming words, nobody in danger); `field.tsv` holds messages
reviewed by coaches. The short examples of each `knowledge/<label>.toml` are training data too.
See `knowledge/corpus/README.md` for the format, written for editors rather than programmers.

The split into train / validation / test is a pure function of the data: near-paraphrases of one
message (same label and variant, similar wording) form one group, and a group goes whole to one
split by a hash of its first member, so a test figure is never measured on a paraphrase of a
training line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.nlu.knowledge import VARIANTS, KnowledgeEntry, KnowledgeError

NONE = "none"
SPLITS = ("train", "valid", "test")
# Shares of the groups in each split (train, valid): the rest is test.
_SHARES = (0.70, 0.15)
# Two lines of one label and variant at or above this similarity are one paraphrase group.
PARAPHRASE_SIMILARITY = 80
_FILE = re.compile(r"^(?P<label>[a-z_]+)\.(?P<variant>fr|ary|ary-Latn)\.txt$")


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    variant: str
    source: str  # "corpus", "alarming", "knowledge" (the TOML examples) or "field"


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def load_corpus(
    knowledge_dir: Path, entries: Mapping[str, KnowledgeEntry], *, toml_examples: bool = True
) -> list[Example]:
    """Every training example under `knowledge_dir`, in a stable order.

    Raises KnowledgeError on an unknown label or variant, naming the file and line, so a typo
    in a file an editor touched is reported instead of silently training on it.
    """
    known = set(entries) | {NONE}
    out: list[Example] = []
    if toml_examples:
        for entry in entries.values():
            for variant, items in entry.examples.items():
                out.extend(Example(text, entry.id, variant, "knowledge") for text in items)
    corpus = knowledge_dir / "corpus"
    if not corpus.is_dir():
        return out
    for path in sorted(corpus.glob("*.txt")):
        match = _FILE.match(path.name)
        if match is None:
            raise KnowledgeError(f"corpus/{path.name}: name must be <label>.<variant>.txt")
        label, variant = match["label"], match["variant"]
        if label == "alarming":
            for number, line in _lines(path):
                tag, sep, text = line.partition("|")
                tag, text = tag.strip(), text.strip()
                if not sep or not text or tag not in known or tag == "emergency":
                    raise KnowledgeError(
                        f"corpus/{path.name}:{number}: expected 'label | message' with a known "
                        f"label other than emergency, not {tag!r}"
                    )
                out.append(Example(text, tag, variant, "alarming"))
            continue
        if label not in known:
            raise KnowledgeError(f"corpus/{path.name}: unknown label {label!r}")
        out.extend(Example(line, label, variant, "corpus") for _, line in _lines(path))
    field = corpus / "field.tsv"
    if field.exists():
        out.extend(load_field(field, known))
    return out


def load_field(path: Path, known: set[str]) -> list[Example]:
    """Reviewed messages: `label<TAB>variant<TAB>text` per line."""
    out = []
    for number, line in _lines(path):
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in known or parts[1] not in VARIANTS:
            raise KnowledgeError(f"corpus/{path.name}:{number}: expected label, variant, text")
        out.append(Example(parts[2].strip(), parts[0], parts[1], "field"))
    return out


def data_hash(examples: Iterable[Example], *extra: str) -> str:
    digest = hashlib.sha256()
    for part in extra:
        digest.update(part.encode())
        digest.update(b"\0")
    for ex in examples:
        digest.update(f"{ex.label}\t{ex.variant}\t{ex.source}\t{ex.text}\n".encode())
    return digest.hexdigest()


def _bucket(key: str) -> str:
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
    if value < _SHARES[0]:
        return "train"
    if value < _SHARES[0] + _SHARES[1]:
        return "valid"
    return "test"


def split(examples: list[Example]) -> list[str]:
    """The split of each example ("train", "valid" or "test"), aligned with `examples`.

    The TOML examples and field reviews always train: the former were written alongside earlier
    tuning, the latter are the loop's own data. Corpus lines are grouped by label and variant
    into paraphrase groups (union of pairs at PARAPHRASE_SIMILARITY or more), and each group
    goes to the split that a hash of its smallest member picks.
    """
    result = ["train"] * len(examples)
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, ex in enumerate(examples):
        if ex.source in ("corpus", "alarming"):
            by_key.setdefault((ex.label, ex.variant), []).append(i)
    for (label, variant), indices in by_key.items():
        texts = [examples[i].text.lower() for i in indices]
        parent = list(range(len(indices)))

        matrix = process.cdist(
            texts, texts, scorer=fuzz.ratio, score_cutoff=PARAPHRASE_SIMILARITY, dtype="uint8"
        )
        rows, cols = matrix.nonzero()
        for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
            if a < b:
                parent[_find(parent, a)] = _find(parent, b)
        groups: dict[int, list[int]] = {}
        for local in range(len(indices)):
            groups.setdefault(_find(parent, local), []).append(local)
        for members in groups.values():
            key = f"{label}\t{variant}\t{min(texts[m] for m in members)}"
            bucket = _bucket(key)
            for m in members:
                result[indices[m]] = bucket
    return result


def _find(parent: list[int], a: int) -> int:
    """Union-find root, with path halving."""
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a
