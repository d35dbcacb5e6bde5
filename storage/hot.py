"""The few statements every message runs, sent on the driver's connection on PostgreSQL.

SQLAlchemy's path for one Core statement (its cache key, an execution context, the result's
wrapping, two greenlet switches) costs about 130 µs of CPU here: twice what asyncpg itself
takes to send the statement and read its answer. A handled message runs three or four such
statements, always the same ones. They stay SQLAlchemy statements, built and typed by it and
compiled by it once per dialect (its bind processors convert the values, as on its own
path); only their execution takes the short way.

The short way is taken on PostgreSQL when the driver's connection is where the statement
belongs: inside a transaction SQLAlchemy has begun on it, or on a connection in autocommit
mode. Anything else (SQLite; the first statement of a transaction, which must begin it)
takes SQLAlchemy's own path, so a statement never runs outside its transaction. Statement
listeners (the benchmarks' and the cost tests' counters) see both paths alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Delete, Insert, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

_Binds = list[tuple[str, Callable[[Any], Any] | None]]


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

    def _sql(self, dialect: Dialect) -> tuple[str, _Binds]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect, column_keys=self._keys)
            # Its processors: the same conversions as SQLAlchemy's own path (JSON, enums).
            processors = compiled._bind_processors
            binds = [(name, processors.get(name)) for name in compiled.positiontup]
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
        values = [
            params[name] if process is None else process(params[name]) for name, process in binds
        ]
        sync = connection.sync_connection
        assert sync is not None  # a started connection
        sync.dispatch.before_cursor_execute(sync, None, sql, values, None, False)
        rows: Sequence[Sequence[Any]] = await driver.fetch(sql, *values)
        return rows

    async def execute(self, connection: AsyncConnection, params: Mapping[str, Any]) -> None:
        await self.rows(connection, params)

    async def scalar(self, connection: AsyncConnection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None without a row."""
        rows = await self.rows(connection, params)
        return rows[0][0] if rows else None


async def _driver(connection: AsyncConnection) -> Any:
    """asyncpg's connection when a statement may run on it directly, else None."""
    if connection.dialect.name != "postgresql":
        return None
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:
        return None
    if driver.is_in_transaction():
        return driver  # SQLAlchemy has begun the transaction: the statement joins it
    options = (
        connection.sync_connection.get_execution_options() if connection.sync_connection else {}
    )
    if options.get("isolation_level") == "AUTOCOMMIT":
        return driver  # each statement is its own transaction anyway
    return None  # the transaction is still to begin: SQLAlchemy's path begins it
