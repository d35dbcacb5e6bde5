"""Every call opens with the framework of the line, acknowledged with a button.

The first call shows it in full; later calls a short reminder with a way to read it all.
Whatever the actor wrote to open the call is held until they acknowledge, then answered;
a flow that the new call interrupted is taken up again where it stood.
"""

from __future__ import annotations

from typing import Any

from bot.effects import Button, Keyboard
from bot.flows.base import Flow
from bot.i18n import N_, Translator
from bot.turn import FlowState, Turn
from storage.models import InboundKind, Reminder

FULL_TEXT = N_(
    "<b>Welcome to the territorial-coaching hotline</b> of the Centre of Excellence.\n"
    "Before we start, here is the framework of this line:\n\n"
    "🔒 <b>Confidentiality</b>: anything personal stays between you and the coaches who "
    "follow your territory.\n"
    "🗣 <b>Responsibility</b>: each person answers for what they say here.\n"
    "🤝 <b>Participation</b>: this space is open to everyone; your questions, problems and "
    "ideas all count.\n\n"
    "📍 <b>What the line is for</b>: questions, problems and ideas about the interventions "
    "under way in your territory (action plan, committee, workshops, dialogue with the "
    "commune…). The coach in charge is alerted.\n"
    "🚨 <b>What it is not</b>: an emergency service. If someone is in danger, call the "
    "police (19), the gendarmerie (177) or civil protection (15).\n\n"
    "The line is run by the Centre of Excellence for Territorial Coaching. Your messages "
    "are kept to follow up your requests, and only the coaches of your territory read them."
)
SHORT_TEXT = N_(
    "Reminder of the framework: what is personal stays confidential, each person answers "
    "for what they say, and everyone may take part. This line is for questions, problems "
    "and ideas about the actions under way in your territory. It is not an emergency "
    "service: police 19, gendarmerie 177, civil protection 15."
)
ACK = N_("I understand")
READ_FULL = N_("Read the full framework")
PLEASE_ACK = N_("To go on, please confirm the framework with the button below.")
THANKS = N_("Thank you. I am listening.")


def keyboard(t: Translator, with_full: bool) -> Keyboard:
    rows = [(Button(t.gettext(ACK), "framework:ack"),)]
    if with_full:
        rows.append((Button(t.gettext(READ_FULL), "framework:full"),))
    return tuple(rows)


class FrameworkFlow(Flow):
    name = "framework"

    async def start(
        self, turn: Turn, pending: int | None = None, suspended: dict[str, Any] | None = None
    ) -> None:
        assert turn.flow is not None
        turn.flow.data = {"pending": pending, "suspended": suspended}
        turn.goto("ack")
        await self.prompt(turn)

    async def prompt(self, turn: Turn) -> None:
        full = turn.call.reminder == Reminder.FULL
        text = FULL_TEXT if full else SHORT_TEXT
        await turn.reply(turn._(text), keyboard(turn.t, with_full=not full))

    async def on_ack(self, turn: Turn) -> None:
        assert turn.flow is not None
        value = self.button_value(turn)
        if value == "full":
            await turn.reply(turn._(FULL_TEXT), keyboard(turn.t, with_full=False))
            return
        if value != "ack":
            # Keep the first thing they said while waiting, so it is answered afterwards.
            if turn.flow.data.get("pending") is None and turn.message.kind != InboundKind.BUTTON:
                turn.flow.data["pending"] = turn.message.id
            await turn.reply(turn._(PLEASE_ACK), keyboard(turn.t, with_full=True))
            return
        turn.call.acknowledged_at = turn.now
        pending = turn.flow.data.get("pending")
        suspended = turn.flow.data.get("suspended")
        turn.end_flow()
        flow = turn.engine.routes.flows.get(suspended["name"]) if suspended else None
        if flow is not None and suspended is not None:
            await turn.reply(turn._(THANKS))
            turn.flow = FlowState(**suspended)
            await flow.prompt(turn)
        elif pending is not None:
            await turn.reply(turn._(THANKS))
            await turn.engine.replay(turn, pending)
        else:
            await turn.dispatch_intent("menu")
