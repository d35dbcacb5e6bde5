"""`make bench`: every figure of the hotline's costs, as one report.

    .venv/bin/python -m bench [--no-million] [--count 10000] [--databases sqlite,postgresql]
    .venv/bin/python -m bench --quick --json    # SQLite only, under a minute, one JSON object

The full run: costs per message and per scan beside their floors on both databases
(bench.costs), `hotline run` memory and start-up (bench.process), throughput with 100 actors
writing at once (bench.engine), the sustained rate and p99 at half of it with one engine
process on SQLite and two on one PostgreSQL (bench.throughput), then the fan-out
(bench.fanout; other arguments go to it).
Each runs in its own process, so that one's memory figures do not include the other's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(command: list[str]) -> str:
    done = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[1:])} failed ({done.returncode})")
    return done.stdout


def quick() -> dict[str, object]:
    """The headline figures on SQLite, in one JSON object."""
    from bench import costs

    sqlite = costs.run(["sqlite"], million=False, quick=True)["SQLite"]
    # The last line: a library may print warnings of its own before it.
    output = _run([sys.executable, "-m", "bench.process", "--json"])
    process = json.loads(output.strip().splitlines()[-1])
    return {
        "database": "sqlite",
        "statements_per_message": round(sqlite["statements_per_message"], 2),
        "statements_per_message_max": sqlite["statements_per_message_max"],
        "statements_by_kind": sqlite["statements_by_kind"],
        "engine_cpu_ms_per_message": round(sqlite["engine_cpu_ms_per_message"], 3),
        "engine_floor_ms_per_message": round(sqlite["engine_floor_ms_per_message"], 3),
        "engine_ratio_to_floor": round(sqlite["engine_ratio_to_floor"], 1),
        "reminder_scan_nothing_due_ms_100k": round(sqlite["reminder_scan_nothing_due_ms_100k"], 2),
        "reminder_scan_nothing_due_statements_100k": sqlite[
            "reminder_scan_nothing_due_statements_100k"
        ],
        "reminder_scan_1pct_due_ms_100k": round(sqlite["reminder_scan_1pct_due_ms_100k"], 1),
        "rss_run_mib": round(process["aiogram"]["rss_mib"], 1),
        "rss_run_ptb_mib": round(process["ptb"]["rss_mib"], 1),
        "ready_run_s": round(process["aiogram"]["ready_s"], 2),
        "ready_run_ptb_s": round(process["ptb"]["ready_s"], 2),
        "ready_run_cpu_s": round(process["aiogram"]["ready_cpu_s"], 2),
        "ready_run_ptb_cpu_s": round(process["ptb"]["ready_cpu_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="SQLite headline figures only")
    parser.add_argument("--json", action="store_true", help="with --quick: one JSON object")
    parser.add_argument(
        "--no-million", action="store_true", help="skip the 1,000,000-row PostgreSQL scan"
    )
    args, rest = parser.parse_known_args()
    if args.quick:
        figures = quick()
        if args.json:
            print(json.dumps(figures))
        else:
            for key, value in figures.items():
                print(f"{key:45} {value}")
        return
    costs = [sys.executable, "-m", "bench.costs", *(["--no-million"] if args.no_million else [])]
    parts = [
        costs,
        [sys.executable, "-m", "bench.process"],
        [sys.executable, "-m", "bench.engine"],
        [sys.executable, "-m", "bench.throughput"],
        [sys.executable, "-m", "bench.fanout", *rest],
        [sys.executable, "-m", "bench.webhook"],
    ]
    print("\n\n".join(_run(command).strip("\n") for command in parts))


if __name__ == "__main__":
    main()
