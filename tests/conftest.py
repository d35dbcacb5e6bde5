"""Shared fixtures: a real migrated database per test, a manual clock, the real engine.

Every test that uses `database_url` runs twice: on a SQLite file and on PostgreSQL (a
private server started for the session, see tests/pgserver.py). Each PostgreSQL test gets
a fresh database copied from a migrated template; each SQLite test a copy of a file
migrated once per session. Tests that only make sense on one
backend say so with `@pytest.mark.sqlite_only`; `HOTLINE_TEST_DATABASES=sqlite` limits a
local run to SQLite.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.app import build_engine
from bot.core.clock import LOCAL_TZ, ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.nlu import Understander
from storage.db import Database
from storage.migrate import upgrade, upgrade_async
from tests import pgserver
from tests.driver import Hotline

REPO = Path(__file__).resolve().parent.parent
BACKENDS = [
    b
    for b in ("sqlite", "postgresql")
    if b in os.environ.get("HOTLINE_TEST_DATABASES", "sqlite,postgresql")
]
TEMPLATE = "hotline_template"
_numbers = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: the test is about SQLite itself")
    config.addinivalue_line("markers", "postgresql_only: the test is about PostgreSQL itself")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("database_url")
        if (backend == "postgresql" and item.get_closest_marker("sqlite_only")) or (
            backend == "sqlite" and item.get_closest_marker("postgresql_only")
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres() -> Iterator[tuple[str, pgserver.Cluster | None]]:
    """The admin URL of the test server (and the cluster, when this session started it)."""
    with pgserver.server() as (admin_url, cluster):
        yield admin_url, cluster


@pytest.fixture(scope="session")
def postgres_template(postgres: tuple[str, pgserver.Cluster | None]) -> str:
    """A database migrated once, copied for each test (much faster than migrating each)."""
    admin_url = postgres[0]

    async def recreate() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
        try:
            await connection.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
            await connection.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await connection.close()

    def build() -> None:
        asyncio.run(recreate())
        upgrade(_asyncpg_dsn(admin_url, TEMPLATE))

    # Requested from inside a running event loop: build in a thread with a loop of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(build).result()
    return admin_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once: copying it takes about 10 ms, migrating about 400."""
    path = tmp_path_factory.mktemp("template") / "hotline.sqlite3"

    # Requested from inside a running event loop: migrate in a thread with a loop of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, upgrade_async(f"sqlite+aiosqlite:///{path}")).result()
    return path


def _copy_sqlite(source: Path, target: Path) -> None:
    # The backup API copies a consistent database whatever is left in a WAL file.
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    origin.close()
    copy.close()


@pytest.fixture(scope="session")
def understander() -> Understander:
    # Loaded once: the knowledge base is read-only during tests.
    return Understander(REPO / "knowledge")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_TZ))


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "hotline.sqlite3"
        _copy_sqlite(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin_url = request.getfixturevalue("postgres_template")
    name = f"hotline_test_{os.getpid()}_{next(_numbers)}"
    await _admin(admin_url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
    yield _asyncpg_dsn(admin_url, name)
    # A new connection: the test may have restarted the server. Whatever the test left
    # connected (a crashed engine) must not block the drop.
    await _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _admin(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, knowledge_dir=REPO / "knowledge")


@pytest.fixture
async def engine(
    settings: Settings, clock: ManualClock, understander: Understander
) -> AsyncIterator[Engine]:
    db = Database(settings.database_url)
    yield build_engine(settings, clock=clock, db=db, understander=understander)
    await db.dispose()


@pytest.fixture
def hotline(engine: Engine) -> Hotline:
    """People talking to `engine` (tests/driver.py)."""
    return Hotline(engine)
