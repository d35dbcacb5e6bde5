"""Statements run on the driver (storage/hot.py): they store what SQLAlchemy's own path
stores, stay inside their transaction (or commit alone on an autocommit connection), and the
statement counters see them. On SQLite they take SQLAlchemy's path: the same assertions hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from bench.workload import counting
from bot.core.effects import Button
from bot.core.outbox import _insert_one, _insert_returning_id, message_rows
from storage.db import Database
from storage.hot import HotStatement, add_new
from storage.models import Actor, Call, DeliveryStatus, FrameworkText, OutboxMessage

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


COLUMNS = [c.key for c in OutboxMessage.__table__.columns if c.key != "id"]


def _row(text_: str = "Bonjour") -> dict[str, Any]:
    # JSON (buttons), enums (kind, status, priority), timestamps and bytes: every conversion.
    (row,) = message_rows(
        channel="t",
        chat_id="c1",
        text=text_,
        now=T0,
        buttons=((Button("Oui", "yes"), Button("Non", "no")),),
        document=("plan.pdf", b"%PDF-1"),
        dedup_key=f"key-{text_}",
    )
    return row


async def _outbox(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as session:
        found = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [{key: getattr(m, key) for key in COLUMNS} for m in found]


async def test_a_hot_insert_stores_what_sqlalchemys_own_path_stores(db: Database) -> None:
    row = _row()
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(text("SELECT 1"))  # the transaction has begun
        hot_id = await _insert_one(tuple(row)).scalar(connection, row)
        other = {**row, "dedup_key": "other"}
        plain_id = (await connection.execute(_insert_returning_id(), other)).scalar_one()
    assert isinstance(hot_id, int) and plain_id == hot_id + 1
    hot, plain = await _outbox(db)
    assert hot == {**plain, "dedup_key": "key-Bonjour"}
    assert hot["buttons"] == [[{"label": "Oui", "data": "yes"}, {"label": "Non", "data": "no"}]]
    assert hot["created_at"] == T0 and hot["file"] == b"%PDF-1"


@pytest.mark.parametrize("begun", [False, True], ids=["first-statement", "after-another"])
async def test_a_hot_statement_is_rolled_back_with_its_transaction(
    db: Database, begun: bool
) -> None:
    """First in its transaction, it must begin it (SQLAlchemy's path does); after another
    statement, it must join it: either way a rollback takes it back."""
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            connection = await session.connection()
            if begun:
                await connection.execute(text("SELECT 1"))
            row = _row()
            await _insert_one(tuple(row)).scalar(connection, row)
            raise RuntimeError("the turn fails after the write")
    assert await _outbox(db) == []


async def test_a_hot_statement_on_an_autocommit_connection_commits_alone(db: Database) -> None:
    row = _row()
    async with db.single_statement() as connection:
        await _insert_one(tuple(row)).scalar(connection, row)
    assert [r["text"] for r in await _outbox(db)] == ["Bonjour"]


async def test_a_hot_statements_failure_is_raised_as_sqlalchemys_path_raises_it(
    db: Database,
) -> None:
    """The driver's own error (asyncpg's UniqueViolationError, sqlite3's IntegrityError)
    comes out as SQLAlchemy's, which callers catch; its connection stays usable."""
    row = _row()
    async with db.single_statement() as connection:
        await _insert_one(tuple(row)).scalar(connection, row)
    with pytest.raises(IntegrityError):  # the same dedup key again
        async with db.single_statement() as connection:
            await _insert_one(tuple(row)).scalar(connection, row)
    other = {**row, "dedup_key": "other"}
    async with db.single_statement() as connection:
        await _insert_one(tuple(other)).scalar(connection, other)
    assert len(await _outbox(db)) == 2


async def test_statement_counters_see_hot_statements(db: Database) -> None:
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(text("SELECT 1"))
        with counting(db) as seen:
            for word in ("un", "deux"):
                row = _row(word)
                await _insert_one(tuple(row)).scalar(connection, row)
        count = await connection.scalar(select(func.count()).select_from(OutboxMessage))
    assert [s.split("(")[0].strip() for s in seen.sql] == ["INSERT INTO outbox"] * 2
    assert count == 2


async def test_the_literals_of_a_hot_statement_keep_their_values(db: Database) -> None:
    """A value written in the statement (a status, a name) is sent with it, converted as
    SQLAlchemy converts it; only the named parameters come from the caller."""
    first, second = _row("un"), {**_row("deux"), "status": DeliveryStatus.SENDING}
    async with db.transaction() as session:
        connection = await session.connection()
        await connection.execute(_insert_returning_id(), [first, second])
    marked = HotStatement(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.chat_id == bindparam("chat"),
        )
        .values(claimed_by="sender-1")
        .returning(OutboxMessage.text)
    )
    async with db.single_statement() as connection:
        assert [tuple(r) for r in await marked.rows(connection, {"chat": "c1"})] == [("un",)]
    assert [r["claimed_by"] for r in await _outbox(db)] == ["sender-1", None]


def test_a_statement_with_python_side_defaults_is_refused_at_once() -> None:
    """Such a value is computed by SQLAlchemy's execution context, which the short way skips:
    refused when the statement is declared, not when a message first runs it."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("n", Integer))
    HotStatement(insert(table), ("n",))  # fine
    counted = Table(
        "u",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("n", Integer, default=lambda: 1),
    )
    with pytest.raises(ValueError, match="Python-side defaults"):
        HotStatement(insert(counted), ("id",))
    computed = update(table).values(n=bindparam("n", callable_=lambda: 2))
    with pytest.raises(ValueError, match="computed at execution"):
        HotStatement(computed)


async def _person(db: Database) -> int:
    async with db.transaction() as session:
        actor = Actor(
            channel="t", external_id="a", chat_id="a", display_name="A", lang="fr", created_at=T0
        )
        session.add(actor)
        await session.flush()
        return actor.id


def _call(actor_id: int, **unset: Any) -> Call:
    values = {
        "actor_id": actor_id,
        "channel": "t",
        "chat_id": "a",
        "opened_at": T0,
        "last_activity_at": T0,
        "framework_text": FrameworkText.FULL,
        "framework_lang": "ary",
        "lang": None,
        "acknowledged_at": None,
    }
    return Call(**{k: v for k, v in values.items() if k not in unset})


async def test_a_new_object_added_hot_is_stored_and_left_as_a_flush_leaves_it(db: Database) -> None:
    actor_id = await _person(db)
    async with db.transaction() as session:
        await session.execute(text("SELECT 1"))
        call = _call(actor_id)
        with counting(db) as seen:
            await add_new(session, call)
        assert len(seen) == 1 and seen.sql[0].startswith("INSERT INTO calls")
        state = inspect(call)
        assert state.persistent and not session.is_modified(call) and call.id
        call.lang = "ary"  # a later change is tracked as on any stored object
        assert session.is_modified(call)
    async with db.transaction() as session:
        stored = await session.get_one(Call, call.id)
        assert (stored.framework_text, stored.framework_lang) == ("full", "ary")
        assert (stored.lang, stored.opened_at, stored.acknowledged_at) == ("ary", T0, None)


async def test_a_new_object_with_a_column_unset_goes_through_the_unit_of_work(db: Database) -> None:
    """Its default would be SQLAlchemy's to compute: stored all the same."""
    actor_id = await _person(db)
    async with db.transaction() as session:
        call = _call(actor_id, lang=True)
        await add_new(session, call)
        assert inspect(call).persistent and call.id
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
            await add_new(session, _call(actor_id))
            raise RuntimeError("rolled back")
    async with db.transaction() as session:
        assert [c.lang for c in await session.scalars(select(Call))] == [None]
