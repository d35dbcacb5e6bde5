"""Telegram updates become engine events; the webhook stores before it answers 200."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.core.clock import ManualClock
from bot.core.engine import Engine
from bot.core.events import Event
from bot.transports.telegram import (
    LEFT_WAITING_AFTER,
    SECRET_HEADER,
    TelegramRuntime,
    event_from_update,
)
from bot.transports.tg_aiogram import AiogramAdapter
from bot.transports.tg_ptb import PtbAdapter
from storage.models import InboundMessage, OutboxMessage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
USER = {"id": 7, "is_bot": False, "first_name": "Amina", "last_name": "B", "language_code": "ar"}
CHAT = {"id": 7, "type": "private"}


def message(update_id: int = 1, **content: Any) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": 3, "date": 0, "from": USER, "chat": CHAT, **content},
    }


def test_text_and_sender() -> None:
    event = event_from_update(message(text="/start abc"), NOW)
    assert event is not None
    assert (event.channel, event.chat_id, event.text, event.update_id) == (
        "telegram",
        "7",
        "/start abc",
        "1",
    )
    assert (event.sender.display_name, event.sender.language_code) == ("Amina B", "ar")


def test_button_press_comes_from_the_chat_of_its_message() -> None:
    query = {
        "id": "9",
        "from": USER,
        "chat_instance": "1",
        "data": "framework:ack",
        "message": {"message_id": 4, "date": 0, "chat": {"id": -100, "type": "group"}},
    }
    event = event_from_update({"update_id": 2, "callback_query": query}, NOW)
    assert event is not None and (event.button, event.chat_id) == ("framework:ack", "-100")


def test_attachments_keep_their_file_id_and_stickers_are_unsupported() -> None:
    voice = event_from_update(message(voice={"file_id": "V1", "duration": 3}), NOW)
    assert voice is not None and voice.attachment is not None
    assert (voice.attachment.kind, voice.attachment.file_id) == ("voice", "V1")
    sizes = [{"file_id": "small", "width": 90}, {"file_id": "large", "width": 1280}]
    photo = event_from_update(message(photo=sizes, caption="le puits"), NOW)
    assert photo is not None and photo.attachment is not None
    assert (photo.attachment.file_id, photo.text) == ("large", "le puits")
    note = event_from_update(message(video_note={"file_id": "N1", "length": 240}), NOW)
    assert note is not None and note.attachment is not None
    assert note.attachment.kind == "video_note"  # sent on by sendVideoNote, not sendVideo
    gif = event_from_update(message(animation={"file_id": "A"}, document={"file_id": "A"}), NOW)
    assert gif is not None and gif.unsupported == "animation" and gif.attachment is None
    for kind in ("sticker", "location", "contact"):
        event = event_from_update(message(**{kind: {"x": 1}}), NOW)
        assert event is not None and event.unsupported == kind


def test_updates_that_are_not_someone_talking_are_skipped() -> None:
    assert event_from_update({"update_id": 5, "edited_message": {}}, NOW) is None
    joined = {
        "update_id": 6,
        "message": {
            "message_id": 1,
            "date": 0,
            "from": USER,
            "chat": {"id": -5, "type": "group"},
            "new_chat_members": [USER],
        },
    }
    assert event_from_update(joined, NOW) is None


async def test_webhook_checks_the_secret_and_stores_once(engine: Engine) -> None:
    for adapter in (AiogramAdapter("1:T"), PtbAdapter("1:T")):
        runtime = TelegramRuntime(engine, adapter)
        client = TestClient(TestServer(runtime.webhook_app("s3cret", "/hook")))
        await client.start_server()
        update = message(update_id=41, text="Bonjour")
        assert (await client.post("/hook", json=update)).status == 401
        wrong = {SECRET_HEADER: "guess"}
        assert (await client.post("/hook", json=update, headers=wrong)).status == 401
        right = {SECRET_HEADER: "s3cret"}
        assert (await client.post("/hook", json=update, headers=right)).status == 200
        assert (await client.post("/hook", json=update, headers=right)).status == 200  # resent
        await runtime.drain()
        await client.close()
        await adapter.close()
    async with engine.db.transaction() as session:
        stored = await session.scalar(select(func.count(InboundMessage.id)))
        handled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_not(None))
        )
    assert (stored, handled) == (1, 1)


async def test_a_message_whose_turn_failed_is_handled_again_once_it_has_waited(
    engine: Engine, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored, then its turn failed (the database away at that moment): it is handled again
    `LEFT_WAITING_AFTER` later, not only when the person writes again or the process
    restarts. A message just stored is left to its own turn."""
    runtime = TelegramRuntime(engine, AiogramAdapter("1:T"))
    process = engine.process
    away = True

    async def flaky(channel: str, chat_id: str) -> list[Any]:
        if away:
            raise OSError("the database went away")  # a fault: provoked, not mocked data
        return await process(channel, chat_id)

    monkeypatch.setattr(engine, "process", flaky)
    assert await runtime.accept(message(update_id=51, text="3afak, kayn mochkil f douar"))
    await runtime.drain()
    away = False
    assert await runtime.handle_left_waiting() == 0  # just stored: its own turn's
    clock.advance(timedelta(seconds=LEFT_WAITING_AFTER + 1))
    assert await runtime.handle_left_waiting() == 1
    await runtime.drain()
    async with engine.db.transaction() as session:
        unhandled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
        )
        replies = await session.scalar(select(func.count(OutboxMessage.id)))
    assert unhandled == 0 and replies
    assert await runtime.handle_left_waiting() == 0
    await runtime.adapter.close()


async def test_an_unreachable_bot_api_at_start_is_waited_for() -> None:
    """Waited for with the cyclic collector running again: the start's pause
    (`pause_collection`) is for a start in a hurry, and the wait may last hours."""
    import asyncio
    import gc

    from bot.transports.memory import pause_collection
    from bot.transports.telegram import _get_me

    class Flaky:
        calls = 0

        async def get_me(self) -> str:
            self.calls += 1
            if self.calls == 1:
                raise OSError("connection refused")
            return "HotlineBot"

    stop = asyncio.Event()
    flaky = Flaky()
    pause_collection()
    try:
        assert await _get_me(flaky, stop) == "HotlineBot"  # type: ignore[arg-type]
        assert gc.isenabled()
    finally:
        gc.enable()
    assert flaky.calls == 2
    stop.set()
    assert await _get_me(Flaky(), stop) is None  # type: ignore[arg-type]


async def test_albums_of_new_people_posted_at_once_are_all_stored(engine: Engine) -> None:
    """50 people never seen send 3 photos each, all 150 posts at the same moment: each is
    answered 200 and stored once (PostgreSQL used to answer 500 to many: the new person's
    row inserted by several requests at once)."""
    import asyncio

    adapter = AiogramAdapter("1:T")
    runtime = TelegramRuntime(engine, adapter, bot_id="1")
    client = TestClient(TestServer(runtime.webhook_app("s3cret", "/hook")))
    await client.start_server()

    def photo(person: int, index: int) -> dict[str, Any]:
        user = {**USER, "id": 900 + person, "first_name": f"P{person}"}
        update = message(update_id=person * 3 + index + 1)
        update["message"] = {
            **update["message"],
            "from": user,
            "chat": {"id": user["id"], "type": "private"},
            "photo": [
                {"file_id": f"f{person}-{index}", "file_unique_id": "u", "width": 1, "height": 1}
            ],
        }
        return update

    async def post(update: dict[str, Any]) -> int:
        response = await client.post("/hook", json=update, headers={SECRET_HEADER: "s3cret"})
        return response.status

    statuses = await asyncio.gather(*(post(photo(p, i)) for p in range(50) for i in range(3)))
    await runtime.drain()
    await client.close()
    await adapter.close()
    assert set(statuses) == {200}
    async with engine.db.transaction() as session:
        stored = await session.scalar(select(func.count(InboundMessage.id)))
        people = await session.scalar(select(func.count(func.distinct(InboundMessage.actor_id))))
    assert (stored, people) == (150, 50)


async def test_a_batch_whose_commit_fails_answers_500_to_every_post_in_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posts arriving together are stored in one transaction (group commit). When it fails,
    every post of that batch is answered 500 (Telegram sends them again), none of them 200,
    and the batches before and after it are unaffected. A failed commit cannot be provoked
    on demand on both databases: it is raised where the engine would have committed."""
    import asyncio

    adapter = AiogramAdapter("1:T")
    runtime = TelegramRuntime(engine, adapter, bot_id="1")
    client = TestClient(TestServer(runtime.webhook_app("s3cret", "/hook")))
    await client.start_server()
    real = engine.receive_many
    batches: list[list[str | None]] = []
    first_held = asyncio.Event()
    release = asyncio.Event()

    async def receive_many(events: list[Event]) -> list[int | None]:
        batches.append([event.update_id for event in events])
        if len(batches) == 1:  # held, so that the next posts gather into one batch
            first_held.set()
            await release.wait()
        if len(batches) == 2:
            raise ConnectionError("the commit failed")
        return await real(events)

    monkeypatch.setattr(engine, "receive_many", receive_many)

    async def post(update_id: int) -> int:
        update = message(update_id=update_id, text=f"message {update_id}")
        response = await client.post("/hook", json=update, headers={SECRET_HEADER: "s3cret"})
        return response.status

    first = asyncio.ensure_future(post(1))
    await first_held.wait()
    together = asyncio.ensure_future(asyncio.gather(*(post(u) for u in range(2, 12))))
    while len(runtime._inbox) < 10:  # noqa: ASYNC110 - all ten wait for the storer
        await asyncio.sleep(0.01)
    release.set()
    assert await first == 200
    assert await together == [500] * 10
    assert batches[1] == [f"1:{u}" for u in range(2, 12)]
    async with engine.db.transaction() as session:
        kept = await session.scalars(select(InboundMessage.text).order_by(InboundMessage.id))
        assert list(kept) == ["message 1"]
    # Telegram sends the ten again: stored this time, each once.
    assert await asyncio.gather(*(post(u) for u in range(2, 12))) == [200] * 10
    await runtime.drain()
    await client.close()
    await adapter.close()
    async with engine.db.transaction() as session:
        kept = await session.scalars(select(InboundMessage.text).order_by(InboundMessage.id))
        assert sorted(kept) == sorted(f"message {u}" for u in range(1, 12))


async def test_a_body_the_hotline_cannot_read_is_refused_with_400(engine: Engine) -> None:
    """The webhook's format check covers what the hotline reads of an update (the chat, the
    sender, the content); fields it does not read pass through."""
    runtime = TelegramRuntime(engine, AiogramAdapter("1:T"), bot_id="1")
    client = TestClient(TestServer(runtime.webhook_app("s3cret", "/hook")))
    await client.start_server()
    right = {SECRET_HEADER: "s3cret"}
    unreadable: list[Any] = [
        [],
        {"message": message()["message"]},  # no update id
        message(update_id=2, chat={"type": "private"}),  # a chat without its id
        message(update_id=3, text=["not", "a", "text"]),
        {"update_id": 4, "callback_query": {"id": "1", "data": "x"}},  # from whom?
    ]
    for body in unreadable:
        assert (await client.post("/hook", json=body, headers=right)).status == 400
    assert (await client.post("/hook", data=b"{not json", headers=right)).status == 400
    later = message(update_id=5, text="Bonjour", entities=[{"type": "bold"}])
    assert (await client.post("/hook", json=later, headers=right)).status == 200
    await runtime.drain()
    await client.close()
    await runtime.adapter.close()
    async with engine.db.transaction() as session:
        assert list(await session.scalars(select(InboundMessage.text))) == ["Bonjour"]


async def test_the_command_menu_is_set_beside_the_first_updates_not_before_them(
    engine: Engine,
) -> None:
    """Three setMyCommands round trips (and the catalogs they need) must not delay the first
    getUpdates: start returns while they are still on their way, and they all arrive."""
    import asyncio

    class SlowMenu:
        def __init__(self) -> None:
            self.release = asyncio.Event()
            self.menus: dict[str | None, list[tuple[str, str]]] = {}

        async def send(self, *_args: Any) -> str:  # the sender's, unused here
            raise AssertionError("nothing to send")

        async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None:
            await self.release.wait()
            self.menus[language] = commands

    adapter = SlowMenu()
    runtime = TelegramRuntime(engine, adapter)  # type: ignore[arg-type]
    await asyncio.wait_for(runtime.start(), 5)
    assert adapter.menus == {}  # still on its way: start did not wait for it
    adapter.release.set()
    await runtime.drain()
    assert set(adapter.menus) == {None, "fr", "ar"}
    assert dict(adapter.menus["fr"])["start"] != dict(adapter.menus["ar"])["start"]
