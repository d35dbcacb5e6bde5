"""What work costs: statements per ordinary message, and scans that read only what is due.

Budgets are counts of statements and query plans (an index serves the scan), never
durations: timings live in `bench/`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bench.workload import counting, query_plan, seed_commitments
from bot.app import periodic_jobs
from bot.cases.scans import sla_scan
from bot.cases.service import open_case
from bot.core.clock import LOCAL_TZ, ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine, waiting_chats_query
from bot.core.scheduler import ScanContext
from bot.plans import reminders
from storage.db import Database
from storage.models import Actor, Case, Commitment, InboundMessage, OutboxMessage
from tests.driver import Hotline

# An ordinary message (a knowledge question, a button, free text in a flow, a call opening):
# stored in one statement, then claimed with all it needs in one, handled, written back.
MESSAGE_BUDGET = 8


class Chat:
    def __init__(self, hotline: Hotline) -> None:
        self.engine, self.clock = hotline.engine, hotline.clock
        self.amina = hotline["amina"]

    async def send(self, text: str | None = None, button: str | None = None) -> int:
        """Statements for one message of Amina's."""
        with counting(self.engine.db) as seen:
            effects = await self.amina.send(text=text, button=button)
        assert effects, "every one of these messages is answered"
        self.clock.advance(timedelta(seconds=20))
        return len(seen)


async def test_an_ordinary_message_stays_within_its_statement_budget(
    hotline: Hotline, clock: ManualClock
) -> None:
    chat = Chat(hotline)
    await chat.send("Bonjour")  # someone new: their first message creates them
    await chat.send(button="framework:ack")
    costs = {
        "knowledge question": await chat.send("c'est quoi le role du coach ?"),
        "command": await chat.send("/menu"),
        "button": await chat.send(button="lang:fr"),
    }
    # Not understood: it also joins the review queue, one row more (the learning loop's cost).
    unanswered = await chat.send("blabla")
    assert unanswered <= MESSAGE_BUDGET + 1, unanswered
    await chat.send("je veux signaler un probleme")
    costs["free text in a flow"] = await chat.send("la route est coupee depuis une semaine")
    clock.advance(timedelta(hours=2))
    costs["call opening"] = await chat.send("Bonjour")
    assert max(costs.values()) <= MESSAGE_BUDGET, costs


async def test_storing_a_known_senders_message_is_one_statement(
    engine: Engine, clock: ManualClock, hotline: Hotline
) -> None:
    await Chat(hotline).send("Bonjour")
    event = hotline["amina"].event(text="encore", update_id="x")
    with counting(engine.db) as seen:
        assert await engine.receive(event) is not None
        assert await engine.receive(event) is None  # redelivered: recognised, not stored twice
    assert len(seen.sql[:1]) == 1 and seen.sql[0].lstrip().upper().startswith("INSERT")
    async with engine.db.transaction() as session:
        stored = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.update_key == "console:x")
        )
    assert stored == 1


async def test_chats_left_waiting_are_found_from_the_unhandled_messages_index(
    engine: Engine, clock: ManualClock
) -> None:
    """Looked for every half minute by each process: it reads the unhandled messages' partial
    index, so its cost follows what waits, not every message ever stored."""
    async with engine.db.transaction() as session:
        plan = await query_plan(session, engine.db, waiting_chats_query(clock.now()))
    # A partial index holds the unhandled messages only, in chat order: no sort either.
    assert "ix_messages_pending" in plan, plan
    if engine.db.is_sqlite:
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert "Seq Scan" not in plan and "Sort" not in plan, plan


async def test_the_claim_of_a_message_searches_indexes_only(
    engine: Engine, clock: ManualClock
) -> None:
    """The claim reads the oldest unhandled message of a chat, whether another waits, the
    actor's latest call and whether they are over the flood limit: each an index search
    that stops early, so its cost grows neither with a chat's backlog nor with an actor's
    history (a sort or a scan would)."""
    claim, params = engine._claim_params("console", "amina", clock.now())
    async with engine.db.transaction() as session:
        plan = await query_plan(session, engine.db, claim.params(**params))
    assert "ix_messages_pending" in plan, plan
    assert "ix_messages_actor_received" in plan, plan
    assert "ix_calls_actor_id" in plan, plan
    if engine.db.is_sqlite:
        assert not any(line.startswith("SCAN") for line in plan.splitlines()), plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert "Seq Scan" not in plan and "Sort" not in plan, plan


# -- scans -------------------------------------------------------------------------------------


def _context(url: str, clock: ManualClock, settings: Settings) -> tuple[Database, ScanContext]:
    db = Database(url)
    return db, ScanContext(db, clock, settings)


def _morning() -> datetime:
    return datetime(2026, 11, 24, 10, 0, tzinfo=LOCAL_TZ)


async def _scan_statements(context: ScanContext) -> int:
    with counting(context.db) as seen:
        await reminders.scan(context)
    return len(seen)


async def test_the_reminder_scan_costs_what_is_due_not_what_exists(
    database_url: str, settings: Settings
) -> None:
    clock = ManualClock(_morning())
    db, context = _context(database_url, clock, settings)
    await seed_commitments(db, 40, due_every=20, now=clock.now(), owners=5)
    two_due = await _scan_statements(context)
    assert await _scan_statements(context) <= 2  # nothing due any more: one indexed read
    # Ten times as many rows, the same number due: the same cost.
    await seed_commitments(db, 400, due_every=200, now=clock.now(), owners=5)
    assert await _scan_statements(context) == two_due
    async with db.transaction() as session:
        sent = await session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.dedup_key.like("reminder:%"))
        )
        plan = await query_plan(
            session, db, select(Commitment.id).where(Commitment.remind_at <= clock.now())
        )
    assert sent == 4
    assert "ix_commitments_remind_at" in plan
    await db.dispose()


async def test_the_reminder_scan_works_in_short_transactions(
    database_url: str, settings: Settings
) -> None:
    clock = ManualClock(_morning())
    db, context = _context(database_url, clock, settings)
    await seed_commitments(db, 2 * reminders.BATCH + 10, due_every=1, now=clock.now())
    with counting(db) as seen:
        await reminders.scan(context)
    # One transaction per batch: a message arriving meanwhile waits for one batch at most.
    assert seen.commits >= 3
    async with db.transaction() as session:
        left = await session.scalar(
            select(func.count(Commitment.id)).where(Commitment.remind_at <= clock.now())
        )
    assert left == 0
    await db.dispose()


async def test_a_case_past_its_deadline_is_looked_at_twice_not_every_minute(
    engine: Engine, clock: ManualClock
) -> None:
    async with engine.db.transaction() as session:
        actor = Actor(
            channel="console", external_id="amina", chat_id="amina", created_at=clock.now()
        )
        session.add(actor)
        session.add(
            Actor(
                channel="console",
                external_id="nadia",
                chat_id="nadia",
                role="admin",
                is_coordinator=True,
                created_at=clock.now(),
            )
        )
        await session.flush()
        await open_case(
            session,
            now=clock.now(),
            actor=actor,
            category="question",
            summary="?",
            settings=engine.settings,
        )
    context = ScanContext(engine.db, clock, engine.settings)
    clock.advance(timedelta(days=3))  # past the deadline and the escalation
    assert await sla_scan(context) > 0
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        with counting(engine.db) as seen:
            assert await sla_scan(context) == 0
        assert len(seen) <= 2
    async with engine.db.transaction() as session:
        case = await session.scalar(select(Case))
        assert case is not None and case.sla_check_at is None
        plan = await query_plan(
            session, engine.db, select(Case.id).where(Case.sla_check_at <= clock.now())
        )
    assert "ix_cases_sla_check_at" in plan


async def test_taking_a_case_takes_it_out_of_the_sla_scan(
    engine: Engine, clock: ManualClock
) -> None:
    async with engine.db.transaction() as session:
        actor = Actor(
            channel="console", external_id="amina", chat_id="amina", created_at=clock.now()
        )
        session.add(actor)
        await session.flush()
        case = await open_case(
            session,
            now=clock.now(),
            actor=actor,
            category="question",
            summary="?",
            settings=engine.settings,
        )
        assert case.sla_check_at == case.ack_due_at
        case.acknowledged_at = clock.now()
        case.status = "acknowledged"
    async with engine.db.transaction() as session:
        stored = await session.get_one(Case, case.id)
        assert stored.sla_check_at is None


@pytest.mark.parametrize("scan", ["retention", "digests"])
async def test_periodic_scans_with_nothing_to_do_read_little(
    database_url: str, settings: Settings, scan: str
) -> None:
    clock = ManualClock(_morning())
    db, context = _context(database_url, clock, settings)
    await seed_commitments(db, 50, due_every=1000, now=clock.now(), owners=5)
    jobs = {job.name: job for job in periodic_jobs()}
    job = jobs["retention"] if scan == "retention" else jobs["cases-digest"]
    await job.scan(context)
    with counting(db) as seen:
        assert await job.scan(context) == 0
    assert len(seen) <= 8, seen.sql
    if scan == "retention":
        async with db.transaction() as session:
            plan = await query_plan(
                session,
                db,
                select(InboundMessage.id).where(InboundMessage.received_at < clock.now()),
            )
        assert "ix_messages_received_at" in plan
    await db.dispose()


async def test_an_input_change_brings_a_commitment_back_to_the_scan(
    database_url: str, settings: Settings
) -> None:
    clock = ManualClock(_morning())
    db, context = _context(database_url, clock, settings)
    await seed_commitments(db, 3, due_every=1000, now=clock.now(), owners=1)
    async with db.transaction() as session:
        commitment = await session.get_one(Commitment, 1)
        later = commitment.remind_at
        commitment.what = "a new wording"  # not an input of reminders
    async with db.transaction() as session:
        commitment = await session.get_one(Commitment, 1)
        assert commitment.remind_at == later
        commitment.due = clock.now()  # an input: looked at by the next scan
    async with db.transaction() as session:
        commitment = await session.get_one(Commitment, 1)
        assert commitment.remind_at is not None and commitment.remind_at < clock.now()
        owner = await session.get_one(Actor, commitment.owner_id)
        owner.reminders_stopped = True
    await reminders.scan(context)
    async with db.transaction() as session:
        owner = await session.get_one(Actor, commitment.owner_id)
        owner.reminders_stopped = False  # back on: their rows are looked at again
    async with db.transaction() as session:
        due_again = await session.scalar(
            select(func.count(Commitment.id)).where(Commitment.remind_at <= clock.now())
        )
    assert due_again == 3
    await db.dispose()


async def test_due_reminders_are_stored_in_one_statement_per_batch(
    database_url: str, settings: Settings
) -> None:
    clock = ManualClock(_morning())
    db, context = _context(database_url, clock, settings)
    await seed_commitments(db, 10, due_every=1, now=clock.now(), owners=10)
    with counting(db) as ten:
        await reminders.scan(context)
    await seed_commitments(db, 60, due_every=1, now=clock.now(), owners=60)
    with counting(db) as sixty:
        await reminders.scan(context)
    # Six times as many due, the same statements: one INSERT for the batch's reminders (the
    # dedup keys kept by the unique index), not a look-up, savepoint and insert for each.
    assert len(sixty.sql) == len(ten.sql)
    assert sum("INSERT INTO outbox" in sql for sql in sixty.sql) == 1
    async with db.transaction() as session:
        sent = await session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.dedup_key.like("reminder:%"))
        )
    assert sent == 70
    # Scanned again at the same moment (another process, a restart): nothing twice.
    async with db.transaction() as session:
        rows = (await session.scalars(select(Commitment))).all()
        for row in rows:
            row.remind_at = clock.now()
    await reminders.scan(context)
    async with db.transaction() as session:
        again = await session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.dedup_key.like("reminder:%"))
        )
    assert again == 70
    await db.dispose()
