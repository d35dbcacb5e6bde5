"""Shared by the benchmarks and the cost tests: counting statements, generating rows in bulk.

Rows are generated set-based (one INSERT ... SELECT over a recursive CTE on SQLite, over
generate_series on PostgreSQL), so a million commitments take seconds, not a Python loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, event, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg2
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import UtcDateTime


@dataclass
class Statements:
    """Every statement sent to the database (BEGIN IMMEDIATE and savepoints included), and
    the transactions committed."""

    sql: list[str] = field(default_factory=list)
    commits: int = 0

    def __len__(self) -> int:
        return len(self.sql)

    def clear(self) -> None:
        self.sql.clear()
        self.commits = 0


@contextmanager
def counting(db: Database) -> Iterator[Statements]:
    seen = Statements()
    sync_engine = db.engine.sync_engine

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.sql.append(statement)

    def on_commit(_conn: Any) -> None:
        seen.commits += 1

    event.listen(sync_engine, "before_cursor_execute", on_execute)
    event.listen(sync_engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(sync_engine, "before_cursor_execute", on_execute)
        event.remove(sync_engine, "commit", on_commit)


async def query_plan(session: AsyncSession, db: Database, statement: Any) -> str:
    """The plan the database chooses for `statement`, as one text."""
    # Named parameters without casts, so that the text runs through text().
    dialect = (
        sqlite.dialect(paramstyle="named") if db.is_sqlite else psycopg2.dialect(paramstyle="named")
    )
    compiled = statement.compile(dialect=dialect)
    if db.is_sqlite:
        rows = await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"), compiled.params)
        return "\n".join(str(row[-1]) for row in rows)
    # Tables in tests are tiny: make the planner show whether an index *can* serve.
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = await session.execute(text(f"EXPLAIN {compiled}"), compiled.params)
    return "\n".join(str(row[0]) for row in rows)


def _series(db: Database, count_param: str) -> str:
    if db.is_sqlite:
        return (
            "WITH RECURSIVE series(i) AS "
            f"(SELECT 1 UNION ALL SELECT i + 1 FROM series WHERE i < :{count_param}) "
        )
    return ""


async def seed_commitments(
    db: Database, count: int, due_every: int, now: datetime, owners: int = 100
) -> int:
    """`count` open commitments of one plan, owned by `owners` people; one in `due_every`
    has a reminder due now (deadline tomorrow), the others are looked at next in a week.
    Returns the plan's id."""
    async with db.transaction() as session:
        plan_id = (
            await session.execute(
                text(
                    "INSERT INTO action_plans (title, theme, reference_date, created_at) "
                    "VALUES ('Bench', '', :day, :now) RETURNING id"
                ).bindparams(bindparam("now", type_=UtcDateTime())),
                {"day": now.date(), "now": now},
            )
        ).scalar_one()
        first = (
            await session.execute(
                text("SELECT coalesce(max(id), 0) FROM actors"),
            )
        ).scalar_one()
        source = "series" if db.is_sqlite else "generate_series(1, :owners) AS series(i)"
        prefix = _series(db, "owners")
        await session.execute(
            text(
                f"{prefix}INSERT INTO actors (channel, external_id, chat_id, display_name, role, "
                "lang, lang_chosen, reachable, reminders_stopped, created_at, is_coordinator, "
                "on_duty) "
                f"SELECT 'bench', 'owner' || (i + {first}), 'owner' || (i + {first}), "
                "'Owner ' || i, 'actor', 'fr', FALSE, TRUE, FALSE, :now, FALSE, FALSE "
                f"FROM {source}"
            ).bindparams(bindparam("now", type_=UtcDateTime())),
            {"owners": owners, "now": now},
        )
        source = "series" if db.is_sqlite else "generate_series(1, :count) AS series(i)"
        prefix = _series(db, "count")
        tomorrow = now + timedelta(days=1)
        await session.execute(
            text(
                f'{prefix}INSERT INTO commitments (plan_id, position, what, "where", due, '
                "due_has_time, due_text, due_needs_confirmation, owner_id, owner_text, how, "
                "deliverables, status, created_at, updated_at, remind_at) "
                "SELECT :plan, i, 'Action ' || i, '', "
                "CASE WHEN i % :every = 0 THEN :tomorrow ELSE :later END, FALSE, '', FALSE, "
                f"{first} + 1 + (i % :owners), '', '', '', 'not_started', :now, :now, "
                "CASE WHEN i % :every = 0 THEN :due_at ELSE :next_at END "
                f"FROM {source}"
            ).bindparams(
                *(
                    bindparam(name, type_=UtcDateTime())
                    for name in ("tomorrow", "later", "now", "due_at", "next_at")
                )
            ),
            {
                "plan": plan_id,
                "count": count,
                "every": due_every,
                "owners": owners,
                "tomorrow": tomorrow,
                "later": now + timedelta(days=30),
                "now": now,
                "due_at": now - timedelta(hours=1),
                "next_at": now + timedelta(days=7),
            },
        )
    return int(plan_id)
