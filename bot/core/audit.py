"""The audit trail API: record who read, exported or deleted what, and when.

Features call `record` inside the transaction that does the reading or deleting, so the
entry exists exactly when the act does. Entries are never changed (see AuditEntry).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Actor, AuditEntry


class Action:
    READ = "read"
    EXPORT = "export"
    DELETE = "delete"
    FORGET = "forget"
    RETENTION = "retention"
    GRANT = "grant"  # a role given (by the operator's command or an invitation)


async def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    subject: str,
    now: datetime,
    **details: Any,
) -> AuditEntry:
    """Append one entry; `actor` None means the hotline itself (a scheduled scan)."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        role=actor.role if actor is not None else "system",
        action=action[:32],
        subject=subject[:128],
        at=now,
        details=details,
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(
    session: AsyncSession, subject: str | None = None, actor_id: int | None = None
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    return (await session.scalars(query)).all()
