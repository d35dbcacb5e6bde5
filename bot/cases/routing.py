"""Who answers for a case: the coach of the actor's plan, else of their territory.

The territory is walked upwards (douar → commune → province → region) until a territory
has a coach. Without any, the case goes to the coaches' group (see `alerts`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ActionPlan,
    Actor,
    Commitment,
    CommitteeMember,
    Role,
    Territory,
    TerritoryCoach,
)

COACH_ROLES = (Role.COACH, Role.ADMIN)


@dataclass(frozen=True)
class Route:
    coach: Actor | None
    plan_id: int | None
    territory_id: int | None
    via: str  # "plan", "territory" or "none"


async def actor_plans(session: AsyncSession, actor_id: int) -> list[ActionPlan]:
    """Plans whose committee the actor sits on or where they own a commitment, newest first."""
    member = (
        select(ActionPlan.id)
        .join(CommitteeMember, CommitteeMember.committee_id == ActionPlan.committee_id)
        .where(CommitteeMember.actor_id == actor_id)
    )
    owner = select(Commitment.plan_id).where(Commitment.owner_id == actor_id)
    ids = set((await session.scalars(member)).all()) | set((await session.scalars(owner)).all())
    if not ids:
        return []
    plans = (await session.scalars(select(ActionPlan).where(ActionPlan.id.in_(ids)))).all()
    # A plan with a coach first, then the most recent.
    return sorted(plans, key=lambda p: (p.coach_id is None, -p.id))


async def _coach(session: AsyncSession, coach_id: int | None) -> Actor | None:
    if coach_id is None:
        return None
    coach = await session.get(Actor, coach_id)
    return coach if coach is not None and coach.role in COACH_ROLES else None


async def territory_coach(session: AsyncSession, territory_id: int | None) -> Actor | None:
    seen: set[int] = set()
    while territory_id is not None and territory_id not in seen:
        seen.add(territory_id)
        coach_ids = (
            await session.scalars(
                select(TerritoryCoach.coach_id)
                .where(TerritoryCoach.territory_id == territory_id)
                .order_by(TerritoryCoach.coach_id)
            )
        ).all()
        for coach_id in coach_ids:
            coach = await _coach(session, coach_id)
            if coach is not None:
                return coach
        territory_id = await session.scalar(
            select(Territory.parent_id).where(Territory.id == territory_id)
        )
    return None


async def route(
    session: AsyncSession,
    actor: Actor,
    plan_id: int | None = None,
    commitment_id: int | None = None,
) -> Route:
    plan: ActionPlan | None = None
    if plan_id is None and commitment_id is not None:
        commitment = await session.get(Commitment, commitment_id)
        plan_id = commitment.plan_id if commitment is not None else None
    if plan_id is not None:
        plan = await session.get(ActionPlan, plan_id)
    else:
        plans = await actor_plans(session, actor.id)
        plan = plans[0] if plans else None
    territory_id = actor.territory_id or (plan.territory_id if plan else None)
    if plan is not None:
        coach = await _coach(session, plan.coach_id)
        if coach is not None:
            return Route(coach, plan.id, territory_id, "plan")
    coach = await territory_coach(session, territory_id)
    if coach is None and plan is not None and plan.territory_id != territory_id:
        coach = await territory_coach(session, plan.territory_id)
    plan_ref = plan.id if plan else None
    if coach is not None:
        return Route(coach, plan_ref, territory_id, "territory")
    return Route(None, plan_ref, territory_id, "none")
