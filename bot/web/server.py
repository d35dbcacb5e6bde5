"""`hotline web`: the console alone (`--listen HOST:PORT`), or `hotline web link ID` to print
a sign-in link for a coach or admin."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from aiohttp import web
from sqlalchemy import select

from bot.core.clock import SystemClock
from bot.core.config import Settings
from bot.review import service as review_service
from bot.web import auth
from bot.web.app import build_understander, create_app
from storage.db import Database
from storage.models import Actor

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline web", description="The coaches' web console")
    parser.add_argument("--listen", default=None, help="HOST:PORT (default HOTLINE_WEB_LISTEN)")
    commands = parser.add_subparsers(dest="command")
    link = commands.add_parser("link", help="print a sign-in link for a coach or admin")
    link.add_argument("user", help="their id on the channel (Telegram: the numeric user id)")
    link.add_argument("--channel", default="telegram")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    if args.command == "link":
        return asyncio.run(_print_link(settings, args.channel, args.user))
    listen = args.listen or settings.console_listen
    asyncio.run(serve(settings, listen))
    return 0


async def _print_link(settings: Settings, channel: str, user: str) -> int:
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            person = await session.scalar(
                select(Actor).where(Actor.channel == channel, Actor.external_id == user)
            )
            if person is None or not auth.may_sign_in(person):
                print(f"no coach or admin with id {user} on {channel}", file=sys.stderr)
                return 1
            print(await auth.issue_link(session, person, SystemClock().now(), settings.console_url))
            return 0
    finally:
        await db.dispose()


async def start_site(app: web.Application, listen: str, backlog: int = 128) -> web.AppRunner:
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host or "127.0.0.1", int(port), backlog=backlog).start()
    return runner


async def serve(settings: Settings, listen: str, stop: asyncio.Event | None = None) -> None:
    from storage.migrate import upgrade_async

    await upgrade_async(settings.database_url)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    db = Database(settings.database_url)
    # The review page ranks labels with the understanding built as the bot builds it: the
    # knowledge base and the messages coaches already filed (as `bot.app.learn_reviews`).
    understander = await asyncio.to_thread(build_understander, settings)
    async with db.transaction() as session:
        reviewed = await review_service.training_examples(session, understander.labels)
    if reviewed:
        await asyncio.to_thread(understander.reload, reviewed)
    app = create_app(db, SystemClock(), settings, understander=understander)
    runner = await start_site(app, listen)
    print(f"web console: {settings.console_url if settings.web_url else f'http://{listen}'}")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await db.dispose()
