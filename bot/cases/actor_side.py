"""What local actors do with cases: report a problem, ask for a coach, answer a coach,
say whether the answer helped, and send on a question the bot could not answer.

Words meant for the coach. Once a coach has written to an actor, the actor usually just
answers, without pressing "Reply to the coach" first. So, outside any flow:

- in "reply to the coach" mode (the `caseans` flow, after that button), the next message
  of any kind goes to the case;
- a file (photo, voice note, document) goes to the actor's active case even before a
  coach has written on it, so that it shows on the case's card;
- otherwise, for 24 hours after a coach's last message on an active case (open, taken or
  in progress) of this actor, a text or file is relayed to that case (the one the coach
  wrote on last) and acknowledged "sent to your coach (case #N)" — unless the
  understanding layer is confident (score >= FOR_THE_BOT_SCORE) that it is a question for
  the bot itself: a knowledge topic, or the actor's plan or committee commitments. Thanks,
  greetings, "I have a problem" and everything not understood go to the coach: in a
  conversation with a coach they are most likely words for them.
- The acknowledgement has a button "It was for the hotline": the coach is told to ignore
  that message, the case keeps it marked as withdrawn, and the bot handles the message as
  it would have (it is never relayed twice).

Commands, buttons and emergencies are never relayed: the engine handles them first, and
a message that opens a new call waits for the framework as always, then is relayed.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any, TypedDict

from sqlalchemy import Select, bindparam, select

from bot.cases import alerts, labels, lifecycle, routing
from bot.cases.buttons import (
    AnswerCancel,
    BackToBot,
    CaseAnswer,
    CaseFeedback,
    ReportChoice,
    TalkCancel,
    Unanswered,
)
from bot.cases.message_flow import OneMessageFlow, attachment_of
from bot.cases.service import open_case
from bot.core.effects import Button, Keyboard
from bot.core.flow import Flow, step
from bot.core.i18n import N_
from bot.core.router import Router
from bot.core.telegram_html import escape, escape_clip
from bot.core.turn import FlowStart, Turn
from bot.nlu import lexicon
from bot.nlu.normalize import key_set, tokens
from storage.models import (
    Actor,
    Case,
    CaseCategory,
    CaseEvent,
    CaseEventKind,
    CaseSeverity,
    CaseStatus,
    InboundKind,
    InboundMessage,
    UtcDateTime,
)

router = Router("cases-actor")

# Categories an actor picks from; emergencies go through their own button.
REPORT_CATEGORIES = (
    CaseCategory.BLOCKED_ACTION,
    CaseCategory.CONFLICT,
    CaseCategory.MISSING_MEANS,
    CaseCategory.INSTITUTIONAL,
    CaseCategory.IDEA,
    CaseCategory.QUESTION,
)
# The guided report's text steps, in order, with their question.
REPORT_STEPS = (
    ("what", N_("What happened? Describe the problem in a few words.")),
    ("who", N_("Who is involved (people, association, institution)?")),
    ("since", N_("Since when has it been going on?")),
    ("tried", N_("What has already been tried to solve it?")),
)
# An idea or a question is not a problem: one question, no urgency.
SHORT_REPORTS: dict[str, tuple[tuple[str, str], ...]] = {
    CaseCategory.IDEA: (("what", N_("What is your idea? Describe it in a few words.")),),
    CaseCategory.QUESTION: (("what", N_("What is your question for the coach?")),),
}
# A message that opened the report with at least this many content words already
# describes the problem: it is not asked for again.
DESCRIBED_WORDS = 3
NOT_FOUND = N_("I cannot find this case among yours.")

# How long after a coach's message the actor's free words go to that coach.
RELAY_WINDOW = timedelta(hours=24)
# From this confidence, a question about a knowledge topic or the actor's plan stays with
# the bot (a sure "what is a sociogram?" is for the knowledge base, not the coach).
FOR_THE_BOT_SCORE = 0.75
BOT_ACTIONS = frozenset({"check_action_plan", "commitment_status"})
ACTIVE = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)


def _remember(turn: Turn, key: str, value: Any) -> None:
    """Store in the flow's data without mutating the loaded JSON in place (which the ORM
    would not see as a change)."""
    assert turn.flow is not None
    data = dict(turn.flow.data)
    if key == "files":
        data["files"] = [*data.get("files", []), value]
    else:
        data["answers"] = {**data.get("answers", {}), key: value}
    turn.flow.data = data


async def _confirm_opened(turn: Turn, case: Case) -> None:
    await turn.reply(
        turn._(
            "Thank you. Your request is registered as case <b>#{number}</b>: quote this "
            "number whenever you write about it. A coach has been alerted and will answer "
            "you here, through the hotline.",
            number=case.id,
        ),
        ((Button(turn._("Add a message for the coach"), CaseAnswer(case.id).pack()),),),
    )


class ReportStart(FlowStart, flow="report"):
    pass


class TalkStart(FlowStart, flow="talk"):
    pass


class AnswerStart(FlowStart, flow="caseans"):
    case_id: int


class ReportState(TypedDict, total=False):
    answers: dict[str, str]  # step -> what the person wrote
    files: list[list[str]]  # [kind, file id] of each file sent along
    category: str


class ReportFlow(Flow[ReportStart, ReportState]):
    """report_problem: category, four skippable questions (one for an idea or a question,
    none already answered by the words that opened it), urgency, then a case number."""

    name = "report"
    intent = "report_problem"
    answers_questions = True
    text_steps = frozenset(name for name, _ in REPORT_STEPS)
    left_text = N_("All right, we leave it there: nothing was sent to the coach.")
    resume_question = N_("Shall we go on with your report?")

    async def start(self, turn: Turn, params: ReportStart) -> None:
        assert turn.flow is not None
        answers = {}
        if turn.message.kind == InboundKind.TEXT and _describes(turn.text):
            answers["what"] = turn.text  # "the mayor blocks our project": already said
        self.save(turn, {"answers": answers, "files": []})
        turn.goto("category")
        await self.prompt(turn)

    def _steps(self, turn: Turn) -> tuple[tuple[str, str], ...]:
        assert turn.flow is not None
        return SHORT_REPORTS.get(self.state(turn).get("category", ""), REPORT_STEPS)

    async def _next(self, turn: Turn, after: str | None) -> None:
        """Ask the next question not yet answered, or finish."""
        assert turn.flow is not None
        names = [name for name, _ in self._steps(turn)]
        answered = self.state(turn).get("answers", {})
        start = names.index(after) + 1 if after in names else 0
        for name in names[start:]:
            if name not in answered:
                turn.goto(name)
                await self.prompt(turn)
                return
        if self.state(turn).get("category") in SHORT_REPORTS:
            await self._open(turn, CaseSeverity.NORMAL)
            return
        turn.goto("urgency")
        await self.prompt(turn)

    def _category_keyboard(self, turn: Turn) -> Keyboard:
        rows = [
            (Button(labels.label(turn.t, labels.CATEGORY, c), ReportChoice("cat", c).pack()),)
            for c in REPORT_CATEGORIES
        ]
        rows.insert(0, (Button(turn._("🚨 Someone is in danger"), ReportChoice("danger").pack()),))
        return tuple(rows)

    def _skip(self, turn: Turn) -> Keyboard:
        return ((Button(turn._("Skip"), ReportChoice("skip").pack()),),)

    async def prompt(self, turn: Turn) -> None:
        assert turn.flow is not None
        step = turn.flow.step
        if step == "category":
            await turn.reply(
                turn._("Let us note your problem for the coach. What is it about?"),
                self._category_keyboard(turn),
            )
        elif step == "urgency":
            await turn.reply(
                turn._("How urgent is it?"),
                (
                    (Button(turn._("Urgent: it cannot wait"), ReportChoice("urg", "high").pack()),),
                    (
                        Button(
                            turn._("It can wait a few days"), ReportChoice("urg", "normal").pack()
                        ),
                    ),
                ),
            )
        else:
            question = dict(self._steps(turn)).get(step) or dict(REPORT_STEPS)[step]
            await turn.reply(turn._(question), self._skip(turn))

    @step("category")
    async def on_category(self, turn: Turn) -> None:
        assert turn.flow is not None
        pressed = ReportChoice.unpack(turn.message.button)
        if pressed is not None and pressed.choice == "danger":
            turn.end_flow()
            await turn.dispatch_intent("emergency_case")  # bot/safety
            return
        category = pressed.value if pressed is not None and pressed.choice == "cat" else None
        if category not in REPORT_CATEGORIES:
            await turn.reply(
                turn._("Please choose one of the buttons below; /cancel to stop."),
                self._category_keyboard(turn),
            )
            return
        self.save(turn, {**self.state(turn), "category": category})
        await self._next(turn, None)

    @step(*(name for name, _ in REPORT_STEPS))
    async def _text_step(self, turn: Turn) -> None:
        assert turn.flow is not None
        step = turn.flow.step
        if (file := attachment_of(turn)) is not None:
            _remember(turn, "files", list(file))
            await turn.reply(turn._("Received, it goes with your report."), self._skip(turn))
            return
        skipped = self.owns_button(turn)  # "Skip", or a button of an earlier question
        if not skipped and turn.message.kind != InboundKind.TEXT:
            await self.prompt(turn)
            return
        if not skipped and turn.text:
            _remember(turn, step, turn.text)
        await self._next(turn, step)

    @step("urgency")
    async def on_urgency(self, turn: Turn) -> None:
        assert turn.flow is not None
        pressed = ReportChoice.unpack(turn.message.button)
        urgency = pressed.value if pressed is not None and pressed.choice == "urg" else None
        if urgency not in ("high", "normal"):
            await turn.reply(turn._("Please answer with one of the buttons."))
            await self.prompt(turn)
            return
        await self._open(turn, CaseSeverity.HIGH if urgency == "high" else CaseSeverity.NORMAL)

    async def _open(self, turn: Turn, severity: str) -> None:
        assert turn.flow is not None
        data = self.state(turn)
        answers = data["answers"]
        turn.end_flow()
        files = [(k, f) for k, f in data.get("files", [])]
        said = "\n".join(v for v in answers.values() if v)
        if await _added_to_open_case(turn, said, files):
            return
        case = await open_case(
            turn.session,
            now=turn.now,
            actor=turn.actor,
            category=data["category"],
            summary=answers.get("what", ""),
            severity=severity,
            attachments=files,
            settings=turn.engine.settings,
            sent=turn.sent,
            lang=turn.lang,
            details={"answers": {k: v for k, v in answers.items() if k != "what"}},
        )
        await _confirm_opened(turn, case)


class TalkFlow(OneMessageFlow[TalkStart]):
    """talk_to_coach: one message (text or file) that becomes a case for a coach."""

    name = "talk"
    intent = "talk_to_coach"
    cancel_button = TalkCancel

    async def prompt(self, turn: Turn) -> None:
        await turn.reply(
            turn._(
                "Write your message for the coach: what it is about, and what you expect. "
                "A coach will answer you here."
            ),
            ((Button(turn._("Cancel"), TalkCancel().pack()),),),
        )

    async def take(self, turn: Turn, file: tuple[str, str] | None) -> None:
        turn.end_flow()
        if await _added_to_open_case(turn, turn.text, [file] if file else []):
            return
        case = await open_case(
            turn.session,
            now=turn.now,
            actor=turn.actor,
            category=CaseCategory.QUESTION,
            summary=turn.text,
            source_message_id=turn.message.id,
            attachments=[file] if file else [],
            settings=turn.engine.settings,
            sent=turn.sent,
            lang=turn.lang,
        )
        await _confirm_opened(turn, case)


class AnswerFlow(OneMessageFlow[AnswerStart]):
    """The actor's next message goes to the coach of their case."""

    name = "caseans"
    cancel_button = AnswerCancel

    async def start(self, turn: Turn, params: AnswerStart) -> None:
        await self.begin(turn, params.case_id)

    async def prompt(self, turn: Turn) -> None:
        assert turn.flow is not None
        await turn.reply(
            turn._(
                "Write your message for the coach (case #{number}). You can also send a "
                "photo, a document or a voice note.",
                number=self.state(turn)["case"],
            ),
            ((Button(turn._("Cancel"), AnswerCancel().pack()),),),
        )

    async def take(self, turn: Turn, file: tuple[str, str] | None) -> None:
        assert turn.flow is not None
        case = await own_case(turn, self.state(turn)["case"])
        turn.end_flow()
        if case is None:
            await turn.reply(turn._(NOT_FOUND))
            return
        await relay_to_coach(turn, case, turn.text, file)
        await turn.reply(
            turn._("Sent to the coach (case #{number}).", number=case.id),
        )


router.flow(ReportFlow())
router.flow(TalkFlow())
router.flow(AnswerFlow())


async def own_case(turn: Turn, case_id: object) -> Case | None:
    """The case if it is this actor's, else None: nobody sees another actor's case."""
    try:
        number = int(str(case_id))
    except ValueError:
        return None
    case = await turn.session.get(Case, number)
    if case is None or case.actor_id != turn.actor.id:
        return None
    return case


async def relay_to_coach(
    turn: Turn, case: Case, text: str, file: tuple[str, str] | None, part: int = 0
) -> None:
    """Store what the actor said in the case and pass it to the coach (or the group);
    `part` tells apart several pieces relayed from one message."""
    lifecycle.relay(turn.session, case, turn.actor, turn.now, text, file, turn.message.id)
    recipients = await _case_recipients(turn, case)

    async def render(t: Any) -> str:
        lines = [
            t.gettext(
                "💬 <b>Case #{number}</b>: {name} writes:",
                number=case.id,
                name=escape(turn.actor.display_name or "?"),
            )
        ]
        if text:
            lines.append(escape(text))
        return "\n".join(lines)

    turn.sent += await alerts.send(
        turn.session,
        recipients,
        turn.now,
        f"case:{case.id}:in:{turn.message.id}" + (f":{part}" if part else ""),
        render,
        lambda t: alerts.reply_buttons(t, case.id),
        file=alerts.SharedFile(file[0], file[1], turn.message.channel) if file else None,
        about_id=case.actor_id,
    )


async def _case_recipients(turn: Turn, case: Case) -> list[alerts.Recipient]:
    """The coach of the case, or whoever stands in when it has none."""
    coach = await turn.session.get(Actor, case.coach_id) if case.coach_id else None
    if coach is not None:
        return [alerts.Recipient.of(coach)]
    return await alerts.fallback(turn.session, turn.engine.settings)


# -- free words for the coach (see the module docstring) --------------------------------------


def for_the_bot(turn: Turn) -> bool:
    """The understanding layer is sure this text asks the bot itself something."""
    understanding = turn.understanding
    if understanding is None or understanding.score < FOR_THE_BOT_SCORE:
        return False
    entry = turn.engine.understander.entry(understanding.intent)
    return understanding.intent in BOT_ACTIONS or (entry is not None and entry.kind == "topic")


@cache
def _talking_case_query() -> Select[int]:
    """Built once: building it cost more than running it (a cached statement also hits
    SQLAlchemy's compiled cache)."""
    return (
        select(CaseEvent.case_id)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            Case.actor_id == bindparam("actor_id"),
            Case.status.in_(ACTIVE),
            CaseEvent.kind == CaseEventKind.MESSAGE_OUT,
            CaseEvent.at >= bindparam("since", type_=UtcDateTime()),
        )
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(1)
    )


async def talking_case(turn: Turn) -> Case | None:
    """The active case of this actor a coach wrote on last, within the relay window."""
    case_id = await turn.session.scalar(
        _talking_case_query(), {"actor_id": turn.actor.id, "since": turn.now - RELAY_WINDOW}
    )
    return await turn.session.get(Case, case_id) if case_id is not None else None


@cache
def _words(*names: str) -> frozenset[str]:
    """Normalised words of lists in knowledge/lexicon/ (function words, asking words)."""
    return frozenset().union(*(key_set(lexicon.words(name)) for name in names))


def _describes(text: str, asking: tuple[str, ...] = ("asking_to_report.txt",)) -> bool:
    """The text says what it is about, beyond "I want to report a problem" (or "to talk
    to a coach")."""
    empty = _words("function_words.txt", *asking)
    content = [w for w in tokens(text) if w not in empty]
    return len(content) >= DESCRIBED_WORDS


async def _added_to_open_case(
    turn: Turn, text: str, files: list[tuple[str, str]] | list[list[str]]
) -> bool:
    """A second request while a case is open with the coach it would go to joins that case
    (the coach sees one conversation, not two cases); True when it did."""
    case = await active_case(turn)
    if case is None or case.category == CaseCategory.EMERGENCY:
        return False
    where = await routing.route(turn.session, turn.actor)
    if (where.coach.id if where.coach else None) != case.coach_id:
        return False
    pieces: list[tuple[str, tuple[str, str] | None]] = [(text, None)] if text else []
    pieces += [("", (str(kind), str(file_id))) for kind, file_id in files]
    for part, (said, file) in enumerate(pieces):
        await relay_to_coach(turn, case, said, file, part)
    await turn.reply(
        turn._(
            "Added to your case <b>#{number}</b>, which is still open: the coach sees it "
            "with the rest.",
            number=case.id,
        ),
        ((Button(turn._("Add a message for the coach"), CaseAnswer(case.id).pack()),),),
    )
    return True


async def active_case(turn: Turn) -> Case | None:
    """The actor's latest case still open (not resolved), if any."""
    return await turn.session.scalar(
        select(Case)
        .where(Case.actor_id == turn.actor.id, Case.status.in_(ACTIVE))
        .order_by(Case.id.desc())
        .limit(1)
    )


async def _events_about(turn: Turn, message: InboundMessage, kind: str) -> list[CaseEvent]:
    """Case events of this actor's cases that carry this message (relayed, withdrawn)."""
    events = (
        await turn.session.scalars(
            select(CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(
                Case.actor_id == turn.actor.id,
                CaseEvent.kind == kind,
                CaseEvent.at >= message.received_at,
            )
            .order_by(CaseEvent.id)
        )
    ).all()
    return [e for e in events if (e.details or {}).get("message_id") == message.id]


@router.take
async def words_for_the_coach(turn: Turn) -> bool:
    """Relay the actor's text or file to the case a coach is talking about with them."""
    if turn.actor.is_coach:
        return False
    file = attachment_of(turn)
    if file is None:
        # Commands, empty and oversized texts have no understanding: not words for a coach.
        if turn.message.kind != InboundKind.TEXT or turn.understanding is None:
            return False
        if for_the_bot(turn):
            return False
    case = await talking_case(turn)
    if case is None and file is not None:
        # A photo or voice note needs no coach to have written first: it belongs with the
        # case the person has open, where the coach will see it.
        case = await active_case(turn)
    if case is None or await _events_about(turn, turn.message, CaseEventKind.MESSAGE_IN):
        return False  # no conversation, or already relayed once and taken back
    await relay_to_coach(turn, case, turn.text, file)
    await turn.reply(
        turn._("➡️ Sent to your coach (case #{number}).", number=case.id),
        (
            (
                Button(
                    turn._("It was for the hotline, not the coach"),
                    BackToBot(turn.message.id).pack(),
                ),
            ),
        ),
    )
    return True


@router.button(BackToBot)
async def back_to_the_bot(turn: Turn, button: BackToBot) -> None:
    """ "It was for the hotline": the coach may ignore it; the bot answers it instead."""
    message = await turn.session.get(InboundMessage, button.message_id)
    relayed = await _events_about(turn, message, CaseEventKind.MESSAGE_IN) if message else []
    if message is None or message.actor_id != turn.actor.id or not relayed:
        await turn.reply(turn._("This button is no longer active."))
        return
    case = await turn.session.get_one(Case, relayed[0].case_id)
    try:
        await lifecycle.withdraw(turn.session, case, turn.actor, turn.now, message.id, message.text)
    except lifecycle.Refused:
        await turn.reply(turn._("This message is already back with the hotline."))
        return
    name = escape(turn.actor.display_name or "?")
    quoted = escape_clip(message.text or message.attachment_kind or "", 200)

    async def render(t: Any) -> str:
        return t.gettext(
            "↩️ <b>Case #{number}</b>: {name} says the message “{message}” was meant for the "
            "hotline, not for you. No need to answer it.",
            number=case.id,
            name=name,
            message=quoted,
        )

    turn.sent += await alerts.send(
        turn.session,
        await _case_recipients(turn, case),
        turn.now,
        f"case:{case.id}:withdrawn:{message.id}",
        render,
        about_id=case.actor_id,
    )
    await turn.engine.replay(turn, message.id)


@router.intent("report_problem")
async def report_problem(turn: Turn) -> None:
    await turn.start_flow(ReportStart())


@router.intent("talk_to_coach")
async def talk_to_coach(turn: Turn) -> None:
    if turn.message.kind == InboundKind.TEXT and _describes(
        turn.text, ("asking_to_report.txt", "asking_for_a_coach.txt")
    ):
        # "I'd like a coach to call me back about the memorandum": the request is already
        # said; asking for it again would be the bot not listening.
        await TalkFlow().take(turn, None)
        return
    await turn.start_flow(TalkStart())


NOT_SENT = N_("All right. Ask me something else whenever you like.")


@router.button(Unanswered, stale=NOT_SENT)
async def unanswered_button(turn: Turn, button: Unanswered) -> None:
    """The knowledge base had no answer: the actor may send the question to a coach."""
    if button.answer != "send" or button.message_id is None:
        await turn.reply(turn._(NOT_SENT))
        return
    message = await turn.session.get(InboundMessage, button.message_id)
    if message is None or message.actor_id != turn.actor.id:
        await turn.dispatch_intent("talk_to_coach")
        return
    existing = await turn.session.scalar(
        select(Case).where(Case.source_message_id == message.id, Case.actor_id == turn.actor.id)
    )
    if existing is not None:
        await turn.reply(
            turn._("This question is already with a coach (case #{number}).", number=existing.id)
        )
        return
    file = (message.attachment_kind or "file", message.file_id) if message.file_id else None
    case = await open_case(
        turn.session,
        now=turn.now,
        actor=turn.actor,
        category=CaseCategory.QUESTION,
        summary=message.text or "",
        source_message_id=message.id,
        attachments=[file] if file else [],
        settings=turn.engine.settings,
        sent=turn.sent,
        lang=turn.lang,
    )
    await _confirm_opened(turn, case)


@router.button(CaseAnswer, stale=NOT_FOUND)
async def answer_button(turn: Turn, button: CaseAnswer) -> None:
    case = await own_case(turn, button.case_id)
    if case is None:
        await turn.reply(turn._(NOT_FOUND))
        return
    await turn.start_flow(AnswerStart(case_id=case.id))


@router.button(CaseFeedback, stale=NOT_FOUND)
async def feedback_button(turn: Turn, button: CaseFeedback) -> None:
    case = await own_case(turn, button.case_id)
    if case is None:
        await turn.reply(turn._(NOT_FOUND))
        return
    try:
        lifecycle.feedback(turn.session, case, turn.actor, turn.now, button.helped == "yes")
    except lifecycle.Refused:
        # The case was reopened since (or never resolved): the question no longer stands.
        await turn.reply(turn._("This button is no longer active."))
        return
    if case.helpful:
        await turn.reply(turn._("Thank you! Glad it helped. You can write again at any time."))
    else:
        await turn.reply(
            turn._("Thank you for saying so. You can tell the coach what is still missing."),
            ((Button(turn._("Write to the coach"), CaseAnswer(case.id).pack()),),),
        )


@router.command("mycases", "mesdemandes")
async def my_cases(turn: Turn, _argument: str) -> None:
    cases = (
        await turn.session.scalars(
            select(Case).where(Case.actor_id == turn.actor.id).order_by(Case.id.desc()).limit(10)
        )
    ).all()
    if not cases:
        await turn.reply(turn._("You have no case with the coaches yet."))
        return
    lines = [turn._("<b>Your cases</b>")]
    for case in cases:
        category = labels.label(turn.t, labels.CATEGORY, case.category)
        status = labels.label(turn.t, labels.STATUS, case.status)
        when = turn.t.datetime(case.opened_at, "short")
        lines.append(f"#{case.id} · {category} · {status} · {when}")
    await turn.reply("\n".join(lines))
