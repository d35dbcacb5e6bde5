"""Small helpers shared by the trust tests: declare people, talk, read the outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core.effects import Effect
from bot.core.engine import Engine
from bot.core.events import Event, Sender
from storage.models import Actor, Call, Reminder

CHANNEL = "console"


async def declare(engine: Engine, name: str, role: str = "actor", lang: str = "fr") -> int:
    """An actor who has already acknowledged the framework in a call still open."""
    now = engine.clock.now()
    async with engine.db.transaction() as session:
        actor = Actor(
            channel=CHANNEL,
            external_id=name,
            chat_id=name,
            display_name=name.capitalize(),
            role=role,
            lang=lang,
            lang_chosen=True,
            created_at=now,
        )
        session.add(actor)
        await session.flush()
        session.add(
            Call(
                actor_id=actor.id,
                channel=CHANNEL,
                chat_id=name,
                opened_at=now - timedelta(minutes=1),
                last_activity_at=now,
                reminder=Reminder.FULL,
                reminder_lang=lang,
                acknowledged_at=now,
            )
        )
        return actor.id


_ids = iter(range(1, 10**9))


async def say(
    engine: Engine, name: str, text: str | None = None, **content: object
) -> list[Effect]:
    event = Event(
        CHANNEL,
        name,
        Sender(name, name.capitalize()),
        engine.clock.now(),
        text=text,
        update_id=f"{name}-{next(_ids)}",
        **content,  # type: ignore[arg-type]
    )
    return await engine.handle(event)


async def actor_named(engine: Engine, name: str) -> Actor | None:
    async with engine.db.transaction() as session:
        return await session.scalar(select(Actor).where(Actor.external_id == name))
