"""Coaches create plans and commitments in the chat, and confirm the dates left uncertain.

Steps: ``title`` (a new plan), then per commitment ``what`` → ``where`` → ``due`` (read with
`resolve_due`; an uncertain reading is offered for confirmation) → ``owner`` (matched to a
known actor, else kept as a pending owner) → ``how`` → ``deliverables``; ``confirm`` walks the
commitments whose date needs confirmation. Coaches only: the commands and buttons that start
it check the role.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, TypedDict

from sqlalchemy import select

from bot.core.clock import local
from bot.core.effects import Button, Keyboard
from bot.core.flow import Flow, step
from bot.core.i18n import N_
from bot.core.telegram_html import escape
from bot.core.turn import FlowStart, Turn
from bot.plans import service
from bot.plans.buttons import PlanEditChoice
from bot.plans.dates import DueDate, Reason, resolve_due
from bot.plans.due_dates import from_iso, read_due, show, to_iso
from storage.models import ActionPlan, Commitment, CommitmentStatus

NAME = "plan_edit"
_FIELDS = ("what", "where", "due", "owner", "how", "deliverables")
_QUESTIONS = {
    "what": N_("What is the action (quoi)?"),
    "where": N_("Where does it take place (où)?"),
    "due": N_("When is it due (quand)? Write it as in the plan, e.g. “fin mars 2026”."),
    "owner": N_("Who is responsible (responsable)? Write the person's name."),
    "how": N_("How will it be done (comment)?"),
    "deliverables": N_("What are the deliverables (livrables)?"),
}
_OPTIONAL = ("where", "how", "deliverables")


def _pressed(turn: Turn) -> str | None:
    """The value of this flow's button pressed, or None (text, or another button)."""
    pressed = PlanEditChoice.unpack(turn.message.button)
    return pressed.value if pressed is not None else None


class PlanEditStart(FlowStart, flow="plan_edit"):
    """A new plan (no plan), a commitment added to a plan, or its dates to confirm."""

    plan_id: int | None = None
    mode: Literal["add", "confirm"] = "add"


class PlanEditState(TypedDict, total=False):
    plan_id: int | None
    row: dict[str, str]  # the commitment being written: field -> text (due: ISO date)
    proposed: str  # a due date read from the text, ISO, to confirm
    commitment_id: int  # the commitment whose date is being confirmed
    suggestion: str | None  # the date offered for it, ISO


class PlanEditFlow(Flow[PlanEditStart, PlanEditState]):
    name = NAME

    async def start(self, turn: Turn, params: PlanEditStart) -> None:
        assert turn.flow is not None
        plan_id, mode = params.plan_id, params.mode
        self.save(turn, {"plan_id": plan_id, "row": {}})
        if plan_id is None:
            turn.goto("title")
        elif mode == "confirm":
            turn.goto("confirm")
            if await self._next_unconfirmed(turn) is None:
                turn.end_flow()
                await turn.reply(turn._("Every date of this plan is confirmed."))
                return
        else:
            turn.goto("what")
        await self.prompt(turn)

    async def prompt(self, turn: Turn) -> None:
        assert turn.flow is not None
        step = turn.flow.step
        if step == "title":
            await turn.reply(turn._("New action plan. What is its title (the thématique)?"))
        elif step in _QUESTIONS:
            buttons: Keyboard = ()
            if step in _OPTIONAL:
                buttons = ((Button(turn._("Leave empty"), PlanEditChoice("empty").pack()),),)
            await turn.reply(turn._(_QUESTIONS[step]), buttons)
        elif step == "due_confirm":
            proposed = from_iso(self.state(turn)["proposed"])
            await turn.reply(
                turn._(
                    "I read “{text}” as {due}. Is that right?",
                    text=escape(self.state(turn)["row"]["due_text"]),
                    due=show(turn, proposed),
                ),
                (
                    (Button(turn._("Yes"), PlanEditChoice("yes").pack()),),
                    (Button(turn._("No, I will write it again"), PlanEditChoice("no").pack()),),
                ),
            )
        elif step == "more":
            await turn.reply(
                turn._("Add another commitment to this plan?"),
                (
                    (Button(turn._("Add another"), PlanEditChoice("more").pack()),),
                    (Button(turn._("That is all"), PlanEditChoice("finish").pack()),),
                ),
            )
        elif step == "confirm":
            commitment = await self._next_unconfirmed(turn)
            if commitment is None:
                turn.end_flow()
                await turn.reply(turn._("Every date of this plan is confirmed."))
                return
            suggestion = self.state(turn).get("suggestion")
            text = turn._(
                "<b>{what}</b>\nThe date “{text}” needs confirming. Write the exact date.",
                what=escape(commitment.what),
                text=escape(commitment.due_text),
            )
            buttons = ()
            if suggestion:
                buttons = (
                    (
                        Button(
                            turn._("Use {due}", due=show(turn, from_iso(suggestion))),
                            PlanEditChoice("use").pack(),
                        ),
                    ),
                )
            await turn.reply(text, buttons)

    # -- a new plan -----------------------------------------------------------------------

    @step("title")
    async def on_title(self, turn: Turn) -> None:
        assert turn.flow is not None
        if turn.message.button is not None or not turn.text:
            await self.prompt(turn)
            return
        plan = ActionPlan(
            title=turn.text[:200],
            theme=turn.text[:200],
            coach_id=turn.actor.id,
            territory_id=turn.actor.territory_id,
            reference_date=local(turn.now).date(),
            created_at=turn.now,
        )
        turn.session.add(plan)
        await turn.session.flush()
        self.state(turn)["plan_id"] = plan.id
        await turn.reply(
            turn._("Plan “{plan}” created. Now its first commitment.", plan=escape(plan.title))
        )
        turn.goto("what")
        await self.prompt(turn)

    # -- one commitment, field by field ---------------------------------------------------

    async def _field(self, turn: Turn, name: str) -> None:
        assert turn.flow is not None
        value = _pressed(turn)
        if value == "empty" and name in _OPTIONAL:
            text = ""
        elif turn.message.button is None and turn.text:
            text = turn.text
        else:
            await self.prompt(turn)
            return
        self.state(turn)["row"] = {**self.state(turn)["row"], name: text}
        following = _FIELDS[_FIELDS.index(name) + 1] if name != "deliverables" else None
        if following is None:
            await self._save(turn)
            return
        turn.goto(following)
        await self.prompt(turn)

    @step("what")
    async def on_what(self, turn: Turn) -> None:
        await self._field(turn, "what")

    @step("where")
    async def on_where(self, turn: Turn) -> None:
        await self._field(turn, "where")

    @step("how")
    async def on_how(self, turn: Turn) -> None:
        await self._field(turn, "how")

    @step("deliverables")
    async def on_deliverables(self, turn: Turn) -> None:
        await self._field(turn, "deliverables")

    @step("owner")
    async def on_owner(self, turn: Turn) -> None:
        await self._field(turn, "owner")

    @step("due")
    async def on_due(self, turn: Turn) -> None:
        assert turn.flow is not None
        if turn.message.button is not None or not turn.text:
            await self.prompt(turn)
            return
        read = await read_due(turn)
        if read is None:
            return
        due, proposed = read
        row = {**self.state(turn)["row"], "due_text": turn.text}
        self.state(turn)["proposed"] = to_iso(proposed)
        if due.needs_confirmation:
            self.state(turn)["row"] = row
            turn.goto("due_confirm")
        else:
            self.state(turn)["row"] = {**row, "due": to_iso(proposed)}
            turn.goto("owner")
        await self.prompt(turn)

    @step("due_confirm")
    async def on_due_confirm(self, turn: Turn) -> None:
        assert turn.flow is not None
        value = _pressed(turn)
        if value == "yes":
            self.state(turn)["row"] = {
                **self.state(turn)["row"],
                "due": self.state(turn)["proposed"],
            }
            turn.goto("owner")
        elif value == "no":
            turn.goto("due")
        else:
            await turn.reply(turn._("Please answer with one of the buttons below."))
        await self.prompt(turn)

    async def _save(self, turn: Turn) -> None:
        assert turn.flow is not None
        row = self.state(turn)["row"]
        plan_id = self.state(turn)["plan_id"]
        position = await turn.session.scalar(
            select(Commitment.position)
            .where(Commitment.plan_id == plan_id)
            .order_by(Commitment.position.desc())
            .limit(1)
        )
        owner = await service.match_owner(turn.session, row["owner"])
        due, has_time = service.due_to_storage(from_iso(row["due"]))
        commitment = Commitment(
            plan_id=plan_id,
            position=(position + 1) if position is not None else 0,
            what=row["what"],
            where=row["where"],
            due=due,
            due_has_time=has_time,
            due_text=row["due_text"][:200],
            owner_id=owner.id if owner else None,
            owner_text=row["owner"][:200],
            how=row["how"],
            deliverables=row["deliverables"],
            status=CommitmentStatus.NOT_STARTED,
            created_at=turn.now,
            updated_at=turn.now,
        )
        turn.session.add(commitment)
        await turn.session.flush()
        await service.record(
            turn.session, commitment, actor=turn.actor, now=turn.now, kind="created", source="chat"
        )
        if owner is not None:
            who = turn._("linked to {name}", name=escape(owner.display_name))
        else:
            who = turn._("no one of that name yet: the owner will be linked later")
        await turn.reply(
            turn._(
                "Saved: <b>{what}</b>, due {due}, owner {owner} ({who}).",
                what=escape(commitment.what),
                due=show(turn, from_iso(row["due"])),
                owner=escape(row["owner"]),
                who=who,
            )
        )
        self.state(turn)["row"] = {}
        turn.goto("more")
        await self.prompt(turn)

    @step("more")
    async def on_more(self, turn: Turn) -> None:
        value = _pressed(turn)
        if value == "more":
            turn.goto("what")
            await self.prompt(turn)
        elif value == "finish":
            turn.end_flow()
            await turn.reply(turn._("The plan is saved. /plan shows your plans."))
        else:
            await turn.reply(turn._("Please answer with one of the buttons below."))
            await self.prompt(turn)

    # -- dates to confirm -----------------------------------------------------------------

    async def _next_unconfirmed(self, turn: Turn) -> Commitment | None:
        assert turn.flow is not None
        commitment = await turn.session.scalar(
            select(Commitment)
            .where(
                Commitment.plan_id == self.state(turn)["plan_id"],
                Commitment.due_needs_confirmation.is_(True),
            )
            .order_by(Commitment.position, Commitment.id)
            .limit(1)
        )
        if commitment is None:
            return None
        plan = await turn.session.get_one(ActionPlan, commitment.plan_id)
        due = resolve_due(commitment.due_text, plan.reference_date)
        proposed = service.proposed_due(due)
        self.state(turn)["commitment_id"] = commitment.id
        self.state(turn)["suggestion"] = to_iso(proposed) if proposed is not None else None
        return commitment

    @step("confirm")
    async def on_confirm(self, turn: Turn) -> None:
        assert turn.flow is not None
        commitment = await self._next_unconfirmed(turn)
        if commitment is None:
            await self.prompt(turn)
            return
        suggestion = self.state(turn).get("suggestion")
        if _pressed(turn) == "use" and suggestion:
            value = from_iso(suggestion)
        elif turn.message.button is None and turn.text:
            plan = await turn.session.get_one(ActionPlan, commitment.plan_id)
            due = resolve_due(turn.text, plan.reference_date)
            if due.value is None or due.needs_confirmation:
                await turn.reply(_why_not(turn, due, plan.reference_date))
                return
            value = due.value
        else:
            await self.prompt(turn)
            return
        # The date as written in the plan stays; the event keeps the confirmed value.
        await service.set_due(
            turn.session,
            commitment,
            value,
            text=commitment.due_text,
            actor=turn.actor,
            now=turn.now,
        )
        await turn.reply(turn._("Confirmed: {due}.", due=show(turn, value)))
        await self.prompt(turn)


def _why_not(turn: Turn, due: DueDate, reference: date) -> str:
    """Say what is wrong with the date written, not only how to write one."""
    if due.reason == Reason.BEFORE_REFERENCE:
        return turn._(
            "This date is before the plan's reference date ({reference}): a deadline comes "
            "after it. Please check the year.",
            reference=turn.t.date(reference, "long"),
        )
    if due.reason == Reason.INVALID_DATE:
        return turn._("This day does not exist in that month. Please check the date.")
    if due.reason == Reason.WEEKDAY_MISMATCH:
        return turn._("The weekday does not match the date. Please write the date alone.")
    return turn._("Please write a complete date, with the year: “30 avril 2013”.")
