"""The case lifecycle: the only code that changes a case's state or writes its timeline.

Each command checks the transition table (`TRANSITIONS`: which command is allowed from
which status, and the status that follows), writes the case's columns and appends its
events, in the caller's session. A command that the table refuses raises `Refused` before
writing anything. What people are told (the actor, the other coaches, the coach himself)
is the callers' business: `work` and `coach_side` for coaches, `actor_side` for actors,
`service`, `alerts` and `scans` for opening and the response-time alerts. They read the
events a command returns (`Change.has`) to know what happened.

The SLA columns follow by themselves: `storage.models.schedule` takes a case out of the
response-time scan once it is taken or closed; `sla_next` is how the scan moves it on.

Invariant kept by the table: a case is `open` exactly while nobody has taken it
(`acknowledged_at` is None); replying or resolving an open case takes it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.routing import COACH_ROLES, Route
from storage.models import (
    Actor,
    Case,
    CaseEvent,
    CaseEventKind,
    CaseSeverity,
    CaseStatus,
)

Kind = CaseEventKind
Status = CaseStatus


class Command(StrEnum):
    OPEN = "open"
    ROUTE = "route"  # the first alert went out
    TAKE = "take"
    REPLY = "reply"  # a coach writes to the actor
    RELAY = "relay"  # the actor writes to the case
    RESOLVE = "resolve"
    REOPEN = "reopen"
    HAND_OVER = "hand_over"
    WITHDRAW = "withdraw"
    FEEDBACK = "feedback"
    REALERT = "realert"  # the SLA scan alerted again
    ESCALATE = "escalate"  # the SLA scan alerted the coordinator


class Refusal(StrEnum):
    ALREADY_TAKEN = "already_taken"
    ALREADY_RESOLVED = "already_resolved"
    NOT_RESOLVED = "not_resolved"  # feedback or reopening of a case still being worked on
    TAKEN = "taken"  # a response-time alert about a case already taken
    NOT_A_COACH = "not_a_coach"
    ALREADY_WITHDRAWN = "already_withdrawn"


class Refused(Exception):
    def __init__(self, command: Command, reason: Refusal) -> None:
        super().__init__(f"{command}: {reason}")
        self.command = command
        self.reason = reason


# What follows each command from each status; a Refusal where it is not allowed. Every
# command lists every status (a test checks it), so nothing is allowed by omission.
_ALL = tuple(Status)
_WORKED_ON = (Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
_DONE = (Status.RESOLVED, Status.CLOSED)


def _same() -> dict[Status, Status | Refusal]:
    return {s: s for s in _ALL}


TRANSITIONS: dict[Command, dict[Status, Status | Refusal]] = {
    Command.ROUTE: {
        Status.OPEN: Status.OPEN,
        **dict.fromkeys((Status.ACKNOWLEDGED, Status.IN_PROGRESS, *_DONE), Refusal.TAKEN),
    },
    Command.TAKE: {
        Status.OPEN: Status.ACKNOWLEDGED,
        Status.ACKNOWLEDGED: Refusal.ALREADY_TAKEN,
        Status.IN_PROGRESS: Refusal.ALREADY_TAKEN,
        **dict.fromkeys(_DONE, Refusal.ALREADY_RESOLVED),
    },
    # A coach's words put the case in progress (taking it if nobody had); on a resolved
    # case they change nothing: the actor's answer is what reopens it.
    Command.REPLY: {
        **dict.fromkeys(_WORKED_ON, Status.IN_PROGRESS),
        **{s: s for s in _DONE},
    },
    Command.RELAY: {**{s: s for s in _WORKED_ON}, **dict.fromkeys(_DONE, Status.IN_PROGRESS)},
    Command.RESOLVE: {
        **dict.fromkeys(_WORKED_ON, Status.RESOLVED),
        **dict.fromkeys(_DONE, Refusal.ALREADY_RESOLVED),
    },
    Command.REOPEN: {
        **dict.fromkeys(_WORKED_ON, Refusal.NOT_RESOLVED),
        **dict.fromkeys(_DONE, Status.IN_PROGRESS),
    },
    Command.HAND_OVER: _same(),
    Command.WITHDRAW: _same(),
    Command.FEEDBACK: {
        **dict.fromkeys(_WORKED_ON, Refusal.NOT_RESOLVED),
        **{s: s for s in _DONE},
    },
    Command.REALERT: {
        Status.OPEN: Status.OPEN,
        **dict.fromkeys((Status.ACKNOWLEDGED, Status.IN_PROGRESS, *_DONE), Refusal.TAKEN),
    },
    Command.ESCALATE: {
        Status.OPEN: Status.OPEN,
        **dict.fromkeys((Status.ACKNOWLEDGED, Status.IN_PROGRESS, *_DONE), Refusal.TAKEN),
    },
}


def next_status(command: Command, status: str) -> Status:
    """The status `command` leads to from `status`; raises Refused where it is not allowed."""
    outcome = TRANSITIONS[command][Status(status)]
    if isinstance(outcome, Refusal):
        raise Refused(command, outcome)
    return outcome


@dataclass
class Change:
    """What a command did: the case and the events it appended, in order."""

    case: Case
    events: list[CaseEvent] = field(default_factory=list)

    def has(self, kind: CaseEventKind) -> bool:
        return any(e.kind == kind for e in self.events)


def _event(
    session: AsyncSession,
    change: Change,
    kind: CaseEventKind,
    actor_id: int | None,
    now: datetime,
    **fields: Any,
) -> CaseEvent:
    row = CaseEvent(case_id=change.case.id, actor_id=actor_id, at=now, kind=kind, **fields)
    session.add(row)
    change.events.append(row)
    return row


def _file_fields(file: tuple[str, str] | None) -> dict[str, Any]:
    return {"file_id": file[1], "details": {"kind": file[0]}} if file else {}


# -- opening and alerts ------------------------------------------------------------------


async def open(
    session: AsyncSession,
    *,
    now: datetime,
    actor: Actor,
    lang: str,
    route: Route,
    category: str,
    summary: str,
    severity: str = CaseSeverity.NORMAL,
    commitment_id: int | None = None,
    source_message_id: int | None = None,
    ack_due_at: datetime | None = None,
    attachments: Sequence[tuple[str, str]] = (),
    details: dict[str, Any] | None = None,
) -> Change:
    """A new open case where `route` says, its opening event, then one event per file."""
    case = Case(
        actor_id=actor.id,
        lang=lang,
        territory_id=route.territory_id,
        plan_id=route.plan_id,
        commitment_id=commitment_id,
        category=category,
        severity=severity,
        status=Status.OPEN,
        summary=summary,
        coach_id=route.coach.id if route.coach else None,
        source_message_id=source_message_id,
        opened_at=now,
        ack_due_at=ack_due_at,
    )
    session.add(case)
    await session.flush()  # the case's number, for its events
    change = Change(case)
    _event(
        session,
        change,
        Kind.OPENED,
        actor.id,
        now,
        text=summary,
        details={**(details or {}), "via": route.via, "coach_id": case.coach_id},
    )
    for kind, file_id in attachments:
        _event(session, change, Kind.MESSAGE_IN, actor.id, now, **_file_fields((kind, file_id)))
    return change


def _alerted(
    session: AsyncSession,
    command: Command,
    kind: CaseEventKind,
    case: Case,
    now: datetime,
    to: Sequence[str],
) -> Change:
    next_status(command, case.status)
    change = Change(case)
    _event(session, change, kind, None, now, details={"to": list(to)})
    return change


def routed(session: AsyncSession, case: Case, now: datetime, to: Sequence[str]) -> Change:
    """The new case's first alert went to these recipients (their keys)."""
    return _alerted(session, Command.ROUTE, Kind.ROUTED, case, now, to)


def realerted(session: AsyncSession, case: Case, now: datetime, to: Sequence[str]) -> Change:
    """Not taken in time: these recipients were alerted again."""
    return _alerted(session, Command.REALERT, Kind.REALERT, case, now, to)


def escalated(session: AsyncSession, case: Case, now: datetime, to: Sequence[str]) -> Change:
    """Still not taken: the coordinators were alerted."""
    return _alerted(session, Command.ESCALATE, Kind.ESCALATED, case, now, to)


def sla_next(case: Case, at: datetime | None) -> None:
    """When the response-time scan must look at this case again (None: never)."""
    case.sla_check_at = at


# -- what coaches do ---------------------------------------------------------------------


def _acknowledge(session: AsyncSession, change: Change, coach: Actor, now: datetime) -> None:
    case = change.case
    case.acknowledged_at = now
    case.status = Status.ACKNOWLEDGED
    case.coach_id = coach.id
    _event(session, change, Kind.ACKNOWLEDGED, coach.id, now)


def take(session: AsyncSession, case: Case, coach: Actor, now: datetime) -> Change:
    """The coach takes the case: it is his from now on."""
    next_status(Command.TAKE, case.status)
    change = Change(case)
    _acknowledge(session, change, coach, now)
    return change


def reply(
    session: AsyncSession,
    case: Case,
    coach: Actor,
    now: datetime,
    text: str,
    file: tuple[str, str] | None = None,
) -> Change:
    """The coach's words to the actor; they take an open case."""
    status = next_status(Command.REPLY, case.status)
    change = Change(case)
    if case.status == Status.OPEN:
        _acknowledge(session, change, coach, now)
    case.status = status
    fields = _file_fields(file)
    _event(session, change, Kind.MESSAGE_OUT, coach.id, now, text=text or None, **fields)
    return change


def resolve(session: AsyncSession, case: Case, coach: Actor, now: datetime) -> Change:
    """The coach closes the matter (taking it first if nobody had); the actor's feedback
    on the answer is asked afresh."""
    status = next_status(Command.RESOLVE, case.status)
    change = Change(case)
    if case.status == Status.OPEN:
        _acknowledge(session, change, coach, now)
    case.status = status
    case.resolved_at = now
    case.helpful = None
    _event(session, change, Kind.STATUS, coach.id, now, details={"to": status})
    return change


async def hand_over(
    session: AsyncSession, case: Case, coach: Actor, now: datetime, to_id: int
) -> tuple[Change, Actor]:
    """The case passes to another coach (whoever holds it, whatever its status)."""
    next_status(Command.HAND_OVER, case.status)
    to = await session.get(Actor, to_id)
    if to is None or to.role not in COACH_ROLES:
        raise Refused(Command.HAND_OVER, Refusal.NOT_A_COACH)
    change = Change(case)
    previous = case.coach_id
    case.coach_id = to.id
    _event(session, change, Kind.HANDOVER, coach.id, now, details={"from": previous, "to": to.id})
    return change, to


# -- what actors do ----------------------------------------------------------------------


def relay(
    session: AsyncSession,
    case: Case,
    actor: Actor,
    now: datetime,
    text: str,
    file: tuple[str, str] | None,
    message_id: int,
) -> Change:
    """The actor's words go into the case; on a resolved case they reopen it."""
    next_status(Command.RELAY, case.status)
    change = Change(case)
    _event(
        session,
        change,
        Kind.MESSAGE_IN,
        actor.id,
        now,
        text=text or None,
        file_id=file[1] if file else None,
        # The message's id lets the actor take it back ("it was for the hotline").
        details={"message_id": message_id, **({"kind": file[0]} if file else {})},
    )
    if case.status in _DONE:
        change.events += reopen(session, case, actor, now).events
    return change


def reopen(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Change:
    """Speaking again about a resolved case puts it back in progress with its coach."""
    status = next_status(Command.REOPEN, case.status)
    change = Change(case)
    case.status = status
    _event(
        session, change, Kind.STATUS, actor.id, now, details={"to": status, "why": "actor_wrote"}
    )
    return change


async def withdraw(
    session: AsyncSession,
    case: Case,
    actor: Actor,
    now: datetime,
    message_id: int,
    text: str | None,
) -> Change:
    """A relayed message was meant for the bot: the case keeps it, marked as taken back."""
    next_status(Command.WITHDRAW, case.status)
    earlier = await session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == Kind.WITHDRAWN)
    )
    if any((e.details or {}).get("message_id") == message_id for e in earlier):
        raise Refused(Command.WITHDRAW, Refusal.ALREADY_WITHDRAWN)
    change = Change(case)
    _event(
        session,
        change,
        Kind.WITHDRAWN,
        actor.id,
        now,
        text=text,
        details={"message_id": message_id},
    )
    return change


def feedback(
    session: AsyncSession, case: Case, actor: Actor, now: datetime, helpful: bool
) -> Change:
    """Whether the answer helped, asked when the case was resolved (it may be changed)."""
    next_status(Command.FEEDBACK, case.status)
    change = Change(case)
    case.helpful = helpful
    _event(session, change, Kind.FEEDBACK, actor.id, now, details={"helpful": helpful})
    return change
