"""The outbox: every outgoing message is a row before it is a network call.

Writing happens inside the transaction that decided to send, so a crash never leaves a
reply half-decided; delivery happens afterwards and marks each row delivered once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.core.clock import Clock
from bot.core.effects import (
    CAPTIONLESS,
    Effect,
    Keyboard,
    SendDocument,
    SendFile,
    SendMessage,
    SendPhoto,
    keyboard_from_json,
    keyboard_to_json,
)
from bot.core.i18n import N_, translator
from bot.core.telegram_html import CAPTION_LIMIT, split_message, to_plain, utf16_len
from storage.db import Database
from storage.hot import HotStatement
from storage.models import Actor, DeliveryStatus, OutboxMessage, Priority

# A text cut into more messages than this is bulk output (a long listing).
BULK_PARTS = 2

# What a person reads in place of a file passed on to them that could not be sent.
FILE_NOT_SENT = {
    "photo": N_(
        "⚠️ A photo meant for you here could not be sent. Ask the person who sent it to send "
        "it again."
    ),
    "document": N_(
        "⚠️ A document meant for you here could not be sent. Ask the person who sent it to send "
        "it again."
    ),
    "voice": N_(
        "⚠️ A voice message meant for you here could not be sent. Ask the person who sent it to "
        "send it again."
    ),
    "audio": N_(
        "⚠️ An audio file meant for you here could not be sent. Ask the person who sent it to "
        "send it again."
    ),
    "video": N_(
        "⚠️ A video meant for you here could not be sent. Ask the person who sent it to send it "
        "again."
    ),
    "video_note": N_(
        "⚠️ A video message meant for you here could not be sent. Ask the person who sent it to "
        "send it again."
    ),
}
# ... and in place of a file the hotline made (a picture, an export).
MADE_FILE_NOT_SENT = N_(
    "⚠️ The file that goes with this message could not be sent. Ask for it again in a moment."
)


def message_rows(
    *,
    channel: str,
    chat_id: str,
    text: str,
    now: datetime,
    buttons: Keyboard = (),
    photo: bytes | None = None,
    document: tuple[str, bytes] | None = None,
    file_ref: tuple[str, str] | None = None,
    actor_id: int | None = None,
    call_id: int | None = None,
    cause_id: int | None = None,
    dedup_key: str | None = None,
    not_before: datetime | None = None,
    about_id: int | None = None,
    priority: int | None = None,
) -> list[dict[str, Any]]:
    """The outbox rows of one message (see `enqueue`), as column values."""
    kind, content, filename, file_id = "text", None, None, None
    if photo is not None:
        kind, content = "photo", photo
    elif document is not None:
        kind, (filename, content) = "document", document
    elif file_ref is not None:
        kind, file_id = file_ref
    if kind == "text":
        parts = split_message(text)
    elif utf16_len(to_plain(text)) <= CAPTION_LIMIT or kind in CAPTIONLESS:
        parts = [text]
    else:
        # A caption over Telegram's limit would fail the whole file: the text goes first.
        parts = [*split_message(text), ""]
    if priority is None:
        priority = Priority.BULK if len(parts) > BULK_PARTS else Priority.NORMAL
    rows: list[dict[str, Any]] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        carries = last or kind == "text"  # the file rides on the last part only
        rows.append(
            {
                "channel": channel,
                "chat_id": chat_id,
                "actor_id": actor_id,
                "call_id": call_id,
                "cause_id": cause_id,
                "about_id": about_id,
                "priority": priority,
                "kind": kind if carries else "text",
                "text": part,
                "file": content if carries else None,
                "filename": filename if carries else None,
                "file_id": file_id if carries else None,
                "buttons": keyboard_to_json(buttons) if last else None,
                "dedup_key": dedup_key
                if index == 0
                else (f"{dedup_key}#{index}" if dedup_key else None),
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "not_before": not_before or now,
                "created_at": now,
            }
        )
    return rows


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    text: str,
    now: datetime,
    buttons: Keyboard = (),
    photo: bytes | None = None,
    document: tuple[str, bytes] | None = None,
    file_ref: tuple[str, str] | None = None,
    actor_id: int | None = None,
    call_id: int | None = None,
    cause_id: int | None = None,
    dedup_key: str | None = None,
    not_before: datetime | None = None,
    about_id: int | None = None,
    priority: int | None = None,
) -> list[OutboxMessage]:
    """Store a message for delivery; a long text becomes several, buttons on the last one.

    `file_ref` is (kind, file id): a file the channel already holds, sent on with `text`
    as its caption. With a dedup_key, a message already enqueued under that key is not
    enqueued again. `about_id`: the person whose name or words it carries to someone else.
    `priority` (`Priority`): by default a text long enough for several messages is bulk, so
    that it never holds up what comes after it for the same person.
    """
    if dedup_key is not None:
        existing = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
        )
        if existing is not None:
            return []
    values = message_rows(
        channel=channel,
        chat_id=chat_id,
        text=text,
        now=now,
        buttons=buttons,
        photo=photo,
        document=document,
        file_ref=file_ref,
        actor_id=actor_id,
        call_id=call_id,
        cause_id=cause_id,
        dedup_key=dedup_key,
        not_before=not_before,
        about_id=about_id,
        priority=priority,
    )
    if dedup_key is None:
        return await _insert(session, values)
    rows = [OutboxMessage(**row) for row in values]
    try:
        # A concurrent enqueuer (another process's scan) may insert the same key first: its
        # unique constraint then fails this savepoint only, not the caller's transaction.
        async with session.begin_nested():
            session.add_all(rows)
            await session.flush()
    except IntegrityError:
        return []
    return rows


@cache
def _insert_returning_id() -> Insert:
    """Built once (every reply goes through it): building costs about what running it does."""
    table = cast(Table, OutboxMessage.__table__)
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


@cache
def _insert_one(keys: tuple[str, ...]) -> HotStatement:
    """One row's INSERT ... RETURNING id, for rows of these columns."""
    return HotStatement(_insert_returning_id(), keys)


async def _insert(session: AsyncSession, values: list[dict[str, Any]]) -> list[OutboxMessage]:
    """Store rows in one INSERT ... RETURNING, past the unit of work (whose flush of one new
    object costs several times the statement); the rows come back as detached objects."""
    if session.new:  # objects added before keep getting their ids at this point, as before
        await session.flush()
    connection = await session.connection()
    if len(values) == 1:  # a reply: on the driver (storage/hot.py)
        ids: list[int] = [await _insert_one(tuple(values[0])).scalar(connection, values[0])]
    else:
        ids = list((await connection.execute(_insert_returning_id(), values)).scalars())
    return [OutboxMessage(id=row_id, **row) for row_id, row in zip(ids, values, strict=True)]


async def enqueue_keyed(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Store many keyed messages (`message_rows` with a dedup_key) in one statement, for a
    scan: a key already enqueued, by this scan earlier or by another process at the same
    moment, is skipped by the unique index. Returns the keys stored."""
    return await insert_keyed(await session.connection(), rows)


async def insert_keyed(connection: AsyncConnection, rows: list[dict[str, Any]]) -> set[str]:
    """`enqueue_keyed` on a connection (the sender writes through one)."""
    if not rows:
        return set()
    values = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = (
        values(OutboxMessage)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedup_key])
        .returning(OutboxMessage.dedup_key)
    )
    return {key for key in (await connection.execute(statement)).scalars() if key is not None}


async def enqueue_to(
    session: AsyncSession,
    actor: Actor,
    text: str,
    *,
    now: datetime,
    buttons: Keyboard = (),
    cause_id: int | None = None,
    dedup_key: str | None = None,
    file_ref: tuple[str, str] | None = None,
    about_id: int | None = None,
    priority: int | None = None,
) -> list[OutboxMessage]:
    """A message to one person, on their channel, in the private chat that reaches them."""
    return await enqueue(
        session,
        channel=actor.channel,
        chat_id=actor.chat_id,
        text=text,
        buttons=buttons,
        file_ref=file_ref,
        now=now,
        actor_id=actor.id,
        cause_id=cause_id,
        dedup_key=dedup_key,
        about_id=about_id,
        priority=priority,
    )


def file_not_sent_rows(
    row: OutboxMessage, variant: str | None, now: datetime
) -> list[dict[str, Any]]:
    """The text that replaces a file row given up on: what could not be sent, then the
    caption and the buttons it carried, so nothing else of the message is lost. Keyed by the
    row, so it is enqueued once whoever gives up on it."""
    notice = translator(variant).gettext(
        FILE_NOT_SENT.get(row.kind, MADE_FILE_NOT_SENT) if row.file_id else MADE_FILE_NOT_SENT
    )
    return message_rows(
        channel=row.channel,
        chat_id=row.chat_id,
        text=f"{notice}\n\n{row.text}" if row.text else notice,
        now=now,
        buttons=keyboard_from_json(row.buttons),
        actor_id=row.actor_id,
        call_id=row.call_id,
        cause_id=row.cause_id,
        about_id=row.about_id,
        priority=Priority.NORMAL,
        dedup_key=f"file-not-sent:{row.id}",
    )


def to_effect(row: OutboxMessage) -> Effect:
    buttons = keyboard_from_json(row.buttons)
    if row.file_id is not None:
        return SendFile(row.channel, row.chat_id, row.kind, row.file_id, row.text, buttons, row.id)
    if row.kind == "photo" and row.file is not None:
        return SendPhoto(row.channel, row.chat_id, row.file, row.text, buttons, row.id)
    if row.kind == "document" and row.file is not None:
        name = row.filename or "document"
        return SendDocument(row.channel, row.chat_id, row.file, name, row.text, buttons, row.id)
    return SendMessage(row.channel, row.chat_id, row.text, buttons, row.id)


async def pending(
    session: AsyncSession, channel: str, now: datetime, chat_id: str | None = None, limit: int = 100
) -> Sequence[OutboxMessage]:
    """Rows ready to go, oldest first, so each chat sees its messages in order."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.not_before <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if chat_id is not None:
        query = query.where(OutboxMessage.chat_id == chat_id)
    return (await session.scalars(query)).all()


def mark_delivered(row: OutboxMessage, now: datetime, external_id: str | None = None) -> None:
    row.status = DeliveryStatus.DELIVERED
    row.delivered_at = now
    row.external_id = external_id
    row.attempts += 1


Send = Callable[[Effect], Awaitable[str | None]]  # returns the channel's message id


async def deliver_pending(
    db: Database, clock: Clock, channel: str, send: Send, chat_id: str | None = None
) -> int:
    """Deliver what is due, one row per transaction, so a crash re-sends at most one message."""
    delivered = 0
    while True:
        async with db.transaction() as session:
            rows = await pending(session, channel, clock.now(), chat_id=chat_id, limit=1)
            if not rows:
                return delivered
            row = rows[0]
            external_id = await send(to_effect(row))
            mark_delivered(row, clock.now(), external_id)
            delivered += 1
