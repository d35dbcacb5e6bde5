"""Driving the real engine as named people, for case tests."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.effects import body
from bot.core.engine import Engine
from bot.core.events import Event, Sender
from storage.models import Actor, Role

CHANNEL = "console"


async def person(engine: Engine, name: str, role: str = Role.ACTOR, lang: str = "fr") -> Actor:
    async with engine.db.transaction() as session:
        actor = Actor(
            channel=CHANNEL,
            external_id=name,
            chat_id=name,
            display_name=name.capitalize(),
            role=role,
            lang=lang,
            lang_chosen=True,
            created_at=engine.clock.now(),
        )
        session.add(actor)
    return actor


async def say(engine: Engine, name: str, text: str | None = None, button: str | None = None) -> str:
    """What the bot answered to this person, all messages joined."""
    event = Event(CHANNEL, name, Sender(name), engine.clock.now(), text=text, button=button)
    effects = await engine.handle(event)
    return "\n".join(body(e) for e in effects if e.chat_id == name)


async def open_call(engine: Engine, name: str) -> None:
    """Start a call and acknowledge the framework, so the next event is handled as such."""
    await say(engine, name, "/start")
    await say(engine, name, button="framework:ack")


async def actor_id(engine: Engine, name: str) -> int:
    async with engine.db.transaction() as session:
        found = await session.scalar(select(Actor.id).where(Actor.external_id == name))
    assert found is not None
    return found
