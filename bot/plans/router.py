"""The action-plan feature's router: the check flow, reminder answers, committee status, and
the coaches' plan management (create, edit commitments, link owners, confirm dates, export)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bot.core import audit
from bot.core.access import COACHES, requires
from bot.core.effects import Button
from bot.core.router import Router
from bot.core.telegram_html import button_label, escape
from bot.core.turn import Turn
from bot.plans import cards, committee_report, export, service
from bot.plans.buttons import CommitmentCard, PlanCoach, PlanStatus, ReminderAnswer
from bot.plans.flows.check import PlanCheckFlow, PlanCheckStart
from bot.plans.flows.commitment_edit import CommitmentEditFlow, CommitmentEditStart
from bot.plans.flows.edit import PlanEditFlow, PlanEditStart
from storage.models import ActionPlan, Actor, Commitment, CommitmentStatus

router = Router("plans")
router.flow(PlanCheckFlow())
router.flow(PlanEditFlow())
router.flow(CommitmentEditFlow())

# -- the actor's own actions -----------------------------------------------------------------


@router.intent("check_action_plan")
async def check_action_plan(turn: Turn) -> None:
    await turn.start_flow(PlanCheckStart())


@router.command("actions", "mesactions")
async def actions_command(turn: Turn, _argument: str) -> None:
    await turn.start_flow(PlanCheckStart())


@router.button(ReminderAnswer)
async def reminder_answer(turn: Turn, button: ReminderAnswer) -> None:
    """A button of a deadline reminder."""
    commitment = await turn.session.get(Commitment, button.commitment_id)
    if commitment is None or commitment.owner_id != turn.actor.id:
        await turn.reply(turn._("This reminder is not about one of your actions."))
        return
    if commitment.status == CommitmentStatus.DONE:
        await turn.reply(turn._("This action is already marked as done. Thank you!"))
        return
    await turn.start_flow(PlanCheckStart(commitment_ids=(commitment.id,), answer=button.answer))


# -- committee status ------------------------------------------------------------------------


async def _owners(turn: Turn, commitments: Sequence[Commitment]) -> dict[int, Actor]:
    ids = {c.owner_id for c in commitments if c.owner_id is not None}
    if not ids:
        return {}
    found = await turn.session.scalars(select(Actor).where(Actor.id.in_(ids)))
    return {actor.id: actor for actor in found}


async def show_status(turn: Turn, plan: ActionPlan) -> None:
    if not await service.can_see_plan(turn.session, turn.actor, plan):
        await turn.reply(_refusal(turn))
        return
    commitments = await service.commitments_of_plan(turn.session, plan.id)
    owners = await _owners(turn, commitments)
    await turn.reply(committee_report.status_text(turn.t, plan, commitments, owners, turn.now))
    png = committee_report.timeline_png(turn.t, plan, commitments, owners, turn.now)
    await turn.reply_photo(png, turn._("Timeline of “{plan}”", plan=escape(plan.title)))


def _refusal(turn: Turn) -> str:
    return turn._(
        "The commitments of a plan can be seen only by the members of its committee and its "
        "coach. If you should be one of them, ask your coach to add you."
    )


@router.intent("commitment_status")
async def commitment_status(turn: Turn) -> None:
    await engagements(turn, "")


@router.command("engagements", "status", "statut")
async def engagements(turn: Turn, argument: str) -> None:
    if argument.strip().isdigit():
        plan = await turn.session.get(ActionPlan, int(argument.strip()))
        if plan is None:
            await turn.reply(_refusal(turn))
            return
        await show_status(turn, plan)
        return
    plans = await service.plans_visible_to(turn.session, turn.actor)
    if not plans:
        await turn.reply(_refusal(turn))
        return
    if len(plans) == 1:
        await show_status(turn, plans[0])
        return
    rows = tuple(
        (Button(button_label(plan.title), PlanStatus(plan.id).pack()),) for plan in plans[:20]
    )
    await turn.reply(turn._("Which plan?"), rows)


@router.button(PlanStatus)
async def status_button(turn: Turn, button: PlanStatus) -> None:
    plan = await turn.session.get(ActionPlan, button.plan_id)
    if plan is None:
        await turn.reply(turn._("This button is no longer active."))
        return
    await show_status(turn, plan)


# -- coaches: their plans --------------------------------------------------------------------


@router.command("plan", "plans")
@requires(COACHES)
async def plans_command(turn: Turn, _argument: str) -> None:
    plans = await service.plans_coached_by(turn.session, turn.actor)
    rows = [
        (Button(button_label(plan.title), PlanCoach("open", plan.id).pack()),)
        for plan in plans[:20]
    ]
    rows.append((Button(turn._("New plan"), PlanCoach("new").pack()),))
    text = turn._("Your action plans:") if plans else turn._("You do not coach any plan yet.")
    await turn.reply(text, tuple(rows))


@router.button(PlanCoach)
@requires(COACHES)
async def coach_button(turn: Turn, button: PlanCoach) -> None:
    action = button.action
    if action == "new":
        await turn.start_flow(PlanEditStart())
        return
    plan = None
    if button.plan_id is not None:
        plan = await turn.session.get(ActionPlan, button.plan_id)
    if plan is None:
        await turn.reply(turn._("This button is no longer active."))
        return
    if not await service.can_edit_plan(turn.session, turn.actor, plan):
        await turn.reply(_not_your_plan(turn))
        return
    if action == "open":
        await cards.plan_card(turn, plan)
    elif action == "rows":
        await cards.commitment_list(turn, plan)
    elif action == "owners":
        await cards.pending_list(turn, plan)
    elif action == "owner" and button.commitment_id is not None:
        commitment = await turn.session.get(Commitment, button.commitment_id)
        if commitment is None or commitment.plan_id != plan.id or commitment.owner_id is not None:
            await turn.reply(turn._("This owner is already linked."))
            await cards.plan_card(turn, plan)
            return
        await turn.start_flow(CommitmentEditStart(commitment_id=commitment.id, field="link"))
    elif action == "add":
        await turn.start_flow(PlanEditStart(plan_id=plan.id))
    elif action == "dates":
        await turn.start_flow(PlanEditStart(plan_id=plan.id, mode="confirm"))
    elif action == "xlsx":
        commitments = await service.commitments_of_plan(turn.session, plan.id)
        content = export.plan_xlsx(plan, commitments, await _owners(turn, commitments))
        await audit.record(
            turn.session,
            turn.actor,
            audit.Action.EXPORT,
            f"plan:{plan.id}",
            turn.now,
            rows=len(commitments),
        )
        await turn.reply_document(
            f"plan-{plan.id}.xlsx", content, turn._("The plan “{plan}”", plan=escape(plan.title))
        )
    else:
        await turn.reply(turn._("This button is no longer active."))


def _not_your_plan(turn: Turn) -> str:
    return turn._("Only the coach of this plan (or an administrator) can change it.")


@router.button(CommitmentCard)
@requires(COACHES)
async def commitment_button(turn: Turn, button: CommitmentCard) -> None:
    """A coach's commitment card, or one of its fields, its history, its cancelling."""
    commitment = await turn.session.get(Commitment, button.commitment_id)
    action = button.action or "card"
    if commitment is None or action not in (*service.FIELDS, "card", "history", "cancel"):
        await turn.reply(turn._("This button is no longer active."))
        return
    plan = await turn.session.get_one(ActionPlan, commitment.plan_id)
    if not await service.can_edit_plan(turn.session, turn.actor, plan):
        await turn.reply(_not_your_plan(turn))
        return
    if action == "card":
        await cards.commitment_card(turn, commitment)
    elif action == "history":
        await turn.reply(await cards.history_text(turn, commitment))
    elif action == "cancel" and commitment.status == CommitmentStatus.CANCELLED:
        await turn.reply(turn._("This commitment is already cancelled."))
    else:
        await turn.start_flow(CommitmentEditStart(commitment_id=commitment.id, field=action))
