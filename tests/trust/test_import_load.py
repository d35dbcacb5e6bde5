"""A large plan import does not stop the bot: short transactions, nobody sees it half done."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.plans import importer
from bot.plans.cli import ProgressBar
from storage.db import Database
from storage.models import ActionPlan, Commitment, InboundMessage
from tests.driver import Hotline

ROWS = 20_000


def _table(path: Path, rows: int) -> None:
    months = ["Fin février 2013", "Avril 2013", "15/06/2013", "Fin Mars 2013"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Quoi", "Où", "Quand", "Responsable", "Comment", "Livrables"])
        for i in range(rows):
            writer.writerow(
                [f"Activité {i}", "Siège", months[i % 4], f"Resp {i % 7}", "Réunion", "CR"]
            )


async def test_the_bot_answers_during_an_import_of_20000_rows(
    engine: Engine, settings: Settings, clock: ManualClock, tmp_path: Path, hotline: Hotline
) -> None:
    table = tmp_path / "plan.csv"
    _table(table, ROWS)
    report = await asyncio.to_thread(importer.read, table, date(2013, 1, 31))
    assert report.valid
    people = [f"actor{i}" for i in range(3)]
    for name in people:
        await hotline.person(name, in_call=True)
    progress: list[tuple[int, int]] = []
    seen_half_done: list[int] = []
    importing = Database(settings.database_url)  # the command line: another process
    options = importer.PlanOptions(title="Grand plan", reference=date(2013, 1, 31))

    def stored(done: int, total: int) -> None:
        progress.append((done, total))

    async def import_it() -> None:
        try:
            await importer.store_in_batches(
                importing, report, options, now=clock.now(), source="plan.csv", on_stored=stored
            )
        finally:
            await importing.dispose()

    async def talk() -> int:
        answered = 0
        while not done.is_set():
            for name in people:
                clock.advance(timedelta(seconds=5))  # under the flood limit
                effects = await hotline[name].says("c'est quoi le cadre ?")
                answered += bool(effects)
            async with engine.db.transaction() as session:
                # What a coach could see of the plan while it is stored: nothing.
                visible = await session.scalar(
                    select(func.count(ActionPlan.id)).where(ActionPlan.coach_id.is_not(None))
                )
                seen_half_done.append(int(visible or 0))
            await asyncio.sleep(0.2)
        return answered

    done = asyncio.Event()
    talking = asyncio.ensure_future(talk())
    try:
        await import_it()
    finally:
        done.set()
    answered = await talking
    async with engine.db.transaction() as session:
        errors = (
            await session.scalars(
                select(InboundMessage.error).where(InboundMessage.error.is_not(None))
            )
        ).all()
        rows = await session.scalar(select(func.count(Commitment.id)))
    assert errors == []  # no "database is locked", nor anything else
    assert rows == ROWS
    assert answered >= len(people) * 3  # the bot kept answering all along
    assert progress[-1] == (ROWS, ROWS) and len(progress) == ROWS // importer.BATCH_ROWS
    assert set(seen_half_done) == {0}


def test_the_progress_bar_writes_a_line_per_tenth_off_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar("storing", out)
    for done in range(500, 20_001, 500):
        bar(done, 20_000)
    lines = out.getvalue().splitlines()
    assert lines[0] == "storing: 500/20000 rows (2%)" and lines[-1].endswith("(100%)")
    assert len(lines) == 11
