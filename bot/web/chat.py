"""`/web` in the chat: a coach or admin receives a single-use sign-in link to the console."""

from __future__ import annotations

from bot.core.access import COACHES, requires
from bot.core.router import Router
from bot.core.telegram_html import escape
from bot.core.turn import Turn
from bot.web import auth

router = Router("web")


@router.command("web", "console")
@requires(COACHES)
async def web_command(turn: Turn, _argument: str) -> None:
    link = await auth.issue_link(
        turn.session, turn.actor, turn.now, turn.engine.settings.console_url
    )
    await turn.reply(
        turn._(
            "Your link to the web console, for you alone: it works once, within 10 minutes.\n"
            "{link}",
            link=escape(link),
        )
    )
