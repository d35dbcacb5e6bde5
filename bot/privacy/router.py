"""Personal data and consent (Morocco's law 09-08): /mydata, /forget, stop, /privacy.

- /mydata sends the person everything kept about them, as a JSON file.
- /forget, after a confirmation button, erases their data (see bot.privacy.service).
- "stop" or /stop halts every reminder at once (and leaves any form under way); /reminders
  on resumes them, and /start asks whether to.
Exports and erasures are written to the audit trail.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import update

from bot.conversation import router as conversation
from bot.core import audit
from bot.core.callback import CallbackData
from bot.core.effects import Button
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.turn import Turn
from bot.privacy import service
from storage.models import DeliveryStatus, OutboxMessage

router = Router("privacy")


class PrivacyAnswer(CallbackData, prefix="privacy"):
    """privacy:forget:<yes|no>, privacy:reminders:<on|off>."""

    topic: Literal["forget", "reminders"]
    answer: str | None = None


PRIVACY = N_(
    "<b>Your data on this line</b>\n"
    "The hotline is run by the Centre of Excellence for Territorial Coaching. It keeps your "
    "messages to follow up your requests; only the coaches of your territory read them, and "
    "conversations are deleted after {days} days.\n\n"
    "/mydata: receive everything the line keeps about you\n"
    "/forget: erase your data\n"
    "/stop: no more reminders (/reminders on to resume)"
)
FORGET_ASK = N_(
    "This erases your messages and conversations with the hotline and removes your name. "
    "A case a coach is following keeps what the law requires, without your name. This "
    "cannot be undone. Erase your data?"
)
FORGET_YES = N_("Yes, erase my data")
FORGET_NO = N_("No, keep it")
FORGOTTEN = N_(
    "Done: your data is erased. If you write again, the hotline will not know who you are."
)
KEPT = N_("Nothing was erased.")
# Kept in Latin letters in every variant: some phones mangle other file names.
EXPORT_FILENAME = N_("hotline-data-{id}.json")
EXPORT_CAPTION = N_("Here is everything the hotline keeps about you.")
STOPPED = N_(
    "Done: you will receive no more reminders. Write /reminders on whenever you want them "
    "back. You can still write to the hotline."
)
RESUMED = N_("Reminders are back on.")
ASK_RESUME = N_("You asked for no more reminders. Shall I send them to you again?")
ALREADY_ON = N_("Your reminders are on. Write stop to halt them.")
ALREADY_OFF = N_("Your reminders are off. Write /reminders on to have them back.")


@router.command("privacy", "confidentialite", "donnees")
async def privacy(turn: Turn, _argument: str) -> None:
    await turn.reply(turn._(PRIVACY, days=turn.engine.settings.retention_days))


@router.command("mydata", "mesdonnees")
async def my_data(turn: Turn, _argument: str) -> None:
    data = await service.export(turn.session, turn.actor, turn.now, turn.t)
    await audit.record(
        turn.session, turn.actor, audit.Action.EXPORT, f"actor:{turn.actor.id}", turn.now
    )
    await turn.reply_document(
        turn._(EXPORT_FILENAME, id=turn.actor.id),
        service.export_json(data),
        turn._(EXPORT_CAPTION),
    )


@router.command("forget", "oublier")
async def forget(turn: Turn, _argument: str) -> None:
    await turn.reply(
        turn._(FORGET_ASK),
        (
            (Button(turn._(FORGET_YES), PrivacyAnswer("forget", "yes").pack()),),
            (Button(turn._(FORGET_NO), PrivacyAnswer("forget", "no").pack()),),
        ),
    )


@router.intent("stop_reminders")
async def stop_in_words(turn: Turn) -> None:
    """ "Baraka mn les rappels", "arrêtez les rappels": the same as stop."""
    await stop(turn, "")


@router.command("stop")
async def stop(turn: Turn, _argument: str) -> None:
    if turn.flow is not None and turn.flow.name != "framework":
        turn.end_flow()  # "stop" in the middle of a form: they are done with it too
    turn.actor.reminders_stopped = True
    # Scheduled sends already waiting for this person are withdrawn too.
    await turn.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.actor_id == turn.actor.id,
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.dedup_key.is_not(None),
        )
        .values(status=DeliveryStatus.CANCELLED, last_error="stopped by the person")
        .execution_options(synchronize_session=False)
    )
    await turn.reply(turn._(STOPPED))


@router.command("reminders", "rappels")
async def reminders(turn: Turn, argument: str) -> None:
    choice = argument.strip().lower()
    if choice in ("on", "oui", "yes"):
        turn.actor.reminders_stopped = False
        await turn.reply(turn._(RESUMED))
    elif choice in ("off", "non", "no"):
        await stop(turn, "")
    else:
        await turn.reply(turn._(ALREADY_OFF if turn.actor.reminders_stopped else ALREADY_ON))


@router.command("start", override=True)
async def start(turn: Turn, argument: str) -> None:
    """/start asks someone who said stop whether reminders should resume (it never turns
    them back on by itself); runs before the framework of the call it opens. It replaces the
    conversation's /start, which it calls when no framework follows."""
    if turn.actor.reminders_stopped:
        await turn.reply(
            turn._(ASK_RESUME),
            (
                (
                    Button(
                        turn._("Yes, turn them back on"), PrivacyAnswer("reminders", "on").pack()
                    ),
                ),
                (Button(turn._("No, keep them off"), PrivacyAnswer("reminders", "off").pack()),),
            ),
        )
    framework_follows = (
        turn.call.opened_at == turn.now
        and turn.call.acknowledged_at is None
        and not turn.actor.is_coach
    )
    if not framework_follows:
        await conversation.start(turn, argument)


@router.button(PrivacyAnswer)
async def privacy_button(turn: Turn, button: PrivacyAnswer) -> None:
    fields = [button.topic, button.answer]
    if fields == ["forget", "yes"]:
        turn.end_flow()
        await service.forget(
            turn.session,
            turn.actor,
            turn.now,
            keep_message_id=turn.message.id,
            keep_call_id=turn.call.id,
            keep_chat_id=turn.message.chat_id,
        )
        await turn.reply(turn._(FORGOTTEN))
    elif button.topic == "forget":
        await turn.reply(turn._(KEPT))
    elif fields == ["reminders", "on"]:
        turn.actor.reminders_stopped = False
        await turn.reply(turn._(RESUMED))
    elif fields == ["reminders", "off"]:
        await turn.reply(turn._(ALREADY_OFF if turn.actor.reminders_stopped else ALREADY_ON))
    else:
        await turn.reply(turn._("This button is no longer active."))
