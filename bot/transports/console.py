"""The console transport: a terminal conversation with the real engine and database.

Buttons show as numbered choices; typing the number presses the button. Messages other
people receive (a coach's alert, say) wait in the outbox until that person opens a chat.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Callable
from typing import TextIO

from sqlalchemy import select

from bot.core.clock import Clock, SystemClock
from bot.core.config import Settings
from bot.core.effects import Button, Effect, SendDocument, SendFile, SendPhoto, body
from bot.core.engine import Engine
from bot.core.events import Event, Sender
from bot.core.outbox import deliver_pending
from bot.core.telegram_html import to_plain
from storage.models import Actor, Role

CHANNEL = "console"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"


class ConsoleChat:
    def __init__(
        self,
        engine: Engine,
        user_id: str,
        name: str,
        out: TextIO = sys.stdout,
        color: bool = False,
    ) -> None:
        self.engine = engine
        self.user_id = user_id
        self.name = name
        self.out = out
        self.color = color
        self.buttons: list[Button] = []
        self._ids = itertools.count(1)

    async def prepare(self, role: str | None, lang: str | None) -> None:
        """Create or update the console actor so flags can choose who is speaking."""
        async with self.engine.db.transaction() as session:
            actor = await session.scalar(
                select(Actor).where(Actor.channel == CHANNEL, Actor.external_id == self.user_id)
            )
            if actor is None:
                actor = Actor(
                    channel=CHANNEL,
                    external_id=self.user_id,
                    chat_id=self.user_id,
                    display_name=self.name,
                    created_at=self.engine.clock.now(),
                )
                session.add(actor)
            if role is not None:
                actor.role = Role(role)
            if lang is not None:
                actor.lang = lang
                actor.lang_chosen = True
        await self.engine.recover()
        await self.flush()

    def event_for(self, line: str) -> Event:
        line = line.strip()
        sender = Sender(self.user_id, self.name)
        now = self.engine.clock.now()
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return Event(
                CHANNEL, self.user_id, sender, now, button=self.buttons[int(line) - 1].data
            )
        return Event(CHANNEL, self.user_id, sender, now, text=line)

    async def say(self, line: str) -> None:
        await self.engine.handle(self.event_for(line))
        await self.flush()

    async def flush(self) -> None:
        await deliver_pending(
            self.engine.db, self.engine.clock, CHANNEL, self._show, chat_id=self.user_id
        )

    async def _show(self, effect: Effect) -> str:
        text = to_plain(body(effect))
        if isinstance(effect, SendPhoto):
            text = f"[picture, {len(effect.png)} bytes] {text}"
        elif isinstance(effect, SendDocument):
            text = f"[file {effect.filename}, {len(effect.content)} bytes] {text}"
        elif isinstance(effect, SendFile):
            # A Telegram file id: the terminal cannot fetch it, so say what was sent.
            text = f"[{effect.kind} {effect.file_id}: cannot be shown in the terminal] {text}"
        bold, dim, reset = (_BOLD, _DIM, _RESET) if self.color else ("", "", "")
        self.out.write(f"\n{bold}hotline{reset} › {text}\n")
        if effect.buttons:
            self.buttons = [button for row in effect.buttons for button in row]
            for number, button in enumerate(self.buttons, 1):
                self.out.write(f"   {dim}[{number}]{reset} {button.label}\n")
        self.out.flush()
        return str(next(self._ids))


async def run_chat(
    settings: Settings,
    user_id: str,
    name: str,
    role: str | None,
    lang: str | None,
    read_line: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
    clock: Clock | None = None,
    web: bool = False,
) -> None:
    """`web`: serve the web console beside the chat (`hotline run` without a token)."""
    from bot.app import build_engine, learn_reviews
    from storage.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    engine = build_engine(settings, clock=clock or SystemClock())
    await learn_reviews(engine)
    chat = ConsoleChat(engine, user_id, name, out=out, color=out.isatty())
    await chat.prepare(role, lang)
    site = None
    if web and settings.web_listen != "off":
        from bot.web.app import create_app
        from bot.web.server import start_site

        try:
            site = await start_site(
                create_app(engine.db, engine.clock, settings, understander=engine.understander),
                settings.console_listen,
            )
            out.write(f"Web console: {settings.console_url} (a coach sends /web for a link)\n")
        except OSError as error:
            out.write(f"Web console not started on {settings.console_listen}: {error}\n")
    out.write("Type your message; a number presses a button; Ctrl-D to quit.\n")
    try:
        while True:
            try:
                line = await asyncio.to_thread(read_line, f"\n{name} › ")
            except EOFError:
                break
            if line.strip():
                await chat.say(line)
    finally:
        if site is not None:
            await site.cleanup()
        await engine.db.dispose()
