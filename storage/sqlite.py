"""SQLite through aiosqlite, with statements run on the event loop's thread unless they
must wait for the write lock.

aiosqlite runs every call of the sqlite3 module in a worker thread: each hand-off between the
loop and that thread (queue, wake-up, the interpreter's lock passed back and forth, the loop
woken through its pipe) costs ~80 µs of CPU, where SQLite runs an indexed statement of this
project in a few microseconds. Waiting for the lock is the one thing that must stay off the
loop, and SQLite says at once when it would wait: connections here have a busy timeout of 0,
so a statement that finds the lock taken by another process fails with SQLITE_BUSY before
changing anything, and is then run again on the worker thread with the real timeout.

Everything else runs inline: every transaction begins IMMEDIATE (storage/db.py), so once it
has begun it holds the write lock and none of its statements can wait; committing in WAL
mode writes to the log without waiting either. What SQLite does for a statement is small
beside the Python work of turning its rows into objects, done on the loop anyway; the
automatic checkpoint a commit sometimes runs (every ~1,000 pages of log) happens while the
write lock is held, when this process's other writers wait for it in any case.

Rows are read at once, as SQLAlchemy's adapter already does for ordinary cursors. Waiting
relies on aiosqlite's `Connection._execute` (the call that queues work for its thread), the
same internals SQLAlchemy's own adapter uses; the pinned aiosqlite range keeps it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import aiosqlite

_T = TypeVar("_T")


Result = tuple[Any, int, int | None, list[Any]]


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> Result:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


def _waiting(connection: sqlite3.Connection, wait_ms: int, call: Callable[[], _T]) -> _T:
    """On the worker thread: `call` with the busy timeout on, so SQLite waits for the lock."""
    connection.execute(f"PRAGMA busy_timeout={wait_ms}")
    try:
        return call()
    finally:
        connection.execute("PRAGMA busy_timeout=0")


class Cursor:
    """What SQLAlchemy's aiosqlite adapter uses of a cursor, with the rows read at once."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _do(self, sql: str, parameters: Any, many: bool) -> Cursor:
        connection = self._connection
        raw = connection._conn
        if many and not raw.in_transaction:
            # Each row its own transaction: a lock lost between two rows must be waited
            # for, not retried from the first row.
            result = await connection.wait_for_lock(lambda: _run(raw, sql, parameters, many))
        else:
            result = await connection.inline(lambda: _run(raw, sql, parameters, many))
        self.description, self.rowcount, self.lastrowid, self._rows = result
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        return await self._do(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        return await self._do(sql, parameters, many=True)

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class Connection(aiosqlite.Connection):
    wait_ms = 0  # how long a statement waits for another process's lock; set by `connector`

    def cursor(self) -> Cursor:  # type: ignore[override]
        # No hop: the sqlite3 cursor is made, used and closed within each execute.
        return Cursor(self)

    async def inline(self, call: Callable[[], _T]) -> _T:
        """`call` on the loop's thread; on the worker thread, waiting, if the lock is taken."""
        try:
            return call()
        except sqlite3.OperationalError as error:
            if not _busy(error) or self._conn.in_transaction:
                raise
        return await self.wait_for_lock(call)

    def is_in_transaction(self) -> bool:
        return self._conn.in_transaction

    async def fetch(self, sql: str, *parameters: Any) -> list[Any]:
        """Run one statement; its rows (as asyncpg's `fetch`: storage/hot.py uses either)."""
        raw = self._conn
        return (await self.inline(lambda: _run(raw, sql, parameters, False)))[3]

    async def wait_for_lock(self, call: Callable[[], _T]) -> _T:
        return await self._execute(_waiting, self._conn, self.wait_ms, call)  # type: ignore[no-untyped-call]

    # Outside a transaction, committing or rolling back does nothing (the pool's rollback of
    # every connection it takes back, a lone statement's commit).
    async def commit(self) -> None:
        if self._conn.in_transaction:
            await self.inline(self._conn.commit)

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await self.inline(self._conn.rollback)

    async def checkpoint(self) -> int:
        """Fold the write-ahead log into the file and empty it, waiting for readers up to the
        busy timeout; 1 when readers still held it back."""

        def run() -> int:
            return int(self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])

        return await self.wait_for_lock(run)


def connector(path: str, timeout: float) -> Any:
    """An `async_creator` for `create_async_engine`: a connection to the file at `path`
    (the arguments SQLAlchemy's dialect would pass to sqlite3 for a file)."""
    path = os.path.abspath(path)

    async def connect() -> Connection:
        # A busy timeout of 0: a statement that would wait fails at once (see above).
        connection = Connection(
            lambda: sqlite3.connect(path, timeout=0, check_same_thread=False), 64
        )
        connection._thread.daemon = True  # as aiosqlite.connect's callers do
        connection.wait_ms = round(timeout * 1000)
        await connection  # starts its thread and opens the file
        return connection

    return connect
