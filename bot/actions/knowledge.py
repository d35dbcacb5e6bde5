"""Answers from the knowledge base, and honesty when there is none."""

from __future__ import annotations

from bot.access import ADMINS, requires
from bot.effects import Button
from bot.i18n import reload_catalogs
from bot.router import Router
from bot.text import escape, escape_clip
from bot.turn import Turn

router = Router("knowledge")


@router.intent("topic")
async def topic(turn: Turn) -> None:
    intent = turn.understanding.intent if turn.understanding else ""
    answer = turn.engine.understander.answer(intent, turn.actor.lang)
    if answer is None:
        await unanswered(turn)
        return
    await turn.reply(escape(answer))


@router.intent("none")
async def unanswered(turn: Turn) -> None:
    # The message keeps intent "none": that is the log of what the knowledge base lacks.
    await turn.reply(
        turn._(
            "I am not sure I understood, and I would rather not guess. You can rephrase, "
            "or I can pass your question on to a coach."
        ),
        (
            (Button(turn._("Send it to a coach"), f"unanswered:send:{turn.message.id}"),),
            (Button(turn._("No, thank you"), "unanswered:no"),),
        ),
    )


@router.button("unanswered")
async def unanswered_button(turn: Turn, fields: list[str]) -> None:
    if fields[:1] == ["send"]:
        await turn.dispatch_intent("talk_to_coach")
    else:
        await turn.reply(turn._("All right. Ask me something else whenever you like."))


@router.command("reload")
@requires(ADMINS)
async def reload_knowledge(turn: Turn, _argument: str) -> None:
    """Re-read knowledge/ and the catalogs after an edit, without restarting the bot."""
    try:
        turn.engine.understander.reload()
    except Exception as error:
        await turn.reply(
            turn._(
                "The knowledge base could not be reloaded; the previous one stays in use. "
                "Error: {error}",
                error=escape_clip(str(error), 500),
            )
        )
        return
    reload_catalogs()
    await turn.reply(
        turn._(
            "Knowledge base reloaded: {count} topics.", count=len(turn.engine.understander.topics)
        )
    )
