"""End to end: the real runtime, through each library, against the Bot API emulator.

People are played through the emulator's client API (what a Telegram app would send); what
they read is what the bot sent through the Bot API. The same suite runs for both adapters.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.conversation.framework import ACK, KEPT, THANKS, VARIANT_NAMES
from bot.core.config import Settings
from bot.core.i18n import Translator
from bot.core.telegram_html import escape
from bot.nlu import Understander
from bot.transports.telegram import run_telegram
from storage.db import Database
from storage.models import (
    Actor,
    Case,
    CaseEvent,
    DeliveryStatus,
    InboundMessage,
    Invitation,
    InvitationKind,
    OutboxMessage,
    Role,
    Territory,
)

REPO = Path(__file__).resolve().parents[2]
_users = itertools.count(1001)


@dataclass
class Person:
    """A Telegram user in a private chat with the bot, driven through the emulator."""

    http: aiohttp.ClientSession
    root: str
    token: str
    first_name: str
    language_code: str
    user_id: int = field(default_factory=lambda: next(_users))
    inbox: list[dict[str, Any]] = field(default_factory=list)

    def _from(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def _chat(self) -> dict[str, Any]:
        return {"id": self.user_id, "type": "private", "first_name": self.first_name}

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.http.post(f"{self.root}/{path}", json=body) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["result"]

    async def says(self, text: str) -> None:
        body: dict[str, Any] = {
            "botToken": self.token,
            "from": self._from(),
            "chat": self._chat(),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            length = text.find(" ") if " " in text else len(text)
            body["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
            await self._post("sendCommand", body)
        else:
            await self._post("sendMessage", body)

    async def sends(self, kind: str, file_id: str, caption: str = "") -> None:
        """A photo or voice note as a Telegram app sends it: a message with the file, no text."""
        file = {"file_id": file_id, "file_unique_id": file_id, "file_size": 2048}
        shapes: dict[str, Any] = {
            "photo": [{**file, "width": 1280, "height": 960}],
            "voice": {**file, "duration": 4, "mime_type": "audio/ogg"},
        }
        body: dict[str, Any] = {
            "botToken": self.token,
            "from": self._from(),
            "chat": self._chat(),
            "date": int(time.time()),
            kind: shapes[kind],
        }
        if caption:
            body["caption"] = caption
        await self._post("sendMessage", body)

    async def presses(self, label: str) -> None:
        for message in reversed(self.inbox):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        await self._post(
                            "sendCallback",
                            {
                                "botToken": self.token,
                                "from": self._from(),
                                "message": {"chat": self._chat(), "message_id": message["id"]},
                                "data": button["callback_data"],
                            },
                        )
                        return
        raise AssertionError(f"no button {label!r} in {self.inbox}")

    async def reads_until(self, text: str, within: float = 15.0) -> list[dict[str, Any]]:
        """The messages the bot sent to this chat up to the one with this text."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while not any(m.get("text") == text for m in got):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.first_name} never read {text!r}: {got}")
            got += await self.reads(1, within=deadline - time.monotonic())
        return got

    async def reads(self, count: int, within: float = 15.0) -> list[dict[str, Any]]:
        """The next `count` messages the bot sent to this chat, in order."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while len(got) < count:
            updates = await self._post("getUpdates", {"token": self.token, "chatId": self.user_id})
            for update in updates:
                got.append({**update["message"], "id": update["messageId"]})
            if len(got) < count:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.first_name} got {len(got)} of {count}: {got}")
                await asyncio.sleep(0.05)
        self.inbox += got
        return got


async def settled_statuses(db: Database, within: float = 10.0) -> set[str]:
    """The outbox's statuses once no row is being sent. A person can read a message before the
    bot has written "delivered": the Bot API stores it, then answers the bot, which settles
    the row in its own transaction a moment later (much later on a loaded machine)."""
    from sqlalchemy import select

    deadline = time.monotonic() + within
    while True:
        async with db.transaction() as session:
            statuses = set((await session.scalars(select(OutboxMessage.status))).all())
        if DeliveryStatus.SENDING not in statuses or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.05)


@pytest.fixture(params=["aiogram", "ptb"])
async def hotline(
    request: pytest.FixtureRequest, emulator: str, database_url: str, understander: Understander
) -> AsyncIterator[tuple[str, Settings]]:
    """The bot running through one adapter, polling the emulator; stopped like on SIGTERM."""
    token = f"{next(_users)}:TEST-{request.param}"
    settings = Settings(
        database_url=database_url,
        knowledge_dir=REPO / "knowledge",
        telegram_token=token,
        telegram_api_base_url=emulator,
        transport=request.param,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run_telegram(settings, stop=stop))
    yield token, settings
    stop.set()
    await asyncio.wait_for(running, 20)


async def test_first_call_in_each_variant_with_buttons(
    hotline: tuple[str, Settings], emulator: str, understander: Understander
) -> None:
    token, settings = hotline
    questions = {
        "fr": ("Salma", "fr", "Bonjour, j'ai une question sur le plan d'action"),
        "ary": ("Youssef", "ar", "واش اللجنة غادي تجتمع هاد السيمانة؟"),
        "ary-Latn": ("Hamid", "fr", "bghit n3ref kifach nsayb plan d'action m3a la commune"),
    }
    async with aiohttp.ClientSession() as http:
        people = {
            variant: Person(http, emulator, token, name, code)
            for variant, (name, code, _q) in questions.items()
        }

        async def call(variant: str) -> None:
            person, t = people[variant], Translator(variant)
            await person.says(questions[variant][2])
            (framework,) = await person.reads(1)
            assert framework["parse_mode"] == "HTML"
            labels = [
                b["text"] for row in framework["reply_markup"]["inline_keyboard"] for b in row
            ]
            # The button, then the choice of variant (the first framework is read in full).
            assert labels == [t.gettext(ACK), *VARIANT_NAMES.values()], variant
            await person.presses(t.gettext(ACK))
            thanks, answer = await person.reads(2)
            assert thanks["text"] == t.gettext(THANKS)
            # The question held behind the framework is answered from the knowledge base.
            topic = understander.understand(questions[variant][2]).intent
            assert answer["text"] == escape(understander.answer(topic, variant) or "")

        # Different chats proceed concurrently.
        await asyncio.gather(*(call(v) for v in questions))

        salma = people["fr"]
        await salma.says("/lang")
        (choice,) = await salma.reads(1)
        await salma.presses("الدارجة")
        (confirmed,) = await salma.reads(1)
        assert confirmed["text"] == Translator("ary").gettext(
            "From now on I will answer in this language."
        )

    db = Database(settings.database_url)
    statuses = await settled_statuses(db)
    async with db.transaction() as session:
        from sqlalchemy import func, select

        stored = await session.scalar(select(func.count(InboundMessage.id)))
        unhandled = await session.scalar(
            select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
        )
        salma_row = await session.scalar(
            select(Actor).where(Actor.external_id == str(salma.user_id))
        )
    await db.dispose()
    assert stored == 8 and unhandled == 0
    assert statuses == {DeliveryStatus.DELIVERED}
    assert salma_row is not None and salma_row.lang == "ary" and salma_row.lang_chosen
    assert choice["reply_markup"]


async def test_nobody_is_trapped_or_lost(
    hotline: tuple[str, Settings], emulator: str, understander: Understander
) -> None:
    """Words typed after an invitation link are answered after the framework; a mixed
    greeting from a French app keeps the framework French; a question inside the report
    is answered and "laisse tomber" leaves it."""
    token, settings = hotline
    t = Translator("fr")
    now = datetime.now(UTC)
    db = Database(settings.database_url)
    async with db.transaction() as session:
        admin = Actor(
            channel="telegram",
            external_id="1",
            chat_id="1",
            display_name="Admin",
            role=Role.ADMIN,
            created_at=now,
        )
        session.add(admin)
        await session.flush()
        session.add(
            Invitation(
                token="e2e-invitation",
                kind=InvitationKind.COACH,
                created_by_id=admin.id,
                created_at=now,
                expires_at=now + timedelta(days=7),
            )
        )
    await db.dispose()
    sociogram = escape(understander.answer("sociogram", "fr") or "")
    async with aiohttp.ClientSession() as http:
        nadia = Person(http, emulator, token, "Nadia", "fr")
        await nadia.says("/start e2e-invitation")
        await nadia.reads(1)
        await nadia.says("Bonjour, c'est quoi un sociogramme ?")
        (kept,) = await nadia.reads(1)
        assert kept["text"] == t.gettext(KEPT)
        await nadia.presses(t.gettext(ACK))
        after = await nadia.reads_until(sociogram)
        assert after[0]["text"] == t.gettext(THANKS)

        karim = Person(http, emulator, token, "Karim", "fr")
        await karim.says("Salam, bonsoir")
        (framework,) = await karim.reads(1)
        assert framework["reply_markup"]["inline_keyboard"][0][0]["text"] == t.gettext(ACK)
        await karim.presses(t.gettext(ACK))
        await karim.reads(1)
        await karim.says("je veux signaler un problème")
        await karim.reads(1)
        await karim.says("c'est quoi un sociogramme ?")
        answer, offer = await karim.reads(2)
        assert answer["text"] == sociogram
        assert offer["text"] == t.gettext("Shall we go on with your report?")
        await karim.says("laisse tomber")
        (left,) = await karim.reads(1)
        assert left["text"] == t.gettext(
            "All right, we leave it there: nothing was sent to the coach."
        )


async def test_files_before_a_coach_writes_join_the_open_case(
    hotline: tuple[str, Settings], emulator: str
) -> None:
    """A photo and a voice note sent while a case is open, before any coach has written, go
    to the coach as the files themselves and are kept with the case; its card lists them."""
    token, settings = hotline
    t = Translator("fr")
    now = datetime.now(UTC)
    async with aiohttp.ClientSession() as http:
        amina = Person(http, emulator, token, "Amina", "fr")
        coach = Person(http, emulator, token, "Coach", "fr")
        db = Database(settings.database_url)
        async with db.transaction() as session:
            territory = Territory(name="Figuig", kind="commune")
            session.add(territory)
            await session.flush()
            for person, role in ((coach, Role.COACH), (amina, Role.ACTOR)):
                session.add(
                    Actor(
                        channel="telegram",
                        external_id=str(person.user_id),
                        chat_id=str(person.user_id),
                        display_name=person.first_name,
                        role=role,
                        territory_id=territory.id,
                        created_at=now,
                    )
                )
        await amina.says("Bonjour")
        await amina.reads(1)
        await amina.presses(t.gettext(ACK))
        await amina.reads(1)
        await amina.presses(t.gettext("Talk to a coach"))
        await amina.reads(1)
        await amina.says("Le puits du douar est à sec, un coach peut-il passer ?")
        (opened,) = await amina.reads(1)
        async with db.transaction() as session:
            case = await session.scalar(select(Case))
        assert case is not None and f"{case.id}" in opened["text"]
        (alert,) = await coach.reads(1)
        assert "Le puits du douar est à sec" in alert["text"]

        sent = t.gettext("➡️ Sent to your coach (case #{number}).", number=case.id)
        await amina.sends("photo", "e2e-photo-1", caption="le puits")
        (told,) = await amina.reads(1)
        assert told["text"] == sent
        (photo,) = await coach.reads(1)
        assert photo["photo"][0]["file_id"] == "e2e-photo-1"
        assert "le puits" in photo["caption"]
        await amina.sends("voice", "e2e-voice-1")
        (told,) = await amina.reads(1)
        assert told["text"] == sent
        (voice,) = await coach.reads(1)
        assert voice["voice"]["file_id"] == "e2e-voice-1"

        async with db.transaction() as session:
            kept = (
                await session.scalars(
                    select(CaseEvent.file_id).where(
                        CaseEvent.case_id == case.id, CaseEvent.file_id.is_not(None)
                    )
                )
            ).all()
        assert sorted(kept) == ["e2e-photo-1", "e2e-voice-1"]
        await coach.says(f"/case {case.id}")
        (card,) = await coach.reads(1)
        kinds = ", ".join(t.gettext(k) for k in ("photo", "voice note"))
        assert t.gettext("📎 Files: {kinds}", kinds=kinds) in card["text"]
        await db.dispose()
