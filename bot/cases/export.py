"""The cases as CSV, for the coaches' button and for `hotline cases export`."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import local
from bot.core.spreadsheet import csv_cell
from storage.models import ActionPlan, Actor, Case, Territory

HEADER = (
    "case",
    "opened_at",
    "status",
    "severity",
    "category",
    "actor",
    "lang",
    "territory",
    "plan",
    "coach",
    "ack_due_at",
    "acknowledged_at",
    "resolved_at",
    "helpful",
    "summary",
)


async def cases_csv(session: AsyncSession, cases: Sequence[Case]) -> bytes:
    """UTF-8 with a BOM (so Excel reads Arabic), every text cell safe from formulas."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(HEADER)
    for case in cases:
        actor = await session.get(Actor, case.actor_id)
        coach = await session.get(Actor, case.coach_id) if case.coach_id else None
        territory = await session.get(Territory, case.territory_id) if case.territory_id else None
        plan = await session.get(ActionPlan, case.plan_id) if case.plan_id else None
        row = [
            case.id,
            _iso(case.opened_at),
            case.status,
            case.severity,
            case.category,
            actor.display_name if actor else "",
            case.lang,
            territory.name if territory else "",
            plan.title if plan else "",
            coach.display_name if coach else "",
            _iso(case.ack_due_at),
            _iso(case.acknowledged_at),
            _iso(case.resolved_at),
            "" if case.helpful is None else ("yes" if case.helpful else "no"),
            case.summary,
        ]
        out.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _iso(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""
