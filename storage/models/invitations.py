"""Invitations an admin hands out as Telegram deep links: join a committee, become a coach."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime


class InvitationKind(StrEnum):
    COMMITTEE = "committee"
    COACH = "coach"
    # For a pending owner of a plan whose plan has no committee: links their commitments only.
    OWNER = "owner"


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The /start parameter: unguessable, single-use, expiring.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), default=None)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("actors.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None)
    # Made for a pending owner: accepting links the plan's rows whose owner text is this.
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("action_plans.id"), default=None)
    owner_text: Mapped[str | None] = mapped_column(String(200), default=None)
