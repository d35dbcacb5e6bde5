"""What a coach sees while managing a plan: the plan card, the list of its commitments, one
commitment with its fields, and its history. Shared by the plan router and the edit flow."""

from __future__ import annotations

from datetime import datetime

from bot.core.clock import local
from bot.core.effects import Button
from bot.core.i18n import N_, translator
from bot.core.telegram_html import clip, escape
from bot.core.turn import Turn
from bot.plans import service
from bot.plans.buttons import CommitmentCard, PlanCoach, PlanStatus
from bot.plans.due_dates import from_iso, show
from bot.plans.reminders import due_label, status_label
from storage.models import ActionPlan, Actor, Commitment, CommitmentEvent

FIELD_LABELS = {
    "what": N_("Action"),
    "where": N_("Where"),
    "due": N_("Due date"),
    "owner": N_("Owner"),
    "how": N_("How"),
    "deliverables": N_("Deliverables"),
    "status": N_("Status"),
}


def short(text: str, size: int = 40) -> str:
    """Plain text cut to `size` UTF-16 units (escape after cutting, never before)."""
    return clip(text, size)


async def owner_label(turn: Turn, commitment: Commitment) -> str:
    """The owner's name, escaped; a pending one says so."""
    if commitment.owner_id is not None:
        owner = await turn.session.get(Actor, commitment.owner_id)
        if owner is not None:
            return escape(owner.display_name)
    if not commitment.owner_text:
        return "—"
    return turn._("{name} (not linked to a person yet)", name=escape(commitment.owner_text))


async def plan_card(turn: Turn, plan: ActionPlan) -> None:
    commitments = await service.commitments_of_plan(turn.session, plan.id)
    unconfirmed = [c for c in commitments if c.due_needs_confirmation]
    pending = await service.pending_owners(turn.session, plan.id)
    committee = await service.committee_of(turn.session, plan)
    lines = [
        f"<b>{escape(plan.title)}</b>",
        turn.t.ngettext("{n} commitment.", "{n} commitments.", len(commitments)),
    ]
    if unconfirmed:
        lines.append(turn._("Dates to confirm: {n}.", n=len(unconfirmed)))
    if pending:
        lines.append(
            turn._(
                "Owners not linked to a person yet: {names}.",
                names=", ".join(escape(name) for name, _, _ in pending),
            )
        )
        if committee is not None and any(
            service.owner_key(name) == service.owner_key(committee.name) for name, _, _ in pending
        ):
            lines.append(
                turn._(
                    "Rows of the committee as a whole: their reminders come to you to relay, "
                    "until you link them to a member."
                )
            )
    rows = [(Button(turn._("Add a commitment"), PlanCoach("add", plan.id).pack()),)]
    if commitments:
        rows.append((Button(turn._("Edit a commitment"), PlanCoach("rows", plan.id).pack()),))
    if pending:
        rows.append((Button(turn._("Link an owner"), PlanCoach("owners", plan.id).pack()),))
    if unconfirmed:
        rows.append((Button(turn._("Confirm the dates"), PlanCoach("dates", plan.id).pack()),))
    rows.append((Button(turn._("Export to Excel"), PlanCoach("xlsx", plan.id).pack()),))
    rows.append((Button(turn._("Committee status"), PlanStatus(plan.id).pack()),))
    await turn.reply("\n".join(lines), tuple(rows))


async def commitment_list(turn: Turn, plan: ActionPlan) -> None:
    commitments = await service.commitments_of_plan(turn.session, plan.id)
    rows = tuple(
        (Button(f"{number}. {short(c.what, 56)}", CommitmentCard(c.id).pack()),)
        for number, c in enumerate(commitments[:40], start=1)
    )
    await turn.reply(turn._("Which commitment?"), rows)


async def pending_list(turn: Turn, plan: ActionPlan) -> None:
    pending = await service.pending_owners(turn.session, plan.id)
    if not pending:
        await turn.reply(turn._("Every owner of this plan is linked to a person."))
        return
    rows = tuple(
        (Button(f"{short(name)} ({count})", PlanCoach("owner", plan.id, first).pack()),)
        for name, first, count in pending[:20]
    )
    await turn.reply(turn._("Which owner? (the number of rows in brackets)"), rows)


async def commitment_card(turn: Turn, commitment: Commitment) -> None:
    plan = await turn.session.get_one(ActionPlan, commitment.plan_id)
    lines = [
        f"<b>{escape(commitment.what)}</b>",
        turn._("Plan: {plan}", plan=escape(plan.title)),
        turn._("Where: {where}", where=escape(commitment.where) or "—"),
        turn._("Due: {due}", due=due_label(turn.t, commitment)),
        turn._("Owner: {owner}", owner=await owner_label(turn, commitment)),
        turn._("How: {how}", how=escape(commitment.how) or "—"),
        turn._("Deliverables: {deliverables}", deliverables=escape(commitment.deliverables) or "—"),
        turn._("Status: {status}", status=status_label(turn.t, commitment.status)),
        "",
        turn._("What do you want to change?"),
    ]
    cid = commitment.id

    def button(field: str) -> Button:
        return Button(turn._(FIELD_LABELS[field]), CommitmentCard(cid, field).pack())

    rows = (
        (button("what"), button("where")),
        (button("due"), button("owner")),
        (button("how"), button("deliverables")),
        (button("status"), Button(turn._("History"), CommitmentCard(cid, "history").pack())),
        (Button(turn._("Cancel this commitment"), CommitmentCard(cid, "cancel").pack()),),
        (Button(turn._("Back to the plan"), PlanCoach("open", plan.id).pack()),),
    )
    await turn.reply("\n".join(lines), rows)


def _value(turn: Turn, event: CommitmentEvent, key: str) -> str:
    value = event.details.get(key)
    if event.kind == "status" and isinstance(value, str):
        return status_label(turn.t, value)
    if event.kind == "due" and isinstance(value, str):
        return show(turn, from_iso(value))
    if value is None or value == "":
        return "—"
    return escape(short(str(value)))


async def history_text(turn: Turn, commitment: Commitment) -> str:
    events = await service.history(turn.session, commitment.id)
    people = {}
    lines = [turn._("<b>History of “{what}”</b>", what=escape(short(commitment.what, 60)))]
    for event in events[-20:]:
        if event.actor_id is not None and event.actor_id not in people:
            person = await turn.session.get(Actor, event.actor_id)
            people[event.actor_id] = escape(person.display_name) if person else "?"
        who = people.get(event.actor_id) if event.actor_id else turn._("the hotline")
        when = turn.t.datetime(local(event.at), "d MMM y, HH:mm")
        if event.kind == "created":
            what = turn._("created")
        elif event.kind == "edit":
            what = turn._(
                "{field}: {old} → {new}",
                field=turn._(FIELD_LABELS.get(event.details.get("field", ""), N_("Action"))),
                old=_value(turn, event, "old"),
                new=_value(turn, event, "new"),
            )
        elif event.kind in ("status", "due"):
            what = turn._(
                "{field}: {old} → {new}",
                field=turn._(FIELD_LABELS[event.kind]),
                old=_value(turn, event, "old"),
                new=_value(turn, event, "new"),
            )
        elif event.kind == "owner":
            what = turn._(
                "{field}: {old} → {new}",
                field=turn._(FIELD_LABELS[event.kind]),
                old=_value(turn, event, "old_text"),
                new=await _owner_name(turn, event),
            )
        else:
            what = escape(event.kind)
        lines.append(f"{when} · {who} · {what}")
    return "\n".join(lines)


async def _owner_name(turn: Turn, event: CommitmentEvent) -> str:
    new_id = event.details.get("new_id")
    person = await turn.session.get(Actor, new_id) if new_id else None
    return escape(person.display_name) if person else _value(turn, event, "new_text")


def owner_notice(
    owner: Actor, plan: ActionPlan, commitments: list[Commitment], now: datetime
) -> str:
    t = translator(owner.lang)
    # Rows already done or cancelled are theirs too, but there is nothing to tell about them.
    commitments = [c for c in commitments if c.status in service.OPEN_STATUSES]
    if not commitments:
        return ""
    # What is already late comes first, and is said to be late.
    commitments.sort(key=lambda c: not service.is_overdue(c, now))
    lines = [
        t.ngettext(
            "📌 You are now responsible for {n} action of the plan “{plan}”:",
            "📌 You are now responsible for {n} actions of the plan “{plan}”:",
            len(commitments),
            plan=escape(plan.title),
        )
    ]
    late = 0
    for commitment in commitments:
        line = t.gettext(
            "• {what}, due {due}", what=escape(commitment.what), due=due_label(t, commitment)
        )
        if service.is_overdue(commitment, now):
            late += 1
            line += " " + t.gettext("⚠️ Late")
        lines.append(line)
    if late:
        lines.append(
            t.ngettext(
                "⚠️ Already late: tell your coach where it stands, or update it with /actions.",
                "⚠️ {n} are already late: tell your coach where they stand, or update them "
                "with /actions.",
                late,
            )
        )
        if late < len(commitments):
            lines.append(t.gettext("I will remind you before the other deadlines."))
    else:
        lines.append(t.gettext("I will remind you before each deadline; /actions shows them."))
    return "\n".join(lines)
