"""Opening calls: a call starts on /start or after a silence, and always with the framework."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.hot import add_new
from storage.models import Actor, Call, FrameworkText


async def latest_call(session: AsyncSession, actor: Actor) -> Call | None:
    return await session.scalar(
        select(Call).where(Call.actor_id == actor.id).order_by(Call.id.desc()).limit(1)
    )


async def has_acknowledged(session: AsyncSession, actor: Actor) -> bool:
    found = await session.scalar(
        select(Call.id).where(Call.actor_id == actor.id, Call.acknowledged_at.is_not(None)).limit(1)
    )
    return found is not None


async def current_or_new(
    session: AsyncSession,
    actor: Actor,
    channel: str,
    chat_id: str,
    now: datetime,
    silence: timedelta,
    force_new: bool = False,
    known: tuple[Call | None, bool] | None = None,
    lang: str | None = None,
) -> tuple[Call, bool]:
    """The call this message belongs to, and whether it was opened just now.

    `known`: (latest call, ever acknowledged), when the caller already read them; `lang`:
    the variant of this message when sure, kept as the call's.
    """
    call = await latest_call(session, actor) if known is None else known[0]
    if call is not None and not force_new and now - call.last_activity_at < silence:
        call.last_activity_at = now
        if lang is not None:
            call.lang = lang
        return call, False
    # Someone who never acknowledged the framework reads it in full again.
    acknowledged = await has_acknowledged(session, actor) if known is None else known[1]
    framework_text = FrameworkText.SHORT if acknowledged else FrameworkText.FULL
    call = Call(
        actor_id=actor.id,
        channel=channel,
        chat_id=chat_id,
        opened_at=now,
        last_activity_at=now,
        framework_text=framework_text,
        framework_lang=lang or actor.lang,
        lang=lang,
        acknowledged_at=None,
    )
    await add_new(session, call)  # every column set: one INSERT, past the unit of work
    return call, True
