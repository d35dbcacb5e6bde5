from __future__ import annotations

import pytest

from bot.nlu import Understander


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("c'est quoi un sociogramme ?", "sociogram"),
        ("comment faire notre plan d'action avec la commune", "action_plan"),
        ("slt svp c koi le role du coach", "coach_role"),
        ("comment supprimer mes donnees", "privacy"),
        ("bonjour", "greeting"),
        ("je veux parler a mon coach", "talk_to_coach"),
    ],
)
def test_french(understander: Understander, text: str, intent: str) -> None:
    u = understander.understand(text)
    assert (u.intent, u.lang) == (intent, "fr")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("شنو هو السوسيوغرام؟", "sociogram"),
        ("واش اللجنة غادي تجتمع هاد السيمانة؟", "local_committee"),
        ("كيفاش نقيمو المشروع ديالنا", "evaluation"),
        ("السلام عليكم", "greeting"),
        ("بغيت نبلغ على مشكل فالمشروع", "report_problem"),
    ],
)
def test_darija_arabic_script(understander: Understander, text: str, intent: str) -> None:
    u = understander.understand(text)
    assert (u.intent, u.lang) == (intent, "ary")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("bghit n3ref kifach nsayb plan d'action m3a la commune", "action_plan"),
        ("chno howa sociogramme", "sociogram"),
        ("kifach ndkhol l lijna", "local_committee"),
        ("bghit nhder m3a l coach", "talk_to_coach"),
        ("chokran bzaf bslama", "goodbye"),
    ],
)
def test_darija_latin_script(understander: Understander, text: str, intent: str) -> None:
    u = understander.understand(text)
    assert (u.intent, u.lang) == (intent, "ary-Latn")


@pytest.mark.parametrize(
    "text",
    [
        "qui a gagné le match du wydad hier",
        "recette de la harira",
        "je vends ma voiture diesel",
        "شكون ربح الماتش البارح",
        "kifach ntyyeb couscous",
    ],
)
def test_out_of_scope_is_none(understander: Understander, text: str) -> None:
    assert understander.understand(text).intent == "none"


@pytest.mark.parametrize(
    "text",
    [
        "urgence, un enfant est en danger",
        "mon voisin veut se suicider",
        "il y a un incendie dans le douar",
        "كاين واحد كيضرب مراتو",
        "واحد بغا ينتحر",
        "wa9e3 chi 7aja khatira",
        "kayn accident f triq w wa7ed mjrou7",
        "خطر",
        "واحد الراجل كيضربو ولادو",
        "jari kaydrbo bah kol nhar",
        "wlidi tay7 f lbir 3afakom",
        "بنتي طاحت فالبير",
    ],
)
def test_emergency_recall(understander: Understander, text: str) -> None:
    u = understander.understand(text)
    assert u.intent == "emergency"
    assert u.score >= 0.9


def test_score_is_in_unit_interval(understander: Understander) -> None:
    for text in ["", "?", "bonjour", "xyz qwerty", "شنو هو السوسيوغرام"]:
        u = understander.understand(text)
        assert 0.0 <= u.score <= 1.0


def test_empty_message_is_none(understander: Understander) -> None:
    assert understander.understand("   ").intent == "none"


@pytest.mark.parametrize(
    "text", ["bir dyal douar nachf, bghina n7efro wa7ed jdid", "البير ديال الدوار نشف"]
)
def test_a_well_without_a_fall_is_no_emergency(understander: Understander, text: str) -> None:
    assert understander.understand(text).intent != "emergency"
