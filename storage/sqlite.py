"""SQLite through aiosqlite with one thread hop per statement instead of four.

aiosqlite runs each call of the sqlite3 module in its worker thread: opening a cursor,
executing, fetching and closing are four hand-offs between the event loop and that thread
(with the lock of the interpreter passed back and forth each time), and they cost more CPU
than SQLite itself. Here a cursor executes, reads every row and closes in one call on the
worker thread. Statements keep running off the event loop (a long one does not block it).

Rows are read at once, as SQLAlchemy's adapter already does for ordinary cursors. This
relies on aiosqlite's `Connection._execute` (the call that queues work for its thread), the
same internals SQLAlchemy's own adapter uses; the pinned aiosqlite range keeps it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite


def _run(
    connection: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[Any, int, int | None, list[Any]]:
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
        self.description, self.rowcount, self.lastrowid, rows = await connection._execute(  # type: ignore[no-untyped-call]
            _run, connection._conn, sql, parameters, many
        )
        self._rows = rows
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
    def cursor(self) -> Cursor:  # type: ignore[override]
        # No hop: the sqlite3 cursor is made, used and closed within each execute.
        return Cursor(self)

    # Outside a transaction, committing or rolling back does nothing: no hop for it (the
    # pool's rollback of every connection it takes back, a lone statement's commit).
    async def commit(self) -> None:
        if self._conn.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await super().rollback()


def connector(path: str, timeout: float) -> Any:
    """An `async_creator` for `create_async_engine`: a connection to the file at `path`
    (the arguments SQLAlchemy's dialect would pass to sqlite3 for a file)."""
    path = os.path.abspath(path)

    async def connect() -> Connection:
        connection = Connection(
            lambda: sqlite3.connect(path, timeout=timeout, check_same_thread=False), 64
        )
        connection._thread.daemon = True  # as aiosqlite.connect's callers do
        await connection  # starts its thread and opens the file
        return connection

    return connect
