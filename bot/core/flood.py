"""A per-actor flood limit that slows an abuser without slowing anyone else.

Counted from the stored messages themselves (a sliding window ending at the message's own
time), so it holds across restarts and across processes. Over the limit, a message is
stored and marked handled but not processed; the first one over the limit in a window gets
one polite answer, the rest get none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import Settings
from bot.core.i18n import N_, translator
from bot.core.outbox import enqueue
from storage.models import Actor, InboundMessage, OutboxMessage

FLOOD = "flood"  # the intent recorded on messages left unprocessed by the limit
SLOW_DOWN = N_(
    "You are sending many messages very quickly. They are all saved; please wait a minute "
    "before writing again, and I will answer."
)


async def _count(session: AsyncSession, message: InboundMessage, since: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count(InboundMessage.id)).where(
                InboundMessage.actor_id == message.actor_id,
                InboundMessage.received_at > since,
                InboundMessage.id <= message.id,
            )
        )
        or 0
    )


async def over_limit(
    session: AsyncSession,
    message: InboundMessage,
    settings: Settings,
    known: bool | None = None,
) -> bool:
    """`known`: the answer, when the caller already had it read along with the message."""
    if settings.flood_limit <= 0:
        return False
    if known is not None:
        return known
    counted = await _count(session, message, message.received_at - settings.flood_window)
    return counted > settings.flood_limit


async def slow_down(
    session: AsyncSession,
    message: InboundMessage,
    actor: Actor,
    now: datetime,
    settings: Settings,
) -> list[OutboxMessage]:
    """Answer once per window: only when no earlier message in it was already over the limit."""
    message.intent = FLOOD
    answered = await session.scalar(
        select(InboundMessage.id)
        .where(
            InboundMessage.actor_id == message.actor_id,
            InboundMessage.intent == FLOOD,
            InboundMessage.id < message.id,
            InboundMessage.received_at > message.received_at - settings.flood_window,
        )
        .limit(1)
    )
    if answered is not None:
        return []
    return await enqueue(
        session,
        channel=message.channel,
        chat_id=message.chat_id,
        text=translator(actor.lang).gettext(SLOW_DOWN),
        now=now,
        actor_id=actor.id,
        cause_id=message.id,
    )
