"""`hotline plan import FILE --reference-date YYYY-MM-DD [--dry-run] [--json] ...`
and `hotline plan export PLAN_ID --out FILE.xlsx`.

Import prints a row-by-row report (text, or JSON with ``--json``) and progress on stderr for
large files. Exit status: 0 imported (or valid on a dry run), 1 the file is invalid and nothing
was stored, 2 bad options. Export writes the plan as the coaches' button does, audited.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from bot.core import audit
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.plans import export, importer, service
from storage.db import Database
from storage.models import ActionPlan, Actor

PROGRESS_EVERY = 500


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline plan", description="Action plans")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="import a plan table (CSV or XLSX)")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--reference-date",
        required=True,
        type=date.fromisoformat,
        help="the plan's date: free-text due dates are read against it",
    )
    imp.add_argument("--dry-run", action="store_true", help="check and show, store nothing")
    imp.add_argument("--json", action="store_true", help="machine-readable report")
    imp.add_argument("--title", default=None, help="plan title (default: the file name)")
    imp.add_argument("--theme", default="", help="thématique")
    imp.add_argument("--territory", default=None, help="territory name (created if unknown)")
    imp.add_argument("--committee", default=None, help="committee name (created if unknown)")
    imp.add_argument("--coach", default=None, help="the coach: external id or display name")
    imp.add_argument(
        "--reminder-offsets",
        default=None,
        help="days around each deadline, written --reminder-offsets=-7,-1,0,1,3",
    )
    exp = commands.add_parser("export", help="write a plan to an XLSX file")
    exp.add_argument("plan_id", type=int)
    exp.add_argument("--out", required=True, type=Path, help="the .xlsx file to write")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export":
        return asyncio.run(_export(args.plan_id, args.out))
    offsets = None
    if args.reminder_offsets:
        try:
            offsets = sorted({int(x) for x in args.reminder_offsets.split(",")})
        except ValueError:
            print("--reminder-offsets: whole numbers separated by commas", file=sys.stderr)
            return 2
    if not args.file.exists():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    return asyncio.run(_import(args, offsets))


async def _export(plan_id: int, out: Path) -> int:
    db = Database(Settings.from_env().database_url)
    try:
        async with db.transaction() as session:
            plan = await session.get(ActionPlan, plan_id)
            if plan is None:
                print(f"no plan {plan_id}", file=sys.stderr)
                return 1
            commitments = await service.commitments_of_plan(session, plan.id)
            ids = {c.owner_id for c in commitments if c.owner_id is not None}
            owners = {
                actor.id: actor
                for actor in await session.scalars(select(Actor).where(Actor.id.in_(ids)))
            }
            content = export.plan_xlsx(plan, commitments, owners)
            await asyncio.to_thread(out.write_bytes, content)
            await audit.record(
                session,
                None,
                audit.Action.EXPORT,
                f"plan:{plan.id}",
                SystemClock().now(),
                rows=len(commitments),
                via="command line",
            )
    finally:
        await db.dispose()
    print(f"plan {plan_id}: {len(commitments)} rows written to {out}")
    return 0


def _progress(count: int) -> None:
    if count % PROGRESS_EVERY == 0:
        print(f"… {count} rows read", file=sys.stderr, flush=True)


class ProgressBar:
    """Rows stored so far, on stderr: a bar redrawn in place on a terminal, a line every
    tenth otherwise (logs, pipes)."""

    WIDTH = 30

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._tenth = -1

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        if self.tty:
            filled = round(share * self.WIDTH)
            bar = "█" * filled + "·" * (self.WIDTH - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label} {bar} {done}/{total}{end}")
        elif int(share * 10) > self._tenth:
            self._tenth = int(share * 10)
            self.stream.write(f"{self.label}: {done}/{total} rows ({share:.0%})\n")
        self.stream.flush()


async def _import(args: argparse.Namespace, offsets: list[int] | None) -> int:
    path: Path = args.file
    report = await asyncio.to_thread(importer.read, path, args.reference_date, _progress)
    if args.dry_run or not report.valid:
        return _finish(args, report, stored=False)
    db = Database(Settings.from_env().database_url)
    try:
        coach = None
        if args.coach:
            async with db.transaction() as session:
                coach = await session.scalar(
                    select(Actor).where(
                        (Actor.external_id == args.coach) | (Actor.display_name == args.coach)
                    )
                )
            if coach is None:
                print(f"--coach {args.coach}: no such actor", file=sys.stderr)
                return 2
        options = importer.PlanOptions(
            title=args.title or path.stem,
            reference=args.reference_date,
            theme=args.theme,
            territory=args.territory,
            committee=args.committee,
            coach=coach,
            reminder_offsets=offsets,
        )
        # Short transactions: the bot keeps answering while a large plan is stored.
        await importer.store_in_batches(
            db,
            report,
            options,
            now=SystemClock().now(),
            source=path.name,
            on_stored=ProgressBar("storing"),
        )
    finally:
        await db.dispose()
    return _finish(args, report, stored=True)


def _finish(args: argparse.Namespace, report: importer.ImportReport, stored: bool) -> int:
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_text(report, stored=stored)
    return 0 if report.valid else 1


def _print_text(report: importer.ImportReport, stored: bool) -> None:
    for error in report.table.errors:
        print(f"file: {error}")
    for row in report.rows:
        due = row["due"] or "?"
        flag = "  [to confirm"
        flag += f": {row['reason']}" if row["reason"] else ""
        flag += f", suggestion {row['suggestion']}]" if row["suggestion"] else "]"
        owner = row["owner"]
        if row.get("owner_pending"):
            owner += "  [owner not linked yet]"
        print(f"row {row['row']}: {row['what']}")
        print(f"    due {due}  ({row['due_text']}){flag if row['needs_confirmation'] else ''}")
        print(f"    owner {owner}")
        for error in row["errors"]:
            print(f"    error: {error}")
    confirm = sum(1 for row in report.rows if row["needs_confirmation"])
    if not report.valid:
        print(f"{len(report.rows)} rows: invalid file, nothing imported.")
    elif stored:
        print(f"plan {report.plan_id} imported: {len(report.rows)} rows, {confirm} to confirm.")
    else:
        print(f"{len(report.rows)} rows valid, {confirm} to confirm (dry run: nothing stored).")
