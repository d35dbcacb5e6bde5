from __future__ import annotations

import pytest

from bot.nlu import Understander
from bot.nlu.cues import explanation_question, ownership, problem_cue, without_greeting
from bot.nlu.matcher import content_tokens, emergency_level
from bot.nlu.normalize import tokens


@pytest.mark.parametrize(
    "text",
    [
        "le president refuse de signer",
        "la commune ne repond plus a nos lettres",
        "ra2is ma bghach ysayni",
        "الرئيس رفض يوقع",
        "بغيت نصرح بمشكل",
        "kolchi mbloki",
    ],
)
def test_problem_cue_fires(text: str) -> None:
    assert problem_cue(tokens(text), text)


@pytest.mark.parametrize(
    "text", ["c'est quoi un sociogramme", "makaynch chi formation?", "ما كاينش اجتماع"]
)
def test_problem_cue_stays_quiet(text: str) -> None:
    assert not problem_cue(tokens(text), text)


@pytest.mark.parametrize(
    "text",
    [
        "le trésorier a disparu avec la caisse du projet",
        "le caid refuse de nous recevoir",
        "l'entrepreneur a abandonne le chantier",
        "الجماعة ما بغاتش تعطينا الرخصة",
        "l9a2id ma bghach ysayni lwra9",
    ],
)
def test_unseen_problem_reports(understander: Understander, text: str) -> None:
    assert understander.understand(text).intent == "report_problem"


def test_greeting_words_are_set_aside_only_with_content() -> None:
    assert without_greeting(content_tokens("bonjour madame")) is None
    rest = without_greeting(content_tokens("salam, chno howa sociogramme"))
    assert rest is not None and "salam" not in rest


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("slt, j'ai une question sur le sociogramme", "sociogram"),
        ("سلام عليكم، بغيت نعرف شنو هو التشخيص", "diagnostic"),
        ("salam khoya, kifach ndkhol l lijna", "local_committee"),
        ("bonjour madame", "greeting"),
        ("مساء الخير", "greeting"),
    ],
)
def test_greeting_plus_content(understander: Understander, text: str, intent: str) -> None:
    assert understander.understand(text).intent == intent


def test_ownership() -> None:
    assert ownership(tokens("j'ai fini ma tache"), "fr") == "personal"
    assert ownership(tokens("l'action dyali"), "ary-Latn") == "personal"
    assert ownership(tokens("bilan des engagements du comite"), "fr") == "collective"
    assert ownership(tokens("ma bghach"), "ary-Latn") is None  # Darija "ma" is a negation


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("j'ai termine ma tache", "check_action_plan"),
        ("ch7al mn action m3ettla f lijna", "commitment_status"),
        ("kmmelt l'action dyali", "check_action_plan"),
        ("شكون من الأعضاء معطل", "commitment_status"),
    ],
)
def test_mine_versus_committee(understander: Understander, text: str, intent: str) -> None:
    assert understander.understand(text).intent == intent


def test_weak_emergency_word_yields_to_questions_about_the_service(
    understander: Understander,
) -> None:
    assert emergency_level("vous traitez les urgences ?") == "weak"
    assert understander.understand("est ce que vous repondez aux urgences la nuit").intent == (
        "framework"
    )
    assert understander.understand("urgence").intent == "emergency"
    assert understander.understand("urgence mon voisin saigne beaucoup").intent == "emergency"


def test_bare_keyword_example_does_not_capture_longer_questions(
    understander: Understander,
) -> None:
    assert understander.understand("coach").intent == "talk_to_coach"
    assert understander.understand("le coach decide a notre place ?").intent == "coach_role"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("le coach il fait quoi concretement", True),
        ("chno kaydir l coach", True),
        ("علاش كاين الكوتش", True),
        ("bghit n3ref chno kaydir l coach", False),
        ("c'est quoi le numéro du coach svp", False),
        ("passez moi le coach", False),
    ],
)
def test_explanation_question(text: str, expected: bool) -> None:
    assert explanation_question(tokens(text)) is expected


def test_a_what_question_goes_to_the_topic_not_the_request(understander: Understander) -> None:
    assert understander.understand("et le coach, il sert a quoi au juste ?").intent == (
        "coach_role"
    )
    assert understander.understand("passez moi le coach").intent == "talk_to_coach"
