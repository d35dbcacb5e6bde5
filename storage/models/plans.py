"""Concerted action plans and the commitments they are made of."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import RECHECK, RECHECK_SQL, Base, UtcDateTime


class CommitmentStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    # Dropped by the coach: kept with its history, no longer reminded or counted as late.
    CANCELLED = "cancelled"


class ActionPlan(Base):
    """A plan d'action concerté."""

    __tablename__ = "action_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(200), default="")  # thématique
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), default=None)
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), default=None)
    coach_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None, index=True)
    reference_date: Mapped[date] = mapped_column(Date)
    # Days relative to each due date (negative = before); None means the hotline default.
    reminder_offsets: Mapped[list[int] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Commitment(Base):
    """One row of the plan: quoi, où, quand, responsable, comment, livrables."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plans.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    what: Mapped[str] = mapped_column(Text)
    where: Mapped[str] = mapped_column(Text, default="")
    # Local (Africa/Casablanca) wall time; a due date without time is stored at midnight
    # with due_has_time False.
    due: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    due_has_time: Mapped[bool] = mapped_column(default=False)
    due_text: Mapped[str] = mapped_column(String(200), default="")
    due_needs_confirmation: Mapped[bool] = mapped_column(default=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None, index=True)
    owner_text: Mapped[str] = mapped_column(String(200), default="")
    how: Mapped[str] = mapped_column(Text, default="")
    deliverables: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=CommitmentStatus.NOT_STARTED)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # When the reminder scan must next look at this row (a reminder or the overdue alert may
    # fall due then); None: never again until an input changes. RECHECK ("at the next scan")
    # when created or when an input changes: see storage.models.schedule.
    remind_at: Mapped[datetime | None] = mapped_column(
        UtcDateTime(), default=lambda: RECHECK, server_default=RECHECK_SQL, index=True
    )


class CommitmentEvent(Base):
    """The history of a commitment: who changed what, when."""

    __tablename__ = "commitment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(24))  # status, due, evaluation, note, created
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
