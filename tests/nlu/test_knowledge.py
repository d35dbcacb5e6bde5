from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.nlu import VARIANTS, KnowledgeError, Understander
from tests.nlu.conftest import KNOWLEDGE

TOPICS = {
    "framework", "territorial_coaching", "coach_role", "sociogram", "diagnostic",
    "synergy_workshop", "group_rules", "structured_dialogue", "memorandum", "action_plan",
    "commitments", "monitoring", "evaluation", "local_committee", "resources", "legal_structure",
    "centre_excellence", "coach_training", "privacy",
}  # fmt: skip
ACTIONS = {
    "greeting", "goodbye", "talk_to_coach", "report_problem", "check_action_plan",
    "commitment_status", "emergency", "thanks", "acknowledge", "stop_reminders",
}  # fmt: skip
MARKUP = ("<b>", "</", "**", "__", "`", "<i>")


def test_required_labels_exist(understander: Understander) -> None:
    assert set(understander.topics) >= TOPICS
    assert set(understander.actions) >= ACTIONS


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_topic_answers_in_every_variant(understander: Understander, topic: str) -> None:
    for lang in VARIANTS:
        text = understander.answer(topic, lang)
        assert text, (topic, lang)
        assert len(text) <= 600, (topic, lang, len(text))
        assert not any(m in text for m in MARKUP), (topic, lang)


@pytest.mark.parametrize("label", sorted(TOPICS | ACTIONS))
def test_examples_and_title_in_every_variant(understander: Understander, label: str) -> None:
    # The short examples of the TOML file; the bulk of the training data is knowledge/corpus/.
    entry = understander.entry(label)
    assert entry is not None
    for lang in VARIANTS:
        assert entry.examples.get(lang), (label, lang)
        assert entry.title.get(lang), (label, lang)


def test_answer_unknown_topic_or_action(understander: Understander) -> None:
    assert understander.answer("no_such_topic", "fr") is None
    assert understander.answer("greeting", "fr") is None
    assert understander.answer("sociogram", "xx") == understander.answer("sociogram", "fr")


def test_next_step(understander: Understander) -> None:
    assert understander.next_step("action_plan") == "check_action_plan"


def _mini(dir_: Path, answer_fr: str) -> None:
    (dir_ / "sociogram.toml").write_text(
        f'''id = "sociogram"
kind = "topic"
[answer]
fr = "{answer_fr}"
ary = "جواب"
"ary-Latn" = "jawab"
[examples]
fr = ["c'est quoi un sociogramme"]
ary = ["شنو هو السوسيوغرام"]
"ary-Latn" = ["chno howa sociogramme"]
''',
        encoding="utf-8",
    )
    # The model needs a second label to tell apart.
    (dir_ / "greeting.toml").write_text(
        'id = "greeting"\nkind = "action"\n[examples]\nfr = ["bonjour", "salut"]\n'
        'ary = ["السلام عليكم"]\n"ary-Latn" = ["salam"]\n',
        encoding="utf-8",
    )


def test_reload_sees_changes_and_survives_broken_file(tmp_path: Path) -> None:
    _mini(tmp_path, "version one")
    u = Understander(tmp_path)
    assert u.answer("sociogram", "fr") == "version one"
    _mini(tmp_path, "version two")
    u.reload()
    assert u.answer("sociogram", "fr") == "version two"
    (tmp_path / "broken.toml").write_text('id = "broken\n[answer', encoding="utf-8")
    with pytest.raises(KnowledgeError):
        u.reload()
    assert u.answer("sociogram", "fr") == "version two"
    assert u.understand("c'est quoi un sociogramme").intent == "sociogram"


def test_reload_of_the_real_base(tmp_path: Path) -> None:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    u = Understander(target)
    before = set(u.labels)
    (target / "sociogram.toml").unlink()
    with pytest.raises(KnowledgeError, match="sociogram"):
        u.reload()  # its corpus lines are still there: an editor is told, nothing changes
    assert "sociogram" in u.labels
    for path in (target / "corpus").glob("*.txt"):
        if path.name.startswith("sociogram."):
            path.unlink()
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
            kept = [line for line in lines if not line.startswith("sociogram |")]
            path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    u.reload()
    assert set(u.labels) == before - {"sociogram"}


def test_topic_without_all_answers_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text(
        'id = "x"\nkind = "topic"\n[answer]\nfr = "a"\n[examples]\nfr = ["q"]\n',
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError):
        Understander(tmp_path)
