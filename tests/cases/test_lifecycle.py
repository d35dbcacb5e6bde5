"""The case lifecycle, table-driven: each row is a starting point (the commands that led
there), one command with its input, the events it must append and the state it must leave
— or the refusal it must raise, leaving the case and its timeline as they were.

Every command is tried from every status (the transition table must say what happens for
each), on SQLite and PostgreSQL, with the state read back from the database afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import labels, lifecycle
from bot.cases.lifecycle import Command, Refusal, Refused
from bot.cases.routing import Route
from bot.core.clock import ManualClock
from bot.core.config import Settings
from storage.db import Database
from storage.models import Actor, Case, CaseEvent, CaseEventKind, CaseStatus, Role

K = CaseEventKind
S = CaseStatus
PEOPLE = {"amina": Role.ACTOR, "karim": Role.COACH, "salma": Role.COACH}
MESSAGE = 7  # the id of the actor's message relayed in the starting points


@dataclass
class World:
    session: AsyncSession
    people: dict[str, Actor]
    case: Case | None
    now: datetime


class Step(Protocol):
    async def run(self, w: World) -> Any: ...


# -- the commands, as a row names them -------------------------------------------------------


@dataclass(frozen=True)
class Open:
    by: str = "amina"

    async def run(self, w: World) -> lifecycle.Change:
        change = await lifecycle.open(
            w.session,
            now=w.now,
            actor=w.people[self.by],
            lang="fr",
            route=Route(w.people["karim"], None, None, "territory"),
            category="question",
            summary="the mayor blocks our project",
            ack_due_at=w.now + timedelta(hours=4),
            attachments=[("photo", "file-1")],
        )
        w.case = change.case
        return change


@dataclass(frozen=True)
class Route_:
    command: Command

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        write = {
            Command.ROUTE: lifecycle.routed,
            Command.REALERT: lifecycle.realerted,
            Command.ESCALATE: lifecycle.escalated,
        }[self.command]
        return write(w.session, w.case, w.now, ["group"])


@dataclass(frozen=True)
class Take:
    by: str

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        return lifecycle.take(w.session, w.case, w.people[self.by], w.now)


@dataclass(frozen=True)
class Reply:
    by: str

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        return lifecycle.reply(w.session, w.case, w.people[self.by], w.now, "bonjour")


@dataclass(frozen=True)
class Relay:
    by: str = "amina"
    message: int = MESSAGE

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        return lifecycle.relay(
            w.session, w.case, w.people[self.by], w.now, "merci", None, self.message
        )


@dataclass(frozen=True)
class Resolve:
    by: str

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        return lifecycle.resolve(w.session, w.case, w.people[self.by], w.now)


@dataclass(frozen=True)
class Reopen:
    by: str = "amina"

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        return lifecycle.reopen(w.session, w.case, w.people[self.by], w.now)


@dataclass(frozen=True)
class HandOver:
    by: str
    to: str

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        change, _coach = await lifecycle.hand_over(
            w.session, w.case, w.people[self.by], w.now, w.people[self.to].id
        )
        return change


@dataclass(frozen=True)
class Withdraw:
    by: str = "amina"
    message: int = MESSAGE

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        return await lifecycle.withdraw(
            w.session, w.case, w.people[self.by], w.now, self.message, "merci"
        )


@dataclass(frozen=True)
class Feedback:
    helpful: bool
    by: str = "amina"

    async def run(self, w: World) -> lifecycle.Change:
        assert w.case is not None
        return lifecycle.feedback(w.session, w.case, w.people[self.by], w.now, self.helpful)


@dataclass(frozen=True)
class Closed:
    """No command closes a case yet, but the status exists: set it as stored data would."""

    async def run(self, w: World) -> None:
        assert w.case is not None
        w.case.status = S.CLOSED
        w.case.closed_at = w.now


# -- starting points and expected states -----------------------------------------------------

GIVEN: dict[str, list[Step]] = {
    "nothing": [],
    "open": [Open(), Route_(Command.ROUTE)],
    "acknowledged": [Open(), Take("karim")],
    "in_progress": [Open(), Take("karim"), Reply("karim"), Relay()],
    "resolved": [Open(), Take("karim"), Resolve("karim")],
    "closed": [Open(), Take("karim"), Resolve("karim"), Closed()],
    # resolved, rated, then the actor wrote again
    "reopened": [Open(), Resolve("karim"), Feedback(True), Relay()],
    "withdrawn": [Open(), Relay(), Withdraw()],
}


@dataclass(frozen=True)
class State:
    status: str
    coach: str | None = "karim"
    taken: bool = True  # acknowledged_at is set
    resolved: bool = False  # resolved_at is set
    helpful: bool | None = None
    sla: bool = False  # the response-time scan still watches it


OPEN = State(S.OPEN, taken=False, sla=True)
ACKNOWLEDGED = State(S.ACKNOWLEDGED)
IN_PROGRESS = State(S.IN_PROGRESS)
RESOLVED = State(S.RESOLVED, resolved=True)
CLOSED = State(S.CLOSED, resolved=True)
STARTS = {
    "open": OPEN,
    "acknowledged": ACKNOWLEDGED,
    "in_progress": IN_PROGRESS,
    "resolved": RESOLVED,
    "closed": CLOSED,
}

# An expected event: (kind, who, details); "@name" in details stands for that person's id.
Event = tuple[str, str | None, dict[str, Any]]
TO_STATUS = {"to": S.IN_PROGRESS, "why": "actor_wrote"}
RELAYED: Event = (K.MESSAGE_IN, "amina", {"message_id": MESSAGE})


def row(
    given: str, command: Step, events: list[Event], state: State | Refusal, name: str = ""
) -> Any:
    label = name or f"{type(command).__name__.rstrip('_').lower()} from {given}"
    return pytest.param(given, command, events, state, id=label)


def _same(start: str, command: Step, events: list[Event], name: str = "") -> list[Any]:
    return [row(start, command, events, STARTS[start], name)]


def _alerts() -> list[Any]:
    rows = []
    for command, kind in (
        (Command.ROUTE, K.ROUTED),
        (Command.REALERT, K.REALERT),
        (Command.ESCALATE, K.ESCALATED),
    ):
        rows.append(
            row("open", Route_(command), [(kind, None, {"to": ["group"]})], OPEN, f"{command}")
        )
        rows += [
            row(start, Route_(command), [], Refusal.TAKEN, f"{command} from {start}")
            for start in ("acknowledged", "in_progress", "resolved", "closed")
        ]
    return rows


ROWS = [
    row(
        "nothing",
        Open(),
        [
            (K.OPENED, "amina", {"via": "territory", "coach_id": "@karim"}),
            (K.MESSAGE_IN, "amina", {"kind": "photo"}),
        ],
        OPEN,
    ),
    *_alerts(),
    # take: a second coach takes an open case routed to the first; nobody takes twice
    row("open", Take("salma"), [(K.ACKNOWLEDGED, "salma", {})], State(S.ACKNOWLEDGED, "salma")),
    row("acknowledged", Take("salma"), [], Refusal.ALREADY_TAKEN, "second coach takes"),
    row("acknowledged", Take("karim"), [], Refusal.ALREADY_TAKEN, "same coach takes twice"),
    row("in_progress", Take("salma"), [], Refusal.ALREADY_TAKEN),
    row("resolved", Take("salma"), [], Refusal.ALREADY_RESOLVED),
    row("closed", Take("karim"), [], Refusal.ALREADY_RESOLVED),
    # reply: takes an open case; leaves a resolved one resolved
    row(
        "open",
        Reply("salma"),
        [(K.ACKNOWLEDGED, "salma", {}), (K.MESSAGE_OUT, "salma", {})],
        State(S.IN_PROGRESS, "salma"),
    ),
    row("acknowledged", Reply("salma"), [(K.MESSAGE_OUT, "salma", {})], IN_PROGRESS),
    *_same("in_progress", Reply("karim"), [(K.MESSAGE_OUT, "karim", {})]),
    *_same("resolved", Reply("karim"), [(K.MESSAGE_OUT, "karim", {})]),
    *_same("closed", Reply("karim"), [(K.MESSAGE_OUT, "karim", {})]),
    # relay: the actor's words; on a resolved case they reopen it
    *_same("open", Relay(), [RELAYED]),
    *_same("acknowledged", Relay(), [RELAYED]),
    *_same("in_progress", Relay(message=8), [(K.MESSAGE_IN, "amina", {"message_id": 8})]),
    row(
        "resolved",
        Relay(),
        [RELAYED, (K.STATUS, "amina", TO_STATUS)],
        State(S.IN_PROGRESS, resolved=True),
    ),
    row(
        "closed",
        Relay(),
        [RELAYED, (K.STATUS, "amina", TO_STATUS)],
        State(S.IN_PROGRESS, resolved=True),
    ),
    # resolve: takes an open case first; never twice
    row(
        "open",
        Resolve("salma"),
        [(K.ACKNOWLEDGED, "salma", {}), (K.STATUS, "salma", {"to": S.RESOLVED})],
        State(S.RESOLVED, "salma", resolved=True),
    ),
    row("acknowledged", Resolve("karim"), [(K.STATUS, "karim", {"to": S.RESOLVED})], RESOLVED),
    row("in_progress", Resolve("karim"), [(K.STATUS, "karim", {"to": S.RESOLVED})], RESOLVED),
    row("resolved", Resolve("karim"), [], Refusal.ALREADY_RESOLVED, "resolve twice"),
    row("closed", Resolve("karim"), [], Refusal.ALREADY_RESOLVED),
    row(
        "reopened",
        Resolve("karim"),
        [(K.STATUS, "karim", {"to": S.RESOLVED})],
        RESOLVED,  # the earlier feedback is forgotten: asked again
        "resolve again after feedback",
    ),
    # reopen: only what is resolved
    row("open", Reopen(), [], Refusal.NOT_RESOLVED),
    row("acknowledged", Reopen(), [], Refusal.NOT_RESOLVED),
    row("in_progress", Reopen(), [], Refusal.NOT_RESOLVED),
    row(
        "resolved", Reopen(), [(K.STATUS, "amina", TO_STATUS)], State(S.IN_PROGRESS, resolved=True)
    ),
    row("closed", Reopen(), [(K.STATUS, "amina", TO_STATUS)], State(S.IN_PROGRESS, resolved=True)),
    # hand over: from any status, to a coach only
    *[
        row(
            start,
            HandOver("karim", "salma"),
            [(K.HANDOVER, "karim", {"from": "@karim", "to": "@salma"})],
            replace(STARTS[start], coach="salma"),
        )
        for start in STARTS
    ],
    row("open", HandOver("karim", "amina"), [], Refusal.NOT_A_COACH, "hand over to an actor"),
    # withdraw: from any status, once per message
    *[
        row(start, Withdraw(), [(K.WITHDRAWN, "amina", {"message_id": MESSAGE})], STARTS[start])
        for start in STARTS
    ],
    row("withdrawn", Withdraw(), [], Refusal.ALREADY_WITHDRAWN, "withdraw twice"),
    # feedback: only on a resolved case, and it may change its mind
    row("open", Feedback(True), [], Refusal.NOT_RESOLVED, "feedback on an open case"),
    row("acknowledged", Feedback(True), [], Refusal.NOT_RESOLVED),
    row("in_progress", Feedback(False), [], Refusal.NOT_RESOLVED),
    row("reopened", Feedback(False), [], Refusal.NOT_RESOLVED, "feedback after reopening"),
    row(
        "resolved",
        Feedback(True),
        [(K.FEEDBACK, "amina", {"helpful": True})],
        State(S.RESOLVED, resolved=True, helpful=True),
    ),
    row(
        "closed",
        Feedback(False),
        [(K.FEEDBACK, "amina", {"helpful": False})],
        State(S.CLOSED, resolved=True, helpful=False),
    ),
]
STATE_OF_GIVEN = {
    **STARTS,
    "reopened": State(S.IN_PROGRESS, resolved=True, helpful=True),
    "withdrawn": OPEN,
}


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


async def _people(session: AsyncSession, now: datetime) -> dict[str, Actor]:
    people = {
        name: Actor(
            channel="console",
            external_id=name,
            chat_id=name,
            display_name=name.capitalize(),
            role=role,
            lang="fr",
            created_at=now,
        )
        for name, role in PEOPLE.items()
    }
    session.add_all(people.values())
    await session.flush()
    return people


def _state(case: Case, names: dict[int, str]) -> State:
    return State(
        status=case.status,
        coach=names.get(case.coach_id) if case.coach_id else None,
        taken=case.acknowledged_at is not None,
        resolved=case.resolved_at is not None,
        helpful=case.helpful,
        sla=case.sla_check_at is not None,
    )


@pytest.mark.parametrize(("given", "command", "events", "expected"), ROWS)
async def test_transition(
    db: Database,
    clock: ManualClock,
    given: str,
    command: Step,
    events: list[Event],
    expected: State | Refusal,
) -> None:
    async with db.transaction() as session:
        w = World(session, await _people(session, clock.now()), None, clock.now())
        for step in GIVEN[given]:
            await step.run(w)
            w.now += timedelta(minutes=1)
    ids = {name: person.id for name, person in w.people.items()}
    names = {i: name for name, i in ids.items()}
    case_id = w.case.id if w.case else None
    async with db.transaction() as session:
        before = await session.scalar(select(func.coalesce(func.max(CaseEvent.id), 0)))
        case = await session.get(Case, case_id) if case_id else None
        people = {name: await session.get_one(Actor, i) for name, i in ids.items()}
        w = World(session, people, case, w.now)
        try:
            change = await command.run(w)
        except Refused as refused:
            assert refused.reason == expected
            change = None
        else:
            assert not isinstance(expected, Refusal), f"not refused: {expected}"
    async with db.transaction() as session:
        added = (
            await session.scalars(
                select(CaseEvent).where(CaseEvent.id > before).order_by(CaseEvent.id)
            )
        ).all()
        assert [(e.kind, names.get(e.actor_id or 0), e.details or {}) for e in added] == [
            (
                kind,
                who,
                {k: ids.get(str(v)[1:], v) if str(v)[:1] == "@" else v for k, v in d.items()},
            )
            for kind, who, d in events
        ]
        if change is not None:  # the events returned are the ones stored
            assert [e.id for e in change.events] == [e.id for e in added]
        stored = await session.get_one(Case, change.case.id if change else case_id)
        after = STATE_OF_GIVEN[given] if isinstance(expected, Refusal) else expected
        assert _state(stored, names) == after


def test_every_command_says_what_happens_from_every_status() -> None:
    assert set(lifecycle.TRANSITIONS) == set(Command) - {Command.OPEN}
    for command, outcomes in lifecycle.TRANSITIONS.items():
        assert set(outcomes) == set(CaseStatus), command


def test_every_event_kind_has_a_label() -> None:
    assert set(labels.EVENT) == set(CaseEventKind)
