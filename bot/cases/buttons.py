"""The buttons of cases: what each carries (bot/core/callback.py). Their wire forms are the
ones sent since the first version, so buttons in old messages still work."""

from __future__ import annotations

from typing import Literal

from bot.core.callback import CallbackData


class CaseAction(CallbackData, prefix="case"):
    """A coach's button on a case card: case:<action>:<case>[:<coach handed over to>]."""

    action: Literal["take", "reply", "resolve", "handover", "to", "view"]
    case_id: int
    coach_id: int | None = None


class CaseQueue(CallbackData, prefix="cases"):
    """A coach's queue of cases: cases:<filter or t<territory> or tnone>, or
    cases:csv:<filter> for its export."""

    which: str = "open"
    export_of: str | None = None


class Coordinator(CallbackData, prefix="coord"):
    """An admin switches a coach's coordinator flag: coord:<coach>."""

    coach_id: int


class BackToBot(CallbackData, prefix="casebot"):
    """ "It was for the hotline, not the coach": casebot:<message relayed>."""

    message_id: int


class Unanswered(CallbackData, prefix="unanswered"):
    """No answer in the knowledge base: unanswered:send:<message> or unanswered:no."""

    answer: Literal["send", "no"]
    message_id: int | None = None


class CaseAnswer(CallbackData, prefix="caseans"):
    """The actor adds a message for the coach of a case: caseans:<case>."""

    case_id: int


class CaseFeedback(CallbackData, prefix="casefb"):
    """Whether a resolved case helped: casefb:<case>:<yes|no>."""

    case_id: int
    helped: Literal["yes", "no"]


class ReportChoice(CallbackData, prefix="report"):
    """The report flow's buttons: report:danger, report:skip, report:cat:<category>,
    report:urg:<high|normal>."""

    choice: Literal["danger", "skip", "cat", "urg"]
    value: str | None = None


# Cancel in the flows that take one message: <flow>:cancel.
class TalkCancel(CallbackData, prefix="talk:cancel"):
    pass


class AnswerCancel(CallbackData, prefix="caseans:cancel"):
    pass


class ReplyCancel(CallbackData, prefix="case_reply:cancel"):
    pass
