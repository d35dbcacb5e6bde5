"""Opening cases. Every feature that raises a problem for a coach goes through `open_case`.

Opening logs the case, routes it (plan coach, else territory coach, else the coaches'
group), sets its acknowledgement deadline and alerts the coaches, all in the caller's
transaction: a case is never stored without its alert, nor alerted without being stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import alerts, routing
from bot.cases.sla import SlaPolicy
from bot.core.config import Settings
from storage.models import Actor, Case, CaseEvent, CaseSeverity, CaseStatus, OutboxMessage


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
    attachments: Sequence[tuple[str, str]] = (),
    details: dict[str, Any] | None = None,
    settings: Settings,
    sent: list[OutboxMessage] | None = None,
    lang: str | None = None,
) -> Case:
    """Log a case for this actor, route it and alert the coaches.

    `attachments` are (kind, file id) pairs; `details` go into the opening event (e.g. the
    answers of a guided report, shown on the coach's card); `settings` gives the response-time
    targets and the coaches' group; the alerts enqueued are appended to `sent` when given (a
    turn's `sent`); `lang`: the variant the actor wrote it in (the coach is asked to answer in
    it), by default the actor's.
    """
    where = await routing.route(session, actor, plan_id=plan_id, commitment_id=commitment_id)
    case = Case(
        actor_id=actor.id,
        lang=lang or actor.lang,
        territory_id=where.territory_id,
        plan_id=where.plan_id,
        commitment_id=commitment_id,
        category=category,
        severity=severity,
        status=CaseStatus.OPEN,
        summary=summary,
        coach_id=where.coach.id if where.coach else None,
        source_message_id=source_message_id,
        opened_at=now,
        ack_due_at=SlaPolicy.from_settings(settings).ack_due(severity, now),
    )
    session.add(case)
    await session.flush()
    session.add(
        CaseEvent(
            case_id=case.id,
            actor_id=actor.id,
            at=now,
            kind="opened",
            text=summary,
            details={**(details or {}), "via": where.via, "coach_id": case.coach_id},
        )
    )
    for kind, file_id in attachments:
        session.add(
            CaseEvent(
                case_id=case.id,
                actor_id=actor.id,
                at=now,
                kind="message_in",
                file_id=file_id,
                details={"kind": kind},
            )
        )
    await session.flush()
    rows = await alerts.alert_new_case(session, case, settings, now)
    if sent is not None:
        sent += rows
    await session.flush()
    return case
