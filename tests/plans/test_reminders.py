"""Deadline reminders: derived from storage, within waking hours, coalesced, exactly once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.app import periodic_jobs
from bot.core.clock import LOCAL_TZ, ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.core.events import Event, Sender
from bot.core.scheduler import ScanContext, run_once
from bot.plans import importer
from bot.plans.reminders import ReminderPolicy, due_offset
from storage.db import Database
from storage.models import Actor, Case, Commitment, CommitmentStatus, OutboxMessage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
POLICY = ReminderPolicy()
DUE = date(2013, 2, 28)


def at(day: int, hour: int, month: int = 2) -> datetime:
    return datetime(2013, month, day, hour, 0, tzinfo=LOCAL_TZ)


def test_the_most_recent_fallen_reminder_only() -> None:
    offsets = POLICY.offsets
    assert due_offset(offsets, DUE, at(20, 12), POLICY) is None
    assert due_offset(offsets, DUE, at(21, 7), POLICY) is None  # night: not yet
    assert due_offset(offsets, DUE, at(21, 8), POLICY) == -7
    assert due_offset(offsets, DUE, at(27, 8), POLICY) == -1
    # After a long downtime: one reminder, the latest, not the five that fell due.
    assert due_offset(offsets, DUE, at(20, 9, month=3), POLICY) == 3
    # Answered after it fell due: not sent.
    assert due_offset(offsets, DUE, at(27, 9), POLICY, answered_at=at(27, 8)) is None


def test_waking_hours_come_from_the_settings() -> None:
    settings = Settings.from_env(
        {"HOTLINE_WAKING_HOURS": "09:00-18:00", "HOTLINE_OVERDUE_ALERT_DAYS": "10"}
    )
    policy = ReminderPolicy.from_settings(settings)
    assert not policy.awake(at(1, 8)) and policy.awake(at(1, 9)) and not policy.awake(at(1, 18))
    assert policy.overdue_after_days == 10


async def _seed(url: str, clock: ManualClock) -> None:
    db = Database(url)
    async with db.transaction() as session:
        for name, role in (("rachida", "committee_member"), ("coach1", "coach")):
            session.add(
                Actor(
                    channel="console",
                    external_id=name,
                    chat_id=name,
                    display_name=name.capitalize(),
                    role=role,
                    created_at=clock.now(),
                )
            )
        await session.flush()
        coach = await session.scalar(select(Actor).where(Actor.external_id == "coach1"))
        await importer.import_plan(
            session,
            FIXTURES / "bouanane_plan.csv",
            importer.PlanOptions("Tourisme solidaire", date(2013, 1, 31), coach=coach),
            now=clock.now(),
        )
        owner = await session.scalar(select(Actor.id).where(Actor.external_id == "rachida"))
        await session.execute(
            update(Commitment).where(Commitment.owner_text == "Comité TS").values(owner_id=owner)
        )
    await db.dispose()


async def _scan(url: str, clock: ManualClock, settings: Settings) -> None:
    # A new Database each time: a process restarting on the same SQLite file.
    db = Database(url)
    await run_once(ScanContext(db, clock, settings), periodic_jobs())
    await db.dispose()


async def _nobody_reachable(url: str) -> None:
    """As if every actor had blocked the bot (a send refused with 403)."""
    db = Database(url)
    async with db.transaction() as session:
        await session.execute(update(Actor).values(reachable=False))
    await db.dispose()


async def _keys(url: str) -> list[str]:
    db = Database(url)
    async with db.transaction() as session:
        keys = (
            await session.scalars(
                select(OutboxMessage.dedup_key)
                .where(OutboxMessage.dedup_key.like("reminder:%"))
                .order_by(OutboxMessage.id)
            )
        ).all()
    await db.dispose()
    return [k for k in keys if k is not None]


async def test_each_due_reminder_is_sent_once_across_restarts(
    database_url: str, settings: Settings
) -> None:
    clock = ManualClock(at(20, 10))
    await _seed(database_url, clock)
    await _scan(database_url, clock, settings)
    # Commitment 2 ("fin février", rachida): nothing before 21 Feb 08:00.
    assert [k for k in await _keys(database_url) if k.startswith("reminder:2:")] == []

    clock.set(at(21, 8))
    await _scan(database_url, clock, settings)
    await _scan(database_url, clock, settings)  # restart, same moment: nothing new
    clock.set(at(21, 15))
    await _scan(database_url, clock, settings)
    assert [k for k in await _keys(database_url) if k.startswith("reminder:2:")] == [
        "reminder:2:20130228:-7"
    ]

    # Downtime from 21 Feb to 27 Feb at night: nothing at 23:00, the -1 at 08:00, once.
    clock.set(at(27, 23) - timedelta(days=1))
    await _scan(database_url, clock, settings)
    clock.set(at(27, 8))
    await _scan(database_url, clock, settings)
    await _scan(database_url, clock, settings)
    clock.set(at(28, 8))
    await _scan(database_url, clock, settings)
    # A long downtime: from 28 Feb to 20 March, only the latest (+3) of the two that fell due.
    clock.set(at(20, 9, month=3))
    await _scan(database_url, clock, settings)
    await _scan(database_url, clock, settings)
    assert [k for k in await _keys(database_url) if k.startswith("reminder:2:")] == [
        "reminder:2:20130228:-7",
        "reminder:2:20130228:-1",
        "reminder:2:20130228:0",
        "reminder:2:20130228:3",
    ]


async def test_done_and_unreachable_get_nothing_and_overdue_opens_one_case(
    database_url: str, settings: Settings
) -> None:
    clock = ManualClock(at(20, 10))
    await _seed(database_url, clock)
    db = Database(database_url)
    async with db.transaction() as session:
        await session.execute(
            update(Commitment).where(Commitment.id == 2).values(status=CommitmentStatus.DONE)
        )
    await db.dispose()
    clock.set(at(8, 9, month=3))
    await _scan(database_url, clock, settings)
    # Commitment 1 ("3 février", no linked owner) and 2 (done): no reminder to anyone.
    assert not [k for k in await _keys(database_url) if k.split(":")[1] in ("1", "2")]
    await _nobody_reachable(database_url)
    clock.set(at(28, 9, month=3))
    await _scan(database_url, clock, settings)
    await _scan(database_url, clock, settings)
    assert not [k for k in await _keys(database_url) if k.startswith("reminder:3:")]
    db = Database(database_url)
    async with db.transaction() as session:
        cases = (await session.scalars(select(Case))).all()
    await db.dispose()
    # Overdue 7 days: commitment 1 only (2 is done); once, however many scans.
    assert [(c.commitment_id, c.severity, c.category) for c in cases] == [
        (1, "high", "blocked_action")
    ]


async def test_an_owner_who_said_stop_gets_no_reminder(
    database_url: str, settings: Settings
) -> None:
    clock = ManualClock(at(20, 10))
    await _seed(database_url, clock)
    clock.set(at(28, 9, month=3))
    db = Database(database_url)
    async with db.transaction() as session:
        await session.execute(update(Actor).values(reminders_stopped=True))
    await db.dispose()
    await _scan(database_url, clock, settings)
    assert not [k for k in await _keys(database_url) if k.startswith("reminder:")]
    # Back on (as /start does, through the ORM, which re-arms their rows): the reminder that
    # is due now goes out.
    db = Database(database_url)
    async with db.transaction() as session:
        for actor in (await session.scalars(select(Actor))).all():
            actor.reminders_stopped = False
    await db.dispose()
    await _scan(database_url, clock, settings)
    assert [k for k in await _keys(database_url) if k.startswith("reminder:3:")]


async def test_an_unreachable_owner_who_writes_again_gets_reminders_again(
    database_url: str, settings: Settings, clock: ManualClock, engine: Engine
) -> None:
    """Someone who blocked the bot gets no reminder; writing to it again unblocks it, and the
    reminder that is due then goes out (the turn marks them reachable: the listener that
    brings their rows back to the scan must see that change)."""
    clock.set(at(20, 10))
    await _seed(database_url, clock)
    await _nobody_reachable(database_url)
    clock.set(at(28, 9, month=3))
    await _scan(database_url, clock, settings)
    assert not [k for k in await _keys(database_url) if k.startswith("reminder:3:")]
    await engine.handle(
        Event("console", "rachida", Sender("rachida", "Rachida"), clock.now(), text="Bonjour")
    )
    await _scan(database_url, clock, settings)
    assert [k for k in await _keys(database_url) if k.startswith("reminder:3:")]
