"""The flood limit slows one abuser and nobody else."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.core.effects import body
from bot.core.engine import Engine
from bot.core.flood import SLOW_DOWN
from bot.core.i18n import Translator
from storage.models import InboundMessage
from tests.driver import Hotline

SLOW = Translator("fr").gettext(SLOW_DOWN)


async def test_over_the_limit_messages_are_stored_answered_once_and_not_processed(
    engine: Engine,
    hotline: Hotline,
) -> None:
    limit = engine.settings.flood_limit
    abuser = await hotline.person("abuser", in_call=True)
    neighbour = await hotline.person("neighbour", in_call=True)
    answers = []
    for index in range(limit + 5):
        answers.append(await abuser.says(f"message {index}"))
        if index == limit + 2:
            # Someone else writing in the middle of the flood is answered normally.
            other = await neighbour.says("Bonjour")
            assert other and all(body(e) != SLOW for e in other)
    assert all(a and all(body(e) != SLOW for e in a) for a in answers[:limit])
    assert [body(e) for e in answers[limit]] == [SLOW]
    assert all(a == [] for a in answers[limit + 1 :])
    async with engine.db.transaction() as session:
        stored = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.chat_id == "abuser")
        )
        unhandled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
        )
    assert stored == limit + 5
    assert unhandled == 0


async def test_the_window_slides(engine: Engine, hotline: Hotline) -> None:
    limit = engine.settings.flood_limit
    amina = await hotline.person("amina", in_call=True)
    for index in range(limit + 1):
        await amina.says(f"message {index}")
    engine.clock.advance(engine.settings.flood_window + timedelta(seconds=1))
    effects = await amina.says("Encore là ?")
    assert effects and all(body(e) != SLOW for e in effects)
