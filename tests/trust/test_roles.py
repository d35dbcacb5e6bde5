"""Role checks as a table: every role × every command and button of the merged routes.

The list of actions comes from `bot.app.routers()`, so a new command is covered as soon as
it is registered. What each needs comes from `bot.core.access.requires` on its handler; the
explicit table below pins the ones we know, so removing a check fails here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import routers
from bot.core.access import ADMINS, COACHES
from bot.core.audit import Action, entries
from bot.core.effects import body
from bot.core.engine import Engine
from bot.core.i18n import Translator
from bot.core.router import Routes
from storage.models import InboundMessage, Invitation, InvitationKind, Role
from tests.driver import Hotline

ROLES = [Role.ACTOR, Role.COMMITTEE_MEMBER, Role.COACH, Role.ADMIN]
ROUTES = Routes(routers())
EVERYONE = frozenset(ROLES)
DENIED = {
    Translator("fr").gettext("This is reserved for the hotline's coaches."),
    Translator("fr").gettext("This is reserved for the hotline's administrators."),
}

# What we know must hold, whatever the handlers declare (extend as features land).
EXPLICIT: dict[str, frozenset[str]] = {
    "command:mydata": EVERYONE,
    "command:forget": EVERYONE,
    "command:stop": EVERYONE,
    "command:privacy": EVERYONE,
    "command:help": EVERYONE,
    "command:lang": EVERYONE,
    "command:reload": ADMINS,
    "command:invite": COACHES,
    "command:inviter": COACHES,
    "command:coordinator": ADMINS,
    "command:coordinateur": ADMINS,
    "command:cases": COACHES,
    "command:dossiers": COACHES,
    "command:case": COACHES,
    "command:dossier": COACHES,
    "command:reply": COACHES,
    "command:repondre": COACHES,
    "command:plan": COACHES,
    "command:plans": COACHES,
    "command:onduty": COACHES,
    "command:astreinte": COACHES,
    "command:signature": COACHES,
    "button:case": COACHES,
    "button:cases": COACHES,
    "button:coord": ADMINS,
    "button:pcm": COACHES,
    "button:pcoach": COACHES,
    "command:review": COACHES,
    "command:revue": COACHES,
    "button:rv": COACHES,
    "command:web": COACHES,
    "command:console": COACHES,
}
# Side effects that would change who is speaking: /forget is confirmed by a button only.
SKIP = {"button:privacy"}


def _declared(handler: object) -> frozenset[str]:
    return getattr(handler, "required_roles", EVERYONE)


def actions() -> dict[str, tuple[str, frozenset[str]]]:
    """action name -> (what to send, roles allowed)."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for name, handler in sorted(ROUTES.commands.items()):
        found[f"command:{name}"] = (f"/{name}", _declared(handler))
    for prefix, handler in sorted(ROUTES.buttons.items()):
        if f"button:{prefix}" not in SKIP:
            found[f"button:{prefix}"] = (f"{prefix}:x", _declared(handler))
    return found


def test_the_explicit_table_matches_the_declared_checks() -> None:
    found = actions()
    for action, allowed in EXPLICIT.items():
        assert action in found, f"{action} is not routed any more"
        assert found[action][1] == allowed, action
    assert COACHES < EVERYONE and ADMINS < COACHES


def test_every_restricted_action_is_pinned() -> None:
    """A new coach or admin action joins the table, so dropping its check later fails."""
    restricted = {action for action, (_, allowed) in actions().items() if allowed != EVERYONE}
    assert restricted <= EXPLICIT.keys()


@pytest.mark.parametrize("role", ROLES)
async def test_role_table(engine: Engine, role: str, hotline: Hotline) -> None:
    someone = await hotline.person("someone", role=role, in_call=True)
    expected, actual = {}, {}
    for action, (payload, allowed) in actions().items():
        engine.clock.advance(timedelta(seconds=10))  # stay under the flood limit
        if action.startswith("command:"):
            effects = await someone.says(payload)
        else:
            effects = await someone.taps(payload)
        assert effects, f"{action} answered nothing"
        denied = any(body(e) in DENIED for e in effects)
        expected[action] = role in allowed
        actual[action] = not denied
    assert actual == expected
    async with engine.db.transaction() as session:
        errors = (
            await session.scalars(
                select(InboundMessage.error).where(InboundMessage.error.is_not(None))
            )
        ).all()
    assert errors == []


async def test_a_role_given_by_an_invitation_is_audited(engine: Engine, hotline: Hotline) -> None:
    admin = (await hotline.person("boss", role=Role.ADMIN, in_call=True)).id
    newcoach = await hotline.person("newcoach", in_call=True)
    newcomer = newcoach.id
    now = engine.clock.now()
    async with engine.db.transaction() as session:
        session.add(
            Invitation(
                token="tok-coach",
                kind=InvitationKind.COACH,
                created_by_id=admin,
                created_at=now,
                expires_at=now + timedelta(days=7),
            )
        )
    await newcoach.says("/start tok-coach")
    await newcoach.taps("framework:ack")  # the framework comes first
    async with engine.db.transaction() as session:
        granted = [e for e in await entries(session) if e.action == Action.GRANT]
    assert [(e.subject, e.details["role"], e.details["invited_by"]) for e in granted] == [
        (f"actor:{newcomer}", "coach", admin)
    ]
