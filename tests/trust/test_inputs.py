"""What people send cannot hide, overflow or be mistaken for another update."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.clock import ManualClock
from bot.core.effects import Button
from bot.core.engine import Engine
from bot.core.events import Event
from bot.core.telegram_html import (
    MESSAGE_LIMIT,
    clean,
    escape,
    escape_clip,
    split_message,
    to_plain,
    utf16_len,
)
from bot.transports.telegram import event_from_update
from storage.models import Actor, InboundMessage
from tests.driver import CHANNEL, Hotline


def test_utf16_length_counts_emoji_twice() -> None:
    assert utf16_len("salam") == 5
    assert utf16_len("😀") == 2
    assert utf16_len("مرحبا 😀") == 8


def test_a_long_emoji_text_is_split_under_telegrams_utf16_limit() -> None:
    text = "<b>Message de Amina</b>\n" + "😀" * 2048 + " fin"
    parts = split_message(text)
    assert len(parts) == 2
    assert all(utf16_len(to_plain(p)) <= MESSAGE_LIMIT for p in parts)
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    # The bold tag open at the start is closed in its part.
    assert parts[0].startswith("<b>") and parts[0].count("<b>") == parts[0].count("</b>")
    assert "".join(to_plain(p) for p in parts).replace("\n", "").count("😀") == 2048


def test_a_split_never_cuts_an_entity_or_a_tag() -> None:
    for offset in range(0, 12):
        text = "x" * (40 - offset) + escape("& <b> &") * 20
        parts = split_message(text, limit=50)
        for part in parts:
            assert "&am" not in part.replace("&amp;", "")
            assert to_plain(part).count("&") == part.count("&amp;")
        assert "".join(to_plain(p) for p in parts).replace(" ", "") == (
            to_plain(text).replace(" ", "")
        )


def test_tags_open_at_a_cut_are_closed_and_reopened() -> None:
    text = "<i>" + "mot " * 40 + "</i>"
    parts = split_message(text, limit=100)
    assert len(parts) > 1
    for part in parts:
        assert part.startswith("<i>") and part.endswith("</i>")


def test_clipping_escapes_after_cutting() -> None:
    assert escape_clip("AT&T rocks", 4) == "AT&amp;…"


def test_button_labels_are_plain_one_line_and_bounded() -> None:
    label = Button("Plan A & B\u202e\n" + "😀" * 100, "x").label
    assert "&amp;" not in label and "\u202e" not in label and "\n" not in label
    assert utf16_len(label) <= 128


def test_clean_removes_what_can_hide_or_break_text() -> None:
    assert clean("Ami\x00na") == "Ami\ufffdna"
    assert clean("a\u202egnp.exe") == "agnp.exe"
    assert clean("zero\u200bwidth\ufeff") == "zerowidth"
    assert clean("a\x07b\nc\td") == "ab\nc\td"
    assert clean("  Amina\n Benali ", one_line=True) == "Amina Benali"
    assert clean("عائشة\u200d") == "عائشة\u200d"  # joiners are part of scripts and emoji
    # Text with nothing to remove (the usual case) comes back as it was, on one line if asked.
    assert clean("Plan  d'action, 3afak 🙏") == "Plan  d'action, 3afak 🙏"
    assert clean("  Plan  d'action ", one_line=True) == "Plan d'action"


async def test_a_name_with_nul_and_overrides_is_stored_clean(
    engine: Engine, hotline: Hotline
) -> None:
    nul = hotline.newcomer("nul", display_name="Ami\x00na \u202eBen\u200bali")
    await nul.says("Bonjour\x00 \u202etoi")
    async with engine.db.transaction() as session:
        actor = await session.scalar(select(Actor).where(Actor.external_id == "nul"))
        message = await session.scalar(select(InboundMessage))
    assert actor is not None and actor.display_name == "Ami\ufffdna Benali"
    assert message is not None and message.text == "Bonjour\ufffd toi"


async def test_a_command_for_another_bot_is_ignored(
    engine: Engine, clock: ManualClock, hotline: Hotline
) -> None:
    engine.settings = replace(engine.settings, bot_username="HotlineBot")
    coach1 = await hotline.person("coach1", role="coach", in_call=True)
    assert await coach1.says("/cases@other_bot") == []
    assert await coach1.says("/cases@HotlineBot") != []


def test_the_update_key_carries_the_bot_id() -> None:
    data = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "text": "Bonjour",
        },
    }
    event = event_from_update(data, datetime(2026, 1, 1, tzinfo=UTC), "123456")
    assert event is not None and event.update_id == "123456:1"


async def test_an_update_id_reused_after_the_window_is_stored_and_logged(
    engine: Engine, clock: ManualClock, caplog: pytest.LogCaptureFixture, hotline: Hotline
) -> None:
    def hello(text: str) -> Event:
        return hotline["amina"].event(text=text, update_id="1")

    caplog.set_level(logging.INFO, logger="bot.core.engine")
    assert await engine.receive(hello("Bonjour")) is not None
    assert await engine.receive(hello("Bonjour")) is None  # a redelivery
    assert "dropped" in caplog.text
    clock.advance(timedelta(days=3))
    assert await engine.receive(hello("Bonjour encore")) is not None  # the id re-used later
    async with engine.db.transaction() as session:
        texts = (await session.scalars(select(InboundMessage.text))).all()
        keyed = await session.scalar(
            select(func.count()).where(InboundMessage.update_key.is_not(None))
        )
    assert sorted(texts) == ["Bonjour", "Bonjour encore"]
    assert keyed == 1


async def test_a_caption_over_the_limit_goes_before_its_file(engine: Engine) -> None:
    from bot.core.outbox import enqueue

    async with engine.db.transaction() as session:
        rows = await enqueue(
            session,
            channel=CHANNEL,
            chat_id="amina",
            text="😀" * 600,
            now=engine.clock.now(),
            file_ref=("photo", "file-1"),
        )
        shape = [(r.kind, r.file_id, utf16_len(r.text)) for r in rows]
    assert shape == [("text", None, 1200), ("photo", "file-1", 0)]
