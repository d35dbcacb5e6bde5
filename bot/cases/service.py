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

from bot.cases import alerts, lifecycle, routing
from bot.cases.sla import SlaPolicy
from bot.core.config import Settings
from storage.models import Actor, Case, CaseSeverity, OutboxMessage


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
    change = await lifecycle.open(
        session,
        now=now,
        actor=actor,
        lang=lang or actor.lang,
        route=where,
        category=category,
        summary=summary,
        severity=severity,
        commitment_id=commitment_id,
        source_message_id=source_message_id,
        ack_due_at=SlaPolicy.from_settings(settings).ack_due(severity, now),
        attachments=attachments,
        details=details,
    )
    case = change.case
    await session.flush()
    rows = await alerts.alert_new_case(session, case, settings, now)
    if sent is not None:
        sent += rows
    await session.flush()
    return case
