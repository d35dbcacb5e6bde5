"""Action plans in storage: who may see what, the actor's commitments, changes with history.

Every change to a commitment goes through here so that it is recorded as a `CommitmentEvent`
(who, when, what) in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LOCAL_TZ, local
from bot.plans.dates import DueDate, normalize
from storage.models import (
    ActionPlan,
    Actor,
    Commitment,
    CommitmentEvent,
    CommitmentStatus,
    Committee,
    CommitteeMember,
    Role,
    TerritoryCoach,
)

# Owner names match a known actor at or above this similarity (0-100, rapidfuzz).
OWNER_MATCH_SCORE = 88
_TITLES = re.compile(r"^(?:m|mr|mme|mlle|me|dr|pr|si|lalla|monsieur|madame)\.?\s+")

OPEN_STATUSES = (
    CommitmentStatus.NOT_STARTED,
    CommitmentStatus.IN_PROGRESS,
    CommitmentStatus.BLOCKED,
)


# -- due dates -------------------------------------------------------------------------------


def due_to_storage(value: date | datetime | None) -> tuple[datetime | None, bool]:
    """A resolved (naive, local) due date as stored: an aware instant, and whether it has a time."""
    if value is None:
        return None, False
    if isinstance(value, datetime):
        return value.replace(tzinfo=LOCAL_TZ), True
    return datetime.combine(value, time(0, 0), tzinfo=LOCAL_TZ), False


def local_due(commitment: Commitment) -> date | datetime | None:
    """The due date as people read it: a local date, or a local date-time when one was written."""
    if commitment.due is None:
        return None
    when = local(commitment.due)
    return when.replace(tzinfo=None) if commitment.due_has_time else when.date()


def due_day(commitment: Commitment) -> date | None:
    return local(commitment.due).date() if commitment.due is not None else None


def is_overdue(commitment: Commitment, now: datetime) -> bool:
    """Late once the due day (or the due time, when one was written) has passed."""
    if commitment.due is None or commitment.status not in OPEN_STATUSES:
        return False
    if commitment.due_has_time:
        return now > commitment.due
    day = due_day(commitment)
    return day is not None and local(now).date() > day


# -- owners ----------------------------------------------------------------------------------


def owner_key(name: str) -> str:
    """'M Jaouad ELAFOUI (comité TS)' -> 'jaouad elafoui': no accents, titles or asides."""
    text = normalize(re.sub(r"\([^)]*\)", " ", name))
    return _TITLES.sub("", text).strip(" .,-")


async def match_owner(session: AsyncSession, name: str) -> Actor | None:
    """The one known actor whose display name matches ``name``; None when unsure."""
    key = owner_key(name)
    if not key:
        return None
    actors = (await session.scalars(select(Actor).where(Actor.display_name != ""))).all()
    choices = {actor.id: owner_key(actor.display_name) for actor in actors}
    found = process.extract(key, choices, scorer=fuzz.token_sort_ratio, limit=2)
    good = [hit for hit in found if hit[1] >= OWNER_MATCH_SCORE]
    # Two people equally close to the name: a person links it, not a guess.
    if not good or (len(good) > 1 and good[0][1] == good[1][1]):
        return None
    best_id = good[0][2]
    return next(actor for actor in actors if actor.id == best_id)


# -- who sees what ---------------------------------------------------------------------------


async def can_see_plan(session: AsyncSession, actor: Actor, plan: ActionPlan) -> bool:
    """Committee members of the plan, its coach, and admins."""
    if actor.role == Role.ADMIN or plan.coach_id == actor.id:
        return True
    if plan.committee_id is None:
        return False
    member = await session.get(CommitteeMember, (plan.committee_id, actor.id))
    return member is not None


async def plans_visible_to(session: AsyncSession, actor: Actor) -> Sequence[ActionPlan]:
    query = select(ActionPlan).order_by(ActionPlan.id)
    if actor.role != Role.ADMIN:
        committees = select(CommitteeMember.committee_id).where(
            CommitteeMember.actor_id == actor.id
        )
        query = query.where(
            (ActionPlan.coach_id == actor.id) | ActionPlan.committee_id.in_(committees)
        )
    return (await session.scalars(query)).all()


async def plans_coached_by(session: AsyncSession, actor: Actor) -> Sequence[ActionPlan]:
    query = select(ActionPlan).order_by(ActionPlan.id)
    if actor.role != Role.ADMIN:
        query = query.where(ActionPlan.coach_id == actor.id)
    return (await session.scalars(query)).all()


async def coaches_of(session: AsyncSession, plan: ActionPlan) -> list[Actor]:
    """The plan's coach; failing that, the coaches of its territory."""
    if plan.coach_id is not None:
        coach = await session.get(Actor, plan.coach_id)
        return [coach] if coach is not None else []
    if plan.territory_id is None:
        return []
    query = (
        select(Actor)
        .join(TerritoryCoach, TerritoryCoach.coach_id == Actor.id)
        .where(TerritoryCoach.territory_id == plan.territory_id)
        .order_by(Actor.id)
    )
    return list((await session.scalars(query)).all())


# -- commitments -----------------------------------------------------------------------------


async def commitments_of_plan(session: AsyncSession, plan_id: int) -> Sequence[Commitment]:
    query = (
        select(Commitment)
        .where(Commitment.plan_id == plan_id)
        .order_by(Commitment.position, Commitment.id)
    )
    return (await session.scalars(query)).all()


async def open_commitments_of(session: AsyncSession, actor_id: int) -> Sequence[Commitment]:
    """The actor's own open commitments, soonest deadline first, undated last."""
    query = (
        select(Commitment)
        .where(Commitment.owner_id == actor_id, Commitment.status.in_(OPEN_STATUSES))
        .order_by(Commitment.due.is_(None), Commitment.due, Commitment.plan_id, Commitment.position)
    )
    return (await session.scalars(query)).all()


async def record(
    session: AsyncSession,
    commitment: Commitment,
    *,
    actor: Actor | None,
    now: datetime,
    kind: str,
    **details: Any,
) -> CommitmentEvent:
    event = CommitmentEvent(
        commitment_id=commitment.id,
        actor_id=actor.id if actor is not None else None,
        at=now,
        kind=kind,
        details=details,
    )
    session.add(event)
    await session.flush()
    return event


async def set_status(
    session: AsyncSession,
    commitment: Commitment,
    status: str,
    *,
    actor: Actor | None,
    now: datetime,
    **details: Any,
) -> None:
    previous = commitment.status
    commitment.status = status
    commitment.updated_at = now
    await record(
        session,
        commitment,
        actor=actor,
        now=now,
        kind="status",
        old=previous,
        new=status,
        **details,
    )


async def set_due(
    session: AsyncSession,
    commitment: Commitment,
    value: date | datetime,
    *,
    text: str,
    actor: Actor | None,
    now: datetime,
) -> None:
    """A new or confirmed deadline: the text as written is kept next to the resolved value."""
    old = local_due(commitment)
    commitment.due, commitment.due_has_time = due_to_storage(value)
    commitment.due_text = text[:200]
    commitment.due_needs_confirmation = False
    commitment.updated_at = now
    await record(
        session,
        commitment,
        actor=actor,
        now=now,
        kind="due",
        old=old.isoformat() if old is not None else None,
        new=value.isoformat(),
        text=text,
    )


def proposed_due(due: DueDate) -> date | datetime | None:
    """What to offer a person for confirmation: the reading, else the suggestion."""
    return due.value if due.value is not None else due.suggestion


# -- coaches edit commitments ----------------------------------------------------------------

# The fields a coach edits in the chat, in the order of the plan's columns.
TEXT_FIELDS = ("what", "where", "how", "deliverables")
FIELDS = ("what", "where", "due", "owner", "how", "deliverables", "status")
# Owners offered to a coach score at least this much against the name (committee members are
# always offered: "Comité TS" resembles no person's name).
CANDIDATE_SCORE = 60


async def can_edit_plan(session: AsyncSession, actor: Actor, plan: ActionPlan) -> bool:
    """Admins, the plan's coach, and (for a plan without one) the coaches of its territory."""
    if actor.role == Role.ADMIN or plan.coach_id == actor.id:
        return True
    if plan.coach_id is not None or not actor.is_coach:
        return False
    return any(coach.id == actor.id for coach in await coaches_of(session, plan))


async def set_text(
    session: AsyncSession,
    commitment: Commitment,
    field: str,
    value: str,
    *,
    actor: Actor | None,
    now: datetime,
) -> None:
    """One of what / where / how / deliverables, with the old and new text in the history."""
    if field not in TEXT_FIELDS:
        raise ValueError(field)
    old = getattr(commitment, field)
    setattr(commitment, field, value)
    commitment.updated_at = now
    await record(
        session, commitment, actor=actor, now=now, kind="edit", field=field, old=old, new=value
    )


async def set_owner(
    session: AsyncSession,
    commitment: Commitment,
    owner: Actor | None,
    *,
    text: str | None = None,
    actor: Actor | None,
    now: datetime,
) -> None:
    """A new owner: a known actor, or only a name (pending until linked).

    The event is also where reminders start again from (see `bot.plans.reminders`).
    """
    old = {"old_id": commitment.owner_id, "old_text": commitment.owner_text}
    commitment.owner_id = owner.id if owner is not None else None
    if text is not None:
        commitment.owner_text = text[:200]
    commitment.updated_at = now
    await record(
        session,
        commitment,
        actor=actor,
        now=now,
        kind="owner",
        **old,
        new_id=commitment.owner_id,
        new_text=commitment.owner_text,
    )


async def link_pending_owner(
    session: AsyncSession,
    plan_id: int,
    owner_text: str,
    owner: Actor,
    *,
    actor: Actor | None,
    now: datetime,
) -> list[Commitment]:
    """Every still unlinked row of the plan whose owner is written ``owner_text`` -> ``owner``."""
    rows = (
        await session.scalars(
            select(Commitment)
            .where(
                Commitment.plan_id == plan_id,
                Commitment.owner_id.is_(None),
                Commitment.owner_text == owner_text,
            )
            .order_by(Commitment.position, Commitment.id)
        )
    ).all()
    for commitment in rows:
        await set_owner(session, commitment, owner, actor=actor, now=now)
    return list(rows)


async def pending_owners(session: AsyncSession, plan_id: int) -> list[tuple[str, int, int]]:
    """(owner text, first row id, number of rows) of the plan's unlinked owners, by name."""
    found: dict[str, list[int]] = {}
    for commitment in await commitments_of_plan(session, plan_id):
        if commitment.owner_id is None and commitment.owner_text:
            found.setdefault(commitment.owner_text, []).append(commitment.id)
    return [(text, ids[0], len(ids)) for text, ids in sorted(found.items())]


async def owner_candidates(
    session: AsyncSession, plan: ActionPlan, name: str, limit: int = 5
) -> list[Actor]:
    """People a coach may mean by ``name``: close names first, the plan's committee always."""
    members: set[int] = set()
    if plan.committee_id is not None:
        members = set(
            (
                await session.scalars(
                    select(CommitteeMember.actor_id).where(
                        CommitteeMember.committee_id == plan.committee_id
                    )
                )
            ).all()
        )
    actors = (
        await session.scalars(select(Actor).where(Actor.display_name != "").order_by(Actor.id))
    ).all()
    key = owner_key(name)
    scored = []
    for person in actors:
        score = fuzz.token_set_ratio(key, owner_key(person.display_name)) if key else 0
        if score >= CANDIDATE_SCORE or person.id in members:
            # A close name first; among equals, members of the committee before strangers.
            scored.append((-score, person.id not in members, person.id, person))
    return [entry[3] for entry in sorted(scored)[:limit]]


async def committee_of(session: AsyncSession, plan: ActionPlan) -> Committee | None:
    return await session.get(Committee, plan.committee_id) if plan.committee_id else None


def is_committee_owned(commitment: Commitment, committee: Committee | None) -> bool:
    """An unlinked row whose owner is the plan's committee as a whole ("Comité TS")."""
    if committee is None or commitment.owner_id is not None:
        return False
    return owner_key(commitment.owner_text) == owner_key(committee.name)


async def history(session: AsyncSession, commitment_id: int) -> Sequence[CommitmentEvent]:
    query = (
        select(CommitmentEvent)
        .where(CommitmentEvent.commitment_id == commitment_id)
        .order_by(CommitmentEvent.at, CommitmentEvent.id)
    )
    return (await session.scalars(query)).all()
