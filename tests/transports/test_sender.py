"""Delivery against a misbehaving Bot API server: every message once, in order per chat."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import ManualClock
from bot.core.effects import Effect
from bot.core.outbox import enqueue
from bot.transports.delivery import Blocked, Limits, Policy, Sender
from bot.transports.tg_aiogram import AiogramAdapter
from bot.transports.tg_ptb import PtbAdapter
from storage.db import Database
from storage.models import Actor, DeliveryStatus, OutboxMessage, Priority
from tests.transports.fake_bot_api import serving, virtual_wait


class FaultyTelegram:
    """sendMessage answers, by call number: 429 with retry_after, 500, a dropped connection."""

    def __init__(self) -> None:
        self.calls = 0
        self.received: defaultdict[str, list[str]] = defaultdict(list)

    async def send_message(self, request: web.Request) -> web.StreamResponse:
        form = dict(await request.post()) if request.content_type != "application/json" else {}
        if not form:
            form = await request.json()
        self.calls += 1
        fault = self.calls % 4
        if fault == 1:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests",
                    "parameters": {"retry_after": 3},
                },
                status=429,
            )
        if fault == 2:
            return web.json_response(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"},
                status=500,
            )
        if fault == 3:
            assert request.transport is not None
            request.transport.close()  # the connection drops before any answer
            return web.Response()
        chat = str(form["chat_id"])
        self.received[chat].append(str(form["text"]))
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "message_id": self.calls,
                    "date": 0,
                    "chat": {"id": int(chat), "type": "private"},
                    "text": form["text"],
                },
            }
        )

    async def get_me(self, request: web.Request) -> web.Response:
        bot = {"id": 1, "is_bot": True, "first_name": "Hotline", "username": "HotlineBot"}
        return web.json_response({"ok": True, "result": bot})

    async def blocked(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            },
            status=403,
        )


@pytest.fixture
async def faulty() -> AsyncIterator[tuple[str, FaultyTelegram]]:
    server = FaultyTelegram()
    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", server.send_message)
    app.router.add_post("/bot{token}/sendPhoto", server.blocked)
    app.router.add_post("/bot{token}/getMe", server.get_me)
    async with serving(app) as root:
        yield root, server


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
async def test_every_message_once_in_order_despite_faults(
    library: str, faulty: tuple[str, FaultyTelegram], database_url: str, clock: ManualClock
) -> None:
    root, server = faulty
    adapter = AiogramAdapter("1:T", root) if library == "aiogram" else PtbAdapter("1:T", root)
    db = Database(database_url)
    async with db.transaction() as session:
        for index in range(6):
            for chat in ("101", "202"):
                await enqueue(
                    session,
                    channel="telegram",
                    chat_id=chat,
                    text=f"{chat}-{index}",
                    now=clock.now(),
                )
    sender = Sender(
        db,
        clock,
        "telegram",
        adapter.send,
        policy=Policy(max_attempts=10),
        wait=virtual_wait(clock),
    )
    await sender.run_until_idle()
    await adapter.close()
    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    await db.dispose()
    for chat in ("101", "202"):
        assert server.received[chat] == [f"{chat}-{i}" for i in range(6)]
    assert {row.status for row in rows} == {DeliveryStatus.DELIVERED}
    assert server.calls == 4 * 12  # three faults before each success


async def test_transient_errors_give_up_after_max_attempts(
    database_url: str, clock: ManualClock
) -> None:
    from bot.transports.delivery import Transient

    async def down(_effect: Effect) -> str:
        raise Transient("502 Bad Gateway")

    db = Database(database_url)
    async with db.transaction() as session:
        await enqueue(session, channel="telegram", chat_id="1", text="x", now=clock.now())
    sender = Sender(
        db, clock, "telegram", down, policy=Policy(max_attempts=3), wait=virtual_wait(clock)
    )
    await sender.run_until_idle()
    async with db.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
    await db.dispose()
    assert row is not None and (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)


async def test_blocked_bot_marks_the_actor_unreachable(
    faulty: tuple[str, FaultyTelegram], database_url: str, clock: ManualClock
) -> None:
    root, _server = faulty
    adapter = AiogramAdapter("1:T", root)
    db = Database(database_url)
    async with db.transaction() as session:
        actor = Actor(channel="telegram", external_id="7", chat_id="7", created_at=clock.now())
        session.add(actor)
        await session.flush()
        await enqueue(
            session,
            channel="telegram",
            chat_id="7",
            text="plan",
            now=clock.now(),
            photo=b"\x89PNG...",
            actor_id=actor.id,
        )
    sender = Sender(db, clock, "telegram", adapter.send, wait=virtual_wait(clock))
    await sender.run_until_idle()
    await adapter.close()
    async with db.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
        person = await session.scalar(select(Actor))
    await db.dispose()
    assert row is not None and row.status == DeliveryStatus.UNREACHABLE
    assert person is not None and person.reachable is False
    assert Blocked  # the adapter translated the 403 into Blocked


async def test_a_row_is_claimed_by_one_sender_only(database_url: str, clock: ManualClock) -> None:
    sent: list[str] = []

    async def send(effect: Effect) -> str:
        sent.append(effect.chat_id)
        await asyncio.sleep(0)
        return "1"

    db = Database(database_url)
    async with db.transaction() as session:
        for chat in ("1", "2", "3"):
            await enqueue(session, channel="telegram", chat_id=chat, text="x", now=clock.now())
    first = Sender(db, clock, "telegram", send)
    second = Sender(db, clock, "telegram", send)
    await asyncio.gather(first.step(), second.step())
    # A crashed sender's lease expires; the row is then taken again, and only then.
    async with db.transaction() as session:
        await enqueue(session, channel="telegram", chat_id="4", text="y", now=clock.now())
    claimed, _ = await first.claim()  # "crashes" without settling
    assert [r.chat_id for r in claimed] == ["4"]
    assert (await second.claim())[0] == []
    clock.advance(Policy().lease + timedelta(seconds=1))
    assert [r.chat_id for r in (await second.claim())[0]] == ["4"]
    await db.dispose()
    assert sorted(sent) == ["1", "2", "3"]


async def test_a_claim_paces_the_sends_of_the_next_second(
    database_url: str, clock: ManualClock
) -> None:
    sent: list[str] = []
    slots: list[datetime] = []  # when each waiting send was told it may leave

    async def send(effect: Effect) -> str:
        sent.append(effect.chat_id)
        return "1"

    async def wait(seconds: float) -> None:
        slots.append(clock.now() + timedelta(seconds=seconds))
        clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    db = Database(database_url)
    async with db.transaction() as session:
        for chat in range(45):
            await enqueue(session, channel="telegram", chat_id=str(chat), text="x", now=clock.now())
    sender = Sender(db, clock, "telegram", send, wait=wait)
    claimed, _ = await sender.claim()
    assert 25 <= len(claimed) <= 30  # the slots of about one second, not all 45 at once
    for row in claimed:  # one after the other, as a step sends them
        await sender.deliver(row)
    await sender.run_until_idle()
    await db.dispose()
    assert sorted(sent, key=int) == [str(chat) for chat in range(45)]
    assert len(slots) == 44  # all but the first waited for their slot...
    gaps = [later - first for first, later in itertools.pairwise(slots)]
    assert min(gaps) >= Limits().spacing  # ...evenly spaced, never a burst


async def test_a_restart_takes_back_at_once_what_a_dead_process_claimed(
    database_url: str, clock: ManualClock
) -> None:
    """Claimed, not started: taken back at the new process's first claim; started (maybe
    received by Telegram): repeated once, a moment after the restart, not after the lease."""
    sent: list[str] = []

    async def send(effect: Effect) -> str:
        sent.append(effect.chat_id)
        return "1"

    db = Database(database_url)
    async with db.transaction() as session:
        for chat in ("1", "2", "3"):
            await enqueue(session, channel="telegram", chat_id=chat, text="x", now=clock.now())
    dead = Sender(db, clock, "telegram", send)
    claimed, _ = await dead.claim()
    assert len(claimed) == 3
    assert await dead._start(claimed[0])  # its request left; then the process died
    clock.advance(timedelta(seconds=1))
    reborn = Sender(db, clock, "telegram", send, wait=virtual_wait(clock))
    assert sorted(r.chat_id for r in (await reborn.claim())[0]) == ["2", "3"]
    clock.advance(Policy().restart_grace)
    assert [r.chat_id for r in (await reborn.claim())[0]] == ["1"]
    await reborn.run_until_idle()
    # The dead process's claims are no longer its own: nothing it held can leave twice.
    assert not await dead._start(claimed[1])
    async with db.transaction() as session:
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    await db.dispose()
    assert sorted(sent) == ["1", "2", "3"] and statuses == {DeliveryStatus.DELIVERED}


async def test_a_live_senders_claim_is_not_taken(database_url: str, clock: ManualClock) -> None:
    async def send(effect: Effect) -> str:
        return "1"

    db = Database(database_url)
    async with db.transaction() as session:
        await enqueue(session, channel="telegram", chat_id="1", text="x", now=clock.now())
    first = Sender(db, clock, "telegram", send)
    second = Sender(db, clock, "telegram", send)
    claimed, _ = await first.claim()
    assert await first._start(claimed[0])
    clock.advance(Policy().claim_lease + Policy().restart_grace)
    assert (await second.claim())[0] == []  # started by a live sender: only after the lease
    await db.dispose()


async def test_an_urgent_message_passes_bulk_output_to_the_same_person(
    database_url: str, clock: ManualClock
) -> None:
    order: list[str] = []

    async def send(effect: Effect) -> str:
        order.append(effect.text)  # type: ignore[union-attr]
        return "1"

    db = Database(database_url)
    async with db.transaction() as session:
        rows = await enqueue(
            session,
            channel="telegram",
            chat_id="7",
            text="\n\n".join(f"ligne {i} " + "mot " * 800 for i in range(8)),
            now=clock.now(),
        )
        assert len(rows) > 2 and {r.priority for r in rows} == {Priority.BULK}
        bulk = [r.text for r in rows]
        await enqueue(session, channel="telegram", chat_id="7", text="réponse", now=clock.now())
        await enqueue(
            session,
            channel="telegram",
            chat_id="7",
            text="ALERTE",
            now=clock.now(),
            priority=Priority.URGENT,
        )
    sender = Sender(db, clock, "telegram", send, wait=virtual_wait(clock))
    await sender.run_until_idle()
    await db.dispose()
    assert order == ["ALERTE", "réponse", *bulk]  # bulk still in its own order


class BreakableDatabase(Database):
    """A database whose transactions fail from the moment it is broken."""

    broken = False

    @contextlib.asynccontextmanager
    async def transaction(self, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        if self.broken:
            raise OSError("database unreachable")
        async with super().transaction(urgent) as session:
            yield session


async def test_a_failing_step_leaves_no_request_running_behind_it(
    database_url: str, clock: ManualClock
) -> None:
    """A slow request overlapped by the next ones must still be awaited when a later
    settlement fails: otherwise a stop abandons it mid-flight, its row stays "sending"
    (sent, maybe received) and the next start repeats it."""
    db = BreakableDatabase(database_url)
    in_flight: set[str] = set()

    async def send(effect: Effect) -> str:
        in_flight.add(effect.chat_id)
        try:
            if effect.chat_id == "1":
                await asyncio.sleep(0.3)  # slower than `overlap_after`: the next one goes on
            else:
                db.broken = True  # the database goes away once this one is requested
            return "1"
        finally:
            in_flight.discard(effect.chat_id)

    async with db.transaction() as session:
        for chat in ("1", "2"):
            await enqueue(session, channel="telegram", chat_id=chat, text="x", now=clock.now())
    sender = Sender(
        db,
        clock,
        "telegram",
        send,
        policy=Policy(overlap_after=0.05, settle_attempts=1),
        wait=virtual_wait(clock),
    )
    with pytest.raises(OSError):
        await sender.step()
    assert in_flight == set()  # the slow request ended before the step gave up
    db.broken = False
    await db.dispose()
