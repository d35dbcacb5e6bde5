"""What a coach sees: the one rule used by the chat (`/cases`, `/case N`, buttons) and the
web console alike.

Admins and coordinators see every case. Another coach sees the cases in his charge, the
cases of the plans he coaches and of the territories he answers for (with every territory
below them), the cases nobody holds yet (whoever takes one follows it up), and the cases he
was alerted about (an emergency reaches the coaches on duty, say).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, and_, cast, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.alerts import ALERTING_EVENTS
from storage.models import ActionPlan, Actor, Case, CaseEvent, Role, Territory, TerritoryCoach


def sees_everything(person: Actor) -> bool:
    return person.role == Role.ADMIN or (person.is_coach and person.is_coordinator)


async def territories_of(session: AsyncSession, coach: Actor) -> set[int]:
    """The territories a coach answers for, and every territory below them."""
    roots = set(
        (
            await session.scalars(
                select(TerritoryCoach.territory_id).where(TerritoryCoach.coach_id == coach.id)
            )
        ).all()
    )
    if not roots:
        return set()
    children: dict[int, list[int]] = {}
    for territory_id, parent_id in (
        await session.execute(select(Territory.id, Territory.parent_id))
    ).all():
        if parent_id is not None:
            children.setdefault(parent_id, []).append(territory_id)
    found, todo = set(), list(roots)
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += children.get(current, [])
    return found


async def visible_cases(session: AsyncSession, person: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Case` keeping what this person may see."""
    if sees_everything(person):
        return true()
    if not person.is_coach:
        return false()
    coached_plans = select(ActionPlan.id).where(ActionPlan.coach_id == person.id)
    # Alerting events list their recipients as keys such as "a12" in a JSON array.
    alerted = exists().where(
        CaseEvent.case_id == Case.id,
        CaseEvent.kind.in_(ALERTING_EVENTS),
        cast(CaseEvent.details, String).like(f'%"a{person.id}"%'),
    )
    conditions = [
        Case.coach_id == person.id,
        Case.coach_id.is_(None),
        and_(Case.plan_id.is_not(None), Case.plan_id.in_(coached_plans)),
        alerted,
    ]
    territories = await territories_of(session, person)
    if territories:
        conditions.append(Case.territory_id.in_(territories))
    return or_(*conditions)


async def can_see(session: AsyncSession, person: Actor, case: Case) -> bool:
    if sees_everything(person):
        return True
    clause = await visible_cases(session, person)
    found = await session.scalar(select(Case.id).where(Case.id == case.id, clause))
    return found is not None
