"""Who may do what. Handlers declare the roles they need; the check answers in the caller's
variant instead of revealing anything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from sqlalchemy import select

from bot.core import audit
from bot.core.clock import SystemClock
from bot.core.turn import Turn
from storage.db import Database
from storage.models import Actor, Role

COACHES = frozenset({Role.COACH, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
P = ParamSpec("P")


def requires(
    roles: frozenset[str],
) -> Callable[
    [Callable[Concatenate[Turn, P], Awaitable[None]]],
    Callable[Concatenate[Turn, P], Awaitable[None]],
]:
    """Decorate a command, button or intent handler taking the turn first."""

    def decorate(
        handler: Callable[Concatenate[Turn, P], Awaitable[None]],
    ) -> Callable[Concatenate[Turn, P], Awaitable[None]]:
        @wraps(handler)
        async def checked(turn: Turn, /, *args: P.args, **kwargs: P.kwargs) -> None:
            if turn.actor.role not in roles:
                await refuse(turn, roles)
                return
            await handler(turn, *args, **kwargs)

        checked.required_roles = roles  # type: ignore[attr-defined]  # read by the role tests
        return checked

    return decorate


async def refuse(turn: Turn, roles: frozenset[str]) -> None:
    """The answer to someone without the roles an action requires."""
    if roles <= ADMINS:
        await turn.reply(turn._("This is reserved for the hotline's administrators."))
    else:
        await turn.reply(turn._("This is reserved for the hotline's coaches."))


async def set_role(database_url: str, channel: str, external_id: str, role: str) -> bool:
    """The operator's way to name the first admin or a coach; False if nobody has that id."""
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            actor = await session.scalar(
                select(Actor).where(Actor.channel == channel, Actor.external_id == external_id)
            )
            if actor is None:
                return False
            previous = actor.role
            actor.role = Role(role)
            await audit.record(
                session,
                None,
                audit.Action.GRANT,
                f"actor:{actor.id}",
                SystemClock().now(),
                role=role,
                previous=str(previous),
                via="command line",
            )
            return True
    finally:
        await db.dispose()
