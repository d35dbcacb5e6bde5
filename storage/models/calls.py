"""A call: one hotline conversation, opened by the framework (in full, or its short recall)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime


class FrameworkText(StrEnum):
    """Which text of the framework opened a call (not a deadline reminder: bot/plans)."""

    FULL = "full"
    SHORT = "short"


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)  # retention
    # Which framework text opened the call, and in which language; the columns keep their
    # first names ("reminder", "reminder_lang") so that no data migration is needed.
    framework_text: Mapped[str] = mapped_column("reminder", String(8))
    framework_lang: Mapped[str] = mapped_column("reminder_lang", String(16))
    # The variant of the caller's last message identified with confidence: buttons and
    # unsure words in this call are answered in it.
    lang: Mapped[str | None] = mapped_column(String(16), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
