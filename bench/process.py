"""`hotline run`: resident memory at rest and time until it polls, with either library.

    .venv/bin/python -m bench.process [--json]

Starts the real command against a minimal Bot API on 127.0.0.1 (every method answers ok;
getUpdates waits, as Telegram's long polling does), on an already migrated SQLite file.
"Ready" is the first getUpdates (also given as the CPU the process used until then, which a
busy machine changes less than the wall time); RSS is read from /proc two seconds later.
The project's modules are compiled to bytecode first, as `make run` does (and as any start
leaves them, unless PYTHONDONTWRITEBYTECODE forbids it): a start does not compile them again.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from storage.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
TRANSPORTS = ("aiogram", "ptb")


def cpu_of(pid: int) -> float:
    """Seconds of CPU (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_once(transport: str, database_url: str) -> dict[str, float]:
    polled = asyncio.Event()

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        result: Any = True
        if name == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "Hotline", "username": "hotline_bot"}
        elif name == "getUpdates":
            polled.set()
            await asyncio.sleep(1)
            result = []
        return web.json_response({"ok": True, "result": result})

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": "1:bench",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}",
        "HOTLINE_TRANSPORT": transport,
        "DATABASE_URL": database_url,
        "HOTLINE_KNOWLEDGE_DIR": str(REPO / "knowledge"),
    }
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=REPO
    )
    try:
        await asyncio.wait_for(polled.wait(), 120)
        ready = time.perf_counter() - started
        ready_cpu = cpu_of(process.pid)
        await asyncio.sleep(2)
        rss = rss_of(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()
        await runner.cleanup()
    return {"rss_mib": rss, "ready_s": ready, "ready_cpu_s": ready_cpu}


def measure() -> dict[str, dict[str, float]]:
    for package in ("bot", "storage"):
        compileall.compile_dir(REPO / package, quiet=1)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/run.sqlite3"
        upgrade(url)
        for transport in TRANSPORTS:
            results[transport] = asyncio.run(run_once(transport, url))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure()
    if args.json:
        print(json.dumps(results))
        return
    print("\n`hotline run` at rest (long polling, SQLite)\n")
    print(f"{'library':>12}{'RSS MiB':>12}{'ready s':>12}{'CPU to ready s':>16}")
    for name, r in results.items():
        print(f"{name:>12}{r['rss_mib']:>12.0f}{r['ready_s']:>12.2f}{r['ready_cpu_s']:>16.2f}")


if __name__ == "__main__":
    main()
