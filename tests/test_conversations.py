"""Conversations that never trap or lose what people say: ways out of a flow, the framework
acknowledged in words, a stable interface language, and a whole abandoned-flow-then-question
journey on each database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.conversation.framework import ACK, THANKS
from bot.core.effects import body
from bot.core.engine import Engine, _note_variant
from bot.core.i18n import Translator
from bot.core.leaving import acknowledges, leaves
from bot.core.telegram_html import escape
from bot.nlu import Understander
from storage.models import Actor, Case, FlowSession
from tests.driver import Hotline


@pytest.mark.parametrize(
    "text",
    [
        "annuler",
        "Laisse tomber merci",
        "laissez tomber",
        "خلاص",
        "safi",
        "baraka",
        "khlas",
        "non, ce n'est pas un problème",
        "ماشي مشكل",
        "machi mochkil",
        "non merci",
    ],
)
def test_ways_out(text: str) -> None:
    assert leaves(text)


@pytest.mark.parametrize(
    "text",
    [
        "rien",
        "non",
        "le chantier est arrêté",
        "depuis 2 mois",
        "annuler la réunion de lundi",
        "safi, l3amal ma bdach 7ta daba",
    ],
)
def test_answers_are_not_ways_out(text: str) -> None:
    assert not leaves(text)


@pytest.mark.parametrize("text", ["ok", "OK d'accord", "wakha", "واخا", "فهمت", "ok merci"])
def test_acknowledgements(text: str) -> None:
    assert acknowledges(text)


@pytest.mark.parametrize("text", ["ok mais c'est quoi le PAC", "non", "bonjour"])
def test_not_only_acknowledgements(text: str) -> None:
    assert not acknowledges(text)


def _actor(lang: str = "fr", chosen: bool = False) -> Actor:
    return Actor(lang=lang, lang_chosen=chosen)


def test_one_message_never_flips_the_interface() -> None:
    actor = _actor()
    _note_variant(actor, "ary-Latn")
    _note_variant(actor, "ary-Latn")
    assert actor.lang == "fr"
    _note_variant(actor, "ary-Latn")  # three of the last five: the variant they mostly use
    assert actor.lang == "ary-Latn"
    _note_variant(actor, "fr")
    _note_variant(actor, "fr")
    assert actor.lang == "ary-Latn" and actor.recent_langs == ["ary-Latn"] * 3 + ["fr"] * 2


def test_a_chosen_language_stays() -> None:
    actor = _actor("ary", chosen=True)
    for _ in range(5):
        _note_variant(actor, "fr")
    assert actor.lang == "ary"


async def test_abandoned_report_then_a_question(
    engine: Engine, understander: Understander, hotline: Hotline
) -> None:
    """Someone starts a report, walks away, and comes back with a question: the question is
    answered after the framework, the report is over and nothing was opened."""
    t = Translator("fr")
    amina = hotline.newcomer("amina")
    await amina.says("Bonjour")
    await amina.taps("framework:ack")
    await amina.says("je veux signaler un problème")
    await amina.taps("report:cat:conflict")
    engine.clock.advance(timedelta(minutes=45))
    framework = await amina.says("c'est quoi un sociogramme ?")
    assert framework[0].buttons[0][0].label == t.gettext(ACK)
    after = await amina.says("ok d'accord")
    assert [body(e) for e in after] == [
        t.gettext(THANKS),
        escape(understander.answer("sociogram", "fr") or ""),
    ]
    # The next words are taken as themselves, not as the report's next answer.
    thanks = await amina.says("merci")
    assert body(thanks[0]) == t.gettext("You are welcome. Write whenever you need anything else.")
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count(FlowSession.chat_id))) == 0
        assert await session.scalar(select(func.count(Case.id))) == 0
    actor = await hotline.actor("amina")
    assert actor is not None and actor.lang == "fr"
