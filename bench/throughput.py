"""Sustained rate, and latency at half of it: one engine process on SQLite, two on one PostgreSQL.

    .venv/bin/python -m bench.throughput [--databases sqlite,postgresql] [--actors 50]
                                         [--messages 20] [--seconds 10] [--json]

Each engine runs in its own OS process (`--worker`), with its own actors, as `hotline run`
would: SQLite gets one process (a single writer), PostgreSQL two on one server. Two phases,
started at the same moment in every process:

* saturation: each actor sends its messages one after the other, as fast as the engine
  answers; the sustained rate is all messages over the wall time from the first start to the
  last end;
* offered load: messages arrive on a fixed schedule at half that rate (spread over the
  processes and the actors), whether or not the engine has answered the previous ones; a
  latency is measured from the scheduled arrival, so queueing counts.

The engine path is `engine.handle` end to end (store, decide, outbox), without delivery.
PostgreSQL is the one in `TEST_DATABASE_URL` / `HOTLINE_TEST_POSTGRES_URL`, or a private
server started for the run (tests/pgserver.py: no fsync). Not a test: figures depend on the
machine, and on what else it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.engine import TEXTS, fresh_postgres_database

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"SQLite": (1, 300.0), "PostgreSQL": (2, 600.0)}  # processes, msg/s
P99_TARGET_MS = 100.0


# -- one engine process ------------------------------------------------------------------------


async def _worker(url: str, prefix: str, actors: int) -> None:
    # The protocol keeps the real stdout; anything the engine prints goes to stderr.
    protocol = os.dup(1)
    os.dup2(2, 1)
    from bot.app import build_engine
    from bot.core.clock import SystemClock
    from bot.core.config import Settings
    from bot.core.events import Event, Sender
    from storage.db import Database
    from storage.models import Actor, Call, FrameworkText

    settings = Settings(database_url=url, knowledge_dir=REPO / "knowledge", flood_limit=0)
    db = Database(url, pool_size=20, max_overflow=10) if "postgresql" in url else Database(url)
    engine = build_engine(settings, clock=SystemClock(), db=db)
    names = [f"{prefix}a{index}" for index in range(actors)]
    now = engine.clock.now()
    async with engine.db.transaction() as session:  # known people, each in an open call
        for name in names:
            actor = Actor(
                channel="bench",
                external_id=name,
                chat_id=name,
                display_name=name,
                lang="fr",
                created_at=now,
            )
            session.add(actor)
            await session.flush()
            session.add(
                Call(
                    actor_id=actor.id,
                    channel="bench",
                    chat_id=name,
                    opened_at=now - timedelta(minutes=1),
                    last_activity_at=now,
                    framework_text=FrameworkText.FULL,
                    framework_lang="fr",
                    acknowledged_at=now,
                )
            )
    loop = asyncio.get_running_loop()
    sent = 0

    async def one(name: str, at: float) -> float:
        nonlocal sent
        sent += 1
        event = Event(
            "bench",
            name,
            Sender(name),
            engine.clock.now(),
            text=TEXTS[sent % len(TEXTS)],
            update_id=f"{prefix}-{sent}",
        )
        await engine.handle(event)
        return loop.time() - at

    async def saturate(messages: int) -> list[float]:
        latencies: list[float] = []

        async def actor(name: str) -> None:
            for _ in range(messages):
                latencies.append(await one(name, loop.time()))

        await asyncio.gather(*(actor(name) for name in names))
        return latencies

    async def offered(rate: float, seconds: float) -> list[float]:
        tasks = []
        start = loop.time()
        count = int(rate * seconds)
        for number in range(count):
            at = start + number / rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(names[number % len(names)], at)))
        return list(await asyncio.gather(*tasks))

    out = os.fdopen(protocol, "w")
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        command = json.loads(line)
        if command["phase"] == "quit":
            break
        cpu, started = time.process_time(), time.time()
        if command["phase"] == "saturate":
            latencies = await saturate(command["messages"])
        else:
            latencies = await offered(command["rate"], command["seconds"])
        ended = time.time()
        result = {
            "started": started,
            "ended": ended,
            "cpu_s": time.process_time() - cpu,
            "latencies": latencies,
        }
        out.write(json.dumps(result) + "\n")
        out.flush()
    await db.dispose()


# -- the conductor -----------------------------------------------------------------------------


def tree_cpu_s(root: int) -> float:
    """CPU seconds of a process and its descendants: the living ones, and those it reaped."""
    children: dict[int, list[int]] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0)
        stack += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


class Workers:
    """Engine processes on one database, driven phase by phase over their stdin / stdout."""

    def __init__(self, url: str, processes: int, actors: int, server: int | None = None) -> None:
        self.server = server  # the database server's process, when it runs here
        command = [sys.executable, "-m", "bench.throughput", "--worker", url]
        self.processes = [
            subprocess.Popen(
                [*command, f"w{index}", str(actors)],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for index in range(processes)
        ]
        for process in self.processes:
            self._read(process)  # ready

    @staticmethod
    def _read(process: subprocess.Popen[str]) -> dict[str, Any]:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"engine process {process.pid} ended ({process.wait()})")
        result: dict[str, Any] = json.loads(line)
        return result

    def phase(self, **command: Any) -> dict[str, Any]:
        server_before = tree_cpu_s(self.server) if self.server else 0.0
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(json.dumps(command) + "\n")
            process.stdin.flush()
        parts = [self._read(process) for process in self.processes]
        server_s = tree_cpu_s(self.server) - server_before if self.server else 0.0
        latencies = sorted(value for part in parts for value in part["latencies"])
        elapsed = max(p["ended"] for p in parts) - min(p["started"] for p in parts)
        return {
            "messages": len(latencies),
            "per_second": len(latencies) / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000,
            "cpu_ms_per_message": sum(p["cpu_s"] for p in parts) * 1000 / len(latencies),
            "server_cpu_ms_per_message": server_s * 1000 / len(latencies),
        }

    def close(self) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(json.dumps({"phase": "quit"}) + "\n")
            process.stdin.close()
        for process in self.processes:
            process.wait(60)


def measure_one(
    url: str, processes: int, actors: int, messages: int, seconds: float, server: int | None = None
) -> dict[str, Any]:
    workers = Workers(url, processes, actors, server)
    try:
        workers.phase(phase="saturate", messages=2)  # warm-up: caches, pools, plans
        sustained = workers.phase(phase="saturate", messages=messages)
        rate = sustained["per_second"] / 2
        half = workers.phase(phase="offered", rate=rate / processes, seconds=seconds)
    finally:
        workers.close()
    return {
        "processes": processes,
        "actors_per_process": actors,
        "sustained": sustained,
        "offered_rate": rate,
        "half": half,
        "load": os.getloadavg(),
    }


def run(
    databases: list[str], actors: int, messages: int, seconds: float
) -> dict[str, dict[str, Any]]:
    from storage.migrate import upgrade

    results: dict[str, dict[str, Any]] = {}
    if "sqlite" in databases:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
            upgrade(url)
            results["SQLite"] = measure_one(url, 1, actors, messages, seconds)
    if "postgresql" in databases:
        from tests import pgserver

        with pgserver.server() as (admin_url, cluster):
            url = asyncio.run(fresh_postgres_database(admin_url))
            upgrade(url)
            # The server's CPU counts when it runs on this machine (not an external one).
            postmaster = (
                int((cluster.data / "postmaster.pid").read_text().split()[0]) if cluster else None
            )
            results["PostgreSQL"] = measure_one(url, 2, actors, messages, seconds, postmaster)
    return results


def report(results: dict[str, dict[str, Any]]) -> None:
    print("\nSustained rate, and latency at half of it (engine processes on one database)\n")
    header = ("database", "processes", "msg/s", "target", "half: msg/s", "p50 ms", "p99 ms")
    print("  ".join(f"{h:>12}" for h in header) + "  CPU ms/msg  server ms/msg  ceiling msg/s")
    for name, r in results.items():
        sustained, half = r["sustained"], r["half"]
        row = (
            name,
            str(r["processes"]),
            f"{sustained['per_second']:.0f}",
            f"≥ {TARGETS[name][1]:.0f}",
            f"{half['per_second']:.0f}",
            f"{half['p50_ms']:.1f}",
            f"{half['p99_ms']:.1f}",
        )
        engine_ms, server_ms = (
            sustained["cpu_ms_per_message"],
            sustained["server_cpu_ms_per_message"],
        )
        ceiling = (os.cpu_count() or 1) * 1000 / (engine_ms + server_ms)
        print(
            "  ".join(f"{c:>12}" for c in row)
            + f"  {engine_ms:>10.2f}  {server_ms:>13.2f}  {ceiling:>13.0f}"
        )
    first = next(iter(results.values()))
    load = first["load"]
    print(
        f"\nmsg/s: saturation, {first['actors_per_process']} actors per process, each writing as"
        " soon as answered;\nhalf: messages offered on a schedule at half that rate (p99 target"
        f" ≤ {P99_TARGET_MS:.0f} ms).\nCPU ms/msg: the engine processes' CPU under saturation;"
        " server ms/msg: the PostgreSQL server's\n(SQLite runs inside the engine); ceiling: what"
        " this machine's cores allow at that CPU per message\n(the bench's own client and the"
        " operating system excluded)."
        f"\nLoad average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        f" (on {os.cpu_count()} cores)."
    )


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        asyncio.run(_worker(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--actors", type=int, default=50, help="per process")
    parser.add_argument("--messages", type=int, default=20, help="per actor, at saturation")
    parser.add_argument("--seconds", type=float, default=10, help="of offered load")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.databases.split(","), args.actors, args.messages, args.seconds)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results)


if __name__ == "__main__":
    main()
