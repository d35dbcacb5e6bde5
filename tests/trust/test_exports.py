"""Exports cannot attack whoever opens them, and every export or role granted is audited."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from bot.core.audit import Action, entries
from bot.core.spreadsheet import csv_cell
from storage.db import Database
from storage.models import Actor, Case

ATTACK = '=HYPERLINK("http://127.0.0.1/x","Voir")'


def _run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


async def _audit(url: str, action: str) -> list[tuple[str, str]]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            return [(e.action, e.subject) for e in await entries(session) if e.action == action]
    finally:
        await db.dispose()


def test_csv_cells_starting_a_formula_become_text() -> None:
    for lead in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(f"{lead}1+1") == f"'{lead}1+1"
    assert csv_cell("Amina") == "Amina"
    assert csv_cell(-3) == -3  # numbers are numbers


def test_plan_export_on_the_command_line_has_no_formula(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    table = tmp_path / "plan.csv"
    table.write_text(
        "Quoi,Où,Quand,Responsable,Comment,Livrables\n"
        f'"{ATTACK.replace(chr(34), chr(34) * 2)}",Siège,Fin février 2013,"@SUM(1)",-x,+y\n',
        encoding="utf-8",
    )
    assert main(["plan", "import", str(table), "--reference-date", "2013-01-31"]) == 0
    out = tmp_path / "plan.xlsx"
    assert main(["plan", "export", "1", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet
    row = [c.value for c in load_workbook(out).active[2]]
    assert row[:6] == [ATTACK, "Siège", "Fin février 2013", "@SUM(1)", "-x", "+y"]  # as written
    assert ("export", "plan:1") in _run(_audit(database_url, Action.EXPORT))
    assert main(["plan", "export", "99", "--out", str(out)]) == 1


def test_cases_export_on_the_command_line_neutralises_and_is_audited(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> None:
        db = Database(database_url)
        now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        async with db.transaction() as session:
            actor = Actor(
                channel="telegram",
                external_id="1",
                chat_id="1",
                display_name=ATTACK,
                created_at=now,
            )
            session.add(actor)
            await session.flush()
            session.add(
                Case(
                    actor_id=actor.id,
                    lang="fr",
                    category="question",
                    summary="+212 6 00 00 00 00",
                    opened_at=now,
                )
            )
        await db.dispose()

    _run(seed())
    monkeypatch.setenv("DATABASE_URL", database_url)
    out = tmp_path / "cases.csv"
    assert main(["cases", "export", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["actor"], r["summary"]) for r in rows] == [(f"'{ATTACK}", "'+212 6 00 00 00 00")]
    assert _run(_audit(database_url, Action.EXPORT)) == [("export", "cases:all")]


def test_a_role_given_on_the_command_line_is_audited(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> None:
        db = Database(database_url)
        async with db.transaction() as session:
            session.add(
                Actor(
                    channel="telegram", external_id="7", chat_id="7", created_at=datetime.now(UTC)
                )
            )
        await db.dispose()

    _run(seed())
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["role", "7", "coach"]) == 0

    async def audited() -> list[dict[str, object]]:
        db = Database(database_url)
        async with db.transaction() as session:
            actor = await session.scalar(select(Actor).where(Actor.external_id == "7"))
            assert actor is not None
            found = [
                dict(e.details, subject=e.subject)
                for e in await entries(session)
                if e.action == Action.GRANT
            ]
            subject = f"actor:{actor.id}"
        await db.dispose()
        return [f for f in found if f["subject"] == subject]

    assert [(e["role"], e["previous"]) for e in _run(audited())] == [("coach", "actor")]
