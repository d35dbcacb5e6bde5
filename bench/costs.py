"""What one message and one scan cost, beside their floors, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.costs [--databases sqlite,postgresql] [--no-million] [--json]

* statements and CPU per ordinary message (a knowledge question, a button, free text in a
  flow, a call opening), through `engine.handle`;
* the floor: one raw INSERT + COMMIT through aiosqlite / asyncpg, plus the understanding alone;
* the reminder scan with nothing due at 10,000 and 100,000 commitments, and 1,000,000 on
  PostgreSQL (generated set-based: under a minute here; --no-million skips it), and with
  1 % of the largest table due;
* `hotline run`: resident memory at rest and time until it polls, with either library
  (bench.process).

CPU is the process's CPU time (all threads: aiosqlite works in one), median of 3 runs.
Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from bench.workload import Statements, counting, seed_commitments
from bot.app import build_engine
from bot.core.clock import LOCAL_TZ, ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.core.events import Event, Sender
from bot.core.scheduler import ScanContext
from bot.nlu import Understander
from bot.plans import reminders
from storage.db import Database
from storage.migrate import upgrade_async

REPO = Path(__file__).resolve().parent.parent
QUESTION = "c'est quoi le role du coach ?"


def cpu_ms(started: float) -> float:
    return (time.process_time() - started) * 1000


async def median_cpu_ms(run: Callable[[], Awaitable[Any]], times: int = 3) -> float:
    spent = []
    for _ in range(times):
        started = time.process_time()
        await run()
        spent.append(cpu_ms(started))
    return statistics.median(spent)


# -- the engine --------------------------------------------------------------------------------


async def _messages(
    engine: Engine, clock: ManualClock, people: int, count: bool = True, prefix: str = "p"
) -> dict[str, Any]:
    """Each person: a call opening, the framework's button, a question, a report in a flow.

    `count`: count each message's statements. The counter is an engine event listener, which
    makes SQLAlchemy dispatch events on every statement from then on (a production process
    on PostgreSQL has none): CPU is measured on an engine that never counted."""
    kinds: dict[str, list[tuple[int, float]]] = {}
    number = 0

    async def send(who: str, kind: str, **content: Any) -> None:
        nonlocal number
        number += 1
        event = Event(
            "bench", who, Sender(who, who), clock.now(), update_id=f"{prefix}{number}", **content
        )
        with counting(engine.db) if count else nullcontext(Statements()) as seen:
            started = time.process_time()
            await engine.handle(event)
            spent = cpu_ms(started)
        kinds.setdefault(kind, []).append((len(seen), spent))
        clock.advance(timedelta(seconds=1))

    for index in range(people):  # first contact: the person is created (not an ordinary one)
        await send(f"{prefix}{index}", "first contact", text="Bonjour")
        await send(f"{prefix}{index}", "button", button="framework:ack")
    clock.advance(timedelta(hours=1))
    for index in range(people):
        who = f"{prefix}{index}"
        await send(who, "call opening", text="Bonjour")
        await send(who, "button", button="framework:ack")
        await send(who, "knowledge question", text=QUESTION)
        await send(who, "free text", text="je veux signaler un probleme")
        await send(who, "free text in a flow", text="la route est coupee depuis une semaine")
    ordinary = [v for k, values in kinds.items() if k != "first contact" for v in values]
    return {
        "statements_per_message": statistics.mean(s for s, _ in ordinary),
        "statements_per_message_max": max(s for s, _ in ordinary),
        "statements_by_kind": {k: max(s for s, _ in v) for k, v in kinds.items()},
        "engine_cpu_ms_per_message": statistics.median(c for _, c in ordinary),
        "engine_cpu_ms_by_kind": {
            k: round(statistics.median(c for _, c in v), 3) for k, v in kinds.items()
        },
    }


async def _floor(url: str, understander: Understander, rounds: int = 200) -> dict[str, float]:
    """One raw INSERT + COMMIT through the bare driver, and the understanding alone."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        connection = await aiosqlite.connect(path)
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS floor (id INTEGER PRIMARY KEY, t TEXT)"
        )
        started = time.process_time()
        for _ in range(rounds):
            await connection.execute("INSERT INTO floor (t) VALUES ('x')")
            await connection.commit()
        raw = cpu_ms(started) / rounds
        await connection.close()
    else:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        await connection.execute("CREATE TABLE IF NOT EXISTS floor (id serial PRIMARY KEY, t text)")
        started = time.process_time()
        for _ in range(rounds):
            async with connection.transaction():
                await connection.execute("INSERT INTO floor (t) VALUES ('x')")
        raw = cpu_ms(started) / rounds
        await connection.close()
    started = time.process_time()
    for _ in range(rounds):
        understander.understand(QUESTION)
    understanding = cpu_ms(started) / rounds
    return {
        "floor_db_ms": raw,
        "floor_understanding_ms": understanding,
        "engine_floor_ms_per_message": raw + understanding,
    }


# -- the reminder scan -------------------------------------------------------------------------


async def _scan(url: str, settings: Settings, sizes: list[int]) -> dict[str, float]:
    clock = ManualClock(datetime(2026, 11, 24, 10, 0, tzinfo=LOCAL_TZ))
    db = Database(url)
    context = ScanContext(db, clock, settings)
    figures: dict[str, float] = {}
    total = 0
    for size in sizes:
        # Grow the table to `size` (nothing due), then scan: the cost of nothing due.
        await seed_commitments(db, size - total, due_every=size + 1, now=clock.now())
        total = size
        label = _size_label(size)
        figures[f"reminder_scan_nothing_due_ms_{label}"] = await median_cpu_ms(
            lambda: reminders.scan(context)
        )
        with counting(db) as seen:
            await reminders.scan(context)
        figures[f"reminder_scan_nothing_due_statements_{label}"] = len(seen)
    # 1 % of the largest table due now (added beside it): the cost follows the 1 %.
    await seed_commitments(db, total // 100, due_every=1, now=clock.now())
    started = time.process_time()
    with counting(db) as seen:
        sent = await reminders.scan(context)
    label = _size_label(total)
    figures[f"reminder_scan_1pct_due_ms_{label}"] = cpu_ms(started)
    figures[f"reminder_scan_1pct_due_statements_{label}"] = len(seen)
    figures[f"reminder_scan_1pct_due_sent_{label}"] = sent
    await db.dispose()
    return figures


def _size_label(size: int) -> str:
    return f"{size // 1_000_000}m" if size >= 1_000_000 else f"{size // 1000}k"


# -- one database ------------------------------------------------------------------------------


async def measure(url: str, understander: Understander, sizes: list[int]) -> dict[str, Any]:
    await upgrade_async(url)
    settings = Settings(database_url=url, knowledge_dir=REPO / "knowledge")
    clock = ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_TZ))
    db = Database(url)
    engine = build_engine(settings, clock=clock, db=db, understander=understander)
    counted = await _messages(engine, clock, people=40)
    await db.dispose()
    # CPU on an engine without the statement counter (see `_messages`), other people.
    db = Database(url)
    engine = build_engine(settings, clock=clock, db=db, understander=understander)
    figures: dict[str, Any] = await _messages(engine, clock, people=40, count=False, prefix="q")
    await db.dispose()
    for key in ("statements_per_message", "statements_per_message_max", "statements_by_kind"):
        figures[key] = counted[key]
    figures.update(await _floor(url, understander))
    figures["engine_ratio_to_floor"] = (
        figures["engine_cpu_ms_per_message"] / figures["engine_floor_ms_per_message"]
    )
    figures.update(await _scan(url, settings, sizes))
    return figures


async def fresh_postgres(admin_url: str, name: str) -> str:
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return dsn.rsplit("/", 1)[0] + "/" + name


def run(databases: list[str], million: bool, quick: bool = False) -> dict[str, dict[str, Any]]:
    understander = Understander(REPO / "knowledge")
    results: dict[str, dict[str, Any]] = {}
    if "sqlite" in databases:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
            sizes = [100_000] if quick else [10_000, 100_000]
            results["SQLite"] = asyncio.run(measure(url, understander, sizes))
    if "postgresql" in databases:
        from tests import pgserver

        with pgserver.server() as (admin_url, _cluster):
            url = asyncio.run(fresh_postgres(admin_url, "hotline_costs"))
            sizes = [10_000, 100_000] + ([1_000_000] if million else [])
            results["PostgreSQL"] = asyncio.run(measure(url, understander, sizes))
    return results


def report(results: dict[str, dict[str, Any]]) -> None:
    print("\nCost per unit of work (CPU time of this process, medians)\n")
    names = list(results)
    print(f"{'figure':58}" + "".join(f"{n:>24}" for n in names))

    def line(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        print(f"{label:58}" + "".join(f"{cell(results[n]):>24}" for n in names))

    line(
        "statements per ordinary message (mean / max)",
        lambda r: f"{r['statements_per_message']:.1f} / {r['statements_per_message_max']}",
    )
    line("engine CPU ms per message", lambda r: f"{r['engine_cpu_ms_per_message']:.2f}")
    line(
        "  floor: raw INSERT+COMMIT + understanding, ms",
        lambda r: f"{r['floor_db_ms']:.3f} + {r['floor_understanding_ms']:.3f}",
    )
    line("  ratio to the floor", lambda r: f"{r['engine_ratio_to_floor']:.1f}x")
    keys = sorted(
        {k for r in results.values() for k in r if k.startswith("reminder_scan_")},
        key=lambda k: (k.split("_")[-1][-1], int(k.split("_")[-1][:-1]), k),
    )
    for key in keys:
        unit = "" if "statements" in key or "sent" in key else " (CPU ms)"
        line(
            key.replace("_", " ") + unit,
            lambda r, key=key: f"{r[key]:.1f}" if key in r else "—",
        )
    for name, r in results.items():
        print(f"\n{name}, statements per kind (max): {json.dumps(r['statements_by_kind'])}")
        print(f"{name}, CPU ms per kind (median): {json.dumps(r['engine_cpu_ms_by_kind'])}")
    print(
        "\nThe floor of a scan with nothing due is one indexed read: its statements above."
        "\nOrdinary messages: call opening, button, knowledge question, free text, free text"
        "\nin a flow (a first contact, which creates the person, is not counted)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--no-million", action="store_true", help="skip the 1,000,000-row PostgreSQL scan"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.databases.split(","), not args.no_million)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results)


if __name__ == "__main__":
    main()
