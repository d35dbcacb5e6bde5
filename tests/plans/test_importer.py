"""Importing plan tables into storage, and the `hotline plan import` command."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.clock import LOCAL_TZ
from bot.plans import importer
from bot.plans.cli import main as plan_main
from storage.db import Database
from storage.models import ActionPlan, Actor, Commitment, CommitmentEvent, CommitteeMember

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REF = date(2013, 1, 31)
NOW = datetime(2013, 2, 1, 9, 0, tzinfo=UTC)


async def _actor(db: Database, name: str, external_id: str = "a1") -> int:
    async with db.transaction() as session:
        actor = Actor(
            channel="console",
            external_id=external_id,
            chat_id=name,
            display_name=name,
            created_at=NOW,
        )
        session.add(actor)
        await session.flush()
        return actor.id


@pytest.mark.parametrize("name", ["bouanane_plan.csv", "bouanane_plan.xlsx"])
async def test_bouanane_plan_is_stored_with_resolved_and_flagged_dates(
    database_url: str, name: str
) -> None:
    db = Database(database_url)
    jaouad = await _actor(db, "Jaouad Elafoui")
    async with db.transaction() as session:
        report = await importer.import_plan(
            session,
            FIXTURES / name,
            importer.PlanOptions(title="Tourisme solidaire", reference=REF, committee="Comité TS"),
            now=NOW,
        )
    assert report.valid and report.plan_id is not None
    async with db.transaction() as session:
        rows = (await session.scalars(select(Commitment).order_by(Commitment.position))).all()
        member = await session.get(CommitteeMember, (1, jaouad))
        events = await session.scalar(select(func.count(CommitmentEvent.id)))
    await db.dispose()
    assert [c.due_text for c in rows] == [
        "Dimanche 3 février 13 à 10h30",
        "Fin février 2013",
        "Fin Mars 2013",
        "Avril",
        "1ère semaine du mois de mai 2013",
    ]
    assert rows[0].due == datetime(2013, 2, 3, 10, 30, tzinfo=LOCAL_TZ) and rows[0].due_has_time
    assert rows[1].due == datetime(2013, 2, 28, tzinfo=LOCAL_TZ) and not rows[1].due_has_time
    assert rows[4].due == datetime(2013, 5, 7, tzinfo=LOCAL_TZ)
    # "Avril" has no year: no silent guess, a flag for the coach.
    assert rows[3].due is None and rows[3].due_needs_confirmation
    assert [c.due_needs_confirmation for c in rows] == [False, False, False, True, False]
    # "M Jaouad ELAFOUI (comité TS)" is the known Jaouad Elafoui; "Comité TS" stays pending.
    assert rows[0].owner_id == jaouad
    assert [c.owner_id for c in rows[1:]] == [None] * 4
    assert rows[1].owner_text == "Comité TS"
    assert report.rows[3]["suggestion"] == "2013-04-30" and report.rows[3]["owner_pending"]
    assert member is not None  # an owner follows the committee's status
    assert events == 5  # one "created" event per commitment


async def test_an_invalid_file_imports_nothing(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Quoi,Où,Quand,Responsable,Comment,Livrables\n"
        "Réunion,Siège,Fin mars 2013,Comité,Réunion,CR\n"
        "Visite,Siège,,Comité,Visite,Rapport\n",  # no due date
        encoding="utf-8",
    )
    db = Database(database_url)
    async with db.transaction() as session:
        report = await importer.import_plan(
            session, bad, importer.PlanOptions(title="x", reference=REF), now=NOW
        )
    async with db.transaction() as session:
        plans = await session.scalar(select(func.count(ActionPlan.id)))
        commitments = await session.scalar(select(func.count(Commitment.id)))
    await db.dispose()
    assert not report.valid
    assert report.rows[1]["errors"] == ["missing_due"]
    assert (plans, commitments) == (0, 0)


async def test_two_equally_close_actors_leave_the_owner_pending(database_url: str) -> None:
    db = Database(database_url)
    await _actor(db, "Jaouad Elafoui", "a1")
    await _actor(db, "Jaouad Elafoui", "a2")
    async with db.transaction() as session:
        await importer.import_plan(
            session, FIXTURES / "bouanane_plan.csv", importer.PlanOptions("t", REF), now=NOW
        )
        first = await session.scalar(select(Commitment).where(Commitment.position == 0))
    await db.dispose()
    assert first is not None and first.owner_id is None


def test_cli_dry_run_json_prints_each_row(capsys: pytest.CaptureFixture[str]) -> None:
    code = plan_main(
        [
            "import",
            str(FIXTURES / "bouanane_plan.xlsx"),
            "--reference-date",
            "2013-01-31",
            "--dry-run",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["valid"] and out["plan_id"] is None
    assert [(r["due"], r["due_text"], r["needs_confirmation"]) for r in out["rows"]] == [
        ("2013-02-03T10:30", "Dimanche 3 février 13 à 10h30", False),
        ("2013-02-28", "Fin février 2013", False),
        ("2013-03-31", "Fin Mars 2013", False),
        (None, "Avril", True),
        ("2013-05-07", "1ère semaine du mois de mai 2013", False),
    ]


def test_cli_stores_the_plan(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    code = plan_main(
        [
            "import",
            str(FIXTURES / "bouanane_plan.csv"),
            "--reference-date",
            "2013-01-31",
            "--title",
            "Tourisme solidaire",
            "--committee",
            "Comité TS",
            "--reminder-offsets=-3,0,2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "row 6: Journée d'étude" in out and "[to confirm: missing_year" in out
    assert out.rstrip().endswith("plan 1 imported: 5 rows, 1 to confirm.")
