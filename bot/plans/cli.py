"""`hotline plan import FILE --reference-date YYYY-MM-DD [--dry-run] [--json] ...`

Prints a row-by-row report (text, or JSON with ``--json``) and progress on stderr for large
files. Exit status: 0 imported (or valid on a dry run), 1 the file is invalid and nothing was
stored, 2 bad options.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.clock import SystemClock
from bot.config import Settings
from bot.plans import importer
from storage.db import Database
from storage.models import Actor

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
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
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


def _progress(count: int) -> None:
    if count % PROGRESS_EVERY == 0:
        print(f"… {count} rows read", file=sys.stderr, flush=True)


async def _import(args: argparse.Namespace, offsets: list[int] | None) -> int:
    path: Path = args.file
    if args.dry_run:
        report = importer.read(path, args.reference_date, _progress)
    else:
        db = Database(Settings.from_env().database_url)
        try:
            async with db.transaction() as session:
                coach = None
                if args.coach:
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
                report = await importer.import_plan(
                    session, path, options, now=SystemClock().now(), on_row=_progress
                )
        finally:
            await db.dispose()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_text(report, stored=not args.dry_run)
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
