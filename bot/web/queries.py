"""What the console's pages read: the inbox with its filters and counts, and the territory
picture. Every query goes through the one visibility rule of `bot.cases.visibility`."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.visibility import visible_cases
from bot.core.clock import local
from bot.plans import service as plans
from storage.models import (
    ActionPlan,
    Actor,
    Case,
    CaseCategory,
    CaseSeverity,
    CaseStatus,
    Commitment,
    CommitmentStatus,
    Territory,
)

ACTIVE = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)
VIEWS = ("open", "mine", "unassigned", "late", "emergency")


@dataclass
class Filters:
    view: str = "open"
    category: str = ""
    territory: int | None = None
    plan: int | None = None

    @classmethod
    def parse(cls, query: dict[str, str]) -> Filters:
        view = query.get("view", "open")
        category = query.get("category", "")
        return cls(
            view=view if view in VIEWS else "open",
            category=category if category in set(CaseCategory) else "",
            territory=_int(query.get("territory")),
            plan=_int(query.get("plan")),
        )


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _view_clause(view: str, me: Actor, now: datetime) -> ColumnElement[bool] | None:
    if view == "mine":
        return Case.coach_id == me.id
    if view == "unassigned":
        return Case.acknowledged_at.is_(None)
    if view == "late":
        return Case.acknowledged_at.is_(None) & (Case.ack_due_at <= now)
    if view == "emergency":
        return Case.severity == CaseSeverity.EMERGENCY
    return None


async def inbox(
    session: AsyncSession, me: Actor, filters: Filters, now: datetime
) -> tuple[list[Case], dict[str, int]]:
    """The active cases this coach sees under the filters, most urgent first, and the count
    of each view (under the same category, territory and plan)."""
    seen = await visible_cases(session, me)
    base = [Case.status.in_(ACTIVE), seen]
    if filters.category:
        base.append(Case.category == filters.category)
    if filters.territory is not None:
        base.append(Case.territory_id == filters.territory)
    if filters.plan is not None:
        base.append(Case.plan_id == filters.plan)
    counts = {}
    for view in VIEWS:
        clause = _view_clause(view, me, now)
        extra = [clause] if clause is not None else []
        counts[view] = await session.scalar(select(func.count(Case.id)).where(*base, *extra)) or 0
    clause = _view_clause(filters.view, me, now)
    query = select(Case).where(*base, *([clause] if clause is not None else []))
    emergency_first = (Case.severity != CaseSeverity.EMERGENCY).asc()
    query = query.order_by(emergency_first, Case.ack_due_at.is_(None), Case.ack_due_at, Case.id)
    return list((await session.scalars(query.limit(500))).all()), counts


async def names(session: AsyncSession, ids: set[int]) -> dict[int, Actor]:
    if not ids:
        return {}
    return {a.id: a for a in await session.scalars(select(Actor).where(Actor.id.in_(ids)))}


async def territories(session: AsyncSession) -> dict[int, Territory]:
    return {t.id: t for t in await session.scalars(select(Territory).order_by(Territory.name))}


# -- the territory picture ---------------------------------------------------------------------


@dataclass
class Node:
    territory: Territory
    children: list[Node] = field(default_factory=list)
    open_by_category: dict[str, int] = field(default_factory=dict)
    late: int = 0
    overdue_commitments: int = 0
    unanswered_questions: int = 0
    opened_this_week: int = 0
    opened_last_week: int = 0

    @property
    def open_total(self) -> int:
        return sum(self.open_by_category.values())

    @property
    def quiet(self) -> bool:
        return not (self.open_total or self.overdue_commitments or self.opened_last_week)


@dataclass
class Week:
    start: datetime
    opened: int
    resolved: int
    median_take_minutes: float | None


@dataclass
class Picture:
    roots: list[Node]
    weeks: list[Week]
    without_territory: int


async def picture(session: AsyncSession, me: Actor, now: datetime, weeks: int = 8) -> Picture:
    """Per territory (counting everything below it): open cases by category, late cases,
    overdue commitments, questions nobody took, and cases opened this week and last."""
    seen = await visible_cases(session, me)
    places = await territories(session)
    nodes = {tid: Node(t) for tid, t in places.items()}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.territory.parent_id or -1)
        (parent.children if parent else roots).append(node)

    def chain(territory_id: int | None) -> list[Node]:
        found, seen_ids = [], set()
        while territory_id is not None and territory_id in nodes and territory_id not in seen_ids:
            seen_ids.add(territory_id)
            found.append(nodes[territory_id])
            territory_id = nodes[territory_id].territory.parent_id
        return found

    week_start = _week_start(now)
    since = week_start - timedelta(weeks=weeks - 1)
    recent = select(Case).where(seen, (Case.status.in_(ACTIVE)) | (Case.opened_at >= since))
    without = 0
    all_cases = list((await session.scalars(recent)).all())
    for case in all_cases:
        owners = chain(case.territory_id)
        if not owners:
            without += case.status in ACTIVE
        for node in owners:
            if case.status in ACTIVE:
                node.open_by_category[case.category] = (
                    node.open_by_category.get(case.category, 0) + 1
                )
                if case.acknowledged_at is None and case.ack_due_at and case.ack_due_at <= now:
                    node.late += 1
                if case.category == CaseCategory.QUESTION and case.acknowledged_at is None:
                    node.unanswered_questions += 1
            if case.opened_at >= week_start:
                node.opened_this_week += 1
            elif case.opened_at >= week_start - timedelta(weeks=1):
                node.opened_last_week += 1
    plan_rows = await session.execute(
        select(Commitment, ActionPlan.territory_id)
        .join(ActionPlan, ActionPlan.id == Commitment.plan_id)
        .where(Commitment.status.not_in((CommitmentStatus.DONE, CommitmentStatus.CANCELLED)))
    )
    for commitment, territory_id in plan_rows.all():
        if plans.is_overdue(commitment, now):
            for node in chain(territory_id):
                node.overdue_commitments += 1
    history = await weekly(session, seen, week_start, weeks)
    for node in nodes.values():
        node.children.sort(key=lambda n: n.territory.name)
    roots.sort(key=lambda n: n.territory.name)
    return Picture(roots, history, without)


def _week_start(now: datetime) -> datetime:
    day = local(now)
    monday = (day - timedelta(days=day.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return monday


async def weekly(
    session: AsyncSession, seen: ColumnElement[bool], this_week: datetime, weeks: int
) -> list[Week]:
    """Cases opened and resolved per week, and the median time to take one."""
    first = this_week - timedelta(weeks=weeks - 1)
    cases = list(
        (
            await session.scalars(
                select(Case).where(seen, (Case.opened_at >= first) | (Case.resolved_at >= first))
            )
        ).all()
    )
    out = []
    for index in range(weeks):
        start = first + timedelta(weeks=index)
        end = start + timedelta(weeks=1)
        opened = [c for c in cases if start <= c.opened_at < end]
        resolved = [c for c in cases if c.resolved_at and start <= c.resolved_at < end]
        takes = [
            (c.acknowledged_at - c.opened_at).total_seconds() / 60
            for c in opened
            if c.acknowledged_at is not None
        ]
        out.append(
            Week(start, len(opened), len(resolved), statistics.median(takes) if takes else None)
        )
    return out
