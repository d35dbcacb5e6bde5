"""Where features declare what they answer: commands, buttons, intents, flows.

Modelled on aiogram's Router, but over engine events: a feature module builds one Router
and the application includes it. A button is registered by its kind (a `CallbackData` class,
bot/core/callback.py): its handler gets the typed, validated data, and data of that prefix that
does not unpack (stale or forged) gets the registration's polite answer instead.
Each key (a command, a button prefix, an intent, a flow, the attachment handler, the screen)
has one handler: a second registration is an error at start-up, unless it is declared with
`override=True` and a handler for that key came earlier. A silent replacement would leave code
that can never run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bot.core.access import refuse
from bot.core.callback import CallbackData
from bot.core.i18n import N_

if TYPE_CHECKING:
    from bot.core.flow import Flow
    from bot.core.turn import Turn

CommandHandler = Callable[["Turn", str], Awaitable[None]]  # (turn, argument)
IntentHandler = Callable[["Turn"], Awaitable[None]]
TakeHandler = Callable[["Turn"], Awaitable[bool]]  # True: the message was taken

H = TypeVar("H")
# Registration returns the handler unchanged, with its own type, so decorators stack (a
# function can answer both a command and an intent when its extra parameters have defaults).
CommandT = TypeVar("CommandT", bound=CommandHandler)
IntentT = TypeVar("IntentT", bound=IntentHandler)
DataT = TypeVar("DataT", bound=CallbackData)
FlowT = TypeVar("FlowT", bound="Flow[Any, Any]")

NO_LONGER_ACTIVE = N_("This button is no longer active.")


@dataclass(frozen=True)
class ButtonRoute:
    """A kind of button, its handler, and what answers data of its prefix that does not
    unpack: a text, or a handler of its own."""

    kind: type[CallbackData]
    handler: Callable[[Turn, Any], Awaitable[None]]
    stale: str | IntentHandler
    # The roles the handler requires: someone without them is told so before the data is
    # looked at, as the handler itself would.
    roles: frozenset[str] | None

    async def press(self, turn: Turn, data: str) -> None:
        button = self.kind.unpack(data)
        if button is not None:
            await self.handler(turn, button)
        elif self.roles is not None and turn.actor.role not in self.roles:
            await refuse(turn, self.roles)
        elif isinstance(self.stale, str):
            await turn.reply(turn._(self.stale))
        else:
            await self.stale(turn)


class DuplicateHandler(ValueError):
    """Two routers answer the same key and the later one did not declare an override (or
    declared one with nothing to override)."""


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, CommandHandler] = {}
        self.buttons: dict[str, ButtonRoute] = {}
        self.intents: dict[str, IntentHandler] = {}
        self.flows: dict[str, Flow[Any, Any]] = {}
        self.attachment: IntentHandler | None = None
        self.screener: TakeHandler | None = None
        self.takers: list[TakeHandler] = []
        # (kind, key) this router declares it replaces from an earlier router.
        self.overrides: set[tuple[str, str]] = set()

    def _add(self, kind: str, table: Container[str], key: str, override: bool) -> None:
        if key in table:
            raise DuplicateHandler(f"router {self.name!r} registers {kind} {key!r} twice")
        if override:
            self.overrides.add((kind, key))

    def command(self, *names: str, override: bool = False) -> Callable[[CommandT], CommandT]:
        """Register a /command under one or more names (aliases in each language)."""

        def register(handler: CommandT) -> CommandT:
            for name in names:
                self._add("command", self.commands, name.lower(), override)
                self.commands[name.lower()] = handler
            return handler

        return register

    def button(
        self,
        kind: type[DataT],
        *,
        stale: str | IntentHandler = NO_LONGER_ACTIVE,
        override: bool = False,
    ) -> Callable[
        [Callable[[Turn, DataT], Awaitable[None]]], Callable[[Turn, DataT], Awaitable[None]]
    ]:
        """Register the handler of one kind of button (dispatched on the first part of its
        prefix); `stale` answers data of that prefix that does not unpack."""

        def register(
            handler: Callable[[Turn, DataT], Awaitable[None]],
        ) -> Callable[[Turn, DataT], Awaitable[None]]:
            key = kind.key()
            self._add("button", self.buttons, key, override)
            roles = getattr(handler, "required_roles", None)
            self.buttons[key] = ButtonRoute(kind, handler, stale, roles)
            return handler

        return register

    def intent(self, *names: str, override: bool = False) -> Callable[[IntentT], IntentT]:
        def register(handler: IntentT) -> IntentT:
            for name in names:
                self._add("intent", self.intents, name, override)
                self.intents[name] = handler
            return handler

        return register

    def on_attachment(self, handler: IntentHandler) -> IntentHandler:
        if self.attachment is not None:
            raise DuplicateHandler(f"router {self.name!r} registers two attachment handlers")
        self.attachment = handler
        return handler

    def screen(self, handler: TakeHandler) -> TakeHandler:
        """The one handler that looks at a person's message before the framework, a flow or
        anything else (a person in danger never waits); True if it answered it."""
        if self.screener is not None:
            raise DuplicateHandler(f"router {self.name!r} registers two screens")
        self.screener = handler
        return handler

    def take(self, handler: TakeHandler) -> TakeHandler:
        """A handler offered a person's text or file outside any flow before intents and the
        attachment handler see it (e.g. words meant for a coach); it returns True if it took
        the message. Every router's takers are asked, in the order of the routers."""
        self.takers.append(handler)
        return handler

    def flow(self, flow: FlowT, *, override: bool = False) -> FlowT:
        self._add("flow", self.flows, flow.name, override)
        self.flows[flow.name] = flow
        return flow


class Routes:
    """The merged view of every included router, in order; see the module's docstring for
    when a later router may replace an earlier one's handler."""

    def __init__(self, routers: list[Router]) -> None:
        self.commands: dict[str, CommandHandler] = {}
        self.buttons: dict[str, ButtonRoute] = {}
        self.intents: dict[str, IntentHandler] = {}
        self.flows: dict[str, Flow[Any, Any]] = {}
        self.attachment: IntentHandler | None = None
        self.screen: TakeHandler | None = None
        self.takers: list[TakeHandler] = []
        owners: dict[tuple[str, str], str] = {}  # (kind, key) -> the router that holds it
        for router in routers:
            _merge(owners, router, "command", self.commands, router.commands)
            _merge(owners, router, "button", self.buttons, router.buttons)
            _merge(owners, router, "intent", self.intents, router.intents)
            _merge(owners, router, "flow", self.flows, router.flows)
            if router.attachment is not None:
                _claim(owners, router, "attachment", "")
                self.attachment = router.attachment
            if router.screener is not None:
                _claim(owners, router, "screen", "")
                self.screen = router.screener
            self.takers += router.takers


def _merge(
    owners: dict[tuple[str, str], str],
    router: Router,
    kind: str,
    merged: dict[str, H],
    own: dict[str, H],
) -> None:
    for key, handler in own.items():
        _claim(owners, router, kind, key)
        merged[key] = handler


def _claim(owners: dict[tuple[str, str], str], router: Router, kind: str, key: str) -> None:
    """Record that `router` answers (kind, key); refuse an undeclared second answer."""
    previous = owners.get((kind, key))
    declared = (kind, key) in router.overrides
    if previous is None and declared:
        raise DuplicateHandler(
            f"router {router.name!r} declares an override of {kind} {key!r}, "
            "but no earlier router registers it"
        )
    if previous is not None and not declared:
        raise DuplicateHandler(
            f"{kind} {key!r} is registered by router {previous!r} and again by "
            f"{router.name!r}: remove one, or declare the later one with override=True"
        )
    owners[(kind, key)] = router.name
