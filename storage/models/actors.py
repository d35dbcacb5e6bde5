"""People who talk to the hotline, whatever their role."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime


class Role(StrEnum):
    ACTOR = "actor"
    COMMITTEE_MEMBER = "committee_member"
    COACH = "coach"
    ADMIN = "admin"


class Actor(Base):
    __tablename__ = "actors"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # "telegram", "console", ...
    external_id: Mapped[str] = mapped_column(String(64))  # user id on that channel
    chat_id: Mapped[str] = mapped_column(String(64))  # private chat used to reach them
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(24), default=Role.ACTOR)
    lang: Mapped[str] = mapped_column(String(16), default="fr")
    # Once chosen with /lang, the variant no longer follows what the actor writes.
    lang_chosen: Mapped[bool] = mapped_column(default=False)
    # The variants of their last messages identified with confidence, newest last: the
    # interface follows the one they mostly use, never a single message.
    recent_langs: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), default=None)
    reachable: Mapped[bool] = mapped_column(default=True)
    # "stop": no reminder of any kind is sent to them until /start or /reminders on.
    reminders_stopped: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # Coaches: the coordinator receives escalations; on-duty coaches receive emergencies at
    # any hour; the signature replaces the coach's name in messages relayed to actors.
    is_coordinator: Mapped[bool] = mapped_column(default=False, server_default=false())
    on_duty: Mapped[bool] = mapped_column(default=False, server_default=false())
    coach_signature: Mapped[str | None] = mapped_column(String(64), default=None)

    @property
    def is_coach(self) -> bool:
        return self.role in (Role.COACH, Role.ADMIN)
