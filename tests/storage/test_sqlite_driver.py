"""The SQLite driver (storage/sqlite.py): statements run on the event loop's thread, and
waiting for another process's write lock never blocks the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from storage import sqlite
from storage.db import Database

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "driver.sqlite3"
    with sqlite3.connect(file) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE probe (key TEXT)")
    return file


async def _ticks_while(work: Awaitable[Any], release: Callable[[], None]) -> int:
    """How many times the loop ran a 10 ms ticker while `work` waited, before `release`."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.ensure_future(work)
    counting = asyncio.create_task(ticker())
    await asyncio.sleep(0.3)
    assert not running.done(), "the statement did not wait for the lock"
    seen = ticks
    release()
    await asyncio.wait_for(running, 10)
    counting.cancel()
    return seen


async def _insert_in_transaction(db: Database, label: str) -> None:
    async with db.transaction() as session:
        await session.execute(text("INSERT INTO probe (key) VALUES (:k)"), {"k": label})


async def _insert_alone(db: Database, label: str) -> None:
    async with db.single_statement() as connection:
        await connection.execute(text("INSERT INTO probe (key) VALUES (:k)"), {"k": label})


async def test_waiting_for_another_process_lock_leaves_the_loop_running(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)  # another process, as SQLite sees it
    try:
        # Twice each: after a wait, statements fail fast again instead of blocking the loop.
        for label, write in [
            ("a", _insert_in_transaction),
            ("b", _insert_alone),
            ("c", _insert_in_transaction),
            ("d", _insert_alone),
        ]:
            other.execute("BEGIN IMMEDIATE")
            ticks = await _ticks_while(write(db, label), lambda: other.execute("COMMIT"))
            assert ticks >= 10, f"{label}: the loop was blocked while waiting ({ticks} ticks)"
        async with db.transaction() as session:
            keys = (await session.scalars(text("SELECT key FROM probe ORDER BY key"))).all()
        assert keys == ["a", "b", "c", "d"]
    finally:
        other.close()
        await db.dispose()


async def test_the_busy_timeout_still_bounds_the_wait(path: Path) -> None:
    db = Database(
        f"sqlite+aiosqlite:///{path}", async_creator=sqlite.connector(str(path), timeout=0.2)
    )
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Exception, match="locked"):
            await asyncio.wait_for(_insert_in_transaction(db, "x"), 5)
    finally:
        other.execute("ROLLBACK")
        other.close()
        await db.dispose()


async def test_statements_of_a_transaction_run_on_the_loop_thread(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.transaction() as session:
            connection = await session.connection()
            raw = (await connection.get_raw_connection()).driver_connection
            assert isinstance(raw, sqlite.Connection)
            raw._conn.create_function("thread_id", 0, threading.get_ident)
            runs_on = await session.scalar(text("SELECT thread_id()"))
        assert runs_on == threading.get_ident()
    finally:
        await db.dispose()
