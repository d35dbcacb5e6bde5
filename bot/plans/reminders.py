"""Deadline reminders to owners and overdue alerts to coaches, derived from storage.

Nothing about reminders is held in memory or in the job store: each scan looks at the open
commitments and asks which reminder is due *now* and not yet sent. So a restart loses nothing
and, with the outbox ``dedup_key``, sends nothing twice.

* A reminder for offset ``k`` (days; negative = before the deadline) falls due at the start
  of waking hours (08:00 Africa/Casablanca) on the due day + ``k``. Outside waking hours the
  scan sends nothing: what fell due at night goes out at 08:00.
* Coalesced: only the most recent reminder that fell due is sent, so after a long downtime an
  owner gets one message per commitment, not a burst. A reminder the owner has already
  answered (any update of theirs after it fell due) is not sent either.
* The key carries the deadline (``reminder:<id>:<YYYYMMDD>:<offset>``): a new date re-arms them.
* Done and cancelled commitments, unconfirmed dates, unlinked owners, unreachable actors and
  those who said "stop" get none.
* A new owner (a coach edits the owner, links a pending one, or an invitation links it) is
  told at once by the flow that made the change; the ``owner`` event counts as an answer, so
  reminders that fell due before it are not sent to them, and the later ones are.
* Rows owned by the plan's committee as a whole (owner text = the committee's name, e.g.
  "Comité TS", not linked to a person): nobody in particular would answer a reminder sent to
  every member, so the plan's coach (or the territory's coaches) gets it, marked as one to
  relay at the committee, with a button to update the commitment. A coach who wants a member
  reminded directly links the committee's rows to that member (the focal point) from /plan;
  from then on the row is an ordinary owned row. Any update of the row by anyone counts as
  the committee's answer.
* ``overdue_after_days`` after the deadline, the plan's coach is alerted once per deadline, and
  a high-severity ``blocked_action`` case is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.cases.service import open_case
from bot.core.clock import LOCAL_TZ, local
from bot.core.config import Settings
from bot.core.effects import Button, Keyboard
from bot.core.i18n import N_, Translator, translator
from bot.core.outbox import enqueue_keyed, enqueue_to, message_rows
from bot.core.scheduler import ScanContext
from bot.core.telegram_html import escape
from bot.plans import service
from bot.plans.buttons import CommitmentCard, ReminderAnswer
from storage.models import (
    ActionPlan,
    Actor,
    CaseCategory,
    CaseSeverity,
    Commitment,
    CommitmentEvent,
    CommitmentStatus,
    Priority,
)

DEFAULT_OFFSETS = (-7, -1, 0, 1, 3)
# A meeting time reads "3 février 2013, 10:30": the long date, hours and minutes.
DATETIME_PATTERN = "d MMMM y, HH:mm"

DONE = N_("Done")
MORE_TIME = N_("I need more time")
BLOCKED = N_("Blocked")


@dataclass(frozen=True)
class ReminderPolicy:
    offsets: tuple[int, ...] = DEFAULT_OFFSETS
    waking_start: time = time(8, 0)
    waking_end: time = time(20, 0)
    overdue_after_days: int = 7

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderPolicy:
        start, end = settings.waking_hours
        return cls(
            waking_start=start, waking_end=end, overdue_after_days=settings.overdue_alert_days
        )

    def awake(self, now: datetime) -> bool:
        clock = local(now).time()
        return self.waking_start <= clock < self.waking_end

    def falls_due(self, day: date) -> datetime:
        """When a reminder for ``day`` may be sent: the start of waking hours that day."""
        return datetime.combine(day, self.waking_start, tzinfo=LOCAL_TZ)


def due_offset(
    offsets: tuple[int, ...] | list[int],
    due: date,
    now: datetime,
    policy: ReminderPolicy,
    answered_at: datetime | None = None,
) -> int | None:
    """The most recent reminder offset that has fallen due and is not yet answered, if any."""
    fallen = [k for k in offsets if policy.falls_due(due + timedelta(days=k)) <= now]
    if not fallen:
        return None
    latest = max(fallen)
    if answered_at is not None and answered_at >= policy.falls_due(due + timedelta(days=latest)):
        return None
    return latest


def reminder_key(commitment: Commitment, due: date, offset: int) -> str:
    return f"reminder:{commitment.id}:{due:%Y%m%d}:{offset}"


def answer_buttons(t: Translator, commitment_id: int) -> Keyboard:
    return (
        (Button(t.gettext(DONE), ReminderAnswer("done", commitment_id).pack()),),
        (Button(t.gettext(MORE_TIME), ReminderAnswer("later", commitment_id).pack()),),
        (Button(t.gettext(BLOCKED), ReminderAnswer("blocked", commitment_id).pack()),),
    )


def when_text(t: Translator, offset: int) -> str:
    if offset == 0:
        return t.gettext("the deadline is today")
    if offset == -1:
        return t.gettext("the deadline is tomorrow")
    if offset < 0:
        return t.gettext("the deadline is in {n} days", n=-offset)
    if offset == 1:
        return t.gettext("the deadline was yesterday")
    return t.gettext("the deadline was {n} days ago", n=offset)


def due_label(t: Translator, commitment: Commitment) -> str:
    """The deadline for people, in their variant; the original text when it is not confirmed."""
    value = service.local_due(commitment)
    if value is None or commitment.due_needs_confirmation:
        return t.gettext("to be confirmed (“{text}”)", text=escape(commitment.due_text))
    if isinstance(value, datetime):
        return t.datetime(value.replace(tzinfo=LOCAL_TZ), DATETIME_PATTERN)
    return t.date(value, "long")


def reminder_text(t: Translator, plan: ActionPlan, commitment: Commitment, offset: int) -> str:
    return t.gettext(
        "⏰ Reminder for the plan “{plan}”: <b>{what}</b>\n"
        "Due: {due} ({when}).\n"
        "Where does it stand?",
        plan=escape(plan.title),
        what=escape(commitment.what),
        due=due_label(t, commitment),
        when=when_text(t, offset),
    )


# Rows looked at per transaction: a message arriving during a long scan waits for one batch
# at most, never for the whole scan (SQLite has one writer at a time).
BATCH = 200


def next_check(
    commitment: Commitment, plan: ActionPlan, policy: ReminderPolicy, after: datetime
) -> datetime | None:
    """The next moment after ``after`` when a reminder or the overdue alert falls due.

    Between two such moments nothing about the row can become due by the passing of time;
    a change of its inputs sets it back to RECHECK (storage.models.schedule).
    """
    if (
        commitment.status not in service.OPEN_STATUSES
        or commitment.due is None
        or commitment.due_needs_confirmation
    ):
        return None
    due = service.due_day(commitment)
    assert due is not None
    days = [*(plan.reminder_offsets or policy.offsets), policy.overdue_after_days]
    moments = sorted(policy.falls_due(due + timedelta(days=k)) for k in days)
    return next((moment for moment in moments if moment > after), None)


async def scan(context: ScanContext) -> int:
    """The periodic job: reminders and overdue alerts due now, in short transactions."""
    policy = ReminderPolicy.from_settings(context.settings)
    now = context.clock.now()
    # Nothing goes out at night, overdue alerts included: what falls due then stays due and
    # is taken at the start of waking hours.
    if not policy.awake(now):
        return 0
    sent = 0
    while True:
        async with context.db.transaction() as session:
            looked, count = await _scan_batch(session, now, context.settings, policy, BATCH)
        sent += count
        if looked < BATCH:
            return sent


async def scan_session(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Everything due now, in the caller's transaction (tests, one-off runs)."""
    policy = ReminderPolicy.from_settings(settings)
    if not policy.awake(now):
        return 0
    sent = 0
    while True:
        looked, count = await _scan_batch(session, now, settings, policy, BATCH)
        sent += count
        if looked < BATCH:
            return sent


async def _scan_batch(
    session: AsyncSession, now: datetime, settings: Settings, policy: ReminderPolicy, limit: int
) -> tuple[int, int]:
    """Up to ``limit`` rows due now (an index range): handled, then moved to their next time.

    Several processes may scan at once: on PostgreSQL each skips the rows another holds; the
    outbox dedup keys make a second look at the same row send nothing.
    """
    rows = (
        await session.execute(
            select(Commitment, ActionPlan)
            .join(ActionPlan, ActionPlan.id == Commitment.plan_id)
            .where(Commitment.remind_at <= now)
            .order_by(Commitment.remind_at, Commitment.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Commitment)
        )
    ).all()
    if not rows:
        return 0, 0
    # What every row needs, in one query each rather than one per row.
    owner_ids = {c.owner_id for c, _ in rows if c.owner_id is not None}
    # Held here: the session keeps only weak references, and `session.get` finds them then.
    owners = (
        (await session.scalars(select(Actor).where(Actor.id.in_(owner_ids)))).all()
        if owner_ids
        else []
    )
    answers = await _answered(session, [c.id for c, _ in rows])
    sent = 0
    queued: list[dict[str, Any]] = []  # the reminders of the batch, stored in one statement
    moved: list[dict[str, Any]] = []  # rows whose next look is set in one statement
    stored: set[str] = set()  # the dedup keys stored
    for commitment, plan in rows:
        due = service.due_day(commitment)
        remindable = (
            commitment.status in service.OPEN_STATUSES and not commitment.due_needs_confirmation
        )
        if due is not None and remindable:
            await _remind_owner(session, commitment, plan, due, now, policy, answers, queued)
            if now >= policy.falls_due(due + timedelta(days=policy.overdue_after_days)):
                # Rare (once per deadline): what is queued goes first, keeping the order.
                stored |= await enqueue_keyed(session, queued)
                queued.clear()
                sent += await _alert_coach(session, settings, commitment, plan, due, now, True)
        later = next_check(commitment, plan, policy, now)
        if commitment in session.dirty:  # changed by an alert: its hooks see the new time
            commitment.remind_at = later
        else:
            moved.append({"row": commitment.id, "at": later})
            set_committed_value(commitment, "remind_at", later)
    stored |= await enqueue_keyed(session, queued)
    sent += sum(1 for key in stored if "#" not in key)  # a message, not each of its parts
    await session.flush()
    if moved:  # one statement for the batch, not one UPDATE per row
        await (await session.connection()).execute(
            update(Commitment)
            .where(Commitment.id == bindparam("row"))
            .values(remind_at=bindparam("at", type_=Commitment.remind_at.type)),
            moved,
        )
    del owners
    return len(rows), sent


async def _answered(
    session: AsyncSession, commitment_ids: list[int]
) -> dict[int, tuple[datetime | None, datetime | None]]:
    """Per commitment: the owner's last answer, and anyone's (for committee rows)."""
    owner_answer = or_(
        CommitmentEvent.actor_id == Commitment.owner_id, CommitmentEvent.kind == "owner"
    )
    anyone = or_(CommitmentEvent.actor_id.is_not(None), CommitmentEvent.kind == "owner")
    found = await session.execute(
        select(
            CommitmentEvent.commitment_id,
            func.max(sql_case((owner_answer, CommitmentEvent.at))),
            func.max(sql_case((anyone, CommitmentEvent.at))),
        )
        .join(Commitment, Commitment.id == CommitmentEvent.commitment_id)
        .where(CommitmentEvent.commitment_id.in_(commitment_ids))
        .group_by(CommitmentEvent.commitment_id)
    )
    return {row[0]: (row[1], row[2]) for row in found}


async def _remind_owner(
    session: AsyncSession,
    commitment: Commitment,
    plan: ActionPlan,
    due: date,
    now: datetime,
    policy: ReminderPolicy,
    answers: dict[int, tuple[datetime | None, datetime | None]],
    queued: list[dict[str, Any]],
) -> None:
    """Adds the reminder due now, if any, to `queued` (its dedup key makes it go out once)."""
    if commitment.owner_id is None:
        answered = answers.get(commitment.id, (None, None))[1]
        await _relay_to_coaches(session, commitment, plan, due, now, policy, answered, queued)
        return
    owner = await session.get(Actor, commitment.owner_id)  # loaded with the batch
    if owner is None or not owner.reachable or owner.reminders_stopped:
        return
    answered = answers.get(commitment.id, (None, None))[0]
    offsets = plan.reminder_offsets or policy.offsets
    offset = due_offset(offsets, due, now, policy, answered)
    if offset is None:
        return
    t = translator(owner.lang)
    queued += message_rows(
        channel=owner.channel,
        chat_id=owner.chat_id,
        actor_id=owner.id,
        text=reminder_text(t, plan, commitment, offset),
        buttons=answer_buttons(t, commitment.id),
        now=now,
        dedup_key=reminder_key(commitment, due, offset),
        priority=Priority.BULK,
    )


async def _relay_to_coaches(
    session: AsyncSession,
    commitment: Commitment,
    plan: ActionPlan,
    due: date,
    now: datetime,
    policy: ReminderPolicy,
    answered: datetime | None,
    queued: list[dict[str, Any]],
) -> None:
    """A row of the committee as a whole: its reminders go to the plan's coach to relay."""
    committee = await service.committee_of(session, plan)
    if not service.is_committee_owned(commitment, committee):
        return  # a pending person: nobody to remind until the coach links them
    assert committee is not None
    offset = due_offset(plan.reminder_offsets or policy.offsets, due, now, policy, answered)
    if offset is None:
        return
    for coach in await service.coaches_of(session, plan):
        if not coach.reachable or coach.reminders_stopped:
            continue
        t = translator(coach.lang)
        text = t.gettext(
            "⏰ Reminder to relay to the committee {committee}, plan “{plan}”: <b>{what}</b>\n"
            "Owner: the committee as a whole. Due: {due} ({when}).\n"
            "Ask the committee where it stands and update it here, or make one member its "
            "owner (/plan, “Link an owner”) so that they are reminded directly.",
            committee=escape(committee.name),
            plan=escape(plan.title),
            what=escape(commitment.what),
            due=due_label(t, commitment),
            when=when_text(t, offset),
        )
        queued += message_rows(
            channel=coach.channel,
            chat_id=coach.chat_id,
            actor_id=coach.id,
            text=text,
            buttons=(
                (
                    Button(
                        t.gettext("Update this commitment"), CommitmentCard(commitment.id).pack()
                    ),
                ),
            ),
            now=now,
            dedup_key=f"{reminder_key(commitment, due, offset)}:coach{coach.id}",
            priority=Priority.BULK,
        )


async def _alert_coach(
    session: AsyncSession,
    settings: Settings,
    commitment: Commitment,
    plan: ActionPlan,
    due: date,
    now: datetime,
    awake: bool,
) -> int:
    """Once per deadline: a case, and a message to the coach (held until waking hours)."""
    marker = f"overdue:{commitment.id}:{due:%Y%m%d}"
    done = await session.scalar(
        select(CommitmentEvent.id).where(
            CommitmentEvent.commitment_id == commitment.id,
            CommitmentEvent.kind == "overdue_alert",
            CommitmentEvent.details["key"].as_string() == marker,
        )
    )
    if done is not None or not awake:
        return 0
    coaches = await service.coaches_of(session, plan)
    owner = await session.get(Actor, commitment.owner_id) if commitment.owner_id else None
    subject = owner or (coaches[0] if coaches else None)
    case_id = None
    if subject is not None:
        case = await open_case(
            session,
            now=now,
            actor=subject,
            category=CaseCategory.BLOCKED_ACTION,
            # Stored once, read by coaches: in the language of the first coach.
            summary=translator(coaches[0].lang if coaches else None).gettext(
                "Overdue since {due}: {what} ({plan})",
                due=due.strftime("%d/%m/%Y"),
                what=commitment.what,
                plan=plan.title,
            ),
            severity=CaseSeverity.HIGH,
            plan_id=plan.id,
            commitment_id=commitment.id,
            settings=settings,
        )
        case_id = case.id
    await service.record(
        session, commitment, actor=None, now=now, kind="overdue_alert", key=marker, case=case_id
    )
    days = (local(now).date() - due).days
    for coach in coaches:
        t = translator(coach.lang)
        owner_name = owner.display_name if owner else commitment.owner_text
        text = t.gettext(
            "⚠️ Overdue commitment in the plan “{plan}”: <b>{what}</b>\n"
            "Owner: {owner}. Due: {due} ({days} days late). Status: {status}.",
            plan=escape(plan.title),
            what=escape(commitment.what),
            owner=escape(owner_name),
            due=due_label(t, commitment),
            days=days,
            status=status_label(t, commitment.status),
        )
        if case_id is not None:
            text += "\n" + t.gettext("Case #{case} is open for it.", case=case_id)
        await enqueue_to(session, coach, text, now=now, dedup_key=f"{marker}:{coach.id}")
    return max(len(coaches), 1)


STATUS_LABELS = {
    CommitmentStatus.NOT_STARTED: N_("not started"),
    CommitmentStatus.IN_PROGRESS: N_("in progress"),
    CommitmentStatus.BLOCKED: N_("blocked"),
    CommitmentStatus.DONE: N_("done"),
    CommitmentStatus.CANCELLED: N_("cancelled"),
}


def status_label(t: Translator, status: str) -> str:
    label = STATUS_LABELS.get(CommitmentStatus(status)) if status in STATUS_LABELS else None
    return t.gettext(label) if label else status
