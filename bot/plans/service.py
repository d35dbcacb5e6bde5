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

from bot.clock import LOCAL_TZ, local
from bot.plans.dates import DueDate, normalize
from storage.models import (
    ActionPlan,
    Actor,
    Commitment,
    CommitmentEvent,
    CommitmentStatus,
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
    if commitment.due is None or commitment.status == CommitmentStatus.DONE:
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
