"""Idempotent scans: SLA re-alerts and escalations, daily digests, weekly summaries.

Each scan derives what is due from storage and enqueues it under a dedup key
(`sla:<case>:realert`, `digest:<coach>:<date>`, `weekly:<coach>:<year>-W<week>`), so a
restart or a second run never loses nor doubles a message.
"""

from __future__ import annotations

import statistics
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import alerts, labels, lifecycle
from bot.cases.sla import SlaPolicy
from bot.core.clock import LOCAL_TZ, local
from bot.core.i18n import Translator, translator
from bot.core.outbox import enqueue_to
from bot.core.scheduler import Periodic, ScanContext
from bot.core.telegram_html import escape
from storage.models import (
    ActionPlan,
    Actor,
    Case,
    CaseCategory,
    CaseStatus,
    Commitment,
    CommitmentStatus,
    OutboxMessage,
    Priority,
    Territory,
)

DIGEST_AT = time(8, 30)
# A digest not sent by then (the hotline was down) waits for the next morning: one arriving
# in the evening, right after the day's cases, reads as noise.
DIGEST_UNTIL = time(12, 0)
WEEKLY_CATCH_UP = timedelta(days=2)
ACTIVE = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)
LISTED = 5  # items named in a digest before "and N more"


# -- SLA -----------------------------------------------------------------------------------


# Cases looked at per transaction, so that no scan holds the write lock for long.
BATCH = 100


async def sla_scan(context: ScanContext) -> int:
    """Not taken by the deadline: alert the coach again; one period later, the coordinator.

    Reads only the cases whose next SLA step is due (`sla_check_at`, an index range): each
    case is looked at twice in its life at most, at its deadline and at its escalation.
    """
    now = context.clock.now()
    sent = 0
    while True:
        async with context.db.transaction() as session:
            due = (
                await session.scalars(
                    select(Case)
                    .where(Case.sla_check_at <= now)
                    .order_by(Case.sla_check_at, Case.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for case in due:
                sent += await _sla_step(session, context, case, now)
        if len(due) < BATCH:
            return sent


async def _sla_step(session: AsyncSession, context: ScanContext, case: Case, now: datetime) -> int:
    if case.status != CaseStatus.OPEN or case.acknowledged_at is not None or not case.ack_due_at:
        lifecycle.sla_next(case, None)
        return 0
    sent = await _realert(session, context, case, now)
    escalate_at = SlaPolicy.from_settings(context.settings).escalate_at(
        case.severity, case.ack_due_at
    )
    if now >= escalate_at:
        sent += await _escalate(session, context, case, now)
        lifecycle.sla_next(case, None)
    else:
        lifecycle.sla_next(case, escalate_at)
    return sent


async def _realert(session: AsyncSession, context: ScanContext, case: Case, now: datetime) -> int:
    recipients = await alerts.new_case_recipients(session, case, context.settings)

    async def render(t: Translator) -> str:
        return await alerts.case_card(session, case, t, t.gettext(alerts.REALERT_HEADING))

    rows = await alerts.send(
        session,
        recipients,
        now,
        f"sla:{case.id}:realert",
        render,
        lambda t: alerts.coach_buttons(t, case.id),
        about_id=case.actor_id,
    )
    if rows:
        lifecycle.realerted(session, case, now, _keys(recipients))
    return len(rows)


async def _escalate(session: AsyncSession, context: ScanContext, case: Case, now: datetime) -> int:
    recipients = await alerts.escalation_recipients(session, context.settings)
    # The late coach was just re-alerted; escalating to themselves (no coordinator, or a
    # coordinator who is also the coach in charge) would only repeat it.
    recipients = [r for r in recipients if r.actor_id is None or r.actor_id != case.coach_id]
    if not recipients:
        return 0
    coach = await session.get(Actor, case.coach_id) if case.coach_id else None

    async def render(t: Translator) -> str:
        name = escape(coach.display_name) if coach else t.gettext("the coaches' group")
        heading = t.gettext(alerts.ESCALATE_HEADING, coach=name)
        return await alerts.case_card(session, case, t, heading)

    rows = await alerts.send(
        session,
        recipients,
        now,
        f"sla:{case.id}:escalate",
        render,
        lambda t: alerts.coach_buttons(t, case.id),
        about_id=case.actor_id,
    )
    if rows:  # the coordinator has not seen the actor's files yet
        rows += await alerts.send_case_files(
            session, case, recipients, now, f"sla:{case.id}:escalate"
        )
    if rows:
        lifecycle.escalated(session, case, now, _keys(recipients))
    return len(rows)


def _keys(recipients: list[alerts.Recipient]) -> list[str]:
    return [r.key for r in recipients]


# -- daily digest --------------------------------------------------------------------------


async def _sent_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these dedup keys are already in the outbox: one indexed query for all."""
    if not keys:
        return set()
    found = await session.scalars(
        select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.in_(keys))
    )
    return {key for key in found if key is not None}


async def digest_scan(context: ScanContext) -> int:
    """Each coach, once a day between 08:30 and noon local time: what is new, open, late,
    resolved since the day before's digest."""
    now = context.clock.now()
    today = local(now).date()
    cutoff = datetime.combine(today, DIGEST_AT, LOCAL_TZ)
    if now < cutoff or now >= datetime.combine(today, DIGEST_UNTIL, LOCAL_TZ):
        return 0
    since = cutoff - timedelta(days=1)
    sent = 0
    async with context.db.transaction() as session:
        coaches = await alerts.coaches(session)
        keys = {coach.id: f"digest:{coach.id}:{today.isoformat()}" for coach in coaches}
        done = await _sent_keys(session, list(keys.values()))
        for coach in coaches:
            key = keys[coach.id]
            if key in done:
                continue
            # Counted up to now, like the open cases beside them.
            text = await _digest(session, coach, since, now, now)
            if text is None:
                continue  # nothing at all to report: no message
            sent += len(
                await enqueue_to(
                    session, coach, text, now=now, dedup_key=key, priority=Priority.BULK
                )
            )
    return sent


async def _digest(
    session: AsyncSession, coach: Actor, since: datetime, cutoff: datetime, now: datetime
) -> str | None:
    t = translator(coach.lang)
    mine = Case.coach_id == coach.id
    new = (
        await session.scalars(
            select(Case).where(mine, Case.opened_at >= since, Case.opened_at < cutoff)
        )
    ).all()
    active = (
        await session.scalars(select(Case).where(mine, Case.status.in_(ACTIVE)).order_by(Case.id))
    ).all()
    overdue = [
        c
        for c in active
        if c.acknowledged_at is None and c.ack_due_at is not None and c.ack_due_at <= now
    ]
    resolved = (
        await session.scalar(
            select(func.count(Case.id)).where(
                mine, Case.resolved_at >= since, Case.resolved_at < cutoff
            )
        )
    ) or 0
    late = (
        await session.execute(
            select(Commitment, ActionPlan)
            .join(ActionPlan, ActionPlan.id == Commitment.plan_id)
            .where(
                ActionPlan.coach_id == coach.id,
                Commitment.due < now,
                Commitment.status.not_in((CommitmentStatus.DONE, CommitmentStatus.CANCELLED)),
            )
            .order_by(Commitment.due)
        )
    ).all()
    if not (new or active or resolved or late):
        return None
    lines = [
        t.gettext("☀️ <b>Your hotline digest</b>, {date}", date=t.date(local(now).date(), "full")),
        t.gettext("• New since yesterday: {count}", count=len(new)),
        t.gettext("• Open, with you: {count}", count=len(active)),
        t.gettext("• Not taken in time: {count}", count=len(overdue)),
        t.gettext("• Resolved since yesterday: {count}", count=resolved),
        t.gettext("• Overdue commitments in your plans: {count}", count=len(late)),
    ]
    if overdue:
        lines += ["", t.gettext("<b>To take now</b>")]
        for case in overdue[:LISTED]:
            lines.append(
                f"#{case.id} · {labels.label(t, labels.CATEGORY, case.category)} · "
                f"{escape(case.summary[:80])}"
            )
    if late:
        lines += ["", t.gettext("<b>Overdue commitments</b>")]
        for commitment, plan in late[:LISTED]:
            due = t.date(local(commitment.due).date(), "short") if commitment.due else "?"
            lines.append(f"• {escape(commitment.what[:80])} ({escape(plan.title[:40])}, {due})")
        if len(late) > LISTED:
            lines.append(t.gettext("… and {count} more.", count=len(late) - LISTED))
    rated = (
        await session.execute(
            select(Case.helpful, func.count(Case.id))
            .where(mine, Case.helpful.is_not(None), Case.resolved_at >= now - timedelta(days=30))
            .group_by(Case.helpful)
        )
    ).all()
    counts = {bool(h): n for h, n in rated}
    if counts:
        lines += [
            "",
            t.gettext(
                "Answers that helped (30 days): {yes} of {total}",
                yes=counts.get(True, 0),
                total=sum(counts.values()),
            ),
        ]
    lines += ["", t.gettext("Your queue: /cases")]
    return "\n".join(lines)


# -- weekly summary for coordinators -------------------------------------------------------


async def weekly_scan(context: ScanContext) -> int:
    """Each coordinator, once a week from Monday 08:30: the past week per territory."""
    now = context.clock.now()
    today = local(now).date()
    monday = today - timedelta(days=today.weekday())
    cutoff = datetime.combine(monday, DIGEST_AT, LOCAL_TZ)
    # Caught up after a downtime early in the week; later, last week's news is stale.
    if not cutoff <= now < cutoff + WEEKLY_CATCH_UP:
        return 0
    since = cutoff - timedelta(days=7)
    year, week, _ = monday.isocalendar()
    sent = 0
    async with context.db.transaction() as session:
        coordinators = await alerts.coordinators(session)
        keys = {c.id: f"weekly:{c.id}:{year}-W{week:02d}" for c in coordinators}
        done = await _sent_keys(session, list(keys.values()))
        waiting = [c for c in coordinators if keys[c.id] not in done]
        if not waiting:
            return 0
        cases = (
            await session.scalars(
                select(Case).where(Case.opened_at >= since, Case.opened_at < cutoff)
            )
        ).all()
        for coordinator in waiting:
            key = keys[coordinator.id]
            text = await _weekly(session, translator(coordinator.lang), list(cases), since, cutoff)
            sent += len(
                await enqueue_to(
                    session, coordinator, text, now=now, dedup_key=key, priority=Priority.BULK
                )
            )
    return sent


async def _weekly(
    session: AsyncSession, t: Translator, cases: list[Case], since: datetime, cutoff: datetime
) -> str:
    lines = [
        t.gettext(
            "📊 <b>Weekly summary of the hotline</b>, {start} to {end}",
            start=t.date(local(since).date(), "short"),
            end=t.date(local(cutoff).date(), "short"),
        )
    ]
    if not cases:
        lines.append(t.gettext("No case was opened this week."))
        return "\n".join(lines)
    by_territory: dict[int | None, list[Case]] = {}
    for case in cases:
        by_territory.setdefault(case.territory_id, []).append(case)
    for territory_id, group in sorted(by_territory.items(), key=lambda kv: -len(kv[1])):
        territory = await session.get(Territory, territory_id) if territory_id else None
        name = escape(territory.name) if territory else t.gettext("No territory")
        lines += ["", f"<b>{name}</b>: {len(group)}"]
        for category in CaseCategory:
            count = sum(1 for c in group if c.category == category)
            if count:
                lines.append(f"• {labels.label(t, labels.CATEGORY, category)}: {count}")
        lines.append(
            t.gettext(
                "Median time to take: {ack} · to resolve: {resolve}",
                ack=labels.duration(t, _median([(c.acknowledged_at, c.opened_at) for c in group])),
                resolve=labels.duration(t, _median([(c.resolved_at, c.opened_at) for c in group])),
            )
        )
    return "\n".join(lines)


def _median(pairs: list[tuple[datetime | None, datetime]]) -> timedelta | None:
    spans = [(end - start).total_seconds() for end, start in pairs if end is not None]
    return timedelta(seconds=statistics.median(spans)) if spans else None


def jobs() -> list[Periodic]:
    return [
        Periodic("cases-sla", sla_scan, every_seconds=60),
        Periodic("cases-digest", digest_scan, every_seconds=300),
        Periodic("cases-weekly", weekly_scan, every_seconds=900),
    ]
