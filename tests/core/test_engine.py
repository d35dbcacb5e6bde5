"""The engine's guarantees: stored before handled, handled once, in order, never a crash."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.core.engine import Engine, _command
from bot.core.router import Router
from bot.core.turn import Turn
from storage.models import Call, InboundMessage, OutboxMessage
from tests.driver import Hotline


def test_command_parsing() -> None:
    assert _command("/lang ary") == ("lang", "ary")
    assert _command("/START@HotlineBot  token-1 ") == ("start", "token-1")
    assert _command("slt /lang") == (None, "")
    assert _command("/") == (None, "")


async def test_a_redelivered_update_is_handled_once(engine: Engine, hotline: Hotline) -> None:
    amina = hotline.newcomer("amina")
    first = await amina.says("Bonjour", update_id="7")
    again = await amina.says("Bonjour", update_id="7")
    assert first and again == []
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count(InboundMessage.id))) == 1


async def test_messages_of_one_chat_are_handled_in_order(engine: Engine, hotline: Hotline) -> None:
    amina = hotline.newcomer("amina")
    await amina.says("Bonjour")
    await amina.taps("framework:ack")
    # Stored first (as after a restart, or while another process holds the chat), then
    # handled by several concurrent calls: the order they are handled in is the order of the
    # replies they cause in the outbox, never a sorted view of it.
    texts = [f"question {i}" for i in range(6)]
    for text in texts:
        await amina.stores(text=text)
    await asyncio.gather(*(engine.process("console", "amina") for _ in range(3)))
    async with engine.db.transaction() as session:
        causes = (
            await session.execute(
                select(InboundMessage.text)
                .join(OutboxMessage, OutboxMessage.cause_id == InboundMessage.id)
                .where(InboundMessage.text.like("question %"))
                .order_by(OutboxMessage.id)
            )
        ).scalars()
        handled = list(dict.fromkeys(causes))  # each message's first reply, in outbox order
        unhandled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
        )
    assert handled == texts
    assert unhandled == 0


async def test_a_failing_handler_apologises_and_keeps_the_message(
    engine: Engine, hotline: Hotline
) -> None:
    broken = Router("broken")

    @broken.intent("greeting", "none", "menu")
    async def explode(turn: Turn) -> None:
        await turn.reply("half-written reply")
        raise RuntimeError("boom")

    engine.routes.intents.update(broken.intents)
    amina = hotline.newcomer("amina")
    await amina.says("Bonjour")
    effects = await amina.taps("framework:ack")
    assert [e.text for e in effects] == [
        "Désolé, un problème technique est survenu de notre côté. Votre message est bien "
        "enregistré et un coach peut le voir ; réessayez dans un instant."
    ]
    async with engine.db.transaction() as session:
        message = await session.scalar(
            select(InboundMessage).where(InboundMessage.button == "framework:ack")
        )
        assert message is not None and message.handled_at is not None
        assert message.error == "RuntimeError: boom"
        # The half-written reply was rolled back with the failed handling.
        assert (
            await session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.text == "half-written reply"
                )
            )
            == 0
        )


async def test_silence_opens_a_new_call(engine: Engine, hotline: Hotline) -> None:
    amina = hotline.newcomer("amina")
    await amina.says("Bonjour")
    hotline.advance(minutes=29)
    await amina.says("encore là ?")
    hotline.advance(minutes=30)
    await amina.says("re-bonjour")
    async with engine.db.transaction() as session:
        calls = (await session.scalars(select(Call.framework_text).order_by(Call.id))).all()
    # Never acknowledged: the second call recalls the framework in full again.
    assert calls == ["full", "full"]
