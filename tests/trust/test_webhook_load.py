"""The webhook under concurrent posts: every update answered 200 is stored once, none gets a 500.

Through the real webhook (`TelegramRuntime.webhook_app`, the real engine and database) on
127.0.0.1: a replay where each update is posted three times at once, as Telegram does when
it times out, and the first photos of new people arriving at two processes at once.
(The answer time under load is measured by `python -m bench.webhook`, not here.)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bot.app import build_engine
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.nlu import Understander
from bot.transports.telegram import SECRET_HEADER, WEBHOOK_BACKLOG, TelegramRuntime
from bot.transports.tg_aiogram import AiogramAdapter
from bot.web.server import start_site
from storage.db import Database
from storage.models import Actor, InboundMessage

SECRET = "s3cret-webhook"
UPDATES = 500  # each posted REPLAYS times at once
REPLAYS = 3
PEOPLE = 100  # the replay's updates come from this many people, new to the hotline
ALBUMS = 50  # new people sending three photos each to two processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _photo(person: int, update_id: int) -> dict[str, Any]:
    user = {"id": 70_000 + person, "is_bot": False, "first_name": f"Nouvelle {person}"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": user["id"], "type": "private"},
            "from": user,
            "media_group_id": f"album-{person}",
            "photo": [{"file_id": f"f{update_id}", "file_unique_id": "u", "width": 1, "height": 1}],
        },
    }


@contextlib.asynccontextmanager
async def _webhook(runtime: TelegramRuntime) -> Any:
    listen = f"127.0.0.1:{_free_port()}"
    site = await start_site(runtime.webhook_app(SECRET, "/telegram"), listen, WEBHOOK_BACKLOG)
    try:
        yield f"http://{listen}/telegram"
    finally:
        await site.cleanup()


async def _post_all(posts: list[tuple[str, dict[str, Any]]]) -> Counter[int]:
    """Every post at the same moment, each on its own connection; the answers' statuses."""
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def post(url: str, update: dict[str, Any]) -> None:
            async with session.post(url, json=update, headers={SECRET_HEADER: SECRET}) as answer:
                statuses[answer.status] += 1

        await asyncio.gather(*(post(url, update) for url, update in posts))
    return statuses


class _StoringOnly(TelegramRuntime):
    """What is stored and answered is what the replay is about: handling 500 first messages
    would only lengthen the test (a next start would handle them: `engine.recover`)."""

    async def _handle(self, channel: str, chat_id: str) -> None:
        return None


async def test_a_concurrent_replay_stores_each_update_once_and_answers_200(
    engine: Engine,
) -> None:
    runtime = _StoringOnly(engine, AiogramAdapter("123456:TEST"), bot_id="123456")
    updates = [_photo(i % PEOPLE, 1 + i) for i in range(UPDATES)]
    async with _webhook(runtime) as url:
        statuses = await _post_all([(url, u) for u in updates for _ in range(REPLAYS)])
    async with engine.db.transaction() as session:
        stored = Counter((await session.scalars(select(InboundMessage.update_key))).all())
        people = await session.scalar(select(func.count(Actor.id)))
    assert statuses == {200: UPDATES * REPLAYS}
    assert len(stored) == UPDATES
    assert set(stored.values()) == {1}
    assert people == PEOPLE


async def test_new_peoples_albums_at_two_processes_are_stored_whole_without_a_500(
    engine: Engine, settings: Settings, clock: ManualClock, understander: Understander
) -> None:
    """Each person's three photos go to two processes at once (one database, two pools):
    the person is created once, every photo is stored and handled once."""
    other = build_engine(
        settings, clock=clock, db=Database(settings.database_url), understander=understander
    )
    runtimes = [
        TelegramRuntime(e, AiogramAdapter("123456:TEST"), bot_id="123456") for e in (engine, other)
    ]
    try:
        async with _webhook(runtimes[0]) as first, _webhook(runtimes[1]) as second:
            urls = (first, second)
            statuses = await _post_all(
                [
                    (urls[photo % 2], _photo(person, 1 + person * 3 + photo))
                    for person in range(ALBUMS)
                    for photo in range(3)
                ]
            )
            for runtime in runtimes:
                await runtime.drain(within=120)
    finally:
        await other.db.dispose()
    async with engine.db.transaction() as session:
        people = await session.scalar(select(func.count(Actor.id)))
        messages = await session.scalar(select(func.count(InboundMessage.id)))
        unhandled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
        )
        failed = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.error.is_not(None))
        )
    assert statuses == {200: ALBUMS * 3}
    assert (people, messages) == (ALBUMS, ALBUMS * 3)
    assert (unhandled, failed) == (0, 0)
