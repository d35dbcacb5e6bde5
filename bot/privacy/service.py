"""Personal data under Morocco's law 09-08: access (export), erasure (forget), retention.

Erasure anonymises the actor row instead of deleting it, so that cases, commitments and
the audit trail keep pointing at something. What a case legally needs (the case itself,
its category, dates and summary, and the message it was opened from, emptied) is kept.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import audit
from bot.core.i18n import N_, Translator
from bot.core.scheduler import ScanContext
from bot.privacy import document
from storage.db import ERASED
from storage.models import (
    ActionPlan,
    Actor,
    Call,
    Case,
    CaseEvent,
    Commitment,
    CommitmentEvent,
    Committee,
    CommitteeMember,
    DeliveryStatus,
    FlowSession,
    InboundMessage,
    Invitation,
    OutboxMessage,
    ReviewItem,
    Role,
    Territory,
)

CONTROLLER = N_("Centre of Excellence for Territorial Coaching")


async def export(
    session: AsyncSession, actor: Actor, now: datetime, t: Translator
) -> dict[str, Any]:
    """Everything the hotline keeps about this person, labelled in their language.

    Ids that point at other rows (territory, committee, plan, commitment) are shown by
    the name people know them by; codes (role, status, kind...) by their translated name.
    """

    async def rows(query: Any) -> list[Any]:
        return list((await session.scalars(query)).all())

    calls = await rows(select(Call).where(Call.actor_id == actor.id).order_by(Call.id))
    messages = await rows(
        select(InboundMessage)
        .where(InboundMessage.actor_id == actor.id)
        .order_by(InboundMessage.id)
    )
    replies = await rows(
        select(OutboxMessage).where(OutboxMessage.actor_id == actor.id).order_by(OutboxMessage.id)
    )
    cases = await rows(select(Case).where(Case.actor_id == actor.id).order_by(Case.id))
    commitments = await rows(
        select(Commitment).where(Commitment.owner_id == actor.id).order_by(Commitment.id)
    )
    committees = await rows(select(CommitteeMember).where(CommitteeMember.actor_id == actor.id))
    # Only the rows this person's data points at are looked up, by name.
    names = {
        ref: await _names(session, ref, key, name, pointing)
        for ref, key, name, pointing in (
            ("territory_id", Territory.id, Territory.name, [actor]),
            ("committee_id", Committee.id, Committee.name, committees),
            ("plan_id", ActionPlan.id, ActionPlan.title, [*cases, *commitments]),
            ("commitment_id", Commitment.id, Commitment.what, cases),
        )
    }
    pressed = {
        button["data"]: button["label"]
        for reply in replies
        for row in reply.buttons or []
        for button in row
    }
    shown = document.Shown(t, names, pressed)
    return {
        t.gettext(document.EXPORTED_AT): shown.value("exported_at", now),
        # Named as the person reads it everywhere else on the line.
        t.gettext(document.CONTROLLER): t.gettext(CONTROLLER),
        t.gettext(document.SECTIONS["profile"]): shown.row(actor, document.PROFILE),
        t.gettext(document.SECTIONS["committees"]): [
            shown.row(m, document.COMMITTEE) for m in committees
        ],
        t.gettext(document.SECTIONS["calls"]): [shown.row(c, document.CALL) for c in calls],
        t.gettext(document.SECTIONS["messages"]): [
            shown.row(m, document.MESSAGE) for m in messages
        ],
        t.gettext(document.SECTIONS["replies"]): [shown.row(r, document.REPLY) for r in replies],
        t.gettext(document.SECTIONS["cases"]): [shown.row(c, document.CASE) for c in cases],
        t.gettext(document.SECTIONS["commitments"]): [
            shown.row(c, document.COMMITMENT) for c in commitments
        ],
    }


async def _names(
    session: AsyncSession, reference: str, key: Any, name: Any, rows: list[Any]
) -> dict[int, str]:
    ids = {getattr(row, reference) for row in rows} - {None}
    if not ids:
        return {}
    found = await session.execute(select(key, name).where(key.in_(ids)))
    return {row[0]: row[1] for row in found.all()}


def export_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


async def forget(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    keep_message_id: int | None = None,
    keep_call_id: int | None = None,
    keep_chat_id: str | None = None,
) -> None:
    """Erase this person's data; the message and call being handled now stay (emptied)."""
    mine = select(InboundMessage.id).where(InboundMessage.actor_id == actor.id)
    for_cases = select(Case.source_message_id).where(Case.source_message_id.is_not(None))
    # Replies to them go. Messages to others caused by their words or about them (case
    # alerts, relays) lose their content; those not sent yet are not sent at all.
    await session.execute(delete(OutboxMessage).where(OutboxMessage.actor_id == actor.id))
    theirs = or_(OutboxMessage.cause_id.in_(mine), OutboxMessage.about_id == actor.id)
    await session.execute(
        update(OutboxMessage)
        .where(theirs, OutboxMessage.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)))
        .values(status=DeliveryStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(OutboxMessage)
        .where(theirs)
        .values(text="", file=None, filename=None, file_id=None, buttons=None, cause_id=None)
        .execution_options(synchronize_session=False)
    )
    # Their words waiting in the review queue go; filed ones (masked training data) lose the
    # link to them.
    await session.execute(
        delete(ReviewItem)
        .where(ReviewItem.message_id.in_(mine), ReviewItem.label.is_(None))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(ReviewItem)
        .where(ReviewItem.message_id.in_(mine))
        .values(message_id=None)
        .execution_options(synchronize_session=False)
    )
    # Messages a case was opened from are kept, emptied; the rest are deleted.
    kept = or_(InboundMessage.id.in_(for_cases), InboundMessage.id == keep_message_id)
    await session.execute(
        update(InboundMessage)
        .where(InboundMessage.actor_id == actor.id, kept)
        .values(text=None, file_id=None, error=None, update_key=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(InboundMessage)
        .where(InboundMessage.actor_id == actor.id, InboundMessage.id != keep_message_id)
        .values(call_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(InboundMessage)
        .where(InboundMessage.actor_id == actor.id, ~kept)
        .execution_options(synchronize_session=False)
    )
    their_calls = select(Call.id).where(Call.actor_id == actor.id, Call.id != keep_call_id)
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.call_id.in_(their_calls)).values(call_id=None)
    )
    await session.execute(
        delete(Call)
        .where(Call.actor_id == actor.id, Call.id != keep_call_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(CaseEvent)
        .where(CaseEvent.actor_id == actor.id)
        .values(text=None, file_id=None, details={})  # details held the report's answers
        .execution_options(synchronize_session=False)
    )
    # Plans: rows they own keep the link, not the name as written; the history forgets it.
    owned = select(Commitment.id).where(Commitment.owner_id == actor.id)
    history = await session.scalars(
        select(CommitmentEvent).where(
            CommitmentEvent.commitment_id.in_(owned), CommitmentEvent.kind == "owner"
        )
    )
    for event in history:
        if actor.id in (event.details.get("old_id"), event.details.get("new_id")):
            event.details = {k: v for k, v in event.details.items() if not k.endswith("_text")}
    await session.execute(
        update(Commitment)
        .where(Commitment.owner_id == actor.id)
        .values(owner_text="")
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Invitation)
        .where(Invitation.used_by_id == actor.id)
        .values(owner_text=None)
        .execution_options(synchronize_session=False)
    )
    # The flow of the chat being handled is ended by the caller (the engine saves it).
    await session.execute(
        delete(FlowSession)
        .where(FlowSession.actor_id == actor.id, FlowSession.chat_id != (keep_chat_id or ""))
        .execution_options(synchronize_session=False)
    )
    await audit.record(session, actor, audit.Action.FORGET, f"actor:{actor.id}", now)
    actor.display_name = ""
    actor.external_id = f"forgotten:{actor.id}"
    actor.chat_id = f"forgotten:{actor.id}"
    actor.role = Role.ACTOR
    actor.territory_id = None
    actor.reachable = False
    actor.reminders_stopped = True
    actor.last_seen_at = None
    await session.flush()
    # Once committed, old copies of the erased rows go too (SQLite's write-ahead log,
    # PostgreSQL's dead row versions).
    session.info.setdefault(ERASED, set()).update(
        model.__tablename__
        for model in (
            Actor,
            InboundMessage,
            OutboxMessage,
            ReviewItem,
            Call,
            CaseEvent,
            CommitmentEvent,
            Commitment,
            Invitation,
            FlowSession,
        )
    )


# Rows removed per kind and transaction: retention never holds the write lock for long.
RETENTION_BATCH = 500


async def apply_retention(
    session: AsyncSession, now: datetime, days: int, batch: int = RETENTION_BATCH
) -> tuple[int, bool]:
    """Remove one batch of conversations older than `days`; what a case was opened from stays.

    Returns how many rows went, and whether more may be left. Every selection is an index
    range on a date, so a run with nothing old costs a handful of empty lookups.
    """
    cutoff = now - timedelta(days=days)
    removed, more = 0, False

    async def ids(query: Any) -> list[Any]:
        nonlocal more
        found = list((await session.scalars(query.limit(batch))).all())
        more = more or len(found) == batch
        return found

    replies = await ids(
        select(OutboxMessage.id).where(
            OutboxMessage.created_at < cutoff, OutboxMessage.status != DeliveryStatus.PENDING
        )
    )
    if replies:
        removed += await _delete(session, OutboxMessage, OutboxMessage.id.in_(replies))
    case_source = select(Case.id).where(Case.source_message_id == InboundMessage.id)
    messages = await ids(
        select(InboundMessage.id).where(
            InboundMessage.received_at < cutoff,
            InboundMessage.handled_at.is_not(None),
            ~case_source.exists(),
        )
    )
    if messages:
        await _detach(session, OutboxMessage.cause_id, messages)
        # Unreviewed questions go with their conversation; filed ones stay as training data.
        await _delete(
            session,
            ReviewItem,
            ReviewItem.message_id.in_(messages) & ReviewItem.label.is_(None),
        )
        await _detach(session, ReviewItem.message_id, messages)
        removed += await _delete(session, InboundMessage, InboundMessage.id.in_(messages))
    calls = await ids(select(Call.id).where(Call.last_activity_at < cutoff))
    if calls:
        await _detach(session, InboundMessage.call_id, calls)
        await _detach(session, OutboxMessage.call_id, calls)
        removed += await _delete(session, Call, Call.id.in_(calls))
    removed += await _delete(session, FlowSession, FlowSession.updated_at < cutoff)
    return removed, more


async def _detach(session: AsyncSession, column: Any, ids: list[int]) -> None:
    await session.execute(
        update(column.class_)
        .where(column.in_(ids))
        .values({column.key: None})
        .execution_options(synchronize_session=False)
    )


async def _delete(session: AsyncSession, model: Any, condition: Any) -> int:
    result = await session.execute(
        delete(model).where(condition).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def retention_scan(context: ScanContext) -> int:
    """Periodic, in short transactions: idempotent, a second run finds nothing to remove."""
    now, days = context.clock.now(), context.settings.retention_days
    removed, more = 0, True
    while more:
        async with context.db.transaction() as session:
            count, more = await apply_retention(session, now, days)
        removed += count
    if removed:
        async with context.db.transaction() as session:
            await audit.record(
                session,
                None,
                audit.Action.RETENTION,
                "conversations",
                now,
                removed=removed,
                days=days,
            )
    return removed
