"""The action-plan check: the actor's own open commitments, one by one.

For each: done / in progress / blocked / not started. Done leads to the guide's evaluation
questions (did the means reach the goal, what results, what difficulties, should the action go
on); blocked asks what blocks it and offers to alert the coach (a case). A reminder button
starts the same flow on one commitment with its answer already given ("need more time" asks
for the new date). Every answer is a `CommitmentEvent`; the position is in `turn.flow.data`,
so a restart resumes at the same step and /cancel keeps what was already answered.
"""

from __future__ import annotations

from typing import TypedDict

from bot.cases.service import open_case
from bot.core.clock import local
from bot.core.effects import Button, Keyboard
from bot.core.flow import Flow, step
from bot.core.i18n import N_
from bot.core.telegram_html import escape
from bot.core.turn import FlowStart, Turn
from bot.plans import service
from bot.plans.buttons import CheckChoice
from bot.plans.due_dates import day, from_iso, read_due, show, to_iso
from bot.plans.reminders import due_label, status_label
from storage.models import ActionPlan, CaseCategory, Commitment, CommitmentStatus

NAME = "plan_check"

_STATUS_BUTTONS = (
    ("done", N_("✅ Done")),
    ("in_progress", N_("🔄 In progress")),
    ("blocked", N_("⛔ Blocked")),
    ("not_started", N_("⏸ Not started")),
)
_GOAL_BUTTONS = (("yes", N_("Yes")), ("partly", N_("Partly")), ("no", N_("No")))
_CONTINUE_BUTTONS = (("yes", N_("Yes, continue")), ("no", N_("No, stop it here")))
_SKIP = N_("Skip this question")
_CHOOSE = N_("Please answer with one of the buttons below.")


def _keyboard(turn: Turn, choices: tuple[tuple[str, str], ...]) -> Keyboard:
    return tuple((Button(turn._(label), CheckChoice(value).pack()),) for value, label in choices)


def _skip(turn: Turn) -> Keyboard:
    return ((Button(turn._(_SKIP), CheckChoice("skip").pack()),),)


def _pressed(turn: Turn) -> str | None:
    """The value of this flow's button pressed, or None (text, or another button)."""
    pressed = CheckChoice.unpack(turn.message.button)
    return pressed.value if pressed is not None else None


class PlanCheckStart(FlowStart, flow="plan_check"):
    """All the actor's open commitments, or the one a reminder is about with its answer."""

    commitment_ids: tuple[int, ...] | None = None
    answer: str | None = None


class PlanCheckState(TypedDict, total=False):
    queue: list[int]  # the commitments to go through
    index: int  # the one under way
    eval: dict[str, str | None]  # the evaluation's answers so far
    reason: str  # what blocks it
    reason_message: int
    proposed: str  # a new date, ISO
    proposed_text: str  # as written


class PlanCheckFlow(Flow[PlanCheckStart, PlanCheckState]):
    name = NAME

    async def start(self, turn: Turn, params: PlanCheckStart) -> None:
        assert turn.flow is not None
        answer = params.answer
        commitment_ids = list(params.commitment_ids) if params.commitment_ids is not None else None
        if commitment_ids is None:
            found = await service.open_commitments_of(turn.session, turn.actor.id)
            commitment_ids = [c.id for c in found]
            if not commitment_ids:
                turn.end_flow()
                await turn.reply(
                    turn._(
                        "You have no open action in an action plan under your name. If you "
                        "are responsible for an action that is missing, tell your coach so "
                        "they can add it."
                    )
                )
                return
            await turn.reply(
                turn.t.ngettext(
                    "You have {n} open action. Let us go through it; "
                    "/cancel stops at any time and keeps your answers.",
                    "You have {n} open actions. Let us go through them one by one; "
                    "/cancel stops at any time and keeps your answers.",
                    len(commitment_ids),
                )
            )
        self.save(turn, {"queue": commitment_ids, "index": 0})
        if answer is None:
            turn.goto("status")
            await self.prompt(turn)
            return
        await self._answer(turn, answer)

    # -- helpers --------------------------------------------------------------------------

    async def _current(self, turn: Turn) -> Commitment | None:
        assert turn.flow is not None
        queue: list[int] = self.state(turn)["queue"]
        index: int = self.state(turn)["index"]
        while index < len(queue):
            commitment = await turn.session.get(Commitment, queue[index])
            if commitment is not None and commitment.owner_id == turn.actor.id:
                return commitment
            index += 1  # removed or handed to someone else meanwhile
            self.state(turn)["index"] = index
        return None

    async def _next(self, turn: Turn) -> None:
        assert turn.flow is not None
        self.state(turn)["index"] += 1
        self.state(turn).pop("eval", None)
        turn.goto("status")
        if await self._current(turn) is None:
            turn.end_flow()
            await turn.reply(
                turn._("That is all for now, thank you. Your coach sees these updates.")
            )
            return
        await self.prompt(turn)

    async def prompt(self, turn: Turn) -> None:
        assert turn.flow is not None
        commitment = await self._current(turn)
        if commitment is None:
            await self._next(turn)
            return
        step = turn.flow.step
        what = escape(commitment.what)
        if step == "status":
            plan = await turn.session.get_one(ActionPlan, commitment.plan_id)
            queue = self.state(turn)["queue"]
            lines = [
                f"<b>{self.state(turn)['index'] + 1}/{len(queue)} · {what}</b>",
                turn._("Plan: {plan}", plan=escape(plan.title)),
            ]
            if commitment.where:
                lines.append(turn._("Where: {where}", where=escape(commitment.where)))
            due = due_label(turn.t, commitment)
            if service.is_overdue(commitment, turn.now):
                lines.append(turn._("Due: {due} — late", due=due))
            else:
                lines.append(turn._("Due: {due}", due=due))
            lines.append(
                turn._("Status so far: {status}", status=status_label(turn.t, commitment.status))
            )
            lines += ["", turn._("Where does this action stand?")]
            await turn.reply("\n".join(lines), _keyboard(turn, _STATUS_BUTTONS))
        elif step == "eval_goal":
            await turn.reply(
                turn._(
                    "Well done! A few questions to evaluate “{what}”.\n"
                    "Did the means used reach the goal?",
                    what=what,
                ),
                _keyboard(turn, _GOAL_BUTTONS),
            )
        elif step == "eval_results":
            await turn.reply(turn._("What results did you obtain?"), _skip(turn))
        elif step == "eval_difficulties":
            await turn.reply(turn._("What difficulties did you meet?"), _skip(turn))
        elif step == "eval_continue":
            await turn.reply(turn._("Should the action go on?"), _keyboard(turn, _CONTINUE_BUTTONS))
        elif step == "blocked_reason":
            await turn.reply(
                turn._("What is blocking “{what}”? Describe it in a few words.", what=what)
            )
        elif step == "blocked_coach":
            await turn.reply(
                turn._("Do you want me to alert your coach so they can help unblock it?"),
                (
                    (Button(turn._("Yes, alert the coach"), CheckChoice("coach").pack()),),
                    (Button(turn._("No, thank you"), CheckChoice("nocoach").pack()),),
                ),
            )
        elif step == "new_date":
            await turn.reply(
                turn._(
                    "By when will “{what}” be done? Write the new date, for example "
                    "“15 mars”, “fin avril 2026” or “dans 2 semaines”.",
                    what=what,
                )
            )
        elif step == "confirm_date":
            proposed = from_iso(self.state(turn)["proposed"])
            await turn.reply(
                turn._("New deadline: {due}. Is that right?", due=show(turn, proposed)),
                (
                    (Button(turn._("Yes"), CheckChoice("yes").pack()),),
                    (Button(turn._("No, I will write it again"), CheckChoice("no").pack()),),
                ),
            )

    async def _wrong_input(self, turn: Turn) -> None:
        await turn.reply(turn._(_CHOOSE))
        await self.prompt(turn)

    # -- steps ----------------------------------------------------------------------------

    @step("status")
    async def on_status(self, turn: Turn) -> None:
        value = _pressed(turn)
        if value not in dict(_STATUS_BUTTONS):
            await self._wrong_input(turn)
            return
        await self._answer(turn, value)

    async def _answer(self, turn: Turn, value: str) -> None:
        assert turn.flow is not None
        commitment = await self._current(turn)
        if commitment is None:
            await self._next(turn)
            return
        if value == "blocked":
            turn.goto("blocked_reason")
        elif value == "later":
            turn.goto("new_date")
        elif value == "done":
            await service.set_status(
                turn.session,
                commitment,
                CommitmentStatus.DONE,
                actor=turn.actor,
                now=turn.now,
            )
            self.state(turn)["eval"] = {}
            turn.goto("eval_goal")
        else:
            await service.set_status(
                turn.session, commitment, value, actor=turn.actor, now=turn.now
            )
            await turn.reply(turn._("Noted: {status}.", status=status_label(turn.t, value)))
            await self._next(turn)
            return
        await self.prompt(turn)

    @step("eval_goal")
    async def on_eval_goal(self, turn: Turn) -> None:
        await self._eval_button(turn, "goal", _GOAL_BUTTONS, "eval_results")

    @step("eval_results")
    async def on_eval_results(self, turn: Turn) -> None:
        await self._eval_text(turn, "results", "eval_difficulties")

    @step("eval_difficulties")
    async def on_eval_difficulties(self, turn: Turn) -> None:
        await self._eval_text(turn, "difficulties", "eval_continue")

    @step("eval_continue")
    async def on_eval_continue(self, turn: Turn) -> None:
        await self._eval_button(turn, "continue", _CONTINUE_BUTTONS, None)

    async def _eval_button(
        self, turn: Turn, key: str, choices: tuple[tuple[str, str], ...], then: str | None
    ) -> None:
        assert turn.flow is not None
        value = _pressed(turn)
        if value not in dict(choices):
            await self._wrong_input(turn)
            return
        # A new dict each time: the stored JSON is compared by value, nested edits go unseen.
        self.state(turn)["eval"] = {**self.state(turn)["eval"], key: value}
        if then is not None:
            turn.goto(then)
            await self.prompt(turn)
            return
        commitment = await self._current(turn)
        if commitment is not None:
            await service.record(
                turn.session,
                commitment,
                actor=turn.actor,
                now=turn.now,
                kind="evaluation",
                **self.state(turn)["eval"],
            )
        await turn.reply(turn._("Thank you, your evaluation is recorded."))
        await self._next(turn)

    async def _eval_text(self, turn: Turn, key: str, then: str) -> None:
        assert turn.flow is not None
        if _pressed(turn) == "skip":
            self.state(turn)["eval"] = {**self.state(turn)["eval"], key: None}
        elif turn.message.button is None and turn.text:
            self.state(turn)["eval"] = {**self.state(turn)["eval"], key: turn.text}
        else:
            await turn.reply(turn._("Please write your answer, or skip the question."))
            await self.prompt(turn)
            return
        turn.goto(then)
        await self.prompt(turn)

    @step("blocked_reason")
    async def on_blocked_reason(self, turn: Turn) -> None:
        assert turn.flow is not None
        if turn.message.button is not None or not turn.text:
            await turn.reply(turn._("Please write in a few words what is blocking it."))
            await self.prompt(turn)
            return
        commitment = await self._current(turn)
        if commitment is None:
            await self._next(turn)
            return
        await service.set_status(
            turn.session,
            commitment,
            CommitmentStatus.BLOCKED,
            actor=turn.actor,
            now=turn.now,
            reason=turn.text,
        )
        self.state(turn)["reason"] = turn.text
        self.state(turn)["reason_message"] = turn.message.id
        turn.goto("blocked_coach")
        await self.prompt(turn)

    @step("blocked_coach")
    async def on_blocked_coach(self, turn: Turn) -> None:
        assert turn.flow is not None
        value = _pressed(turn)
        if value not in ("coach", "nocoach"):
            await self._wrong_input(turn)
            return
        commitment = await self._current(turn)
        if commitment is None:
            await self._next(turn)
            return
        if value == "coach":
            reason = self.state(turn).get("reason") or ""
            case = await open_case(
                turn.session,
                now=turn.now,
                actor=turn.actor,
                category=CaseCategory.BLOCKED_ACTION,
                summary=f"{commitment.what}: {reason}",
                plan_id=commitment.plan_id,
                commitment_id=commitment.id,
                source_message_id=self.state(turn).get("reason_message"),
                settings=turn.engine.settings,
            )
            await service.record(
                turn.session, commitment, actor=turn.actor, now=turn.now, kind="case", case=case.id
            )
            await turn.reply(
                turn._(
                    "Your coach is alerted (case #{case}). They will get back to you here.",
                    case=case.id,
                )
            )
        else:
            await turn.reply(turn._("All right. The blockage is noted in the plan."))
        await self._next(turn)

    @step("new_date")
    async def on_new_date(self, turn: Turn) -> None:
        assert turn.flow is not None
        if turn.message.button is not None or not turn.text:
            await self.prompt(turn)
            return
        read = await read_due(turn)
        if read is None:
            return
        _due, proposed = read
        if day(proposed) < local(turn.now).date():
            await turn.reply(turn._("This date is already past. Write a later date."))
            return
        self.state(turn)["proposed"] = to_iso(proposed)
        self.state(turn)["proposed_text"] = turn.text
        turn.goto("confirm_date")
        await self.prompt(turn)

    @step("confirm_date")
    async def on_confirm_date(self, turn: Turn) -> None:
        assert turn.flow is not None
        value = _pressed(turn)
        if value == "no" or (value is None and turn.text):
            turn.goto("new_date")
            if value is None:  # a date written instead of pressing: read it
                await self.on_new_date(turn)
                return
            await self.prompt(turn)
            return
        if value != "yes":
            await self._wrong_input(turn)
            return
        commitment = await self._current(turn)
        if commitment is None:
            await self._next(turn)
            return
        proposed = from_iso(self.state(turn)["proposed"])
        await service.set_due(
            turn.session,
            commitment,
            proposed,
            text=self.state(turn).get("proposed_text", ""),
            actor=turn.actor,
            now=turn.now,
        )
        if commitment.status == CommitmentStatus.NOT_STARTED:
            await service.set_status(
                turn.session,
                commitment,
                CommitmentStatus.IN_PROGRESS,
                actor=turn.actor,
                now=turn.now,
            )
        await turn.reply(
            turn._(
                "Noted: the new deadline is {due}. I will remind you before it.",
                due=show(turn, proposed),
            )
        )
        await self._next(turn)
