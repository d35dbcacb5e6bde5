"""Who may do what. Handlers declare the roles they need; the check answers in the caller's
variant instead of revealing anything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from bot.turn import Turn
from storage.models import Role

COACHES = frozenset({Role.COACH, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})


def requires(
    roles: frozenset[str],
) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Decorate a command, button or intent handler taking the turn first."""

    def decorate(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @wraps(handler)
        async def checked(turn: Turn, *args: Any) -> None:
            if turn.actor.role not in roles:
                if roles <= ADMINS:
                    await turn.reply(turn._("This is reserved for the hotline's administrators."))
                else:
                    await turn.reply(turn._("This is reserved for the hotline's coaches."))
                return
            await handler(turn, *args)

        checked.required_roles = roles  # type: ignore[attr-defined]  # read by the role tests
        return checked

    return decorate
