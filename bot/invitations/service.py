"""Invitations: an admin creates a deep link; whoever opens it joins a committee or becomes
a coach. Links are single-use and expire, so a forwarded link cannot be reused.

A coach also makes one for a pending owner of their plan (the plan card, "Link an owner"): it
joins the plan's committee, if it has one, and links the plan's rows still written with that
owner's name to whoever accepts it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import audit
from bot.core.access import COACHES, requires
from bot.core.clock import local
from bot.core.router import Router
from bot.core.telegram_html import escape
from bot.core.turn import Turn
from bot.plans import cards, service
from storage.models import (
    ActionPlan,
    Committee,
    CommitteeMember,
    Invitation,
    InvitationKind,
    Role,
)

router = Router("invitations")

LIFETIME = timedelta(days=7)


def link(turn: Turn, token: str) -> str:
    username = turn.engine.settings.bot_username
    return f"https://t.me/{username}?start={token}" if username else f"/start {token}"


@router.command("invite", "inviter")
@requires(COACHES)
async def invite(turn: Turn, argument: str) -> None:
    """Admins invite coaches and members of any committee; a coach invites members of the
    committees of the plans he coaches (as /plan lets him invite their owners)."""
    words = argument.split()
    committee: Committee | None = None
    admin = turn.actor.role == Role.ADMIN
    if words == ["coach"] and admin:
        kind = InvitationKind.COACH
    elif len(words) == 2 and words[0] == "committee" and words[1].isdigit():
        kind = InvitationKind.COMMITTEE
        committee = await turn.session.get(Committee, int(words[1]))
        if committee is None or not (admin or await _coaches_committee(turn, committee)):
            await turn.reply(turn._("There is no committee number {number}.", number=words[1]))
            return
    elif not admin:
        await turn.reply(
            turn._(
                "Write /invite committee followed by the number of the committee of one of "
                "your plans."
            )
        )
        return
    else:
        await turn.reply(
            turn._("Write /invite coach, or /invite committee followed by the committee number.")
        )
        return
    invitation = Invitation(
        token=turn.engine.settings.new_token(),
        kind=kind,
        committee_id=committee.id if committee else None,
        created_by_id=turn.actor.id,
        created_at=turn.now,
        expires_at=turn.now + LIFETIME,
    )
    turn.session.add(invitation)
    until = turn.t.date(local(invitation.expires_at).date())
    if committee is not None:
        text = turn._(
            "Send this link to the new member of {committee}. It works once, until {date}:\n{link}",
            committee=escape(committee.name),
            date=until,
            link=link(turn, invitation.token),
        )
    else:
        text = turn._(
            "Send this link to the new coach. It works once, until {date}:\n{link}",
            date=until,
            link=link(turn, invitation.token),
        )
    await turn.reply(text)


async def _coaches_committee(turn: Turn, committee: Committee) -> bool:
    """Whether the actor is the coach of a plan of this committee."""
    found = await turn.session.scalar(
        select(ActionPlan.id)
        .where(ActionPlan.committee_id == committee.id, ActionPlan.coach_id == turn.actor.id)
        .limit(1)
    )
    return found is not None


async def create_owner_invitation(turn: Turn, plan: ActionPlan, owner_text: str) -> None:
    """A link for the person written ``owner_text`` in ``plan`` (the caller checked access)."""
    invitation = Invitation(
        token=turn.engine.settings.new_token(),
        kind=InvitationKind.COMMITTEE if plan.committee_id else InvitationKind.OWNER,
        committee_id=plan.committee_id,
        plan_id=plan.id,
        owner_text=owner_text[:200],
        created_by_id=turn.actor.id,
        created_at=turn.now,
        expires_at=turn.now + LIFETIME,
    )
    turn.session.add(invitation)
    await turn.reply(
        turn._(
            "Send this link to {name}. It works once, until {date}; whoever opens it becomes "
            "the owner of the rows written “{name}” in “{plan}”:\n{link}",
            name=escape(owner_text),
            plan=escape(plan.title),
            date=turn.t.date(local(invitation.expires_at).date()),
            link=link(turn, invitation.token),
        )
    )


async def _link_owner(turn: Turn, invitation: Invitation) -> None:
    """An invitation made for a pending owner: their rows of the plan become theirs."""
    if invitation.plan_id is None or not invitation.owner_text:
        return
    plan = await turn.session.get(ActionPlan, invitation.plan_id)
    if plan is None:
        return
    linked = await service.link_pending_owner(
        turn.session,
        plan.id,
        invitation.owner_text,
        turn.actor,
        actor=turn.actor,
        now=turn.now,
    )
    notice = cards.owner_notice(turn.actor, plan, linked, turn.now)
    if notice:
        await turn.reply(notice)


async def _grant(turn: Turn, invitation: Invitation, role: Role) -> None:
    previous = turn.actor.role
    turn.actor.role = role
    await audit.record(
        turn.session,
        turn.actor,
        audit.Action.GRANT,
        f"actor:{turn.actor.id}",
        turn.now,
        role=str(role),
        previous=str(previous),
        invitation=invitation.id,
        invited_by=invitation.created_by_id,
    )


async def accept(turn: Turn, token: str) -> None:
    """`/start <token>`: take up the invitation behind a deep link."""
    invitation = await turn.session.scalar(select(Invitation).where(Invitation.token == token))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= turn.now:
        await turn.reply(
            turn._(
                "This invitation link is no longer valid. Ask the person who sent it for a new one."
            )
        )
        return
    invitation.used_at = turn.now
    invitation.used_by_id = turn.actor.id
    if invitation.kind == InvitationKind.COACH:
        if turn.actor.role != Role.ADMIN:
            await _grant(turn, invitation, Role.COACH)
        await turn.reply(turn._("Welcome! You are now registered as a coach of the hotline."))
        return
    if invitation.kind == InvitationKind.OWNER:
        await turn.reply(turn._("Welcome! Your coach has added you to an action plan."))
        await _link_owner(turn, invitation)
        return
    committee = await turn.session.get_one(Committee, invitation.committee_id)
    member = await turn.session.get(CommitteeMember, (committee.id, turn.actor.id))
    if member is None:
        turn.session.add(
            CommitteeMember(committee_id=committee.id, actor_id=turn.actor.id, joined_at=turn.now)
        )
    if turn.actor.role == Role.ACTOR:
        await _grant(turn, invitation, Role.COMMITTEE_MEMBER)
    await turn.reply(
        turn._(
            "Welcome! You are now a member of the committee {committee}.",
            committee=escape(committee.name),
        )
    )
    await _link_owner(turn, invitation)
