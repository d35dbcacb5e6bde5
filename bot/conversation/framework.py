"""Every call opens with the framework of the line, acknowledged with a button.

The first call shows it in full (with a choice of language); later calls a short reminder
with a way to read it all. Typed "ok", "d'accord", "wakha", "واخا" acknowledge it too.
Whatever the actor writes before acknowledging (what opened the call, and what they add
while reading) is held, then answered in order.
"""

from __future__ import annotations

from typing import Any

from bot.core.effects import Button, Keyboard
from bot.core.flow import Flow
from bot.core.i18n import N_, Translator
from bot.core.leaving import acknowledges
from bot.core.turn import Turn
from storage.models import FrameworkText, InboundKind

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
PLEASE_ACK = N_("To go on, please confirm the framework with the button below (or write “ok”).")
KEPT = N_(
    "I have noted your message and will answer it right after. To go on, please confirm the "
    "framework with the button below (or write “ok”)."
)
THANKS = N_("Thank you. I am listening.")
# Messages written before the framework is acknowledged are all answered afterwards.
MAX_PENDING = 5
# Greetings and thanks written while waiting need no answer of their own after the framework.
NOT_KEPT = frozenset({"greeting", "goodbye", "thanks", "acknowledge"})
VARIANT_NAMES = {"fr": "Français", "ary": "الدارجة", "ary-Latn": "Darija (b l7rouf)"}


def keyboard(t: Translator, with_full: bool, with_languages: bool = False) -> Keyboard:
    rows: list[tuple[Button, ...]] = [(Button(t.gettext(ACK), "framework:ack"),)]
    if with_full:
        rows.append((Button(t.gettext(READ_FULL), "framework:full"),))
    if with_languages:
        # Someone arriving by an invitation link may not read the variant of their app.
        rows.append(tuple(Button(name, f"framework:lang:{v}") for v, name in VARIANT_NAMES.items()))
    return tuple(rows)


def _pending_ids(data: dict[str, Any]) -> list[int]:
    pending = data.get("pending")
    if pending is None:
        return []
    return [int(p) for p in pending] if isinstance(pending, list) else [int(pending)]


class FrameworkFlow(Flow):
    name = "framework"

    async def start(self, turn: Turn, pending: int | None = None, **_params: Any) -> None:
        assert turn.flow is not None
        turn.flow.data = {"pending": [], "langs": {}}
        if pending is not None:
            self._keep(turn, pending)
        turn.goto("ack")
        await self.prompt(turn)

    def _keep(self, turn: Turn, message_id: int) -> None:
        assert turn.flow is not None
        pending = _pending_ids(turn.flow.data)
        if message_id in pending or len(pending) >= MAX_PENDING:
            return
        langs = dict(turn.flow.data.get("langs") or {})
        if turn.message_lang is not None:
            langs[str(message_id)] = turn.message_lang
        turn.flow.data = {**turn.flow.data, "pending": [*pending, message_id], "langs": langs}

    async def prompt(self, turn: Turn) -> None:
        full = turn.call.framework_text == FrameworkText.FULL
        text = FULL_TEXT if full else SHORT_TEXT
        await turn.reply(turn._(text), keyboard(turn.t, with_full=not full, with_languages=full))

    def _acknowledged_in_words(self, turn: Turn) -> bool:
        """ "ok", "d'accord", "wakha", "واخا", "فهمت": typed, they say what the button says."""
        if turn.message.kind != InboundKind.TEXT or not turn.text:
            return False
        if acknowledges(turn.text):
            return True
        understanding = turn.understanding
        return (
            understanding is not None
            and understanding.intent == "acknowledge"
            and understanding.score >= 0.9
            and len(turn.text.split()) <= 3
        )

    def _worth_keeping(self, turn: Turn) -> bool:
        """A question, a file, words for a coach: yes. A greeting, "alors ?", a button: no."""
        if turn.message.kind == InboundKind.BUTTON:
            return False
        understanding = turn.understanding
        if understanding is None:
            return True  # a file, a command
        if understanding.intent in NOT_KEPT:
            return False
        return understanding.intent != "none" or len(turn.text.split()) > 2

    async def on_ack(self, turn: Turn) -> None:
        assert turn.flow is not None
        value = self.button_value(turn)
        if value == "full":
            await turn.reply(turn._(FULL_TEXT), keyboard(turn.t, with_full=False))
            return
        if value is not None and value.startswith("lang:") and value[5:] in VARIANT_NAMES:
            turn.actor.lang = value[5:]
            turn.actor.lang_chosen = True
            await self.prompt(turn)
            return
        if value != "ack" and not self._acknowledged_in_words(turn):
            # Keep what they say while waiting, so it is answered afterwards.
            kept = self._worth_keeping(turn)
            if kept:
                self._keep(turn, turn.message.id)
            await turn.reply(turn._(KEPT if kept else PLEASE_ACK), keyboard(turn.t, with_full=True))
            return
        turn.call.acknowledged_at = turn.now
        pending = _pending_ids(turn.flow.data)
        langs = dict(turn.flow.data.get("langs") or {})
        turn.end_flow()
        if not pending:
            await turn.dispatch_intent("menu")
            return
        await turn.reply(turn._(THANKS))
        for message_id in pending:
            await turn.engine.replay(turn, message_id, lang=langs.get(str(message_id)))
