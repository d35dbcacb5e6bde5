"""`hotline nlu`: train the understanding, and take the review queue offline and back.

hotline nlu train                       train (or load from cache) and print the figures
hotline nlu export --out queue.xlsx     the messages waiting for review, as a spreadsheet
hotline nlu import queue.xlsx           file those whose "label" column was filled in
hotline nlu field --out FILE.tsv        every filed message, in the corpus' field.tsv format
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook

from bot.core.config import Settings
from bot.nlu.corpus import NONE
from bot.nlu.knowledge import load_knowledge, title_of
from bot.review import service
from bot.review.ask import knowledge_dir
from storage.db import Database
from storage.models import ReviewItem

HEADER = ("id", "text", "variant", "reason", "guess", "label")
# Spreadsheet programs run a cell that starts with one of these as a formula (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline nlu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train the model from knowledge/ (cached by data hash)")
    train.add_argument("--knowledge", metavar="DIR")
    export = sub.add_parser("export", help="the review queue as XLSX")
    export.add_argument("--out", type=Path, required=True)
    imp = sub.add_parser("import", help="file the rows of an exported sheet that have a label")
    imp.add_argument("file", type=Path)
    field = sub.add_parser("field", help="filed messages as corpus/field.tsv lines")
    field.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "train":
        return _train(knowledge_dir(args.knowledge, settings), settings.nlu_cache_dir)
    handlers = {"export": _export, "import": _import, "field": _field}
    return asyncio.run(handlers[args.command](settings, args))


def _train(directory: Path, cache_dir: Path | None) -> int:
    from bot.nlu import lexicon
    from bot.nlu.understander import Understander

    lexicon.use(directory)
    start = time.perf_counter()
    understander = Understander(directory, cache_dir=cache_dir)
    print(
        f"model ready in {time.perf_counter() - start:.1f} s: {len(understander.labels)} labels, "
        f"threshold {understander.threshold}, emergency ask {understander.emergency_ask} / "
        f"act {understander.emergency_act}"
    )
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    entries = load_knowledge(settings.knowledge_dir)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            items = await service.pending(session)
    finally:
        await db.dispose()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "queue"
    sheet.append(HEADER)
    for item in items:
        sheet.append([item.id, _cell(item.text), item.lang, item.reason, item.guess or "", ""])
    labels = book.create_sheet("labels")
    labels.append(("label", "meaning"))
    for label, entry in sorted(entries.items()):
        labels.append((label, title_of(entry, "fr")))
    labels.append((NONE, "hors du champ de la ligne"))
    labels.append((service.SKIP, "à ne pas utiliser pour l'apprentissage"))
    book.save(args.out)
    print(f"{len(items)} messages waiting for review written to {args.out}")
    return 0


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    known = set(load_knowledge(settings.knowledge_dir)) | {NONE, service.SKIP}
    sheet = load_workbook(args.file, read_only=True)["queue"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    wanted: dict[int, str] = {}
    errors = []
    for number, row in enumerate(rows, start=2):
        ident, label = row[0], (row[5] or "") if len(row) > 5 else ""
        label = str(label).strip()
        if not label:
            continue
        if label not in known or not isinstance(ident, int):
            errors.append(f"row {number}: unknown label {label!r}")
            continue
        wanted[ident] = label
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print("nothing filed: correct the sheet and import it again", file=sys.stderr)
        return 1
    db = Database(settings.database_url)
    filed = 0
    try:
        async with db.transaction() as session:
            now = datetime.now(UTC)
            for ident, label in wanted.items():
                item = await session.get(ReviewItem, ident)
                if item is not None and service.file(item, label, None, now):
                    filed += 1
    finally:
        await db.dispose()
    print(f"{filed} messages filed ({len(wanted) - filed} already filed or gone)")
    return 0


async def _field(settings: Settings, args: argparse.Namespace) -> int:
    labels = tuple(load_knowledge(settings.knowledge_dir))
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            examples = await service.training_examples(session, labels)
    finally:
        await db.dispose()
    lines = ["# Messages reviewed by coaches: label, variant, text (names and numbers masked)."]
    lines += [f"{e.label}\t{e.variant}\t{' '.join(e.text.split())}" for e in examples]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(examples)} reviewed messages written to {args.out}")
    return 0
