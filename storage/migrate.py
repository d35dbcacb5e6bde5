"""Bring a database to the latest schema with the project's Alembic migrations.

Features may add migrations on branches of their own; "heads" applies all of them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "heads") -> None:
    # env.py runs its own event loop, so keep it off the caller's.
    await asyncio.to_thread(upgrade, url, revision)
