"""What coaches do with cases: take, reply (relayed by the bot), resolve, hand over, and
their queue with CSV export. Every handler here checks the coach role first."""

from __future__ import annotations

from sqlalchemy import select

from bot.cases import alerts, export, labels, visibility, work
from bot.cases.buttons import CaseAction, CaseQueue, Coordinator, ReplyCancel
from bot.cases.message_flow import OneMessageFlow
from bot.cases.routing import COACH_ROLES
from bot.core import audit
from bot.core.access import ADMINS, COACHES, requires
from bot.core.clock import local
from bot.core.effects import Button, Keyboard
from bot.core.i18n import N_, translator
from bot.core.router import Router
from bot.core.telegram_html import button_label, escape, escape_clip
from bot.core.turn import FlowStart, Turn
from storage.models import (
    Actor,
    Case,
    CaseEvent,
    CaseStatus,
    Territory,
)

router = Router("cases-coach")

ACTIVE = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)
QUEUE_LIMIT = 15
FILTERS = {
    "open": N_("Open"),
    "mine": N_("Mine"),
    "overdue": N_("Overdue"),
    "terr": N_("By territory"),
}


signature = work.signature


async def _case(turn: Turn, raw: object) -> Case | None:
    """The case numbered `raw` if this coach may see it (the rule of `visibility`); a case
    he may not see is answered like one that does not exist."""
    try:
        case = await turn.session.get(Case, int(str(raw).lstrip("#")))
    except ValueError:
        case = None
    if case is not None and not await visibility.can_see(turn.session, turn.actor, case):
        case = None
    if case is None:
        await turn.reply(turn._("There is no case #{number}.", number=escape(str(raw))))
    return case


# -- buttons on a case card ----------------------------------------------------------------


@router.button(CaseAction)
@requires(COACHES)
async def case_button(turn: Turn, button: CaseAction) -> None:
    action = button.action
    case = await _case(turn, button.case_id)
    if case is None:
        return
    if action == "take":
        await take(turn, case)
    elif action == "reply":
        await turn.start_flow(ReplyStart(case_id=case.id))
    elif action == "resolve":
        await resolve(turn, case)
    elif action == "handover":
        await handover_choices(turn, case)
    elif action == "to" and button.coach_id is not None:
        await handover(turn, case, button.coach_id)
    elif action == "view":
        await show_case(turn, case)
    else:
        await turn.reply(turn._("This button is no longer active."))


async def take(turn: Turn, case: Case) -> None:
    outcome = await work.take(work.Desk.of_turn(turn), case)
    if outcome == work.Take.CLOSED:
        await turn.reply(turn._("Case #{number} is already resolved.", number=case.id))
    elif outcome == work.Take.ALREADY_TAKEN:
        holder = await turn.session.get(Actor, case.coach_id) if case.coach_id else None
        await turn.reply(
            turn._(
                "Case #{number} is already taken by {coach}.",
                number=case.id,
                coach=escape(holder.display_name if holder else "?"),
            ),
            alerts.reply_buttons(turn.t, case.id),
        )
    else:
        await turn.reply(
            turn._(
                "You have taken case #{number}. The actor is told that a coach is on it.",
                number=case.id,
            ),
            alerts.reply_buttons(turn.t, case.id),
        )


async def resolve(turn: Turn, case: Case) -> None:
    if not await work.resolve(work.Desk.of_turn(turn), case):
        await turn.reply(turn._("Case #{number} is already resolved.", number=case.id))
        return
    await turn.reply(
        turn._(
            "Case #{number} is resolved. The actor is asked whether the answer helped.",
            number=case.id,
        )
    )


async def handover_choices(turn: Turn, case: Case) -> None:
    others = await work.handover_candidates(turn.session, turn.actor)
    if not others:
        await turn.reply(turn._("There is no other coach to hand this case to."))
        return
    rows = tuple(
        (
            Button(
                button_label(c.display_name or str(c.id), 40),
                CaseAction("to", case.id, c.id).pack(),
            ),
        )
        for c in others[:20]
    )
    await turn.reply(turn._("Hand case #{number} over to which coach?", number=case.id), rows)


async def handover(turn: Turn, case: Case, coach_id: int) -> None:
    coach = await work.handover(work.Desk.of_turn(turn), case, coach_id)
    if coach is None:
        await turn.reply(turn._("This button is no longer active."))
        return
    await turn.reply(
        turn._(
            "Case #{number} is now with {coach}.",
            number=case.id,
            coach=escape(coach.display_name),
        )
    )


# -- replying ------------------------------------------------------------------------------


async def relay_to_actor(
    turn: Turn, case: Case, text: str, file: tuple[str, str] | None = None
) -> None:
    await work.relay(work.Desk.of_turn(turn), case, text, file)


class ReplyStart(FlowStart, flow="case_reply"):
    case_id: int


class ReplyFlow(OneMessageFlow[ReplyStart]):
    """After "Reply" on a case, the coach's next message is relayed to the actor."""

    name = "case_reply"
    cancel_button = ReplyCancel

    async def start(self, turn: Turn, params: ReplyStart) -> None:
        await self.begin(turn, params.case_id)

    async def prompt(self, turn: Turn) -> None:
        assert turn.flow is not None
        case = await turn.session.get(Case, self.state(turn)["case"])
        actor = await turn.session.get(Actor, case.actor_id) if case else None
        if case is None or actor is None:
            turn.end_flow()
            return
        await turn.reply(
            turn._(
                "Write your answer to {name} for case #{number}, in <b>{variant}</b>. Your "
                "next message is sent as it is, from the hotline, signed “{signature}”.",
                name=escape(actor.display_name),
                number=case.id,
                variant=labels.label(turn.t, labels.VARIANT, case.lang),
                signature=signature(translator(case.lang), turn.actor),
            ),
            ((Button(turn._("Cancel"), ReplyCancel().pack()),),),
        )

    async def take(self, turn: Turn, file: tuple[str, str] | None) -> None:
        assert turn.flow is not None
        case = await turn.session.get(Case, self.state(turn)["case"])
        turn.end_flow()
        if case is None:
            return
        await relay_to_actor(turn, case, turn.text, file)
        await turn.reply(
            turn._("Sent to the actor (case #{number}).", number=case.id),
            alerts.reply_buttons(turn.t, case.id),
        )


router.flow(ReplyFlow())


@router.command("reply", "repondre")
@requires(COACHES)
async def reply_command(turn: Turn, argument: str) -> None:
    number, _, text = argument.partition(" ")
    if not number:
        await turn.reply(turn._("Write /reply followed by the case number and your answer."))
        return
    case = await _case(turn, number)
    if case is None:
        return
    if not text.strip():
        await turn.start_flow(ReplyStart(case_id=case.id))
        return
    await relay_to_actor(turn, case, text.strip())
    await turn.reply(
        turn._("Sent to the actor (case #{number}).", number=case.id),
        alerts.reply_buttons(turn.t, case.id),
    )


# -- looking at cases ------------------------------------------------------------------------


async def show_case(turn: Turn, case: Case) -> None:
    card = await alerts.case_card(
        turn.session,
        case,
        turn.t,
        turn._("Status: <b>{status}</b>", status=labels.label(turn.t, labels.STATUS, case.status)),
    )
    events = (
        await turn.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    ).all()
    lines = [card, "", turn._("<b>Timeline</b>")]
    names: dict[int, str] = {}
    for event in events[-15:]:
        who = "–"
        if event.actor_id is not None:
            if event.actor_id not in names:
                person = await turn.session.get(Actor, event.actor_id)
                names[event.actor_id] = person.display_name if person else "?"
            who = escape(names[event.actor_id])
        said = f": {escape_clip(event.text, 200)}" if event.text else ""
        details = event.details or {}
        if event.kind == "status" and details.get("to"):
            said = f" → {labels.label(turn.t, labels.STATUS, details['to'])}{said}"
        elif event.kind == "feedback" and "helpful" in details:
            helped = turn._("it helped") if details["helpful"] else turn._("it did not help")
            said = f": {helped}"
        lines.append(
            f"• {turn.t.datetime(event.at, 'short')} {who} "
            f"<i>{labels.label(turn.t, labels.EVENT, event.kind)}</i>{said}"
        )
    if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        # Nothing to take or resolve: writing to the actor is what reopens it.
        buttons: Keyboard = ((Button(turn._("Reply"), CaseAction("reply", case.id).pack()),),)
    else:
        buttons = alerts.coach_buttons(turn.t, case.id)
    await turn.reply("\n".join(lines), buttons)


@router.command("case", "dossier")
@requires(COACHES)
async def case_command(turn: Turn, argument: str) -> None:
    if not argument:
        await turn.reply(turn._("Write /case followed by the case number, e.g. /case 12."))
        return
    case = await _case(turn, argument.split()[0])
    if case is not None:
        await show_case(turn, case)


async def select_cases(turn: Turn, which: str) -> list[Case]:
    seen = await visibility.visible_cases(turn.session, turn.actor)
    query = select(Case).where(Case.status.in_(ACTIVE), seen).order_by(Case.id)
    if which == "mine":
        query = query.where(Case.coach_id == turn.actor.id)
    elif which == "overdue":
        query = query.where(Case.acknowledged_at.is_(None), Case.ack_due_at <= turn.now)
    elif which.startswith("t"):
        territory = which[1:]
        query = query.where(
            Case.territory_id.is_(None)
            if territory == "none"
            else Case.territory_id == int(territory)
        )
    return list((await turn.session.scalars(query)).all())


def _filter_keyboard(turn: Turn, which: str) -> Keyboard:
    return (
        tuple(Button(turn._(label), CaseQueue(key).pack()) for key, label in FILTERS.items()),
        (Button(turn._("Export CSV"), CaseQueue("csv", which).pack()),),
    )


async def _line(turn: Turn, case: Case) -> str:
    actor = await turn.session.get(Actor, case.actor_id)
    overdue = (
        case.acknowledged_at is None and case.ack_due_at is not None and case.ack_due_at <= turn.now
    )
    parts = [
        f"#{case.id}",
        labels.label(turn.t, labels.CATEGORY, case.category),
        labels.label(turn.t, labels.SEVERITY, case.severity),
        labels.label(turn.t, labels.STATUS, case.status),
        escape(actor.display_name if actor else "?"),
        turn.t.datetime(case.opened_at, "short"),
    ]
    return " · ".join(parts) + (" ⏰" if overdue else "")


@router.command("cases", "dossiers")
@requires(COACHES)
async def cases_command(turn: Turn, argument: str) -> None:
    await queue(turn, argument.strip() if argument.strip() in FILTERS else "open")


async def queue(turn: Turn, which: str) -> None:
    if which == "terr":
        await territory_choices(turn)
        return
    cases = await select_cases(turn, which)
    titles = {
        "open": turn._("Open cases"),
        "mine": turn._("My cases"),
        "overdue": turn._("Cases not taken in time"),
    }
    title = titles.get(which) or turn._("Cases of the territory")
    lines = [f"<b>{title}</b> ({len(cases)})"]
    for case in cases[:QUEUE_LIMIT]:
        lines.append(await _line(turn, case))
    if len(cases) > QUEUE_LIMIT:
        lines.append(turn._("… and {count} more: export the CSV.", count=len(cases) - QUEUE_LIMIT))
    if not cases:
        lines.append(turn._("Nothing here."))
    else:
        lines.append(turn._("Details: /case followed by the number."))
    await turn.reply("\n".join(lines), _filter_keyboard(turn, which))


async def territory_choices(turn: Turn) -> None:
    cases = await select_cases(turn, "open")
    counts: dict[int | None, int] = {}
    for case in cases:
        counts[case.territory_id] = counts.get(case.territory_id, 0) + 1
    if not counts:
        await turn.reply(turn._("No open case."), _filter_keyboard(turn, "open"))
        return
    rows = []
    for territory_id, count in counts.items():
        territory = await turn.session.get(Territory, territory_id) if territory_id else None
        name = territory.name if territory else turn._("No territory")
        key = f"t{territory_id}" if territory_id else "tnone"
        rows.append((Button(button_label(f"{name} ({count})"), CaseQueue(key).pack()),))
    await turn.reply(turn._("Open cases by territory:"), tuple(rows))


async def _open_queue(turn: Turn) -> None:
    await queue(turn, "open")


@router.button(CaseQueue, stale=_open_queue)
@requires(COACHES)
async def cases_button(turn: Turn, button: CaseQueue) -> None:
    which = button.which
    if which == "csv":
        await export_csv(turn, button.export_of or "open")
    elif which in FILTERS or (which.startswith("t") and (which[1:].isdigit() or which == "tnone")):
        await queue(turn, which)
    else:
        await queue(turn, "open")


async def export_csv(turn: Turn, which: str) -> None:
    which = which if which in FILTERS and which != "terr" else "open"
    cases = await select_cases(turn, which)
    content = await export.cases_csv(turn.session, cases)
    await audit.record(
        turn.session, turn.actor, audit.Action.EXPORT, f"cases:{which}", turn.now, rows=len(cases)
    )
    await turn.reply_document(
        f"cases-{which}-{local(turn.now):%Y%m%d-%H%M}.csv",
        content,
        turn._("{count} cases", count=len(cases)),
    )


# -- coach settings --------------------------------------------------------------------------


@router.command("onduty", "astreinte")
@requires(COACHES)
async def on_duty(turn: Turn, _argument: str) -> None:
    turn.actor.on_duty = not turn.actor.on_duty
    if turn.actor.on_duty:
        await turn.reply(turn._("You are on duty: emergencies reach you at any hour."))
    else:
        await turn.reply(turn._("You are no longer on duty."))


@router.command("signature")
@requires(COACHES)
async def set_signature(turn: Turn, argument: str) -> None:
    if argument == "-":
        turn.actor.coach_signature = None
    elif argument:
        turn.actor.coach_signature = argument[:64]
    await turn.reply(
        turn._(
            "Your answers reach actors signed “{signature}”. Change it with /signature "
            "followed by a name, or /signature - for the default.",
            signature=signature(turn.t, turn.actor),
        )
    )


@router.command("coordinator", "coordinateur")
@requires(ADMINS)
async def coordinator(turn: Turn, argument: str) -> None:
    people = await alerts.coaches(turn.session)
    if argument:
        wanted = argument.lstrip("@").lower()
        found = [
            c
            for c in people
            if wanted in (str(c.id), c.external_id.lower(), c.display_name.lower())
        ]
        if len(found) != 1:
            await turn.reply(turn._("No coach matches “{name}”.", name=escape(argument)))
            return
        await toggle_coordinator(turn, found[0])
        return
    lines = [turn._("<b>Coaches</b> (★ coordinator). Press a name to switch.")]
    rows = []
    for coach in people:
        star = "★ " if coach.is_coordinator else ""
        lines.append(f"• {star}{escape(coach.display_name)}")
        rows.append(
            (Button(button_label(f"{star}{coach.display_name}", 40), Coordinator(coach.id).pack()),)
        )
    await turn.reply("\n".join(lines), tuple(rows))


@router.button(Coordinator)
@requires(ADMINS)
async def coordinator_button(turn: Turn, button: Coordinator) -> None:
    coach = await turn.session.get(Actor, button.coach_id)
    if coach is None or coach.role not in COACH_ROLES:
        await turn.reply(turn._("This button is no longer active."))
        return
    await toggle_coordinator(turn, coach)


async def toggle_coordinator(turn: Turn, coach: Actor) -> None:
    coach.is_coordinator = not coach.is_coordinator
    if coach.is_coordinator:
        text = turn._(
            "{name} is now a coordinator: escalations reach them.", name=escape(coach.display_name)
        )
    else:
        text = turn._("{name} is no longer a coordinator.", name=escape(coach.display_name))
    await turn.reply(text)
