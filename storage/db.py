"""Database access: one async engine, short sessions, SQLite made safe for concurrent writers."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite+aiosqlite:///var/hotline.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000
OWN_TRANSACTION = "hotline_own_transaction"
# session.info key: the tables an erasure touched, cleaned of old copies once committed.
ERASED = "hotline_erased_tables"


def normalise_url(url: str) -> str:
    """Accept the plain URLs people write and pick the async driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's implicit transactions begin lazily and only as DEFERRED; a read-then-write
    # transaction then fails with "database is locked". Take the write lock up front instead.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten, not left in free pages: /forget must really forget.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A lone write statement is its own transaction (the driver is in autocommit mode).
        if not connection.get_execution_options().get(OWN_TRANSACTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class _WriterGate:
    """One writer at a time within this process, urgent ones first.

    SQLite has a single writer anyway (every transaction here begins IMMEDIATE); waiting in
    line here instead of in SQLite's busy handler (which sleeps and retries, unfairly) lets
    the webhook's store of incoming updates pass the handling of earlier ones.
    """

    def __init__(self) -> None:
        self._busy = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, urgent: bool) -> None:
        if not self._busy and not self._waiters:
            self._busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (0 if urgent else 1, next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # handed the gate just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, turn = heapq.heappop(self._waiters)
            if not turn.done():
                turn.set_result(None)  # the gate goes straight to the next in line
                return
        self._busy = False


class Database:
    """Owns the engine; hands out short transactional sessions."""

    def __init__(self, url: str = DEFAULT_URL, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            # One thread hop per statement. Imported here: PostgreSQL needs no aiosqlite.
            from storage import sqlite

            engine_kwargs.setdefault(
                "async_creator", sqlite.connector(parsed.database, SQLITE_BUSY_TIMEOUT_MS / 1000)
            )
        elif self.is_sqlite:
            engine_kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        # Errors must not quote the values of a statement: they carry what people wrote.
        engine_kwargs.setdefault("hide_parameters", True)
        self.engine = create_async_engine(self.url, **engine_kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The same pool, its connections lent in autocommit mode (`single_statement`).
        alone = {OWN_TRANSACTION: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        self._alone = self.engine.execution_options(**alone)
        self._gate = _WriterGate() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        `urgent`: on SQLite, taken before the other transactions waiting in this process
        (storing incoming updates). Never open one transaction inside another on SQLite.
        """
        if self._gate is not None:
            await self._gate.acquire(urgent)
        try:
            async with self._session() as session:
                async with session.begin():
                    yield session
                erased: set[str] = session.info.pop(ERASED, set())
        finally:
            if self._gate is not None:
                self._gate.release()
        if erased:
            await self.leave_no_copy(erased)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """A session, closed on the way out.

        `async with AsyncSession` closes it in a task of its own, shielded from cancellation:
        two more turns of the event loop for every transaction. Once its transaction has
        committed, closing does no I/O and no cancellation can cut it short, so it is closed
        here directly; after an error (a rollback or a lost connection may still be under
        way) the shielded close is kept.
        """
        session = self._sessions()
        try:
            yield session
        except BaseException as error:
            await session.__aexit__(type(error), error, error.__traceback__)
            raise
        await session.close()

    async def leave_no_copy(self, tables: set[str]) -> None:
        """After an erasure (`session.info[ERASED]`: the tables it touched) is committed:
        SQLite folds its write-ahead log into the file (whose deleted rows are overwritten,
        `secure_delete`); PostgreSQL vacuums the tables, so the rows' old versions are
        removed and their pages compacted instead of waiting for autovacuum. (A page's free
        space may still hold bytes of them until reused: see the README, personal data.)"""
        if self.is_sqlite:
            await self.checkpoint()
            return
        names = ", ".join(self.engine.dialect.identifier_preparer.quote(t) for t in sorted(tables))
        try:
            async with self.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql(f"VACUUM {names}")  # never in a transaction
        except Exception as error:  # the erasure itself is committed; autovacuum follows
            log.warning("VACUUM after an erasure failed: %s", error)

    async def checkpoint(self) -> None:
        """SQLite: fold the write-ahead log into the file and empty it, so that erased data
        leaves no copy behind (readers still open may hold it back: retried, then logged)."""
        if not self.is_sqlite:
            return
        from storage import sqlite  # only SQLite gets here

        for attempt in range(5):
            async with self.engine.connect() as connection:
                # On the driver's connection: outside any transaction (ours begin IMMEDIATE).
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                if isinstance(driver, sqlite.Connection):
                    busy = await driver.checkpoint()
                else:  # an in-memory database: no log to fold
                    assert driver is not None  # a live connection has its driver's
                    cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    busy = (await cursor.fetchone())[0]
                    await cursor.close()
            if not busy:
                return
            await asyncio.sleep(0.1 * (attempt + 1))
        log.warning("the write-ahead log could not be emptied: readers kept it busy")

    async def connect_alone(self) -> AsyncConnection:
        """A pooled connection in autocommit mode: each statement is its own transaction
        (no BEGIN / COMMIT round trips). The caller closes it."""
        return await self._alone.connect().start()

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for ONE statement that is atomic on its own (an INSERT ... RETURNING):
        no BEGIN / COMMIT round trips around it, and no session (a fifth of the cost of such
        a statement). Use `transaction()` for anything more."""
        connection = await self.connect_alone()
        try:
            yield connection
            await connection.commit()  # nothing is sent: the statement committed itself
        except BaseException as error:
            await connection.__aexit__(type(error), error, error.__traceback__)
            raise
        await connection.close()  # no I/O left to cut short (see `_session`)

    async def dispose(self) -> None:
        await self.engine.dispose()
