"""Inbound messages, stored before they are handled, and the outbox of replies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime


class InboundKind(StrEnum):
    TEXT = "text"
    BUTTON = "button"
    ATTACHMENT = "attachment"
    UNSUPPORTED = "unsupported"


class InboundMessage(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # The unhandled messages of a chat, oldest first: the claim's first entry, whatever
        # the chat's history or backlog. Partial: it holds only what waits.
        Index(
            "ix_messages_pending",
            "channel",
            "chat_id",
            "id",
            sqlite_where=text("handled_at IS NULL"),
            postgresql_where=text("handled_at IS NULL"),
        ),
        # An actor's messages in a time window (the flood limit, read by the claim): a range
        # of this index, whatever the actor's history. Serves lookups by actor_id alone too.
        Index("ix_messages_actor_received", "actor_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), default=None, index=True)
    # "<channel>:<update id>": a redelivered update is recognised and ignored.
    update_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text, default=None)
    button: Mapped[str | None] = mapped_column(String(64), default=None)
    attachment_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    file_id: Mapped[str | None] = mapped_column(String(256), default=None)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)  # retention
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # What the understanding layer made of it: also the log of unanswered questions.
    lang: Mapped[str | None] = mapped_column(String(16), default=None)
    intent: Mapped[str | None] = mapped_column(String(32), default=None)
    intent_score: Mapped[float | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after retries
    UNREACHABLE = "unreachable"  # the person blocked the bot
    CANCELLED = "cancelled"  # a scheduled send withdrawn (the person said stop)


class Priority:
    """Lower goes first: within a chat and across the outbox."""

    URGENT = 0  # an emergency alert, a case reply or relay: never behind bulk output
    NORMAL = 1
    BULK = 2  # long listings, scheduled fan-outs (reminders, digests)
    # A file Telegram refused, waiting for its next try: the chat's other messages pass it.
    SET_ASIDE = 3


# The rows a sender may still have to send. Written as a literal so that a query repeating it
# may use the partial indexes below (a bound parameter would not let SQLite see that).
OPEN_ROWS = "status IN ('pending', 'sending')"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "channel", "not_before"),
        # The open rows in the order they leave, and per chat: a claim walks the first few,
        # whatever is waiting behind them.
        Index(
            "ix_outbox_open",
            "channel",
            "priority",
            "id",
            sqlite_where=text(OPEN_ROWS),
            postgresql_where=text(OPEN_ROWS),
        ),
        Index(
            "ix_outbox_open_chat",
            "chat_id",
            "priority",
            "id",
            sqlite_where=text(OPEN_ROWS),
            postgresql_where=text(OPEN_ROWS),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), default=None)
    # Indexed: retention and erasure detach replies from the messages and calls they remove.
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), default=None, index=True)
    cause_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id"), default=None, index=True
    )
    # The person whose name or words this message carries to someone else (a case alert, a
    # relay): /forget empties it. Not a foreign key: the row outlives nothing it points to.
    about_id: Mapped[int | None] = mapped_column(default=None, index=True)
    priority: Mapped[int] = mapped_column(default=Priority.NORMAL, server_default="1")
    # text | photo | document, or a file sent on by id: photo, document, voice, audio, video
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(Text, default="")  # HTML parse mode; a caption for files
    buttons: Mapped[list[list[dict[str, Any]]] | None] = mapped_column(JSON, default=None)
    file: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # a picture or document
    filename: Mapped[str | None] = mapped_column(String(128), default=None)
    # A file the channel already holds (a Telegram file id), sent on without downloading it.
    file_id: Mapped[str | None] = mapped_column(String(256), default=None)
    # Scheduled sends (reminders, alerts) carry a key so that they are enqueued once.
    dedup_key: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)  # retention
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # When a sender took the row (status "sending"): a lease, reclaimed after a timeout.
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # Which sender process took it, and when its request started: a row claimed but not yet
    # started is released at once when its process is gone (see bot.transports.delivery).
    claimed_by: Mapped[str | None] = mapped_column(String(32), default=None)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    external_id: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
