"""What the hotline does when a message may be about a person in danger.

The understanding (bot/nlu) says how likely danger is: sure (intent "emergency", `urgent`)
or in the middle band (intent "emergency" only). What follows is decided here:

- sure: act at once. An emergency case is opened, which alerts the coaches on duty at any
  hour (bot/cases), and the person is given the emergency numbers and told that a person
  of the hotline is alerted;
- unsure: ask at once whether someone is in danger right now; "yes" acts, "no" answers
  the message as what it otherwise is (router.py);
- both before the framework or a flow takes the words: a person in danger never waits.
  Not for coaches (their words about danger, "call 15", are answers, often in a reply
  flow), not for buttons, and not for words that leave a form ("laisse tomber").

An emergency understood anywhere else (a message handled in the ordinary course, words
that left a form) is asked about, never acted on.
"""

from __future__ import annotations

from enum import StrEnum

from bot.cases.buttons import CaseAnswer
from bot.cases.message_flow import attachment_of
from bot.cases.service import open_case
from bot.core.effects import Button
from bot.core.i18n import N_
from bot.core.leaving import leaves
from bot.core.turn import Turn
from storage.models import CaseCategory, CaseSeverity, InboundKind

# The understanding's label for words about a person in danger.
EMERGENCY = "emergency"
# What other features dispatch when a person says someone is in danger (a button).
ACT_INTENT = "emergency_case"
EMERGENCY_TEXT = N_(
    "🚨 If someone is in danger, call now:\n"
    "• Police: <b>19</b>\n"
    "• Gendarmerie: <b>177</b>\n"
    "• Civil protection: <b>15</b>\n\n"
    "I am alerting a person of the hotline at once (case #{number}). Stay reachable here; "
    "you can add details by answering below."
)


class Response(StrEnum):
    ACT = "act"
    ASK = "ask"


def first_response(turn: Turn) -> Response | None:
    """What a person's message calls for before anything else looks at it, if anything."""
    understanding = turn.understanding
    if (
        turn.actor.is_coach
        or understanding is None
        or understanding.intent != EMERGENCY
        or turn.message.button is not None
        or (turn.flow is not None and leaves(turn.text))
    ):
        return None
    return Response.ACT if understanding.urgent else Response.ASK


async def act(turn: Turn) -> None:
    """Open an emergency case about this message (the coaches on duty are alerted) and
    tell the person what to do meanwhile."""
    text = turn.text if turn.message.kind == InboundKind.TEXT else ""
    file = attachment_of(turn)
    case = await open_case(
        turn.session,
        now=turn.now,
        actor=turn.actor,
        category=CaseCategory.EMERGENCY,
        summary=text,
        severity=CaseSeverity.EMERGENCY,
        source_message_id=turn.message.id,
        attachments=[file] if file else [],
        settings=turn.engine.settings,
        sent=turn.sent,
        lang=turn.lang,
    )
    await turn.reply(
        turn._(EMERGENCY_TEXT, number=case.id),
        ((Button(turn._("Add a message for the coach"), CaseAnswer(case.id).pack()),),),
    )
