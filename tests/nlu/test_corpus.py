"""The corpus files: format errors named with file and line, and a split that keeps
paraphrases together and does not move when unrelated lines are added."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.nlu.corpus import Example, load_corpus, split
from bot.nlu.knowledge import KnowledgeError, load_knowledge

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def _base(tmp_path: Path) -> Path:
    for label in ("sociogram", "memorandum"):
        (tmp_path / f"{label}.toml").write_text(
            f'id = "{label}"\nkind = "topic"\n[answer]\nfr = "a"\nary = "b"\n"ary-Latn" = "c"\n'
            f'[examples]\nfr = ["{label} ?"]\n',
            encoding="utf-8",
        )
    (tmp_path / "corpus").mkdir()
    return tmp_path


def test_corpus_lines_comments_and_alarming(tmp_path: Path) -> None:
    base = _base(tmp_path)
    (base / "corpus" / "sociogram.fr.txt").write_text(
        "# a comment\n\nla carte des acteurs\n  qui travaille avec qui  \n", encoding="utf-8"
    )
    (base / "corpus" / "alarming.ary-Latn.txt").write_text(
        "memorandum | protocole 3ajel bzaf\n", encoding="utf-8"
    )
    examples = load_corpus(base, load_knowledge(base))
    corpus = [e for e in examples if e.source != "knowledge"]
    assert corpus == [
        Example("protocole 3ajel bzaf", "memorandum", "ary-Latn", "alarming"),
        Example("la carte des acteurs", "sociogram", "fr", "corpus"),
        Example("qui travaille avec qui", "sociogram", "fr", "corpus"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("sociogramm.fr.txt", "x\n", "unknown label"),
        ("sociogram.en.txt", "x\n", "<label>.<variant>.txt"),
        ("alarming.fr.txt", "sociogram | ok\nno label here\n", "alarming.fr.txt:2"),
        ("alarming.fr.txt", "emergency | il brûle\n", "alarming.fr.txt:1"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, name: str, content: str, where: str) -> None:
    base = _base(tmp_path)
    (base / "corpus" / name).write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=where.replace(".", r"\.")):
        load_corpus(base, load_knowledge(base))


def _noise(i: int) -> str:
    """Unrelated lines: each its own paraphrase group."""
    return hashlib.sha256(str(i).encode()).hexdigest()[:24]


def _ex(text: str, label: str = "sociogram") -> Example:
    return Example(text, label, "fr", "corpus")


def test_paraphrases_share_a_split() -> None:
    a = "comment on fait le sociogramme de notre commune svp"
    examples = [_ex(a), _ex(a.replace("svp", "stp")), _ex(a.replace("notre", "la"))]
    examples += [_ex(_noise(i)) for i in range(60)]
    splits = split(examples)
    assert len({splits[0], splits[1], splits[2]}) == 1
    assert {"train", "valid", "test"} <= set(splits)  # the others spread over all three


def test_split_is_stable_when_lines_are_added() -> None:
    examples = [_ex(_noise(i)) for i in range(40)]
    before = split(examples)
    after = split([*examples, _ex("une toute nouvelle ligne ajoutée par un éditeur")])
    assert after[: len(before)] == before


def test_toml_examples_always_train() -> None:
    examples = [Example(_noise(i), "sociogram", "fr", "knowledge") for i in range(30)]
    assert set(split(examples)) == {"train"}


def test_the_real_corpus_is_large_enough() -> None:
    entries = load_knowledge(KNOWLEDGE)
    examples = [e for e in load_corpus(KNOWLEDGE, entries) if e.source != "knowledge"]
    for label in [*entries, "none"]:
        mine = [e for e in examples if e.label == label and e.source == "corpus"]
        for variant in ("fr", "ary", "ary-Latn"):
            assert sum(e.variant == variant for e in mine) >= 80, (label, variant)
        assert len(mine) >= 250, label
    assert sum(e.label == "emergency" for e in examples) >= 600
    assert sum(e.source == "alarming" for e in examples) >= 600
    assert sum(e.label == "none" for e in examples) >= 600
