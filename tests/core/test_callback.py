"""Typed callback data: every kind packs to the wire form it always had, unpacks back, and
refuses what it did not pack (forged, stale, too long)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import pytest

from bot.app import routers
from bot.cases.buttons import (
    AnswerCancel,
    BackToBot,
    CaseAction,
    CaseAnswer,
    CaseFeedback,
    CaseQueue,
    Coordinator,
    ReplyCancel,
    ReportChoice,
    TalkCancel,
    Unanswered,
)
from bot.conversation.framework import FrameworkButton
from bot.conversation.router import Language, MenuIntent
from bot.core.callback import CALLBACK_DATA_LIMIT, CallbackData, CallbackDataError
from bot.core.flow import GoOn
from bot.core.router import Routes
from bot.plans.buttons import (
    CheckChoice,
    CommitmentCard,
    CommitmentEditChoice,
    CommitmentEditOwner,
    CommitmentEditStatus,
    PlanCoach,
    PlanEditChoice,
    PlanStatus,
    ReminderAnswer,
)
from bot.privacy.router import PrivacyAnswer
from bot.review.router import NotHelpful, ReviewLabel
from bot.safety.router import DangerAnswer
from storage.models import CommitmentStatus

# Every kind, with data as it was sent before the kinds existed: old messages keep working.
WIRE = [
    (CaseAction("take", 12), "case:take:12"),
    (CaseAction("to", 12, 7), "case:to:12:7"),
    (CaseQueue(), "cases:open"),
    (CaseQueue("t3"), "cases:t3"),
    (CaseQueue("csv", "mine"), "cases:csv:mine"),
    (Coordinator(4), "coord:4"),
    (BackToBot(99), "casebot:99"),
    (Unanswered("send", 5), "unanswered:send:5"),
    (Unanswered("no"), "unanswered:no"),
    (CaseAnswer(8), "caseans:8"),
    (CaseFeedback(8, "yes"), "casefb:8:yes"),
    (ReportChoice("cat", "conflict"), "report:cat:conflict"),
    (ReportChoice("urg", "high"), "report:urg:high"),
    (ReportChoice("danger"), "report:danger"),
    (TalkCancel(), "talk:cancel"),
    (AnswerCancel(), "caseans:cancel"),
    (ReplyCancel(), "case_reply:cancel"),
    (ReminderAnswer("later", 31), "rem:later:31"),
    (PlanStatus(2), "pstatus:2"),
    (PlanCoach("new"), "pcoach:new"),
    (PlanCoach("open", 2), "pcoach:open:2"),
    (PlanCoach("owner", 2, 40), "pcoach:owner:2:40"),
    (CommitmentCard(40), "pcm:40"),
    (CommitmentCard(40, "due"), "pcm:40:due"),
    (CheckChoice("blocked"), "plan_check:blocked"),
    (PlanEditChoice("finish"), "plan_edit:finish"),
    (CommitmentEditChoice("t"), "cedit:t"),
    (CommitmentEditStatus(CommitmentStatus.DONE), "cedit:s:done"),
    (CommitmentEditOwner(6), "cedit:a:6"),
    (ReviewLabel(3, "sociogram"), "rv:3:sociogram"),
    (NotHelpful(77), "nothelp:77"),
    (DangerAnswer("yes", 77), "danger:yes:77"),
    (MenuIntent("talk_to_coach"), "intent:talk_to_coach"),
    (FrameworkButton("ack"), "framework:ack"),
    (FrameworkButton("lang", "ary-Latn"), "framework:lang:ary-Latn"),
    (GoOn("leave"), "flowgo:leave"),
    (Language("ary"), "lang:ary"),
    (PrivacyAnswer("forget", "yes"), "privacy:forget:yes"),
]


@pytest.mark.parametrize(("button", "data"), WIRE, ids=[d for _, d in WIRE])
def test_round_trip_keeps_the_wire_format(button: CallbackData, data: str) -> None:
    assert button.pack() == data
    assert type(button).unpack(data) == button
    assert type(button).parse(data) == button


def test_every_routed_kind_is_in_the_table() -> None:
    kinds = {type(button) for button, _ in WIRE}
    for route in Routes(routers()).buttons.values():
        assert route.kind in kinds, route.kind.__name__


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Sample(CallbackData, prefix="smp"):
    number: int
    colour: Colour
    size: Literal["s", "m"]
    note: str | None = None
    flag: bool = False


FORGED = [
    ("smp:1:red:s:hi:1:extra", "extra part"),
    ("smp:1:red", "missing field"),
    ("smq:1:red:s", "wrong prefix"),
    ("smpx:1:red:s", "prefix is only a start of another word"),
    ("1:red:s", "no prefix"),
    ("", "empty"),
    ("smp", "prefix alone"),
    ("smp:x1:red:s", "non-digit id"),
    ("smp:-1:red:s", "negative id"),
    ("smp:+1:red:s", "signed id"),
    ("smp: 1:red:s", "space in id"),
    ("smp:١٢:red:s", "Arabic-Indic digits"),
    ("smp:1:green:s", "not a member of the enum"),
    ("smp:1:red:xl", "not one of the literals"),
    ("smp::red:s", "empty id"),
    ("smp:1:red:s::2", "not a flag"),
    ("smp:1:red:s:" + "é" * 30, "over 64 bytes"),
]


@pytest.mark.parametrize(("data", "why"), FORGED, ids=[w for _, w in FORGED])
def test_forged_data_does_not_unpack(data: str, why: str) -> None:
    assert Sample.unpack(data) is None
    with pytest.raises(CallbackDataError):
        Sample.parse(data)


def test_optional_fields_and_unicode() -> None:
    assert Sample.parse("smp:1:red:s") == Sample(1, Colour.RED, "s")
    assert Sample.parse("smp:1:blue:m::1") == Sample(1, Colour.BLUE, "m", None, True)
    assert Sample(1, Colour.RED, "s", None, True).pack() == "smp:1:red:s::1"
    # Darija in a value is fine, and counted in bytes, not characters.
    darija = Sample(2, Colour.RED, "m", "واخا")
    assert Sample.unpack(darija.pack()) == darija
    assert Sample.unpack(None) is None


@pytest.mark.parametrize(
    "button",
    [
        Sample(1, Colour.RED, "s", "a:b"),  # the separator inside a value
        Sample(1, Colour.RED, "s", "ب" * 30),  # 60 bytes of Arabic, over the limit with the rest
        Sample(-3, Colour.RED, "s"),
        Sample(1, Colour.RED, "xl"),  # type: ignore[arg-type]  # what mypy refuses, pack too
        Sample(1, Colour.RED, "s", ""),  # an empty text would read back as None
    ],
    ids=["separator", "too long", "negative", "not a literal", "empty text"],
)
def test_pack_refuses_what_would_not_come_back(button: Sample) -> None:
    with pytest.raises(CallbackDataError):
        button.pack()


def test_the_limit_is_telegrams() -> None:
    class Long(CallbackData, prefix="l"):
        text: str

    assert CALLBACK_DATA_LIMIT == 64
    assert Long("x" * 62).pack() == "l:" + "x" * 62
    with pytest.raises(CallbackDataError):
        Long("x" * 63).pack()


def test_a_kind_needs_a_prefix_and_supported_fields() -> None:
    with pytest.raises(TypeError):

        class NoPrefix(CallbackData, prefix=""):
            pass

    class Odd(CallbackData, prefix="odd"):
        value: float

    with pytest.raises(TypeError):
        Odd(1.0).pack()


def test_a_kind_is_frozen() -> None:
    button = CaseAction("take", 1)
    with pytest.raises(AttributeError):
        button.case_id = 2  # type: ignore[misc]
