"""The review queue of the understanding: messages the bot could not answer, or whose answer the
person marked as not what they asked. A coach files each under a label (or out of scope); the
filed ones, masked, join the model's training data at the next reload."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime


class ReviewReason(StrEnum):
    UNANSWERED = "unanswered"  # answered "I am not sure I understood"
    NOT_HELPFUL = "not_helpful"  # the person said the answer was not what they asked


class ReviewItem(Base):
    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_pending", "label", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The source message, to answer its author once filed; cleared by /forget and retention.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None, index=True
    )
    # Masked when queued: names, phone numbers, e-mails and long digit runs are replaced.
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    guess: Mapped[str | None] = mapped_column(String(32), default=None)  # the model's best label
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Set when reviewed: a label, or "none" for out of scope; "skip" leaves it out of training.
    label: Mapped[str | None] = mapped_column(String(32), default=None)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
