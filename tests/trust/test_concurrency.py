"""Several processes on one database: each message handled once, each dedup key sent once.

Two engines with their own connection pools stand for two bot processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import build_engine
from bot.core import engine as engine_module
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.core.events import Attachment, Event
from bot.core.outbox import enqueue
from bot.nlu import Understander
from storage.db import Database
from storage.models import Actor, InboundMessage, OutboxMessage
from tests.driver import CHANNEL, Hotline


async def test_two_processes_handle_each_message_once(
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
    understander: Understander,
    hotline: Hotline,
) -> None:
    other = build_engine(
        settings, clock=clock, db=Database(settings.database_url), understander=understander
    )
    chats = [f"actor{i}" for i in range(4)]
    for chat in chats:
        await hotline.person(chat, in_call=True)
    for index in range(5):
        for chat in chats:
            await hotline[chat].stores(text=f"question {index}")
    try:
        # Both processes race over every chat at once (as recover() after a restart would).
        await asyncio.gather(
            *(e._process_chat(CHANNEL, chat) for chat in chats for e in (engine, other))
        )
    finally:
        await other.db.dispose()
    async with engine.db.transaction() as session:
        unhandled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
        )
        per_message = (
            await session.execute(
                select(OutboxMessage.cause_id, func.count(OutboxMessage.id)).group_by(
                    OutboxMessage.cause_id
                )
            )
        ).all()
    assert unhandled == 0
    assert len(per_message) == 20
    assert {count for _cause, count in per_message} == {1}


async def test_concurrent_enqueuers_of_one_dedup_key_send_it_once(
    engine: Engine, settings: Settings
) -> None:
    other = Database(settings.database_url)
    started = asyncio.Event()

    async def enqueue_in(db: Database) -> int:
        async with db.transaction() as session:
            rows = await enqueue(
                session,
                channel=CHANNEL,
                chat_id="amina",
                text="Rappel",
                now=engine.clock.now(),
                dedup_key="reminder:7:amina",
            )
            started.set()
            await asyncio.sleep(0.05)  # hold the transaction so both overlap
            return len(rows)

    try:
        results = await asyncio.gather(enqueue_in(engine.db), enqueue_in(other))
    finally:
        await other.dispose()
    assert sorted(results) == [0, 1]
    async with engine.db.transaction() as session:
        count = await session.scalar(select(func.count(OutboxMessage.id)))
    assert count == 1


async def test_a_new_persons_album_arriving_at_once_is_stored_whole(
    engine: Engine,
    settings: Settings,
    clock: ManualClock,
    understander: Understander,
    hotline: Hotline,
) -> None:
    """Three photos from each of 20 people never seen, received at once by two processes."""
    other = build_engine(
        settings, clock=clock, db=Database(settings.database_url), understander=understander
    )
    people = [f"new{i}" for i in range(20)]

    def photo(person: str, index: int) -> Event:
        return hotline[person].event(attachment=Attachment("photo", f"file-{person}-{index}"))

    try:
        results = await asyncio.gather(
            *(
                (engine if index % 2 else other).receive(photo(person, index))
                for person in people
                for index in range(3)
            ),
            return_exceptions=True,
        )
    finally:
        await other.db.dispose()
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert all(isinstance(r, int) for r in results)
    async with engine.db.transaction() as session:
        actors = await session.scalar(
            select(func.count(Actor.id)).where(Actor.external_id.in_(people))
        )
        messages = await session.scalar(select(func.count(InboundMessage.id)))
    assert (actors, messages) == (20, 60)


class _HeldTurn:
    """The engine's next turn waits inside its transaction (the claim's lock held) until
    `finish` is set; `inside` is set once it is there. Later turns run as usual."""

    def __init__(self, engine: Engine) -> None:
        self.inside, self.finish = asyncio.Event(), asyncio.Event()
        process = engine._process

        async def held(*args: Any, **kwargs: Any) -> Any:
            engine._process = process  # type: ignore[method-assign]
            self.inside.set()
            await self.finish.wait()
            return await process(*args, **kwargs)

        engine._process = held  # type: ignore[method-assign]
        self.engine = engine

    async def begin(self, event: Event) -> asyncio.Future[list[Any]]:
        """Hand `event` to the engine; returns once its turn holds the chat."""
        handling = asyncio.ensure_future(self.engine.handle(event))
        await self.inside.wait()
        return handling


@pytest.fixture
async def other(
    engine: Engine, settings: Settings, clock: ManualClock, understander: Understander
) -> AsyncIterator[Engine]:
    """A second bot process on the database of `engine`, with its own connection pool."""
    second = build_engine(
        settings, clock=clock, db=Database(settings.database_url), understander=understander
    )
    yield second
    await second.db.dispose()


@pytest.mark.postgresql_only  # on SQLite the second process waits for the write lock
async def test_a_message_stored_while_another_process_handles_the_chat_is_handled_after(
    engine: Engine,
    other: Engine,
    hotline: Hotline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Process A is in the middle of the chat's turn (its claim did not see the new message);
    process B stores the next message and finds the chat held. The next message is handled
    once, after the first, whichever process ends up handling it."""
    await hotline.person("amina", in_call=True)
    met_held_chat = asyncio.Event()
    held_elsewhere = other._held_elsewhere

    async def noted(channel: str, chat_id: str) -> bool:
        met_held_chat.set()  # B's claim found nothing: the chat is held
        return await held_elsewhere(channel, chat_id)

    monkeypatch.setattr(other, "_held_elsewhere", noted)
    turn = _HeldTurn(engine)
    try:
        first = await turn.begin(hotline["amina"].event(text="question one"))
        second = asyncio.ensure_future(other.handle(hotline["amina"].event(text="question two")))
        await asyncio.wait_for(met_held_chat.wait(), 30)
        turn.finish.set()
        await asyncio.wait_for(asyncio.gather(first, second), 30)
    finally:
        turn.finish.set()
    async with engine.db.transaction() as session:
        messages = (
            await session.execute(
                select(InboundMessage.id, InboundMessage.handled_at).order_by(InboundMessage.id)
            )
        ).all()
        replies = (
            (await session.execute(select(OutboxMessage.cause_id).order_by(OutboxMessage.id)))
            .scalars()
            .all()
        )
    last_two = [id_ for id_, _ in messages[-2:]]
    assert all(handled is not None for _, handled in messages)
    assert [cause for cause in replies if cause in last_two] == last_two  # once each, in order


@pytest.mark.postgresql_only
async def test_a_chat_held_too_long_is_left_to_its_holder(
    engine: Engine,
    other: Engine,
    hotline: Hotline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A holder stuck inside a turn: the process that stored the next message stops waiting
    after HELD_WAIT instead of blocking; the message is handled later (here at the next
    start), once."""
    monkeypatch.setattr(engine_module, "HELD_WAIT", timedelta(milliseconds=300))
    await hotline.person("amina", in_call=True)
    turn = _HeldTurn(engine)
    try:
        first = await turn.begin(hotline["amina"].event(text="question one"))
        left = await asyncio.wait_for(other.handle(hotline["amina"].event(text="question two")), 30)
        assert left == [] and not first.done()  # gave up while the holder still held
        turn.finish.set()
        await asyncio.wait_for(first, 30)
        await other.recover()
    finally:
        turn.finish.set()
    async with engine.db.transaction() as session:
        handled = (
            (await session.execute(select(InboundMessage.handled_at).order_by(InboundMessage.id)))
            .scalars()
            .all()
        )
        causes = (await session.execute(select(OutboxMessage.cause_id))).scalars().all()
    assert None not in handled
    assert len(causes) == len(set(causes))  # nothing answered twice


async def test_a_chat_whose_message_cannot_be_claimed_does_not_make_the_engine_spin(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the claim could never take a message that the wait keeps finding, the engine
    stops after a few waits instead of looping."""
    waits: list[str] = []

    async def claimed_nothing(*_args: object) -> None:
        return None

    async def still_held(_channel: str, chat_id: str) -> bool:
        waits.append(chat_id)
        return True

    monkeypatch.setattr(engine, "_handle_next", claimed_nothing)
    monkeypatch.setattr(engine, "_held_elsewhere", still_held)
    assert await asyncio.wait_for(engine.process(CHANNEL, "amina"), 10) == []
    assert len(waits) == engine_module.HELD_RETRIES
