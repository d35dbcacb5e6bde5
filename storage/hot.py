"""The few statements every message runs, sent on the driver's connection.

SQLAlchemy's path for one Core statement (its cache key, an execution context, the result's
wrapping, two greenlet switches) costs about 130 µs of CPU here: twice what asyncpg itself
takes to send the statement and read its answer, many times what SQLite takes to run it. A
handled message runs four to six such statements, always the same ones. They stay
SQLAlchemy statements, built and typed by it and compiled by it once per dialect (its bind
processors convert the values, as on its own path); only their execution takes the short
way.

The short way is taken when the driver's connection is where the statement belongs: inside
a transaction SQLAlchemy has begun on it, or on a connection in autocommit mode. Anything
else (the first statement of a transaction, which must begin it; an in-memory SQLite
database) takes SQLAlchemy's own path, so a statement never runs outside its transaction.
Statement listeners (the benchmarks' and the cost tests' counters) see both paths alike, and
a failure is raised and dealt with as on SQLAlchemy's path (a lost connection is taken out of
the pool, with every other connection opened before it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from sqlalchemy import Delete, Insert, Update, insert, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.util import greenlet_spawn

from storage.db import OWN_TRANSACTION

_REQUIRED = object()
# Per parameter, in the driver's order: its name, its conversion, and the value it has
# when the caller gives none (a literal of the statement), or _REQUIRED.
_Binds = list[tuple[str, Callable[[Any], Any] | None, Any]]


class HotStatement:
    """A Core statement run on the driver where it can (see the module).

    `keys`: for an INSERT, the parameters' names, which decide the columns it lists (the
    same for every execution). Parameters are one mapping: one row.
    """

    def __init__(
        self, statement: Insert | Update | Delete, keys: Sequence[str] | None = None
    ) -> None:
        self.statement = statement
        self._keys = list(keys) if keys is not None else None
        self._compiled: dict[str, tuple[str, _Binds]] = {}
        compiled: Any = statement.compile(column_keys=self._keys)
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Values SQLAlchemy computes in Python at each execution: not on the short way.
            raise ValueError(f"a statement with Python-side defaults cannot run hot: {statement}")
        if any(bind.callable is not None for bind in compiled.binds.values()):
            # A parameter SQLAlchemy computes at each execution: the short way would not.
            raise ValueError(f"a parameter computed at execution cannot run hot: {statement}")

    def _sql(self, dialect: Dialect) -> tuple[str, _Binds]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect, column_keys=self._keys)
            # Its processors: the same conversions as SQLAlchemy's own path (JSON, enums).
            processors = compiled._bind_processors
            binds = [
                (name, processors.get(name), _default(compiled.binds[name]))
                for name in compiled.positiontup
            ]
            found = self._compiled[dialect.name] = (compiled.string, binds)
        return found

    async def rows(
        self, connection: AsyncConnection, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """The statement's rows (RETURNING), as sequences of values."""
        driver = await _driver(connection)
        if driver is None:
            result = await connection.execute(self.statement, params)
            return result.all() if result.returns_rows else []
        sql, binds = self._sql(connection.dialect)
        values = []
        for name, process, default in binds:
            value = params[name] if default is _REQUIRED else params.get(name, default)
            values.append(value if process is None else process(value))
        sync = connection.sync_connection
        assert sync is not None  # a started connection
        sync.dispatch.before_cursor_execute(sync, None, sql, values, None, False)
        try:
            rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *values)
        except Exception as error:
            await _failed(connection, error, sql, values)
        return rows

    async def execute(self, connection: AsyncConnection, params: Mapping[str, Any]) -> None:
        await self.rows(connection, params)

    async def scalar(self, connection: AsyncConnection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None without a row."""
        rows = await self.rows(connection, params)
        return rows[0][0] if rows else None


def _default(bind: BindParameter[Any]) -> Any:
    return _REQUIRED if bind.required else bind.value


async def _driver(connection: AsyncConnection) -> Any:
    """The driver's connection when a statement may run on it directly, else None: asyncpg's,
    or storage/sqlite.py's (which runs it on the loop's thread unless it must wait for the
    write lock); both have `is_in_transaction()` and `fetch(sql, *values)`."""
    driver = (await connection.get_raw_connection()).driver_connection
    sync = connection.sync_connection
    if driver is None or sync is None:
        return None
    options = sync.get_execution_options()
    if connection.dialect.name == "postgresql":
        alone = options.get("isolation_level") == "AUTOCOMMIT"
    else:
        from storage import sqlite  # SQLite only: PostgreSQL needs no aiosqlite

        if not isinstance(driver, sqlite.Connection):
            return None  # an in-memory database (tests): SQLAlchemy's own adapter
        alone = bool(options.get(OWN_TRANSACTION))
    if driver.is_in_transaction():
        return driver  # SQLAlchemy has begun the transaction: the statement joins it
    if alone:
        return driver  # each statement is its own transaction (autocommit)
    return None  # the transaction is still to begin: SQLAlchemy's path begins it


_inserts: dict[type, HotStatement] = {}


async def add_new(session: AsyncSession, obj: Any) -> None:
    """Store a new object in one INSERT ... RETURNING its id, on the driver, and keep it in
    the session as stored and unchanged, as a flush of it would leave it (the unit of work's
    flush of one new object costs about five times the statement).

    Every column but the primary key must be set on the object, so that nothing is left to
    load; a class with insert listeners, or an object with a column unset, goes through the
    unit of work instead. Other pending changes of the session are not written here (the
    next flush or the commit writes them)."""
    mapper = inspect(type(obj))
    (key,) = mapper.primary_key
    columns = [
        (prop.key, prop.columns[0].key)
        for prop in mapper.column_attrs
        if prop.columns[0] is not key
    ]
    state = inspect(obj)
    if (
        mapper.dispatch.before_insert
        or mapper.dispatch.after_insert
        or any(name not in state.dict for name, _ in columns)
    ):
        session.add(obj)
        await session.flush()
        return
    statement = _inserts.get(type(obj))
    if statement is None:
        table = mapper.local_table
        statement = _inserts[type(obj)] = HotStatement(
            insert(table).returning(key), [column for _, column in columns]
        )
    connection = await session.connection()
    values = {column: state.dict[name] for name, column in columns}
    setattr(obj, mapper.get_property_by_column(key).key, await statement.scalar(connection, values))
    make_transient_to_detached(obj)  # its attributes now count as loaded, not changed
    session.add(obj)


async def _failed(
    connection: AsyncConnection, error: Exception, sql: str, values: Sequence[Any]
) -> NoReturn:
    """A driver's error, dealt with as SQLAlchemy's own path deals with it: raised as its
    DBAPIError and, when the connection was lost, that connection invalidated along with
    every other the pool opened before it (after a server restart they are all dead;
    otherwise each would go back to the pool and fail again, for ever).

    Both steps are SQLAlchemy's own, not public: tests/storage/test_hot.py (the error's type)
    and tests/trust/test_faults.py (a restart) fail if an upgrade changes them."""
    sync = connection.sync_connection
    assert sync is not None  # a started connection
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection
    try:
        adapted._handle_exception(error)  # raises it as the DBAPI's error (asyncpg's translated)
    except Exception as dbapi_error:
        # Its invalidation and rollback may do I/O the synchronous way: in a greenlet.
        await greenlet_spawn(sync._handle_dbapi_exception, dbapi_error, sql, values, None, None)
    raise error  # not reached: both raise
