"""Engine throughput, latency and memory, on SQLite and on PostgreSQL, in one run.

    make bench            # or: .venv/bin/python -m bench.engine [--actors 100] [--messages 10]

100 simulated actors write at once (one asyncio task each, calling `engine.handle` for each
of their messages in turn). PostgreSQL is the one in `TEST_DATABASE_URL` /
`HOTLINE_TEST_POSTGRES_URL`, or a private server started for the run (tests/pgserver.py).
Not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import asyncpg

from bot.app import build_engine
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.core.events import Event, Sender
from bot.nlu import Understander
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Actor, Call, FrameworkText
from tests import pgserver

REPO = Path(__file__).resolve().parent.parent
TEXTS = [
    "Salam, 3andi so2al 3la l-plan d l-action",
    "Bonjour, la réunion du comité est reportée ?",
    "شنو خاصني ندير باش نبلغ على مشكل؟",
    "/help",
    "Merci beaucoup 🙏",
]


def rss_mib(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def prepare(engine: Engine, actors: int) -> None:
    now = engine.clock.now()
    async with engine.db.transaction() as session:
        for index in range(actors):
            actor = Actor(
                channel="bench",
                external_id=f"a{index}",
                chat_id=f"a{index}",
                display_name=f"Actor {index}",
                lang="fr",
                created_at=now,
            )
            session.add(actor)
            await session.flush()
            session.add(
                Call(
                    actor_id=actor.id,
                    channel="bench",
                    chat_id=f"a{index}",
                    opened_at=now - timedelta(minutes=1),
                    last_activity_at=now,
                    framework_text=FrameworkText.FULL,
                    framework_lang="fr",
                    acknowledged_at=now,
                )
            )


async def run(url: str, actors: int, messages: int, understander: Understander) -> dict[str, float]:
    settings = Settings(database_url=url, knowledge_dir=REPO / "knowledge", flood_limit=0)
    db = Database(url, pool_size=20, max_overflow=10) if "postgresql" in url else Database(url)
    engine = build_engine(settings, clock=SystemClock(), db=db, understander=understander)
    await prepare(engine, actors)
    gc.collect()
    rest_rss = rss_mib()
    latencies: list[float] = []

    async def actor(index: int) -> None:
        for number in range(messages):
            event = Event(
                "bench",
                f"a{index}",
                Sender(f"a{index}"),
                engine.clock.now(),
                text=TEXTS[(index + number) % len(TEXTS)],
                update_id=f"{index}-{number}",
            )
            started = time.perf_counter()
            await engine.handle(event)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(actor(i) for i in range(actors)))
    elapsed = time.perf_counter() - started
    load_rss = rss_mib()
    await db.dispose()
    latencies.sort()
    return {
        "messages": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "rss_rest": rest_rss,
        "rss_load": load_rss,
        "rss_peak": rss_mib("VmHWM"),
    }


async def fresh_postgres_database(admin_url: str) -> str:
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("DROP DATABASE IF EXISTS hotline_bench WITH (FORCE)")
        await connection.execute("CREATE DATABASE hotline_bench")
    finally:
        await connection.close()
    return dsn.rsplit("/", 1)[0] + "/hotline_bench"


def measure(actors: int, messages: int) -> dict[str, dict[str, float]]:
    understander = Understander(REPO / "knowledge")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        upgrade(url)
        results["SQLite"] = asyncio.run(run(url, actors, messages, understander))
    with pgserver.server() as (admin_url, _cluster):
        url = asyncio.run(fresh_postgres_database(admin_url))
        upgrade(url)
        results["PostgreSQL"] = asyncio.run(run(url, actors, messages, understander))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=100)
    parser.add_argument("--messages", type=int, default=10, help="per actor")
    args = parser.parse_args()
    report(measure(args.actors, args.messages), args.actors, args.messages)


def report(results: dict[str, dict[str, float]], actors: int, messages: int) -> None:
    print(f"\n{actors} actors writing at once, {messages} messages each\n")
    header = (
        "database",
        "msgs",
        "msg/s",
        "p50 ms",
        "p99 ms",
        "RSS rest MiB",
        "RSS load MiB",
        "alloc peak MiB",
    )
    print("  ".join(f"{h:>14}" for h in header))
    for name, r in results.items():
        row = (
            name,
            f"{r['messages']:.0f}",
            f"{r['per_second']:.0f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['rss_rest']:.0f}",
            f"{r['rss_load']:.0f}",
            f"{r['rss_peak']:.0f}",
        )
        print("  ".join(f"{c:>14}" for c in row))
    print(
        "\nmsg/s and latency: engine.handle end to end (store, handle, outbox), without delivery."
        "\nRSS (resident memory of the process) at rest: after set-up; under load: right after"
        "\nthe run; peak: the highest so far (PostgreSQL runs second: its peak includes SQLite's)."
    )


if __name__ == "__main__":
    main()
