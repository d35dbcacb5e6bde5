"""What a coach does to a case — take, reply, resolve, hand over — whatever the coach uses.

The chat's coach side (`coach_side`) and the web console both call these functions; they
change the case through `lifecycle` (its only writer) and enqueue what the actor and the
other coaches receive. What the coach himself is told is up to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases import alerts, labels, lifecycle
from bot.cases.buttons import CaseAnswer, CaseFeedback
from bot.core.config import Settings
from bot.core.effects import Button, Keyboard
from bot.core.i18n import Translator, translator
from bot.core.telegram_html import escape
from storage.models import Actor, Case, CaseEventKind, CaseStatus, OutboxMessage

if TYPE_CHECKING:
    from bot.core.turn import Turn

CLOSED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


@dataclass
class Desk:
    """Who acts, when, and where the messages the act causes are collected."""

    session: AsyncSession
    coach: Actor
    now: datetime
    settings: Settings
    ref: str  # unique per act: the part of dedup keys that tells two acts apart
    channel: str  # the channel of the files the coach sends
    cause_id: int | None = None  # the coach's chat message behind the act, if any
    sent: list[OutboxMessage] = field(default_factory=list)

    @classmethod
    def of_turn(cls, turn: Turn) -> Desk:
        # Shares the turn's list, so the engine delivers what the act enqueued.
        return cls(
            session=turn.session,
            coach=turn.actor,
            now=turn.now,
            settings=turn.engine.settings,
            ref=str(turn.message.id),
            channel=turn.message.channel,
            cause_id=turn.message.id,
            sent=turn.sent,
        )


class Take(StrEnum):
    TAKEN = "taken"
    ALREADY_TAKEN = "already_taken"
    CLOSED = "closed"


def signature(t: Translator, coach: Actor) -> str:
    """Coaches are never named to actors unless they chose a display name."""
    return (
        escape(coach.coach_signature)
        if coach.coach_signature
        else t.gettext(labels.DEFAULT_SIGNATURE)
    )


async def to_actor(
    desk: Desk,
    case: Case,
    text_for: Callable[[Translator], str],
    buttons_for: Callable[[Translator], Keyboard] | None = None,
    file: alerts.SharedFile | None = None,
    missing_for: Callable[[Translator], str] | None = None,
) -> None:
    """A message to the case's actor, in their variant, from the bot; a file goes as itself
    (`missing_for` says what it was where it cannot go)."""
    actor = await desk.session.get_one(Actor, case.actor_id)
    t = translator(actor.lang)
    desk.sent += await alerts.enqueue_with_file(
        desk.session,
        channel=actor.channel,
        chat_id=actor.chat_id,
        text=text_for(t),
        t=t,
        file=file,
        missing=missing_for(t) if missing_for else None,
        buttons=buttons_for(t) if buttons_for else (),
        now=desk.now,
        actor_id=actor.id,
        cause_id=desk.cause_id,
    )


async def _tell_taken(desk: Desk, change: lifecycle.Change) -> None:
    """Whoever else was alerted about a case this act took is told who took it."""
    if change.has(CaseEventKind.ACKNOWLEDGED):
        desk.sent += await alerts.tell_taken(
            desk.session, change.case, desk.coach, desk.settings, desk.now
        )


async def take(desk: Desk, case: Case) -> Take:
    try:
        change = lifecycle.take(desk.session, case, desk.coach, desk.now)
    except lifecycle.Refused as refused:
        if refused.reason == lifecycle.Refusal.ALREADY_TAKEN:
            return Take.ALREADY_TAKEN
        return Take.CLOSED
    await _tell_taken(desk, change)
    await to_actor(
        desk,
        case,
        lambda t: t.gettext(
            "A coach has taken up your case #{number} and will answer you here.",
            number=case.id,
        ),
    )
    return Take.TAKEN


async def resolve(desk: Desk, case: Case) -> bool:
    """False if the case was already resolved; otherwise the actor is asked for feedback."""
    try:
        change = lifecycle.resolve(desk.session, case, desk.coach, desk.now)
    except lifecycle.Refused:
        return False
    await _tell_taken(desk, change)
    await to_actor(
        desk,
        case,
        lambda t: t.gettext(
            "The coach has marked your case #{number} as resolved. Did the answer help you?",
            number=case.id,
        ),
        lambda t: (
            (
                Button(t.gettext("Yes, it helped"), CaseFeedback(case.id, "yes").pack()),
                Button(t.gettext("No, not really"), CaseFeedback(case.id, "no").pack()),
            ),
        ),
    )
    return True


async def handover_candidates(session: AsyncSession, coach: Actor) -> list[Actor]:
    return await alerts.coaches(session, Actor.id != coach.id)


async def handover(desk: Desk, case: Case, coach_id: int) -> Actor | None:
    """Give the case to another coach, who receives its card; None if no such coach."""
    try:
        _change, coach = await lifecycle.hand_over(
            desk.session, case, desk.coach, desk.now, coach_id
        )
    except lifecycle.Refused:
        return None
    giver = escape(desk.coach.display_name)

    async def render(t: Translator) -> str:
        heading = t.gettext(alerts.HANDOVER_HEADING, coach=giver)
        return await alerts.case_card(desk.session, case, t, heading)

    key = f"case:{case.id}:handover:{desk.ref}"
    desk.sent += await alerts.send(
        desk.session,
        [alerts.Recipient.of(coach)],
        desk.now,
        key,
        render,
        lambda t: alerts.coach_buttons(t, case.id),
        about_id=case.actor_id,
    )
    desk.sent += await alerts.send_case_files(
        desk.session, case, [alerts.Recipient.of(coach)], desk.now, key
    )
    return coach


async def relay(desk: Desk, case: Case, text: str, file: tuple[str, str] | None = None) -> None:
    """The coach's words reach the actor from the bot, signed, with the case number."""
    change = lifecycle.reply(desk.session, case, desk.coach, desk.now, text, file)
    await _tell_taken(desk, change)
    coach = desk.coach

    def render(t: Translator) -> str:
        lines = [
            t.gettext(
                "💬 <b>{signature}</b>, about your case #{number}:",
                signature=signature(t, coach),
                number=case.id,
            )
        ]
        if text:
            lines.append(escape(text))
        return "\n".join(lines)

    await to_actor(
        desk,
        case,
        render,
        lambda t: ((Button(t.gettext("Reply to the coach"), CaseAnswer(case.id).pack()),),),
        file=alerts.SharedFile(file[0], file[1], desk.channel) if file else None,
        missing_for=lambda t: t.gettext(
            "📎 The coach also sent a file ({kind}); it is kept with your case.",
            kind=escape(file[0] if file else ""),
        ),
    )
