"""The review queue's one writer: queue a message, file it under a label (answering the person
who asked), list what is left, and turn filed messages into training examples. The chat's
/review and the web console's review page both work through it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import translator
from bot.core.outbox import enqueue_to
from bot.core.telegram_html import escape
from bot.nlu.corpus import NONE, Example
from bot.nlu.knowledge import VARIANTS
from bot.nlu.understander import Understander
from bot.review.mask import mask
from storage.models import Actor, InboundMessage, OutboxMessage, ReviewItem, ReviewReason

SKIP = "skip"  # reviewed, but kept out of training (unclear, several questions at once...)
GUESSES = 3
# A person still waits for an answer this long after asking; later, filing teaches the model
# only (an answer days later about a question they have forgotten would puzzle them).
ANSWER_WITHIN = timedelta(days=3)
# Labels offered beside the model's guesses; the rest are small talk and never asked.
_NOT_OFFERED = frozenset({"greeting", "goodbye", "thanks", "acknowledge"})


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


def best_guesses(understander: Understander, text: str, n: int = GUESSES) -> list[str]:
    """The model's `n` likeliest labels for a queued text, "out of scope" left out (it has its
    own choice)."""
    scores = understander.scores(text)
    return [
        label
        for label, _ in sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        if label != NONE and understander.entry(label) is not None
    ][:n]


def offered_labels(understander: Understander) -> list[str]:
    return [label for label in understander.labels if label not in _NOT_OFFERED]


def can_file_under(understander: Understander, label: str) -> bool:
    return label in (NONE, SKIP) or understander.entry(label) is not None


async def answer_asker(
    session: AsyncSession,
    understander: Understander,
    item: ReviewItem,
    reviewer: Actor,
    now: datetime,
    cause_id: int | None = None,
) -> list[OutboxMessage]:
    """Once an item is filed under a knowledge topic asked within `ANSWER_WITHIN`, the person
    who asked gets the answer, in their variant (enqueued in the outbox; returned)."""
    label = item.label
    if label is None or label in (NONE, SKIP) or item.message_id is None:
        return []
    message = await session.get(InboundMessage, item.message_id)
    if message is None or now - message.received_at > ANSWER_WITHIN:
        return []
    asker = await session.get(Actor, message.actor_id)
    if asker is None or not asker.reachable or asker.id == reviewer.id:
        return []
    # In the variant of the question, unless the person chose one.
    lang = asker.lang if asker.lang_chosen else item.lang
    answer = understander.answer(label, lang)
    if answer is None:
        return []
    t = translator(lang)
    text = (
        t.gettext(
            "A coach looked at your question «{question}». Here is the answer:",
            question=escape(message.text or ""),
        )
        + "\n\n"
        + escape(answer)
    )
    return await enqueue_to(session, asker, text, now=now, cause_id=cause_id)


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
