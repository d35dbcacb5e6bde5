"""The audit trail: who among coaches and admins read, exported or deleted what, and when.

Append-only: rows are added through `bot.core.audit.record` and never changed or removed (the
session refuses to flush an update or a delete of one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models.base import Base, UtcDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who did it; kept as a reference to the (possibly anonymised) actor row.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None, index=True)
    role: Mapped[str] = mapped_column(String(24), default="")  # the role at the time
    action: Mapped[str] = mapped_column(String(32))  # read, export, delete, forget, ...
    subject: Mapped[str] = mapped_column(String(128))  # "actor:12", "case:7", ...
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditTrailIsAppendOnly(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _context: object, _instances: object) -> None:
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEntry) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise AuditTrailIsAppendOnly("audit entries are never changed or deleted")
