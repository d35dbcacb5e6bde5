"""Shared fixtures: a real migrated SQLite file per test, a manual clock, the real engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.clock import LOCAL_TZ, ManualClock
from bot.config import Settings
from bot.engine import Engine
from bot.nlu import Understander
from storage.db import Database
from storage.migrate import upgrade_async

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def understander() -> Understander:
    # Loaded once: the knowledge base is read-only during tests.
    return Understander(REPO / "knowledge")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_TZ))


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.sqlite3'}"
    await upgrade_async(url)
    return url


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
