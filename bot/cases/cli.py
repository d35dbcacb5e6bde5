"""`hotline cases export --out FILE.csv [--filter open|overdue|all]`: the coaches' CSV,
written by an operator, audited as any export."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy import select

from bot.cases.export import cases_csv
from bot.core import audit
from bot.core.clock import SystemClock
from bot.core.config import Settings
from storage.db import Database
from storage.models import Case, CaseStatus

ACTIVE = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline cases", description="Cases")
    commands = parser.add_subparsers(dest="command", required=True)
    exp = commands.add_parser("export", help="write the cases to a CSV file")
    exp.add_argument("--out", required=True, type=Path, help="the .csv file to write")
    exp.add_argument("--filter", choices=["open", "overdue", "all"], default="all")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return asyncio.run(_export(args.out, args.filter))


async def _export(out: Path, which: str) -> int:
    now = SystemClock().now()
    db = Database(Settings.from_env().database_url)
    try:
        async with db.transaction() as session:
            query = select(Case).order_by(Case.id)
            if which != "all":
                query = query.where(Case.status.in_(ACTIVE))
            if which == "overdue":
                query = query.where(Case.acknowledged_at.is_(None), Case.ack_due_at <= now)
            cases = list((await session.scalars(query)).all())
            await asyncio.to_thread(out.write_bytes, await cases_csv(session, cases))
            await audit.record(
                session,
                None,
                audit.Action.EXPORT,
                f"cases:{which}",
                now,
                rows=len(cases),
                via="command line",
            )
    finally:
        await db.dispose()
    print(f"{len(cases)} cases written to {out}", file=sys.stderr)
    return 0
