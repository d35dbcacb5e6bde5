"""Periodic scans, run by APScheduler.

Jobs hold no state: each scan asks the database what is due now and not yet done, and
enqueues it (with a dedup key, so a second run enqueues nothing). The job store is the
in-memory one on purpose: every process schedules its own scans and nothing is shared.
A scan also runs once at start-up, which catches up on whatever fell due during downtime.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.clock import Clock
from bot.core.config import Settings
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanContext:
    db: Database
    clock: Clock
    settings: Settings


Scan = Callable[[ScanContext], Awaitable[int]]  # returns how many things it enqueued


@dataclass(frozen=True)
class Periodic:
    name: str
    scan: Scan
    every_seconds: int = 60


async def run_once(context: ScanContext, jobs: list[Periodic]) -> dict[str, int]:
    """Run every scan now (start-up catch-up, and what tests call after moving the clock)."""
    done: dict[str, int] = {}
    for job in jobs:
        try:
            done[job.name] = await job.scan(context)
        except Exception:
            log.exception("scan %s failed", job.name)
            done[job.name] = -1
    return done


def start(context: ScanContext, jobs: list[Periodic]) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler()
    for job in jobs:
        scheduler.add_job(
            _guarded(job, context),
            "interval",
            seconds=job.every_seconds,
            id=job.name,
            coalesce=True,  # after a pause, one run, not one per missed tick
            max_instances=1,
        )
    scheduler.start()
    return scheduler


def _guarded(job: Periodic, context: ScanContext) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job.scan(context)
        except Exception:
            log.exception("scan %s failed", job.name)

    return run
