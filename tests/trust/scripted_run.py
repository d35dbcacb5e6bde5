"""A scripted conversation run as a separate process, for the kill -9 test.

`python -m tests.trust.scripted_run DATABASE_URL` first handles whatever a previous run
left stored but unhandled (`engine.recover()`), then (re)delivers every update of the
script, as Telegram redelivers updates a bot did not confirm; stored ones are recognised by
their update id. It prints "handled N" after each update and "done" when the whole script is
handled.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.app import build_engine
from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.core.events import Event, Sender
from storage.db import Database

ACTORS = [f"actor{i}" for i in range(6)]
LINES = [
    "Bonjour",
    "fr:framework:ack",
    "Salam, 3andi so2al 3la l-plan",
    "/mydata",
    "/lang ary",
    "stop",
]
REPO = Path(__file__).resolve().parents[2]


def script() -> list[Event]:
    events = []
    clock = SystemClock()
    for index, line in enumerate(LINES):
        for actor in ACTORS:
            button = line.removeprefix("fr:") if line.startswith("fr:") else None
            events.append(
                Event(
                    "console",
                    actor,
                    Sender(actor, actor.capitalize()),
                    clock.now(),
                    text=None if button else line,
                    button=button,
                    update_id=f"{actor}-{index}",
                )
            )
    return events


async def main(url: str) -> None:
    settings = Settings(database_url=url, knowledge_dir=REPO / "knowledge", flood_limit=0)
    db = Database(url)
    engine = build_engine(settings, db=db)
    await engine.recover()
    print("ready", flush=True)
    for number, event in enumerate(script(), 1):
        await engine.handle(event)
        print(f"handled {number}", flush=True)  # where the kill test may strike
    await db.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
