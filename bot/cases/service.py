"""Opening cases. Every feature that raises a problem for a coach goes through `open_case`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Actor, Case, CaseEvent, CaseSeverity, CaseStatus


async def open_case(
    session: AsyncSession,
    *,
    now: datetime,
    actor: Actor,
    category: str,
    summary: str,
    severity: str = CaseSeverity.NORMAL,
    plan_id: int | None = None,
    commitment_id: int | None = None,
    source_message_id: int | None = None,
) -> Case:
    """Log a case for this actor. Routing to a coach and alerts hang off this one place."""
    case = Case(
        actor_id=actor.id,
        lang=actor.lang,
        territory_id=actor.territory_id,
        plan_id=plan_id,
        commitment_id=commitment_id,
        category=category,
        severity=severity,
        status=CaseStatus.OPEN,
        summary=summary,
        source_message_id=source_message_id,
        opened_at=now,
    )
    session.add(case)
    await session.flush()
    session.add(CaseEvent(case_id=case.id, actor_id=actor.id, at=now, kind="opened"))
    await session.flush()
    return case
