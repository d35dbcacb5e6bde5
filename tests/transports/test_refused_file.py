"""A file Telegram refuses does not hold its chat, and the person is told what did not come."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.core.clock import ManualClock
from bot.core.effects import Button
from bot.core.i18n import translator
from bot.core.outbox import FILE_NOT_SENT, enqueue
from bot.transports.delivery import Policy, Sender
from bot.transports.tg_aiogram import AiogramAdapter
from bot.transports.tg_ptb import PtbAdapter
from storage.db import Database
from storage.models import Actor, DeliveryStatus, OutboxMessage, Priority
from tests.transports.fake_bot_api import serving, virtual_wait


class RefusingTelegram:
    """Texts go through; a file id starting with "BAD" is refused (400), "GONE" gets a 404,
    "DOWN" a 502. Each call is noted with the time of the test's clock."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.calls: list[tuple[datetime, str, str]] = []  # (when, method, text or file id)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "getMe":
            bot = {"id": 1, "is_bot": True, "first_name": "Hotline", "username": "HotlineBot"}
            return web.json_response({"ok": True, "result": bot})
        if request.content_type == "application/json":
            fields: dict[str, Any] = dict(await request.json())
        else:
            fields = {key: str(value) for key, value in (await request.post()).items()}
        what = str(fields.get("text") or fields.get("photo") or fields.get("voice") or "")
        self.calls.append((self.clock.now(), method, what))
        if what.startswith("BAD"):
            return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if what.startswith("GONE"):
            return _error(404, "Not Found")
        if what.startswith("DOWN"):
            return _error(502, "Bad Gateway")
        message = {
            "message_id": len(self.calls),
            "date": 0,
            "chat": {"id": int(fields["chat_id"]), "type": "private"},
        }
        return web.json_response({"ok": True, "result": message})

    def sent(self, method: str) -> list[str]:
        return [what for _, m, what in self.calls if m == method]

    def when(self, what: str) -> list[datetime]:
        return [at for at, _, sent in self.calls if sent == what]


def _error(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)


@pytest.fixture
async def telegram(clock: ManualClock) -> AsyncIterator[tuple[str, RefusingTelegram]]:
    server = RefusingTelegram(clock)
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", server.handle)
    async with serving(app) as root:
        yield root, server


async def _deliver(library: str, root: str, database_url: str, clock: ManualClock) -> None:
    adapter = AiogramAdapter("1:T", root) if library == "aiogram" else PtbAdapter("1:T", root)
    db = Database(database_url)
    sender = Sender(db, clock, "telegram", adapter.send, wait=virtual_wait(clock))
    try:
        await sender.run_until_idle()
    finally:
        await adapter.close()
        await db.dispose()


async def _person(db: Database, clock: ManualClock, lang: str) -> int:
    async with db.transaction() as session:
        actor = Actor(
            channel="telegram", external_id="42", chat_id="42", lang=lang, created_at=clock.now()
        )
        session.add(actor)
        await session.flush()
        return actor.id


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
@pytest.mark.parametrize("refusal", ["BAD", "GONE"])
async def test_a_refused_file_does_not_delay_the_next_reply_and_is_replaced_by_a_notice(
    library: str,
    refusal: str,
    telegram: tuple[str, RefusingTelegram],
    database_url: str,
    clock: ManualClock,
) -> None:
    root, server = telegram
    db = Database(database_url)
    actor_id = await _person(db, clock, "ary")
    file_id = f"{refusal}-photo"
    buttons = ((Button("جاوب", "caseans:3"),),)
    async with db.transaction() as session:
        await enqueue(
            session,
            channel="telegram",
            chat_id="42",
            text="ملف رقم 3",
            now=clock.now(),
            file_ref=("photo", file_id),
            buttons=buttons,
            actor_id=actor_id,
            priority=Priority.URGENT,
        )
        await enqueue(session, channel="telegram", chat_id="42", text="first", now=clock.now())
    # A reply decided while the photo waits for its next try.
    clock.advance(timedelta(seconds=1))
    async with db.transaction() as session:
        await enqueue(session, channel="telegram", chat_id="42", text="/cases", now=clock.now())
    await _deliver(library, root, database_url, clock)

    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    await db.dispose()

    tries = server.when(file_id)
    assert len(tries) == Policy().file_attempts
    # The chat's other messages left at Telegram's one-per-second pace, not after the
    # photo's retries.
    first, cases = server.when("first"), server.when("/cases")
    assert len(first) == 1 and len(cases) == 1
    assert first[0] - tries[0] <= timedelta(seconds=1.5)
    assert cases[0] - tries[0] <= timedelta(seconds=2.5)
    assert first[0] < tries[1] and cases[0] < tries[-1]
    # Once given up, one notice in the person's language, with the caption and the buttons.
    notices = [text for text in server.sent("sendMessage") if text.startswith("⚠️")]
    expected = translator("ary").gettext(FILE_NOT_SENT["photo"])
    assert notices == [f"{expected}\n\nملف رقم 3"]
    assert server.when(notices[0])[0] > tries[-1]
    photo, notice = rows[0], rows[-1]
    assert (photo.status, photo.attempts) == (DeliveryStatus.FAILED, Policy().file_attempts)
    assert notice.buttons is not None and notice.buttons[0][0]["data"] == "caseans:3"
    assert notice.actor_id == actor_id
    assert [row.status for row in rows[1:]] == [DeliveryStatus.DELIVERED] * 3
    # Nothing sent twice.
    texts = server.sent("sendMessage")
    assert sorted(texts) == sorted(set(texts)) and len(texts) == 3


async def test_a_file_that_meets_a_network_failure_keeps_its_chat_in_order(
    telegram: tuple[str, RefusingTelegram], database_url: str, clock: ManualClock
) -> None:
    """A 502 would meet the next message too: the chat waits, and reads in order."""
    root, server = telegram
    db = Database(database_url)
    actor_id = await _person(db, clock, "fr")
    async with db.transaction() as session:
        await enqueue(
            session,
            channel="telegram",
            chat_id="42",
            text="",
            now=clock.now(),
            file_ref=("voice", "DOWN-voice"),
            actor_id=actor_id,
        )
        await enqueue(session, channel="telegram", chat_id="42", text="after", now=clock.now())
    await _deliver("aiogram", root, database_url, clock)
    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    await db.dispose()
    tries = server.when("DOWN-voice")
    assert len(tries) == Policy().max_attempts
    assert server.when("after")[0] > tries[-1]  # held behind the voice note, in order
    notice = translator("fr").gettext(FILE_NOT_SENT["voice"])
    assert server.sent("sendMessage") == ["after", notice]
    assert [row.status for row in rows] == [DeliveryStatus.FAILED, *[DeliveryStatus.DELIVERED] * 2]
