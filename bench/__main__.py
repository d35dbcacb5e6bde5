"""`make bench`: the engine, fan-out and webhook benchmarks, as one report.

    .venv/bin/python -m bench [--count 10000] [--databases sqlite,postgresql]

Each runs in its own process, so that one's memory figures do not include the other's;
their reports are printed together at the end. Arguments are passed to the fan-out.
"""

from __future__ import annotations

import subprocess
import sys

from bench.engine import REPO


def main() -> None:
    parts = [
        [sys.executable, "-m", "bench.engine"],
        [sys.executable, "-m", "bench.fanout", *sys.argv[1:]],
        [sys.executable, "-m", "bench.webhook"],
    ]
    reports = []
    for command in parts:
        done = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command[1:])} failed ({done.returncode})")
        reports.append(done.stdout.strip("\n"))
    print("\n\n".join(reports))


if __name__ == "__main__":
    main()
