"""The issue log: every problem, request for a coach or emergency becomes a case."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime


class CaseCategory(StrEnum):
    CONFLICT = "conflict"  # between actors
    BLOCKED_ACTION = "blocked_action"
    MISSING_MEANS = "missing_means"
    INSTITUTIONAL = "institutional"  # blockage with an institution
    QUESTION = "question"
    IDEA = "idea"  # idea or proposal
    EMERGENCY = "emergency"


class CaseSeverity(StrEnum):
    EMERGENCY = "emergency"
    HIGH = "high"
    NORMAL = "normal"


class CaseStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CaseEventKind(StrEnum):
    """What a case event records; written only by bot.cases.lifecycle."""

    OPENED = "opened"
    ROUTED = "routed"  # the first alert: details["to"] lists who received it
    MESSAGE_IN = "message_in"  # from the actor (or a file attached at opening)
    MESSAGE_OUT = "message_out"  # from a coach
    ACKNOWLEDGED = "acknowledged"  # taken by a coach
    STATUS = "status"  # details["to"]: the new status
    HANDOVER = "handover"
    REALERT = "realert"
    ESCALATED = "escalated"
    FEEDBACK = "feedback"
    WITHDRAWN = "withdrawn"  # a relayed message the actor took back for the bot


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)  # the number the actor can quote
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), index=True)
    lang: Mapped[str] = mapped_column(String(16))
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), default=None)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("action_plans.id"), default=None)
    commitment_id: Mapped[int | None] = mapped_column(ForeignKey("commitments.id"), default=None)
    category: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(16), default=CaseSeverity.NORMAL)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None, index=True)
    source_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id"),
        default=None,
        index=True,  # retention keeps these messages
    )
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    helpful: Mapped[bool | None] = mapped_column(default=None)  # the actor's one-tap feedback
    # When acknowledgement is due (working time for normal/high, clock time for emergencies),
    # computed once at opening so the SLA scan is a plain comparison.
    ack_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None, index=True)
    # When the SLA scan must next look at it (the re-alert, then the escalation); None once
    # taken, closed or escalated. Kept by storage.models.schedule, so the scan reads only
    # what is due.
    sla_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None, index=True)


class CaseEvent(Base):
    """The case timeline: who did what when, including every message both ways."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(24))  # a CaseEventKind
    text: Mapped[str | None] = mapped_column(Text, default=None)
    file_id: Mapped[str | None] = mapped_column(String(256), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
