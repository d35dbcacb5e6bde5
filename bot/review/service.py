"""The review queue's one writer: queue a message, file it under a label, list what is left,
and turn filed messages into training examples."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.nlu.corpus import NONE, Example
from bot.nlu.knowledge import VARIANTS
from bot.review.mask import mask
from storage.models import Actor, InboundMessage, ReviewItem, ReviewReason

SKIP = "skip"  # reviewed, but kept out of training (unclear, several questions at once...)


async def enqueue(
    session: AsyncSession,
    message: InboundMessage,
    actor: Actor,
    reason: ReviewReason,
    guess: str | None,
    now: datetime,
) -> ReviewItem | None:
    """Queue a message for review once (a second "not helpful" on it adds nothing)."""
    if not message.text or not message.text.strip():
        return None
    if reason != ReviewReason.UNANSWERED:
        # An unanswered message is queued once, by the turn that handles it: no lookup on that
        # path. A "not helpful" tap can come twice, or after the message was queued unanswered.
        existing = await session.scalar(
            select(ReviewItem).where(ReviewItem.message_id == message.id)
        )
        if existing is not None:
            return existing
    item = ReviewItem(
        message_id=message.id,
        text=mask(message.text.strip(), [actor.display_name, *actor.display_name.split()]),
        lang=message.lang if message.lang in VARIANTS else "fr",
        reason=reason,
        guess=guess if guess and guess != NONE else None,
        created_at=now,
    )
    session.add(item)
    await session.flush()
    return item


async def next_pending(session: AsyncSession, after_id: int = 0) -> ReviewItem | None:
    return await session.scalar(
        select(ReviewItem)
        .where(ReviewItem.label.is_(None), ReviewItem.id > after_id)
        .order_by(ReviewItem.id)
        .limit(1)
    )


async def pending_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(select(func.count(ReviewItem.id)).where(ReviewItem.label.is_(None)))
        or 0
    )


async def pending(session: AsyncSession) -> Sequence[ReviewItem]:
    return (
        await session.scalars(
            select(ReviewItem).where(ReviewItem.label.is_(None)).order_by(ReviewItem.id)
        )
    ).all()


def file(item: ReviewItem, label: str, reviewer: Actor | None, now: datetime) -> bool:
    """File an item under a label ("none" for out of scope, "skip" to leave it out).
    False when it was already filed: two coaches tapping at once keep the first answer."""
    if item.label is not None:
        return False
    item.label = label
    item.reviewed_by = reviewer.id if reviewer is not None else None
    item.reviewed_at = now
    return True


async def training_examples(session: AsyncSession, labels: Sequence[str]) -> list[Example]:
    """Filed items as training data; labels the knowledge base no longer has are left out."""
    known = set(labels) | {NONE}
    rows = await session.scalars(
        select(ReviewItem).where(ReviewItem.label.is_not(None)).order_by(ReviewItem.id)
    )
    return [
        Example(row.text, row.label, row.lang, "field")
        for row in rows
        if row.label in known and row.label != SKIP
    ]
