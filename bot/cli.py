"""The `hotline` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.transports.memory import pause_collection, resume_collection

# The rest is imported when a command needs it: `run` pauses the collector first.


def _parser() -> argparse.ArgumentParser:
    from storage.models import Role

    parser = argparse.ArgumentParser(prog="hotline", description="Territorial-coaching hotline")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="talk to the hotline in this terminal")
    chat.add_argument("--as", dest="user", default="local", help="who is speaking (an id)")
    chat.add_argument("--name", default="", help="display name")
    chat.add_argument("--role", choices=[r.value for r in Role], default=None)
    chat.add_argument("--lang", choices=["fr", "ary", "ary-Latn"], default=None)

    commands.add_parser("run", help="Telegram when TELEGRAM_BOT_TOKEN is set, else the console")
    commands.add_parser("migrate", help="bring the database to the latest schema")
    commands.add_parser("ask", help="what the hotline understands of a message (--jsonl)")
    commands.add_parser("plan", help="action plans: hotline plan import|export ...")
    commands.add_parser("cases", help="cases: hotline cases export --out FILE.csv")
    commands.add_parser("nlu", help="train the understanding, review queue export / import")
    commands.add_parser("web", help="the web console: hotline web --listen HOST:PORT | link ID")
    role = commands.add_parser("role", help="give someone a role (after they wrote once)")
    role.add_argument("user", help="their id on the channel (Telegram: the numeric user id)")
    role.add_argument("role", choices=[r.value for r in Role])
    role.add_argument("--channel", default="telegram")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        pause_collection()  # until updates flow (`settle_after_start`), or the console starts
    # These subcommands parse their own options.
    if argv[:1] == ["ask"]:
        from bot.review.ask import main as ask_main

        return ask_main(argv[1:])
    if argv[:1] == ["nlu"]:
        from bot.review.cli import main as nlu_main

        return nlu_main(argv[1:])
    if argv[:1] == ["plan"]:
        from bot.plans.cli import main as plan_main

        return plan_main(argv[1:])
    if argv[:1] == ["web"]:
        from bot.web.server import main as web_main

        return web_main(argv[1:])
    if argv[:1] == ["cases"]:
        from bot.cases.cli import main as cases_main

        return cases_main(argv[1:])
    from bot.core import redact
    from bot.core.config import Settings

    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    redact.install([settings.telegram_token, settings.webhook_secret])
    if args.command == "migrate":
        from storage.migrate import upgrade

        upgrade(settings.database_url)
        return 0
    if args.command == "role":
        from bot.core.access import set_role

        found = asyncio.run(set_role(settings.database_url, args.channel, args.user, args.role))
        if not found:
            print(f"nobody with id {args.user} on {args.channel} has written to the hotline yet")
            return 1
        print(f"{args.user} is now {args.role}")
        return 0
    if args.command == "run" and settings.telegram_token:
        from bot.transports.telegram import run_telegram

        try:
            asyncio.run(run_telegram(settings))
        finally:
            resume_collection()  # stopped before updates flowed
        return 0
    resume_collection()
    from bot.transports.console import run_chat

    user = getattr(args, "user", "local")
    asyncio.run(
        run_chat(
            settings,
            user_id=user,
            name=getattr(args, "name", "") or user,
            role=getattr(args, "role", None),
            lang=getattr(args, "lang", None),
            web=args.command == "run",
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
