"""Coaches edit an existing commitment, or link a pending owner, in the chat.

Field mode (from a commitment card): ``value`` (the new text, a date read with `read_due`, a
name, or a status button) → for an owner, ``pick`` (people whose name is close, by rapidfuzz,
the plan's committee members always offered, or keep the name as written) → ``confirm`` (old
and new side by side; a date flagged as uncertain shows how it was read) → saved with its
`CommitmentEvent`. "Cancel this commitment" goes straight to ``confirm`` with the status
"cancelled": the row stays, with its history, but is no longer reminded or counted as late.

Link mode (from the plan card's pending owners): ``pick`` → ``confirm`` links every unlinked
row of the plan with that owner text; or ``invite`` makes a deep link whose acceptance links
them (`bot.invitations.service`). A new owner is told at once what they answer for.
"""

from __future__ import annotations

from typing import TypedDict

from bot.core.effects import Button, Keyboard
from bot.core.flow import Flow, step
from bot.core.i18n import N_
from bot.core.telegram_html import escape
from bot.core.turn import FlowStart, Turn
from bot.invitations.service import create_owner_invitation
from bot.plans import cards, service
from bot.plans.buttons import CommitmentEditChoice, CommitmentEditOwner, CommitmentEditStatus
from bot.plans.due_dates import from_iso, read_due, show, to_iso
from bot.plans.reminders import due_label, status_label
from storage.models import ActionPlan, Actor, Commitment, CommitmentStatus

NAME = "cedit"
_STATUSES = (
    CommitmentStatus.NOT_STARTED,
    CommitmentStatus.IN_PROGRESS,
    CommitmentStatus.BLOCKED,
    CommitmentStatus.DONE,
)
_EMPTY_ALLOWED = ("where", "how", "deliverables")
_CHOOSE = N_("Please answer with one of the buttons below.")


def _pressed(turn: Turn) -> str | None:
    """The value of this flow's yes/no/empty/invite/text button, or None."""
    pressed = CommitmentEditChoice.unpack(turn.message.button)
    return pressed.value if pressed is not None else None


class CommitmentEditStart(FlowStart, flow="cedit"):
    """One field of a commitment to change, "cancel", or "link" its owner to a person."""

    commitment_id: int
    field: str


class CommitmentEditState(TypedDict, total=False):
    commitment_id: int
    plan_id: int
    field: str  # one of service.FIELDS, or "link"
    new: str  # the new value: text, a status, or an ISO date
    due_text: str  # a due date as written
    flagged: bool  # the date read needs confirming
    name: str  # the owner as written
    owner_id: int | None  # the person chosen, None: keep the name as text
    search: str  # another name written to search


class CommitmentEditFlow(Flow[CommitmentEditStart, CommitmentEditState]):
    name = NAME

    async def start(self, turn: Turn, params: CommitmentEditStart) -> None:
        assert turn.flow is not None
        commitment_id, field = params.commitment_id, params.field
        commitment = await turn.session.get(Commitment, commitment_id)
        if commitment is None:
            turn.end_flow()
            await turn.reply(turn._("This button is no longer active."))
            return
        self.save(turn, {"commitment_id": commitment.id, "plan_id": commitment.plan_id})
        if field == "cancel":
            self.state(turn).update({"field": "status", "new": CommitmentStatus.CANCELLED})
            turn.goto("confirm")
        elif field == "link":
            self.state(turn).update({"field": "link", "name": commitment.owner_text})
            turn.goto("pick")
        else:
            self.state(turn)["field"] = field
            turn.goto("value")
        await self.prompt(turn)

    async def _commitment(self, turn: Turn) -> Commitment | None:
        assert turn.flow is not None
        commitment = await turn.session.get(Commitment, self.state(turn)["commitment_id"])
        if commitment is None:
            turn.end_flow()
            await turn.reply(turn._("This commitment no longer exists."))
        return commitment

    # -- questions ------------------------------------------------------------------------

    async def prompt(self, turn: Turn) -> None:
        assert turn.flow is not None
        commitment = await self._commitment(turn)
        if commitment is None:
            return
        step, field = turn.flow.step, self.state(turn)["field"]
        what = escape(cards.short(commitment.what, 60))
        if step == "value":
            await self._ask_value(turn, commitment, field, what)
        elif step == "pick":
            await self._ask_pick(turn, commitment)
        elif step == "confirm":
            await turn.reply(
                await self._summary(turn, commitment),
                (
                    (Button(turn._("Yes, change it"), CommitmentEditChoice("yes").pack()),),
                    (Button(turn._("No, leave it"), CommitmentEditChoice("no").pack()),),
                ),
            )

    async def _ask_value(self, turn: Turn, commitment: Commitment, field: str, what: str) -> None:
        label = turn._(cards.FIELD_LABELS[field])
        if field == "status":
            buttons: Keyboard = tuple(
                (Button(status_label(turn.t, status), CommitmentEditStatus(status).pack()),)
                for status in _STATUSES
            )
            await turn.reply(
                turn._(
                    "<b>{what}</b>\nStatus now: {status}. Which is the new one?",
                    what=what,
                    status=status_label(turn.t, commitment.status),
                ),
                buttons,
            )
            return
        if field == "due":
            now = due_label(turn.t, commitment)
            ask = turn._("Write the new date, e.g. “15 avril 2026” or “fin avril 2026”.")
        elif field == "owner":
            now = await cards.owner_label(turn, commitment)
            ask = turn._("Write the name of the new owner.")
        else:
            now = escape(getattr(commitment, field)) or "—"
            ask = turn._("Write the new text.")
        buttons = ()
        if field in _EMPTY_ALLOWED:
            buttons = ((Button(turn._("Leave empty"), CommitmentEditChoice("empty").pack()),),)
        await turn.reply(
            turn._(
                "<b>{what}</b>\n{field} now: {value}\n{ask}",
                what=what,
                field=label,
                value=now,
                ask=ask,
            ),
            buttons,
        )

    async def _ask_pick(self, turn: Turn, commitment: Commitment) -> None:
        assert turn.flow is not None
        plan = await turn.session.get_one(ActionPlan, commitment.plan_id)
        name = self.state(turn)["name"]
        people = await service.owner_candidates(turn.session, plan, name)
        rows: list[tuple[Button, ...]] = [
            (Button(cards.short(person.display_name), CommitmentEditOwner(person.id).pack()),)
            for person in people
        ]
        if self.state(turn)["field"] == "link":
            rows.append(
                (Button(turn._("Make an invitation link"), CommitmentEditChoice("invite").pack()),)
            )
            text = turn._(
                "Who is “{name}”? Choose the person, write another name to search, or make an "
                "invitation link to send them.",
                name=escape(name),
            )
        else:
            rows.append(
                (
                    Button(
                        turn._("Keep “{name}” as written", name=cards.short(name)),
                        CommitmentEditChoice("t").pack(),
                    ),
                )
            )
            text = turn._(
                "Who is “{name}”? Choose the person, write another name to search, or keep "
                "the name as written (linked later).",
                name=escape(name),
            )
        if not people:
            text = turn._("Nobody known by that name.") + "\n" + text
        await turn.reply(text, tuple(rows))

    async def _summary(self, turn: Turn, commitment: Commitment) -> str:
        """The change to confirm: what, old value → new value."""
        assert turn.flow is not None
        data = self.state(turn)
        what = escape(cards.short(commitment.what, 60))
        if data["field"] == "link":
            person = await turn.session.get_one(Actor, data["owner_id"])
            count = len(
                [
                    c
                    for c in await service.commitments_of_plan(turn.session, commitment.plan_id)
                    if c.owner_id is None and c.owner_text == data["name"]
                ]
            )
            return turn.t.ngettext(
                "Link the row whose owner is “{name}” to {person}? "
                "They will be told and reminded of its deadline.",
                "Link the {n} rows whose owner is “{name}” to {person}? "
                "They will be told and reminded of their deadlines.",
                count,
                name=escape(data["name"]),
                person=escape(person.display_name),
            )
        if data.get("new") == CommitmentStatus.CANCELLED:
            return turn._(
                "Cancel “{what}”? It stays in the plan's history, marked cancelled, and is no "
                "longer reminded.",
                what=what,
            )
        field = data["field"]
        if field == "status":
            old, new = status_label(turn.t, commitment.status), status_label(turn.t, data["new"])
        elif field == "due":
            old, new = due_label(turn.t, commitment), show(turn, from_iso(data["new"]))
            if data.get("flagged"):
                new = turn._("{due} (read from “{text}”)", due=new, text=escape(data["due_text"]))
        elif field == "owner":
            old = await cards.owner_label(turn, commitment)
            chosen = await turn.session.get(Actor, data["owner_id"]) if data["owner_id"] else None
            new = escape(chosen.display_name if chosen else data["name"])
        else:
            old = escape(getattr(commitment, field)) or "—"
            new = escape(data["new"]) or "—"
        return turn._(
            "<b>{what}</b>\n{field}: {old} → {new}\nSave this change?",
            what=what,
            field=turn._(cards.FIELD_LABELS[field]),
            old=old,
            new=new,
        )

    # -- answers --------------------------------------------------------------------------

    @step("value")
    async def on_value(self, turn: Turn) -> None:
        assert turn.flow is not None
        data = self.state(turn)
        field = data["field"]
        value = _pressed(turn)
        if field == "status":
            chosen = CommitmentEditStatus.unpack(turn.message.button)
            status = chosen.status if chosen is not None else None
            if status not in _STATUSES:
                await turn.reply(turn._(_CHOOSE))
                await self.prompt(turn)
                return
            data["new"] = status
        elif value == "empty" and field in _EMPTY_ALLOWED:
            data["new"] = ""
        elif turn.message.button is not None or not turn.text:
            await self.prompt(turn)
            return
        elif field == "due":
            read = await read_due(turn)
            if read is None:
                return
            due, proposed = read
            data.update(
                {"new": to_iso(proposed), "due_text": turn.text, "flagged": due.needs_confirmation}
            )
        elif field == "owner":
            data["name"] = turn.text[:200]
            turn.goto("pick")
            await self.prompt(turn)
            return
        else:
            data["new"] = turn.text
        turn.goto("confirm")
        await self.prompt(turn)

    @step("pick")
    async def on_pick(self, turn: Turn) -> None:
        assert turn.flow is not None
        data = self.state(turn)
        value = _pressed(turn)
        if (person := CommitmentEditOwner.unpack(turn.message.button)) is not None:
            data["owner_id"] = person.person_id
        elif value == "t" and data["field"] == "owner":
            data["owner_id"] = None
        elif value == "invite" and data["field"] == "link":
            await self._invite(turn)
            return
        elif turn.message.button is None and turn.text:
            # Another name: search again (and, for an edit, it is the name kept as written).
            data["name"] = turn.text[:200] if data["field"] == "owner" else data["name"]
            data["search"] = turn.text[:200]
            await self._search(turn)
            return
        else:
            await turn.reply(turn._(_CHOOSE))
            await self.prompt(turn)
            return
        turn.goto("confirm")
        await self.prompt(turn)

    async def _search(self, turn: Turn) -> None:
        """The candidates for a name the coach wrote at the ``pick`` step."""
        assert turn.flow is not None
        if self.state(turn)["field"] == "link":
            # The pending name stays; only the search changes.
            original = self.state(turn)["name"]
            self.state(turn)["name"] = self.state(turn).pop("search")
            commitment = await self._commitment(turn)
            if commitment is not None:
                await self._ask_pick(turn, commitment)
            self.state(turn)["name"] = original
            return
        self.state(turn).pop("search", None)
        await self.prompt(turn)

    async def _invite(self, turn: Turn) -> None:
        assert turn.flow is not None
        plan = await turn.session.get_one(ActionPlan, self.state(turn)["plan_id"])
        await create_owner_invitation(turn, plan, self.state(turn)["name"])
        turn.end_flow()

    @step("confirm")
    async def on_confirm(self, turn: Turn) -> None:
        assert turn.flow is not None
        value = _pressed(turn)
        commitment = await self._commitment(turn)
        if commitment is None:
            return
        if value == "no":
            turn.end_flow()
            await turn.reply(turn._("Nothing changed."))
            await cards.commitment_card(turn, commitment)
            return
        if value != "yes":
            await turn.reply(turn._(_CHOOSE))
            await self.prompt(turn)
            return
        if self.state(turn)["field"] == "link":
            await self._link(turn, commitment)
            return
        await self._apply(turn, commitment)
        turn.end_flow()
        await turn.reply(turn._("Saved."))
        await cards.commitment_card(turn, commitment)

    async def _apply(self, turn: Turn, commitment: Commitment) -> None:
        assert turn.flow is not None
        data, field = self.state(turn), self.state(turn)["field"]
        session, who, now = turn.session, turn.actor, turn.now
        if field == "status":
            await service.set_status(session, commitment, data["new"], actor=who, now=now)
        elif field == "due":
            await service.set_due(
                session,
                commitment,
                from_iso(data["new"]),
                text=data["due_text"],
                actor=who,
                now=now,
            )
        elif field == "owner":
            owner = await session.get(Actor, data["owner_id"]) if data["owner_id"] else None
            text = owner.display_name if owner is not None else data["name"]
            await service.set_owner(session, commitment, owner, text=text, actor=who, now=now)
            if owner is not None:
                await tell_new_owner(turn, owner, [commitment])
        else:
            await service.set_text(session, commitment, field, data["new"], actor=who, now=now)

    async def _link(self, turn: Turn, commitment: Commitment) -> None:
        assert turn.flow is not None
        data = self.state(turn)
        owner = await turn.session.get_one(Actor, data["owner_id"])
        linked = await service.link_pending_owner(
            turn.session, commitment.plan_id, data["name"], owner, actor=turn.actor, now=turn.now
        )
        turn.end_flow()
        await turn.reply(
            turn.t.ngettext(
                "{n} row linked to {person}.",
                "{n} rows linked to {person}.",
                len(linked),
                person=escape(owner.display_name),
            )
        )
        await tell_new_owner(turn, owner, linked)
        await cards.plan_card(turn, await turn.session.get_one(ActionPlan, commitment.plan_id))


async def tell_new_owner(turn: Turn, owner: Actor, commitments: list[Commitment]) -> None:
    """The person now answers for these rows: say so at once, in their variant."""
    if not commitments or not owner.reachable or owner.reminders_stopped:
        return
    if owner.id == turn.actor.id:
        return
    plan = await turn.session.get_one(ActionPlan, commitments[0].plan_id)
    notice = cards.owner_notice(owner, plan, commitments, turn.now)
    if notice:
        await turn.send_to(owner, notice)
