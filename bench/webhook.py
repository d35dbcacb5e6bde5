"""Webhook answer time under concurrent load: the real `hotline run`, a fake Bot API.

    .venv/bin/python -m bench.webhook [--people 500] [--album 3] [--databases sqlite,postgresql]
                                      [--rounds 1]

`hotline run` is started in webhook mode against a fake Bot API on 127.0.0.1 (which answers
every call at once); then every person, new to the hotline, sends an album of `--album`
photos, all posts at the same moment, as Telegram delivers them. Measured: the time each
POST takes to be answered (p50, p99, max), the answers other than 200, and how long the
handling and the replies take to drain afterwards. Target: p99 under 1 s.

Wall times depend on what else the machine runs: the load average is printed beside them,
and the CPU time of the `hotline run` process per post, which depends much less on it
(while the posts are answered, and until everything is handled and sent).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bench.engine import REPO, fresh_postgres_database
from storage.db import Database
from storage.migrate import upgrade
from storage.models import DeliveryStatus, InboundMessage, OutboxMessage
from tests import pgserver
from tests.trust.fake_telegram import FakeTelegram

SECRET = "bench-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux: /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _album(person: int, index: int, update_id: int) -> dict[str, Any]:
    user = {"id": 10_000 + person, "is_bot": False, "first_name": f"P{person}"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user["id"], "type": "private"},
            "from": user,
            "media_group_id": f"album{person}",
            "photo": [
                {
                    "file_id": f"photo-{person}-{index}",
                    "file_unique_id": "u",
                    "width": 1,
                    "height": 1,
                }
            ],
        },
    }


async def _measure(
    url: str, people: int, album: int, profile: str | None = None, drain: bool = True
) -> dict[str, float]:
    api = FakeTelegram()
    base = await api.start()
    listen = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": "123456:BENCH",
        "TELEGRAM_API_BASE_URL": base,
        "HOTLINE_WEBHOOK_URL": "https://hotline.test/telegram",
        "HOTLINE_WEBHOOK_SECRET": SECRET,
        "HOTLINE_WEBHOOK_LISTEN": f"127.0.0.1:{listen}",
        "HOTLINE_FLOOD_LIMIT": "0",
    }
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, then awaited over HTTP
        [sys.executable, *profiler, "-m", "bot.cli", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = Database(url)
    try:
        while api.count("setWebhook") == 0:  # noqa: ASYNC110 - the fake only records calls
            await asyncio.sleep(0.05)
        updates = [
            _album(person, index, person * album + index + 1)
            for person in range(people)
            for index in range(album)
        ]
        hook = f"http://127.0.0.1:{listen}/telegram"
        times: list[float] = []
        failed = 0
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def post(update: dict[str, Any]) -> None:
                nonlocal failed
                start = time.perf_counter()
                async with session.post(
                    hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                ) as response:
                    await response.read()
                    if response.status != 200:
                        failed += 1
                times.append(time.perf_counter() - start)

            load = os.getloadavg()[0]
            cpu_before = _cpu_seconds(process.pid)
            started = time.perf_counter()
            await asyncio.gather(*(post(u) for u in updates))
        answered = time.perf_counter() - started
        cpu_answering = _cpu_seconds(process.pid) - cpu_before
        while drain:
            async with db.transaction() as s:
                open_rows = await s.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING))
                    )
                )
                unhandled = await s.scalar(
                    select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
                )
            if not open_rows and not unhandled:
                break
            await asyncio.sleep(0.2)
        drained = time.perf_counter() - started if drain else float("nan")
        cpu_drained = _cpu_seconds(process.pid) - cpu_before if drain else float("nan")
    finally:
        # Not drained: what is left is of no interest, and a clean stop would wait for it
        # (a profile is written at a clean stop only).
        process.send_signal(signal.SIGTERM if drain or profile else signal.SIGKILL)
        process.wait(timeout=60)
        await db.dispose()
        await api.stop()
    times.sort()
    return {
        "posts": len(times),
        "failed": failed,
        "p50": statistics.median(times),
        "p99": times[int(len(times) * 0.99) - 1],
        "max": times[-1],
        "answered": answered,
        "drained": drained,
        "cpu_answering_ms": cpu_answering * 1000 / len(times),
        "cpu_drained_ms": cpu_drained * 1000 / len(times),
        "load": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--album", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=1, help="runs per database, each fresh")
    parser.add_argument("--profile", help="write a cProfile of `hotline run` to this file")
    parser.add_argument(
        "--answers-only",
        action="store_true",
        help="stop once every post is answered, without waiting for handling and replies",
    )
    args = parser.parse_args()
    results: list[tuple[str, dict[str, float]]] = []
    if "sqlite" in args.databases:
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite+aiosqlite:///{Path(folder)}/bench.sqlite3"
                upgrade(url)
                results.append(
                    (
                        "SQLite",
                        asyncio.run(
                            _measure(
                                url, args.people, args.album, args.profile, not args.answers_only
                            )
                        ),
                    )
                )
    if "postgresql" in args.databases:
        with pgserver.server() as (admin_url, _cluster):
            for _ in range(args.rounds):
                url = asyncio.run(fresh_postgres_database(admin_url))
                upgrade(url)
                results.append(
                    (
                        "PostgreSQL",
                        asyncio.run(
                            _measure(
                                url, args.people, args.album, args.profile, not args.answers_only
                            )
                        ),
                    )
                )
    print(f"\nwebhook: {args.people} new people sending an album of {args.album} at once\n")
    header = (
        "database",
        "posts",
        "not 200",
        "p50 ms",
        "p99 ms",
        "max ms",
        "all 200 s",
        "drained s",
        "CPU/post",
        "until done",
        "load",
    )
    print("  ".join(f"{h:>10}" for h in header))
    for name, r in results:
        row = (
            name,
            f"{r['posts']:.0f}",
            f"{r['failed']:.0f}",
            f"{r['p50'] * 1000:.0f}",
            f"{r['p99'] * 1000:.0f}",
            f"{r['max'] * 1000:.0f}",
            f"{r['answered']:.1f}",
            f"{r['drained']:.1f}",
            f"{r['cpu_answering_ms']:.2f}",
            f"{r['cpu_drained_ms']:.2f}",
            f"{r['load']:.1f}",
        )
        print("  ".join(f"{c:>10}" for c in row))
    print(
        "\np50/p99/max: time to answer one POST (target p99 < 1 s). all 200 s: until the last"
        "\nPOST was answered; drained s: until every update is handled and every reply sent"
        "\n(the fake Bot API takes 30 messages/s at most from the hotline's own pacing)."
        "\nCPU/post: CPU ms of `hotline run` per post while they were answered; until done:"
        "\nuntil drained. load: the 1-minute load average of the machine when the posts began."
    )


if __name__ == "__main__":
    main()
