"""Telegram, whichever library talks to the Bot API (aiogram by default, python-telegram-bot).

The adapters (`tg_aiogram.py`, `tg_ptb.py`) only do HTTP: fetch updates as plain dicts, send
effects, and translate the library's errors into `bot.transports.delivery` errors. All else is
here and shared: update → Event, store-before-acknowledge, the webhook, delivery, start/stop.

Nothing is lost: an update is stored (`engine.receive`, deduplicated by update id) before the
next getUpdates moves the offset past it, or before the webhook answers 200. Handling happens
afterwards, chats in parallel, one message at a time per chat (the engine's lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NotRequired, Protocol, Required, cast
from urllib.parse import urlparse

from aiohttp import web
from pydantic import ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic reads only this one before Python 3.12

from bot.core.clock import Clock, SystemClock
from bot.core.config import Settings
from bot.core.effects import Effect
from bot.core.engine import Engine
from bot.core.events import Attachment, Event
from bot.core.events import Sender as EventSender
from bot.core.i18n import N_, Translator
from bot.transports.delivery import Limits, Policy, RateLimiter, Sender
from bot.transports.memory import resume_collection, settle_after_start

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]
STORE_BATCH = 500  # updates stored in one transaction, at most
HANDLING_AT_ONCE = 8  # chats handled concurrently
# Handling waits while webhook calls are being answered, and this long after the last one,
# but never longer than HANDLING_DEFERRED_AT_MOST: a burst is answered first, and steady
# traffic cannot hold the handling back for ever.
WEBHOOK_QUIET = 0.05
HANDLING_DEFERRED_AT_MOST = 1.0
# A burst of new connections waits in the kernel's listen queue (capped by somaxconn) rather
# than being refused and retried by the client a second later.
WEBHOOK_BACKLOG = 2048
# Start-up's garbage is collected and its memory given back this long after updates start
# to flow (`settle_after_start`), so that the collection does not delay the first of them.
SETTLE_AFTER = 1.0
# A message stored but left unhandled (its turn failed: the database was away, a deadlock)
# is handled again this long after it arrived, at the latest about as long after that: not
# only when its chat writes again or the process restarts.
LEFT_WAITING_AFTER = 30.0

# Attachments the hotline keeps (by file_id) and the engine's name for them.
_ATTACHMENTS = {
    "voice": "voice",
    "audio": "audio",
    "video": "video",
    "video_note": "video_note",  # sent on with sendVideoNote: its file id is not a video's
    "document": "document",
}
# Content people send that the hotline cannot take; checked before documents because
# Telegram sends an animation with a `document` too.
_UNSUPPORTED = ("sticker", "animation", "location", "venue", "contact", "poll", "dice", "game")

# The command menu, in the language of each Telegram client (default: French).
COMMANDS = (
    ("start", N_("Start a call with the hotline")),
    ("menu", N_("What the line can do")),
    ("lang", N_("Choose your language")),
    ("cadre", N_("Read the framework of the line")),
    ("cancel", N_("Leave what we are doing")),
    ("help", N_("Help")),
)
COMMAND_LANGUAGES = {None: "fr", "fr": "fr", "ar": "ary"}
UPLOAD_LIMIT = 10 * 1024 * 1024


# -- the webhook's format check ----------------------------------------------------------------
# What the hotline reads of an update, checked in one pass over the body (pydantic-core decodes
# and checks together, about 3 µs): a tenth of the cost of the full Bot API models, which the
# webhook does not need. Other fields pass through unchecked; a body that does not fit is a 400.

_LOOSE = ConfigDict(extra="allow")


@with_config(_LOOSE)
class _User(TypedDict):
    id: int
    first_name: str
    last_name: NotRequired[str]
    username: NotRequired[str]
    language_code: NotRequired[str]


@with_config(_LOOSE)
class _Chat(TypedDict):
    id: int
    type: str


@with_config(_LOOSE)
class _File(TypedDict):
    file_id: str


@with_config(_LOOSE)
class _Origin(TypedDict):  # the message a button belongs to
    chat: _Chat


_Message = TypedDict(
    "_Message",
    {
        "chat": Required[_Chat],
        "from": _User,
        "text": str,
        "caption": str,
        "photo": list[_File],
        "voice": _File,
        "audio": _File,
        "video": _File,
        "video_note": _File,
        "document": _File,
    },
    total=False,
)
_Message.__pydantic_config__ = _LOOSE  # type: ignore[attr-defined]
_CallbackQuery = TypedDict(
    "_CallbackQuery",
    {"id": Required[str], "from": Required[_User], "data": str, "message": _Origin},
    total=False,
)
_CallbackQuery.__pydantic_config__ = _LOOSE  # type: ignore[attr-defined]


@with_config(_LOOSE)
class _Update(TypedDict):
    update_id: int
    message: NotRequired[_Message]
    callback_query: NotRequired[_CallbackQuery]


_UPDATE = TypeAdapter(_Update)


def parse_update(body: bytes) -> dict[str, Any]:
    """A webhook body as a dict, if it has the shape the hotline reads (else ValueError)."""
    return cast(dict[str, Any], _UPDATE.validate_json(body))


class Adapter(Protocol):
    """What a Telegram library must do for the runtime (send errors: `bot.transports.delivery`)."""

    name: str

    async def get_me(self) -> str: ...  # the bot's username

    async def get_updates(self, offset: int | None, long_poll: int) -> list[dict[str, Any]]: ...

    async def send(self, effect: Effect) -> str | None: ...

    async def answer_callback(self, callback_id: str) -> None: ...

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None: ...

    async def set_webhook(self, url: str, secret: str) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def close(self) -> None: ...


def make_adapter(settings: Settings) -> Adapter:
    assert settings.telegram_token, "TELEGRAM_BOT_TOKEN is not set"
    if settings.transport == "ptb":
        from bot.transports.tg_ptb import PtbAdapter

        return PtbAdapter(settings.telegram_token, settings.telegram_api_base_url)
    if settings.transport != "aiogram":
        raise SystemExit(f"HOTLINE_TRANSPORT must be aiogram or ptb, not {settings.transport!r}")
    from bot.transports.tg_aiogram import AiogramAdapter

    return AiogramAdapter(settings.telegram_token, settings.telegram_api_base_url)


# -- update → event ----------------------------------------------------------------------------


def _sender(user: dict[str, Any]) -> EventSender:
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return EventSender(
        str(user["id"]), name or user.get("username") or "", user.get("language_code")
    )


def event_from_update(
    data: dict[str, Any], now: datetime, bot_id: str | None = None
) -> Event | None:
    """The engine event for a Telegram update (a dict as in the Bot API), or None to skip it.

    Update ids are per bot: with the bot's id in the key, a new token on the same database
    (a leaked one replaced, a test bot promoted) never meets the ids of the old one.
    """
    update_id = f"{bot_id}:{data['update_id']}" if bot_id else str(data["update_id"])
    query = data.get("callback_query")
    if query is not None:
        if not query.get("data") or "from" not in query:
            return None  # a game button: nothing of ours
        chat = ((query.get("message") or {}).get("chat") or {}).get("id", query["from"]["id"])
        return Event(
            CHANNEL,
            str(chat),
            _sender(query["from"]),
            now,
            button=query["data"],
            update_id=update_id,
        )
    message = data.get("message")
    if message is None or "from" not in message or "chat" not in message:
        return None  # edits, channel posts, service updates: not a person talking to us
    base = partial(
        Event,
        CHANNEL,
        str(message["chat"]["id"]),
        _sender(message["from"]),
        now,
        update_id=update_id,
    )
    if "text" in message:
        return base(text=message["text"])
    for kind in _UNSUPPORTED:
        if kind in message:
            return base(unsupported=kind)
    if message.get("photo"):
        largest = message["photo"][-1]["file_id"]
        return base(text=message.get("caption"), attachment=Attachment("photo", largest))
    for key, kind in _ATTACHMENTS.items():
        if key in message:
            file_id = message[key]["file_id"]
            return base(text=message.get("caption"), attachment=Attachment(kind, file_id))
    if message["chat"].get("type") == "private":
        return base(unsupported="other")
    return None  # someone joined a group, a pinned message...


# -- the runtime -------------------------------------------------------------------------------


class _Answering:
    """Webhook calls in progress: handling gives way to them (one event loop serves both).

    `quiet()` returns once no call has been in progress for `linger` seconds, or after
    `at_most` seconds whatever happens.
    """

    def __init__(self, linger: float = WEBHOOK_QUIET) -> None:
        self.linger = linger
        self.calls = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._settling: asyncio.TimerHandle | None = None

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        self.calls += 1
        self._quiet.clear()
        if self._settling is not None:
            self._settling.cancel()
            self._settling = None
        try:
            yield
        finally:
            self.calls -= 1
            if not self.calls:
                loop = asyncio.get_running_loop()
                self._settling = loop.call_later(self.linger, self._quiet.set)

    async def quiet(self, at_most: float) -> None:
        if self._quiet.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), at_most)


class TelegramRuntime:
    def __init__(
        self,
        engine: Engine,
        adapter: Adapter,
        *,
        limits: Limits | None = None,
        policy: Policy | None = None,
        poll_timeout: int = 25,
        idle_delay: float = 0.2,
        bot_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.bot_id = bot_id
        self.sender = Sender(
            engine.db,
            engine.clock,
            CHANNEL,
            adapter.send,
            limiter=RateLimiter(limits),
            policy=policy,
        )
        self.poll_timeout = poll_timeout
        self.idle_delay = idle_delay  # some API servers answer an empty getUpdates at once
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inbox: list[tuple[Event, asyncio.Future[int | None]]] = []
        # Handling shares this process with the webhook: a bounded number of chats at once
        # leaves room (CPU, connections) for storing and answering incoming updates.
        self._handling = asyncio.Semaphore(HANDLING_AT_ONCE)
        self._answering = _Answering()
        # Chats whose handling is waiting to start: it will find every message stored
        # before it starts, so an album of three needs one task, not three.
        self._waiting: set[tuple[str, str]] = set()
        self._storer: asyncio.Task[None] | None = None

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def accept(self, data: dict[str, Any]) -> bool:
        """Store one update (raises if it could not be stored), then handle it in the background."""
        event = event_from_update(data, self.engine.clock.now(), self.bot_id)
        if event is None:
            return False
        await self.store(event)
        query = data.get("callback_query")
        if query is not None:
            self._spawn(self._answer(str(query["id"])))
        self._schedule(event.channel, event.chat_id)
        return True

    def _schedule(self, channel: str, chat_id: str) -> None:
        """Handle what is stored for the chat, in the background (no-op when already due)."""
        if (channel, chat_id) not in self._waiting:
            self._waiting.add((channel, chat_id))
            self._spawn(self._handle(channel, chat_id))

    async def store(self, event: Event) -> int | None:
        """Store one event, with those arriving at the same moment: one short transaction
        for many concurrent webhook calls instead of one each (group commit)."""
        stored: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._inbox.append((event, stored))
        if self._storer is None or self._storer.done():
            self._storer = asyncio.ensure_future(self._store_inbox())
            self._tasks.add(self._storer)
            self._storer.add_done_callback(self._tasks.discard)
        return await stored

    async def _store_inbox(self) -> None:
        # Whatever arrives while a batch is written forms the next one. (Ending when the inbox
        # is empty cannot miss an event: the check and the end happen with no await between.)
        while self._inbox:
            batch = self._inbox[:STORE_BATCH]
            del self._inbox[:STORE_BATCH]
            try:
                ids = await self.engine.receive_many([event for event, _ in batch])
            except Exception as error:
                for _, stored in batch:
                    if not stored.done():
                        stored.set_exception(error)
                continue
            for (_, stored), stored_id in zip(batch, ids, strict=True):
                if not stored.done():
                    stored.set_result(stored_id)

    async def _answer(self, callback_id: str) -> None:
        try:  # stops the button's spinner; losing it is cosmetic
            await self.adapter.answer_callback(callback_id)
        except Exception as error:
            log.info("answerCallbackQuery failed: %s", error)

    async def _handle(self, channel: str, chat_id: str) -> None:
        try:
            async with self._handling:
                await self._answering.quiet(HANDLING_DEFERRED_AT_MOST)
                # From here on a message stored for this chat needs a task of its own
                # (this one may already have looked).
                self._waiting.discard((channel, chat_id))
                await self.engine.process(channel, chat_id)  # already stored
        except Exception:
            self._waiting.discard((channel, chat_id))
            log.exception("handling chat %s failed; tried again within a minute", chat_id)
        self.sender.wake()

    async def handle_left_waiting(self) -> int:
        """Handle again the chats whose messages were stored over `LEFT_WAITING_AFTER` ago and
        are still unhandled; returns how many chats. (A chat already due is not doubled.)"""
        before = self.engine.clock.now() - timedelta(seconds=LEFT_WAITING_AFTER)
        chats = await self.engine.waiting_chats(before=before)
        for channel, chat_id in chats:
            self._schedule(channel, chat_id)
        return len(chats)

    async def keep_handling_left_waiting(self, stop: asyncio.Event) -> None:
        """Every `LEFT_WAITING_AFTER` seconds until stopped: `handle_left_waiting`."""
        while not await _stopped_within(stop, LEFT_WAITING_AFTER):
            try:
                if count := await self.handle_left_waiting():
                    log.warning("%d chat(s) left waiting by a failed turn: handled again", count)
            except Exception as error:  # the database still away: next time
                log.warning("looking for chats left waiting failed: %s", error)

    async def poll_once(self, offset: int | None) -> int | None:
        """One getUpdates: store each update, and only then count it in the next offset."""
        updates = await self.adapter.get_updates(offset, self.poll_timeout)
        for data in updates:
            await self.accept(data)
            offset = int(data["update_id"]) + 1
        if not updates:
            await asyncio.sleep(self.idle_delay)
        return offset

    async def poll(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            polling = asyncio.ensure_future(self.poll_once(offset))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([polling, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not polling.done():
                # Stopped mid-request: updates not yet stored are not confirmed, so Telegram
                # hands them out again at the next start.
                polling.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling
                return
            try:
                offset = polling.result()
                failures = 0
            except Exception as error:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", error)
                await _stopped_within(stop, min(30.0, 0.5 * 2**failures))

    async def start(self) -> None:
        """Menu, then whatever was stored but not handled or delivered before the last stop,
        in the background: after a crash under load the webhook must answer again at once
        (Telegram backs off when it does not), not after the whole backlog is handled. The
        menu too: three round trips that need not delay the first update."""
        self._spawn(self.set_commands())
        for channel, chat_id in await self.engine.waiting_chats():
            self._schedule(channel, chat_id)
        self.sender.wake()

    async def set_commands(self) -> None:
        for language, variant in COMMAND_LANGUAGES.items():
            t = Translator(variant)
            try:
                await self.adapter.set_commands(
                    [(name, t.gettext(text)) for name, text in COMMANDS], language
                )
            except Exception as error:  # optional: some API servers lack setMyCommands
                log.info("setMyCommands(%s) failed: %s", language, error)

    async def drain(self, within: float = 20.0) -> None:
        """Let handling in flight finish (what does not finish is recovered at the next start)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)

    # -- webhook ----------------------------------------------------------------------------

    def webhook_app(self, secret: str, path: str = "/") -> web.Application:
        async def receive(request: web.Request) -> web.Response:
            # Store the update and answer; handling waits meanwhile.
            with self._answering.call():
                given = request.headers.get(SECRET_HEADER, "")
                if not hmac.compare_digest(given.encode(), secret.encode()):
                    return web.Response(status=401)
                try:
                    data = parse_update(await request.read())
                except ValueError:  # pydantic's ValidationError included
                    return web.Response(status=400)
                try:
                    await self.accept(data)
                except Exception:
                    log.exception("could not store update %s", data.get("update_id"))
                    return web.Response(status=500)  # Telegram retries
                return web.Response(status=200)

        app = web.Application(client_max_size=UPLOAD_LIMIT)  # the console's plan uploads
        app.router.add_post(path, receive)
        return app


async def _get_me(adapter: Adapter, stop: asyncio.Event) -> str | None:
    """The bot's username; an unreachable Bot API at start is waited for, not fatal (a
    network coming up after the service, a proxy restarting). None if stopped meanwhile."""
    failures = 0
    while not stop.is_set():
        try:
            return await adapter.get_me()
        except Exception as error:
            resume_collection()  # errors leave cycles behind, and this may go on for hours
            failures += 1
            delay = min(60.0, 0.5 * 2**failures)
            log.warning("the Bot API is unreachable (%s); trying again in %.0f s", error, delay)
            await _stopped_within(stop, delay)
    return None


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stop` is set meanwhile; whether it is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def run_telegram(
    settings: Settings,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
    adapter: Adapter | None = None,
    limits: Limits | None = None,
) -> None:
    """`hotline run` with a token: long polling, or a webhook when HOTLINE_WEBHOOK_URL is set."""
    from bot.app import build_engine, learn_reviews, periodic_jobs
    from bot.core.scheduler import ScanContext, run_once
    from bot.core.scheduler import start as start_scheduler
    from storage.migrate import upgrade_async

    if settings.webhook_url and not settings.webhook_secret:
        raise SystemExit("HOTLINE_WEBHOOK_URL needs HOTLINE_WEBHOOK_SECRET")
    await upgrade_async(settings.database_url)
    adapter = adapter or make_adapter(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    try:
        username = await _get_me(adapter, stop)
    except BaseException:
        await adapter.close()  # an HTTP session left open fails at interpreter exit
        raise
    if username is None:  # stopped before the Bot API was reachable
        await adapter.close()
        return
    settings = replace(settings, bot_username=username)
    engine = build_engine(settings, clock=clock or SystemClock())
    await learn_reviews(engine)
    bot_id = (settings.telegram_token or "").partition(":")[0] or None
    runtime = TelegramRuntime(engine, adapter, limits=limits, bot_id=bot_id)
    context = ScanContext(engine.db, engine.clock, settings)
    jobs = periodic_jobs()
    scheduler = None
    sender_stop = asyncio.Event()
    delivering = asyncio.ensure_future(runtime.sender.run(sender_stop))
    retrying = asyncio.ensure_future(runtime.keep_handling_left_waiting(stop))
    site: web.AppRunner | None = None
    settling: asyncio.TimerHandle | None = None
    try:
        await runtime.start()
        if settings.webhook_url:
            from bot.web.app import mount as mount_console  # the console: only when served
            from bot.web.server import start_site

            assert settings.webhook_secret is not None
            path = urlparse(settings.webhook_url).path or "/"
            # One server: the webhook and, beside it, the web console.
            app = runtime.webhook_app(settings.webhook_secret, path)
            if settings.web_listen != "off":
                mount_console(
                    app,
                    engine.db,
                    engine.clock,
                    settings,
                    runtime.sender.wake,
                    understander=engine.understander,
                )
            site = await start_site(app, settings.webhook_listen, backlog=WEBHOOK_BACKLOG)
            await adapter.set_webhook(settings.webhook_url, settings.webhook_secret)
            log.warning("webhook for @%s listening on %s", username, settings.webhook_listen)
        await run_once(context, jobs)
        scheduler = start_scheduler(context, jobs) if jobs else None
        # Once updates flow (a full collection takes a tenth of a second: not before).
        settling = loop.call_later(SETTLE_AFTER, settle_after_start)
        if settings.webhook_url:
            await stop.wait()
        else:
            await adapter.delete_webhook()
            if settings.web_listen not in (None, "off"):
                site = await _console_beside_polling(engine, settings, runtime.sender.wake)
            log.warning("polling Telegram as @%s (%s)", username, adapter.name)
            await runtime.poll(stop)
    finally:
        if settling is not None:
            settling.cancel()
        if site is not None:
            await site.cleanup()  # no new updates accepted from here on
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        retrying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await retrying
        await runtime.drain()
        sender_stop.set()
        await delivering  # a send in flight is settled; the rest waits in the outbox
        await adapter.close()
        await engine.db.dispose()


async def _console_beside_polling(
    engine: Engine, settings: Settings, wake: Callable[[], None]
) -> web.AppRunner | None:
    """With long polling there is no webhook server: the console gets one of its own. A busy
    port leaves the bot running without it."""
    from bot.web.app import create_app
    from bot.web.server import start_site

    try:
        site = await start_site(
            create_app(engine.db, engine.clock, settings, wake, understander=engine.understander),
            settings.console_listen,
        )
    except OSError as error:
        log.warning("web console not started on %s: %s", settings.console_listen, error)
        return None
    log.warning("web console on %s", settings.console_url)
    return site
