"""The action-plan feature's router: the check flow, reminder answers, committee status, and
the coaches' plan management (create, confirm dates, export)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bot.access import COACHES, requires
from bot.effects import Button
from bot.flows.plan_check import PlanCheckFlow
from bot.flows.plan_edit import PlanEditFlow
from bot.plans import export, service, status
from bot.router import Router
from bot.text import escape
from bot.turn import Turn
from storage.models import ActionPlan, Actor, Commitment, CommitmentStatus

router = Router("plans")
router.flow(PlanCheckFlow())
router.flow(PlanEditFlow())

_ANSWERS = ("done", "later", "blocked")


# -- the actor's own actions -----------------------------------------------------------------


@router.intent("check_action_plan")
async def check_action_plan(turn: Turn) -> None:
    await turn.start_flow("plan_check")


@router.command("actions", "mesactions")
async def actions_command(turn: Turn, _argument: str) -> None:
    await turn.start_flow("plan_check")


@router.button("rem")
async def reminder_answer(turn: Turn, fields: list[str]) -> None:
    """A button of a deadline reminder: rem:<done|later|blocked>:<commitment id>."""
    if len(fields) != 2 or fields[0] not in _ANSWERS or not fields[1].isdigit():
        await turn.reply(turn._("This button is no longer active."))
        return
    commitment = await turn.session.get(Commitment, int(fields[1]))
    if commitment is None or commitment.owner_id != turn.actor.id:
        await turn.reply(turn._("This reminder is not about one of your actions."))
        return
    if commitment.status == CommitmentStatus.DONE:
        await turn.reply(turn._("This action is already marked as done. Thank you!"))
        return
    await turn.start_flow("plan_check", commitment_ids=[commitment.id], answer=fields[0])


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
    await turn.reply(status.status_text(turn.t, plan, commitments, owners, turn.now))
    png = status.timeline_png(turn.t, plan, commitments, owners, turn.now)
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
    rows = tuple((Button(plan.title[:60], f"pstatus:{plan.id}"),) for plan in plans[:20])
    await turn.reply(turn._("Which plan?"), rows)


@router.button("pstatus")
async def status_button(turn: Turn, fields: list[str]) -> None:
    plan = None
    if fields[:1] and fields[0].isdigit():
        plan = await turn.session.get(ActionPlan, int(fields[0]))
    if plan is None:
        await turn.reply(turn._("This button is no longer active."))
        return
    await show_status(turn, plan)


# -- coaches: their plans --------------------------------------------------------------------


@router.command("plan", "plans")
@requires(COACHES)
async def plans_command(turn: Turn, _argument: str) -> None:
    plans = await service.plans_coached_by(turn.session, turn.actor)
    rows = [(Button(plan.title[:60], f"pcoach:open:{plan.id}"),) for plan in plans[:20]]
    rows.append((Button(turn._("New plan"), "pcoach:new"),))
    text = turn._("Your action plans:") if plans else turn._("You do not coach any plan yet.")
    await turn.reply(text, tuple(rows))


@router.button("pcoach")
@requires(COACHES)
async def coach_button(turn: Turn, fields: list[str]) -> None:
    action = fields[0] if fields else ""
    if action == "new":
        await turn.start_flow("plan_edit")
        return
    plan = None
    if len(fields) > 1 and fields[1].isdigit():
        plan = await turn.session.get(ActionPlan, int(fields[1]))
    if plan is None:
        await turn.reply(turn._("This button is no longer active."))
        return
    if not await service.can_see_plan(turn.session, turn.actor, plan):
        await turn.reply(_refusal(turn))
        return
    if action == "open":
        await _plan_card(turn, plan)
    elif action == "add":
        await turn.start_flow("plan_edit", plan_id=plan.id)
    elif action == "dates":
        await turn.start_flow("plan_edit", plan_id=plan.id, mode="confirm")
    elif action == "xlsx":
        commitments = await service.commitments_of_plan(turn.session, plan.id)
        content = export.plan_xlsx(plan, commitments, await _owners(turn, commitments))
        await turn.reply_document(
            f"plan-{plan.id}.xlsx", content, turn._("The plan “{plan}”", plan=escape(plan.title))
        )
    else:
        await turn.reply(turn._("This button is no longer active."))


async def _plan_card(turn: Turn, plan: ActionPlan) -> None:
    commitments = await service.commitments_of_plan(turn.session, plan.id)
    unconfirmed = [c for c in commitments if c.due_needs_confirmation]
    pending = sorted({c.owner_text for c in commitments if c.owner_id is None})
    lines = [
        f"<b>{escape(plan.title)}</b>",
        turn._("{n} commitment(s).", n=len(commitments)),
    ]
    if unconfirmed:
        lines.append(turn._("Dates to confirm: {n}.", n=len(unconfirmed)))
    if pending:
        lines.append(
            turn._(
                "Owners not linked to a person yet: {names}.",
                names=", ".join(escape(name) for name in pending),
            )
        )
    rows = [(Button(turn._("Add a commitment"), f"pcoach:add:{plan.id}"),)]
    if unconfirmed:
        rows.append((Button(turn._("Confirm the dates"), f"pcoach:dates:{plan.id}"),))
    rows.append((Button(turn._("Export to Excel"), f"pcoach:xlsx:{plan.id}"),))
    rows.append((Button(turn._("Committee status"), f"pstatus:{plan.id}"),))
    await turn.reply("\n".join(lines), tuple(rows))
