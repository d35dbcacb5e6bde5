"""Instructions per message: the engine's CPU work counted, not timed.

    .venv/bin/python -m bench.instructions [--databases sqlite,postgresql] [--json]

CPU time on a shared virtual machine drifts by a third from one minute to the next, which
hides a change of 10 or 20 %. The instructions the engine's process executes do not drift:
this runs bench.costs' message workload (a call opening, the framework's button, a
question, free text, free text in a flow, per person) under valgrind's callgrind, for two
numbers of people, and divides the difference in instructions by the difference in
messages, so start-up and imports cancel out. The run is slow (callgrind runs the program
about twenty times slower: a few minutes in all) and needs `valgrind` (Debian package).

Kernel work (the system calls of each round trip) is not counted here: fewer round trips
save more than this figure shows. Not a test: the figure depends on the versions of Python
and of the libraries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEOPLE = (10, 40)
MESSAGES_PER_PERSON = 7  # bench.costs: a first contact and its button, then five ordinary


async def _workload(url: str, people: int) -> None:
    """The child: bench.costs' messages for `people` people, nothing else measured."""
    from bench.costs import _messages
    from bot.app import build_engine
    from bot.core.clock import LOCAL_TZ, ManualClock
    from bot.core.config import Settings
    from storage.db import Database

    clock = ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_TZ))
    settings = Settings(database_url=url, knowledge_dir=REPO / "knowledge")
    db = Database(url)
    engine = build_engine(settings, clock=clock, db=db)
    await _messages(engine, clock, people, count=False)
    await db.dispose()


def _instructions(url: str, people: int) -> int:
    """Instructions executed by a child running the workload for `people` people."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.instructions",
                "--child",
                url,
                str(people),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError("callgrind gave no count:\n" + done.stderr[-2000:])
    return int(found.group(1))


def _fresh(url: str) -> str:
    """An empty, migrated database for one child (SQLite: a new file)."""
    from storage.migrate import upgrade

    upgrade(url)
    return url


def per_message(make_url: Callable[[str], str]) -> float:
    counts = [_instructions(_fresh(make_url(f"run{people}")), people) for people in PEOPLE]
    return (counts[1] - counts[0]) / ((PEOPLE[1] - PEOPLE[0]) * MESSAGES_PER_PERSON)


def run(databases: list[str]) -> dict[str, float]:
    results: dict[str, float] = {}
    if "sqlite" in databases:
        with tempfile.TemporaryDirectory() as folder:
            results["SQLite"] = per_message(
                lambda name: f"sqlite+aiosqlite:///{folder}/{name}.sqlite3"
            )
    if "postgresql" in databases:
        from bench.costs import fresh_postgres
        from tests import pgserver

        with pgserver.server() as (admin_url, _cluster):
            results["PostgreSQL"] = per_message(
                lambda name: asyncio.run(fresh_postgres(admin_url, f"hotline_ir_{name}"))
            )
    return results


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        asyncio.run(_workload(sys.argv[2], int(sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    results = run(args.databases.split(","))
    if args.json:
        print(json.dumps({k: round(v) for k, v in results.items()}))
        return
    print("\nInstructions per message (engine process, user space; bench.costs' workload)\n")
    for name, value in results.items():
        print(f"  {name:12} {value / 1e6:6.2f} million")


if __name__ == "__main__":
    main()
