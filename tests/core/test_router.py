"""One handler per key: a second one is refused unless it declares the override."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.app import routers
from bot.core.callback import CallbackData
from bot.core.router import DuplicateHandler, Router, Routes
from bot.core.turn import Turn


async def _intent(turn: Turn) -> None:
    return None


async def _command(turn: Turn, argument: str) -> None:
    return None


class _Lang(CallbackData, prefix="lang"):
    choice: str


async def _button(turn: Turn, button: _Lang) -> None:
    return None


async def _take(turn: Turn) -> bool:
    return False


def test_the_application_routes_merge_with_declared_overrides_only() -> None:
    routes = Routes(routers())
    declared = {(r.name, kind, key) for r in routers() for kind, key in r.overrides}
    # The only replacement today: privacy's /start also resumes reminders, then calls basics'.
    assert declared == {("privacy", "command", "start")}
    assert routes.commands["start"].__module__ == "bot.privacy.router"
    # What may be about a person in danger is looked at first, by the safety feature.
    assert routes.screen is not None and routes.screen.__module__ == "bot.safety.router"


@pytest.mark.parametrize(
    "register",
    [
        lambda r: r.intent("greeting")(_intent),
        lambda r: r.command("Help")(_command),
        lambda r: r.button(_Lang)(_button),
        lambda r: r.on_attachment(_intent),
        lambda r: r.screen(_take),
    ],
    ids=["intent", "command", "button", "attachment", "screen"],
)
def test_an_undeclared_duplicate_is_refused(register: Callable[[Router], object]) -> None:
    first, second = Router("first"), Router("second")
    first.intent("greeting")(_intent)
    first.command("help")(_command)
    first.button(_Lang)(_button)
    first.on_attachment(_intent)
    first.screen(_take)
    register(second)
    with pytest.raises(DuplicateHandler, match="second"):
        Routes([first, second])


def test_a_declared_override_replaces_the_earlier_handler() -> None:
    first, second = Router("first"), Router("second")
    first.intent("greeting", "menu")(_intent)

    @second.intent("greeting", override=True)
    async def replacement(turn: Turn) -> None:
        return None

    routes = Routes([first, second])
    assert routes.intents["greeting"] is replacement
    assert routes.intents["menu"] is _intent


def test_an_override_of_nothing_is_refused() -> None:
    # A stale declaration would hide the next real duplicate of that key.
    alone = Router("alone")
    alone.command("start", override=True)(_command)
    with pytest.raises(DuplicateHandler, match="no earlier router"):
        Routes([alone])


def test_one_router_cannot_register_a_key_twice() -> None:
    router = Router("twice")
    router.button(_Lang)(_button)
    with pytest.raises(DuplicateHandler):
        router.button(_Lang)(_button)
