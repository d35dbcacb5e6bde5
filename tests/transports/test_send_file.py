"""A file sent on by its Telegram file id: the right Bot API method, the id as a string."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.core.effects import FILE_KINDS, Button, SendFile, body
from bot.core.outbox import enqueue, to_effect
from bot.transports.delivery import Rejected
from bot.transports.tg_aiogram import AiogramAdapter
from bot.transports.tg_ptb import PtbAdapter
from storage.db import Database
from tests.transports.fake_bot_api import serving

METHODS = {
    "photo": "sendPhoto",
    "document": "sendDocument",
    "voice": "sendVoice",
    "audio": "sendAudio",
    "video": "sendVideo",
    "video_note": "sendVideoNote",
}


class RecordingTelegram:
    """Answers every send with a message and remembers the method and its fields."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def send(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            fields = dict(await request.json())
        else:
            fields = {key: str(value) for key, value in (await request.post()).items()}
        method = request.match_info["method"]
        if method == "getMe":  # PTB asks once, when it initialises
            bot = {"id": 1, "is_bot": True, "first_name": "Hotline", "username": "HotlineBot"}
            return web.json_response({"ok": True, "result": bot})
        self.calls.append((method, fields))
        message = {
            "message_id": len(self.calls),
            "date": 0,
            "chat": {"id": int(fields["chat_id"]), "type": "private"},
        }
        return web.json_response({"ok": True, "result": message})


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[str, RecordingTelegram]]:
    server = RecordingTelegram()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", server.send)
    async with serving(app) as root:
        yield root, server


def _markup(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
async def test_each_kind_goes_by_its_method_with_the_file_id(
    library: str, telegram: tuple[str, RecordingTelegram]
) -> None:
    root, server = telegram
    adapter = AiogramAdapter("1:T", root) if library == "aiogram" else PtbAdapter("1:T", root)
    buttons = ((Button("Répondre", "caseans:3"),),)
    caption = "<b>Dossier n° 3</b>"
    try:
        for index, kind in enumerate(FILE_KINDS):
            effect = SendFile("telegram", "42", kind, f"AgAD-{kind}", caption, buttons)
            assert await adapter.send(effect) == str(index + 1)
        bare = await adapter.send(SendFile("telegram", "42", "voice", "AwAD-bare"))
    finally:
        await adapter.close()
    assert bare == str(len(FILE_KINDS) + 1)
    assert [method for method, _ in server.calls] == [
        *(METHODS[kind] for kind in FILE_KINDS),
        "sendVoice",
    ]
    for (method, fields), kind in zip(server.calls, FILE_KINDS, strict=False):
        assert fields[kind] == f"AgAD-{kind}", method  # the id itself: nothing uploaded
        assert str(fields["chat_id"]) == "42"
        if kind == "video_note":  # sendVideoNote has no caption
            assert "caption" not in fields
        else:
            assert (fields["caption"], fields["parse_mode"]) == ("<b>Dossier n° 3</b>", "HTML")
        keyboard = _markup(fields["reply_markup"])["inline_keyboard"]
        assert keyboard[0][0]["callback_data"] == "caseans:3"
    last = server.calls[-1][1]
    assert last["voice"] == "AwAD-bare" and "caption" not in last and "reply_markup" not in last


@pytest.mark.parametrize("library", ["aiogram", "ptb"])
async def test_an_unknown_kind_is_rejected_without_a_call(
    library: str, telegram: tuple[str, RecordingTelegram]
) -> None:
    root, server = telegram
    adapter = AiogramAdapter("1:T", root) if library == "aiogram" else PtbAdapter("1:T", root)
    try:
        for kind in ("sticker", "message", "chat_action"):
            with pytest.raises(Rejected):
                await adapter.send(SendFile("telegram", "42", kind, "X"))
    finally:
        await adapter.close()
    assert server.calls == []


async def test_the_outbox_keeps_a_file_id_and_gives_it_back(database_url: str) -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    db = Database(database_url)
    async with db.transaction() as session:
        caption = "x" * 1000
        rows = await enqueue(
            session,
            channel="telegram",
            chat_id="42",
            text=caption,
            now=now,
            file_ref=("voice", "AwAD-1"),
            buttons=((Button("OK", "a:b"),),),
        )
        assert len(rows) == 1
        effect = to_effect(rows[0])
        # Over Telegram's caption limit, the text goes first and the file follows alone.
        long_caption = "x" * 5000
        long_rows = await enqueue(
            session,
            channel="telegram",
            chat_id="42",
            text=long_caption,
            now=now,
            file_ref=("voice", "AwAD-1"),
        )
        split = [to_effect(row) for row in long_rows]
    await db.dispose()
    assert isinstance(effect, SendFile)
    assert (effect.kind, effect.file_id, effect.caption) == ("voice", "AwAD-1", caption)
    assert effect.buttons == ((Button("OK", "a:b"),),)
    assert effect.outbox_id == rows[0].id
    assert [type(e).__name__ for e in split] == ["SendMessage", "SendMessage", "SendFile"]
    assert "".join(body(e) for e in split) == long_caption
