"""Nothing lost: the database going away and coming back, and kill -9 at random points."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.core.engine import Engine
from storage.models import InboundMessage, OutboxMessage
from tests.driver import Hotline
from tests.pgserver import Cluster
from tests.trust import scripted_run

REPO = Path(__file__).resolve().parents[2]


async def _counts(engine: Engine) -> tuple[int, int, int]:
    async with engine.db.transaction() as session:
        stored = await session.scalar(select(func.count(InboundMessage.id)))
        unhandled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
        )
        replies = await session.scalar(select(func.count(func.distinct(OutboxMessage.cause_id))))
    return int(stored or 0), int(unhandled or 0), int(replies or 0)


async def _outage_then_recovery(hotline: Hotline, go_away, come_back) -> None:  # type: ignore[no-untyped-def]
    engine = hotline.engine
    amina = await hotline.person("amina", in_call=True)
    # Stored before the outage, not yet handled (the process was between its transactions).
    await amina.stores(text="Premier message", update_id="u1")
    await go_away()
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error, whatever it is
        await amina.says("Pendant la panne", update_id="u2")
    await come_back()
    # The transport had no confirmation for u2, so it delivers it again.
    await amina.says("Pendant la panne", update_id="u2")
    await engine.recover()
    stored, unhandled, replied = await _counts(engine)
    assert (stored, unhandled, replied) == (2, 0, 2)


@pytest.mark.sqlite_only
async def test_sqlite_file_unavailable_then_back(
    engine: Engine, database_url: str, hotline: Hotline
) -> None:
    path = Path(make_url(database_url).database or "")
    aside = path.with_suffix(".aside")

    async def go_away() -> None:
        await engine.db.dispose()
        path.rename(aside)
        path.mkdir()  # a directory where the file was: every open fails

    async def come_back() -> None:
        await engine.db.dispose()
        path.rmdir()
        aside.rename(path)

    await _outage_then_recovery(hotline, go_away, come_back)


@pytest.mark.postgresql_only
async def test_postgresql_server_stopped_then_started(
    engine: Engine, postgres, hotline: Hotline
) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster | None = postgres[1]
    if cluster is None:
        pytest.skip("an external PostgreSQL server is not ours to stop")

    async def go_away() -> None:
        # "fast": connections are cut at once (the test server runs without synchronous
        # commit, so an "immediate" stop would also drop its last commits, which a
        # production server, with synchronous commit, never does).
        cluster.stop("fast")

    async def come_back() -> None:
        cluster.restart()  # the pool's connections to the old server are dead: found so

    await _outage_then_recovery(hotline, go_away, come_back)


@pytest.mark.postgresql_only
async def test_postgresql_restarted_while_idle_costs_one_failed_turn_at_most(
    engine: Engine, postgres, hotline: Hotline
) -> None:  # type: ignore[no-untyped-def]
    """A restart between two messages leaves every pooled connection dead. The first
    statement to meet one fails (the transport delivers that update again) and takes them
    all out of the pool, as SQLAlchemy does on a lost connection: the next turn works."""
    cluster: Cluster | None = postgres[1]
    if cluster is None:
        pytest.skip("an external PostgreSQL server is not ours to restart")
    people = [await hotline.person(name, in_call=True) for name in ("amina", "driss", "salma")]
    for number, person in enumerate(people):  # several connections in the pool
        await person.says("Salam", update_id=f"before-{number}")
    cluster.stop("fast")
    cluster.restart()
    failed = 0
    for number, person in enumerate(people * 2):
        try:
            await person.says("Wach kayn chi jdid?", update_id=f"after-{number}")
        except Exception:  # the driver's own error, whatever it is
            failed += 1
            await person.says("Wach kayn chi jdid?", update_id=f"after-{number}")
    assert failed <= 1
    await engine.recover()
    stored, unhandled, replied = await _counts(engine)
    assert (stored, unhandled, replied) == (9, 0, 9)


def _run(url: str, kill_at: int | None, delay: float = 0.0) -> tuple[bool, bool]:
    """Run the script; kill -9 it `delay` seconds after it handled update number `kill_at`.
    Returns (finished, killed): killed means it died by the kill before finishing."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.trust.scripted_run", url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    if kill_at is not None:
        for line in process.stdout:
            if line.strip() == f"handled {kill_at}".encode():
                time.sleep(delay)  # somewhere inside the next update's handling
                process.send_signal(signal.SIGKILL)
                break
    out, _ = process.communicate(timeout=120)
    finished = b"done" in out
    return finished, process.returncode == -signal.SIGKILL and not finished


async def test_killed_at_random_points_loses_nothing_and_repeats_nothing(
    engine: Engine, database_url: str
) -> None:
    chance = random.Random(int(os.environ.get("HOTLINE_KILL_SEED", "7")))
    total = len(scripted_run.script())
    kills = 0
    # Later and later points of the script (each run redelivers it all), killed a few
    # milliseconds into the handling of one update: between or inside its transactions.
    for kill_at in sorted(chance.sample(range(1, total - 4), 3)):
        finished, killed = _run(database_url, kill_at, chance.uniform(0.0, 0.01))
        assert not finished
        kills += killed
    assert kills == 3  # every run was really killed in the middle of its work
    assert _run(database_url, None) == (True, False)
    expected = len(scripted_run.script())
    async with engine.db.transaction() as session:
        stored = await session.scalar(select(func.count(InboundMessage.id)))
        distinct_updates = await session.scalar(
            select(func.count(func.distinct(InboundMessage.update_key)))
        )
        unhandled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
        )
        duplicated = (
            await session.execute(
                select(OutboxMessage.cause_id, OutboxMessage.text, func.count(OutboxMessage.id))
                .group_by(OutboxMessage.cause_id, OutboxMessage.text)
                .having(func.count(OutboxMessage.id) > 1)
            )
        ).all()
        unanswered = await session.scalar(
            select(func.count(InboundMessage.id)).where(
                InboundMessage.id.not_in(
                    select(OutboxMessage.cause_id).where(OutboxMessage.cause_id.is_not(None))
                )
            )
        )
    assert (stored, distinct_updates, unhandled) == (expected, expected, 0)
    assert duplicated == []
    assert unanswered == 0
