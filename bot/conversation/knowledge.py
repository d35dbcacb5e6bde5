"""Answers from the knowledge base, and honesty when there is none."""

from __future__ import annotations

import asyncio

from bot.cases.buttons import Unanswered
from bot.core.access import ADMINS, requires
from bot.core.effects import Button
from bot.core.i18n import reload_catalogs
from bot.core.outbox import enqueue
from bot.core.router import Router
from bot.core.telegram_html import escape, escape_clip
from bot.core.turn import Turn
from bot.review import service as review
from bot.review.router import NotHelpful
from storage.models import InboundKind, OutboxMessage, ReviewReason

router = Router("knowledge")


@router.intent("topic")
async def topic(turn: Turn) -> None:
    intent = turn.understanding.intent if turn.understanding else ""
    answer = turn.engine.understander.answer(intent, turn.lang)
    if answer is None:
        await unanswered(turn)
        return
    # One tap says the answer missed the question: it then goes to the review queue.
    await turn.reply(
        escape(answer),
        ((Button(turn._("Not what I asked"), NotHelpful(turn.message.id).pack()),),),
    )


@router.intent("none")
async def unanswered(turn: Turn) -> None:
    # The message keeps intent "none" and joins the review queue, where a coach files it under
    # the right label: that is how the understanding learns what it lacks.
    if turn.message.kind == InboundKind.TEXT and turn.text:
        await review.enqueue(
            turn.session, turn.message, turn.actor, ReviewReason.UNANSWERED, None, turn.now
        )
    await turn.reply(
        turn._(
            "I am not sure I understood, and I would rather not guess. You can rephrase, "
            "or I can pass your question on to a coach. If someone is in danger, call 19 "
            "(police), 177 (gendarmerie) or 15 (civil protection)."
        ),
        (
            (Button(turn._("Send it to a coach"), Unanswered("send", turn.message.id).pack()),),
            (Button(turn._("No, thank you"), Unanswered("no").pack()),),
        ),
    )  # the buttons are answered by the cases feature (bot/cases/actor_side.py)


@router.command("reload")
@requires(ADMINS)
async def reload_knowledge(turn: Turn, _argument: str) -> None:
    """Re-read knowledge/ and the catalogs after an edit, and retrain the understanding with
    the messages coaches reviewed, without restarting the bot. Training takes seconds, so it
    runs after this turn's transaction, in a worker thread, and the answer comes when done."""
    understander = turn.engine.understander
    reviewed = await review.training_examples(turn.session, understander.labels)
    engine, actor, message = turn.engine, turn.actor, turn.message
    call_id = turn.call.id
    t = turn.t

    async def rebuild() -> list[OutboxMessage]:
        try:
            await asyncio.to_thread(understander.reload, reviewed)
        except Exception as error:
            text = t.gettext(
                "The knowledge base could not be reloaded; the previous one stays in use. "
                "Error: {error}",
                error=escape_clip(str(error), 500),
            )
        else:
            reload_catalogs()
            text = t.ngettext(
                "Knowledge base reloaded: {count} topics, {n} reviewed message learnt.",
                "Knowledge base reloaded: {count} topics, {n} reviewed messages learnt.",
                len(reviewed),
                count=len(understander.topics),
            )
        async with engine.db.transaction() as session:
            return await enqueue(
                session,
                channel=message.channel,
                chat_id=message.chat_id,
                text=text,
                now=engine.clock.now(),
                actor_id=actor.id,
                call_id=call_id,
                cause_id=message.id,
            )

    turn.deferred.append(rebuild)
