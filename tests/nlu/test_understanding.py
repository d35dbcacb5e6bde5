"""What the understanding must get right, as a table: the cases the issue named (greeting with an
introduction, everyday "good", danger told without a danger word, alarming look-alikes) and one
ordinary question per variant. The figures over thousands of messages are in bench/nlu.py; these
are the cases a regression must never bring back."""

from __future__ import annotations

import pytest

from bot.nlu import Understander

QUESTIONS = [
    ("c'est quoi un sociogramme ?", "sociogram", "fr"),
    ("slt svp c koi le role du coach", "coach_role", "fr"),
    ("comment supprimer mes donnees", "privacy", "fr"),
    ("je veux parler a mon coach", "talk_to_coach", "fr"),
    ("شنو هو السوسيوغرام؟", "sociogram", "ary"),
    ("كيفاش نقيمو المشروع ديالنا", "evaluation", "ary"),
    ("chno howa sociogramme", "sociogram", "ary-Latn"),
    ("bghit nhder m3a l coach", "talk_to_coach", "ary-Latn"),
]
SMALL_TALK = [
    # Greeting plus who one is: a welcome, never "I don't understand".
    ("Bonjour, je suis trésorier de l'association Al Amal", "greeting"),
    ("السلام عليكم، أنا فاطمة رئيسة جمعية النور", "greeting"),
    # "Good" is no problem report; neither is a negated problem.
    ("مزيان", "acknowledge"),
    ("mzyan", "acknowledge"),
    ("OK, lundi ça me va", "acknowledge"),
    ("non ce n'est pas un problème", "acknowledge"),
    ("merci beaucoup", "thanks"),
    ("baraka mn les rappels", "stop_reminders"),
]
DANGER = [
    "واحد طاح وما كيتنفسش",
    "kayn wa7ed tay7 w ma kaytneffesch",
    "il y a un bébé abandonné devant la mosquée",
    "une femme accouche seule dans la rue",
    "un enfant mendie à 2h du matin dans le froid",
    "mon voisin veut se suicider",
    "كاين واحد كيضرب مراتو",
]
ALARMING = [
    "la réunion urgente de demain est maintenue ?",
    "notre association est en train de mourir faute d'argent",
    "nous organisons une campagne de prévention du suicide chez les jeunes",
    "l'accident de la route de l'an dernier montre qu'il faut un ralentisseur",
    "au secours ce tableau excel me rend fou",
    "البير ديال الدوار نشف",
]
OUT_OF_SCOPE = [
    "qui a gagné le match du wydad hier",
    "recette de la harira",
    "شكون ربح الماتش البارح",
    "kifach ntyyeb couscous",
]


@pytest.mark.parametrize(("text", "intent", "lang"), QUESTIONS)
def test_questions(understander: Understander, text: str, intent: str, lang: str) -> None:
    u = understander.understand(text)
    assert (u.intent, u.lang) == (intent, lang)


@pytest.mark.parametrize(("text", "intent"), SMALL_TALK)
def test_small_talk(understander: Understander, text: str, intent: str) -> None:
    assert understander.understand(text).intent == intent


@pytest.mark.parametrize("text", DANGER)
def test_danger_is_never_missed(understander: Understander, text: str) -> None:
    # Acted on at once, or at least asked about ("is someone in danger right now?").
    assert understander.understand(text).intent == "emergency"


@pytest.mark.parametrize("text", DANGER[:4])
def test_plain_danger_without_danger_words_is_acted_on(
    understander: Understander, text: str
) -> None:
    assert understander.understand(text).urgent


@pytest.mark.parametrize("text", ALARMING)
def test_alarming_look_alikes_are_not_emergencies(understander: Understander, text: str) -> None:
    assert understander.understand(text).intent != "emergency"


@pytest.mark.parametrize("text", OUT_OF_SCOPE)
def test_out_of_scope_is_none(understander: Understander, text: str) -> None:
    assert understander.understand(text).intent == "none"


def test_a_person_who_said_no_danger_gets_the_other_reading(understander: Understander) -> None:
    text = "kayn wa7ed tay7 w ma kaytneffesch"
    assert understander.understand(text, danger=False).intent != "emergency"


def test_short_words_do_not_claim_a_language(understander: Understander) -> None:
    assert not understander.understand("ok").lang_sure
    assert understander.understand("bghit n3ref chno howa sociogramme").lang_sure


def test_scores_are_probabilities(understander: Understander) -> None:
    for text in ["", "?", "bonjour", "xyz qwerty", "شنو هو السوسيوغرام"]:
        u = understander.understand(text)
        assert 0.0 <= u.score <= 1.0
    assert understander.understand("   ").intent == "none"
