"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from storage.db import Database
from storage.models import Base, Territory


async def test_migrated_schema_matches_models(database_url: str) -> None:
    db = Database(database_url)
    async with db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await db.dispose()
    assert diff == []


@pytest.mark.sqlite_only
async def test_wal_mode(database_url: str) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        mode = (await session.execute(text("PRAGMA journal_mode"))).scalar()
    await db.dispose()
    assert mode == "wal"


async def test_overlapping_read_then_write_transactions_do_not_lock(database_url: str) -> None:
    # Deferred transactions that read, then write, deadlock into "database is locked";
    # taking the write lock up front makes them wait their turn instead.
    db = Database(database_url)

    async def read_then_write(index: int) -> None:
        async with db.transaction() as session:
            await session.scalar(select(func.count(Territory.id)))
            await asyncio.sleep(0.01)  # keep the transactions overlapping
            session.add(Territory(name=f"douar {index}", kind="douar"))

    await asyncio.gather(*(read_then_write(i) for i in range(8)))
    async with db.transaction() as session:
        count = await session.scalar(select(func.count(Territory.id)))
    await db.dispose()
    assert count == 8


async def test_a_restart_on_an_up_to_date_database_skips_alembic(database_url: str) -> None:
    """The check that lets a restart skip Alembic says "up to date" only when it is."""
    from alembic import command

    from storage.migrate import _up_to_date, alembic_config, upgrade_async

    assert await _up_to_date(database_url)  # the template is migrated
    # One branch taken back: its migration must run again.
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0015@-1")
    assert not await _up_to_date(database_url)
    await upgrade_async(database_url)
    assert await _up_to_date(database_url)
    db = Database(database_url)
    async with db.transaction() as session:
        versions = set(await session.scalars(text("SELECT version_num FROM alembic_version")))
    await db.dispose()
    assert "0015" in versions
