"""Bring a database to the latest schema with the project's Alembic migrations.

Features may add migrations on branches of their own; "heads" applies all of them.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "heads") -> None:
    """`upgrade`, skipped when every migration is already applied: a restart then does not
    load Alembic (some 8 MiB kept for the life of the process, and a part of a second)."""
    if revision == "heads" and await _up_to_date(url):
        return
    # env.py runs its own event loop, so keep it off the caller's.
    await asyncio.to_thread(upgrade, url, revision)


def _revisions() -> dict[str, set[str]]:
    """Each migration's revision and those it comes after (down revisions and dependencies),
    read from the files as Alembic reads them, without importing them."""
    graph: dict[str, set[str]] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text()).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name):
                with contextlib.suppress(ValueError):
                    values[target.id] = ast.literal_eval(value)
        before: set[str] = set()
        for key in ("down_revision", "depends_on"):
            found = values.get(key)
            before |= {found} if isinstance(found, str) else set(found or ())
        graph[str(values["revision"])] = before
    return graph


async def _up_to_date(url: str) -> bool:
    """Every migration is the database's version or comes before one of them."""
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            versions: set[str] = set(result.scalars())
    except Exception:  # no version table yet (a new database): Alembic creates it
        return False
    finally:
        await database.dispose()
    graph = _revisions()
    applied: set[str] = set()
    todo = [v for v in versions if v in graph]
    if len(todo) != len(versions):
        return False  # a version this code does not know: let Alembic say so
    while todo:
        revision = todo.pop()
        if revision not in applied:
            applied.add(revision)
            todo.extend(graph.get(revision, ()))
    return applied == set(graph)
