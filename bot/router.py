"""Where features declare what they answer: commands, buttons, intents, flows.

Modelled on aiogram's Router, but over engine events: a feature module builds one Router
and the application includes it. A later router overrides an earlier one for the same key,
so a feature can replace a placeholder.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bot.flows.base import Flow
    from bot.turn import Turn

CommandHandler = Callable[["Turn", str], Awaitable[None]]  # (turn, argument)
ButtonHandler = Callable[["Turn", list[str]], Awaitable[None]]  # (turn, data fields)
IntentHandler = Callable[["Turn"], Awaitable[None]]
TakeHandler = Callable[["Turn"], Awaitable[bool]]  # True: the message was taken

H = TypeVar("H")


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, CommandHandler] = {}
        self.buttons: dict[str, ButtonHandler] = {}
        self.intents: dict[str, IntentHandler] = {}
        self.flows: dict[str, Flow] = {}
        self.attachment: IntentHandler | None = None
        self.takers: list[TakeHandler] = []

    def command(self, *names: str) -> Callable[[CommandHandler], CommandHandler]:
        """Register a /command under one or more names (aliases in each language)."""

        def register(handler: CommandHandler) -> CommandHandler:
            for name in names:
                self.commands[name.lower()] = handler
            return handler

        return register

    def button(self, prefix: str) -> Callable[[ButtonHandler], ButtonHandler]:
        """Register the handler of buttons whose data is "<prefix>:<field>:<field>..."."""

        def register(handler: ButtonHandler) -> ButtonHandler:
            self.buttons[prefix] = handler
            return handler

        return register

    def intent(self, *names: str) -> Callable[[IntentHandler], IntentHandler]:
        def register(handler: IntentHandler) -> IntentHandler:
            for name in names:
                self.intents[name] = handler
            return handler

        return register

    def on_attachment(self, handler: IntentHandler) -> IntentHandler:
        self.attachment = handler
        return handler

    def take(self, handler: TakeHandler) -> TakeHandler:
        """A handler offered a person's text or file outside any flow before intents and the
        attachment handler see it (e.g. words meant for a coach); it returns True if it took
        the message. Every router's takers are asked, in the order of the routers."""
        self.takers.append(handler)
        return handler

    def flow(self, flow: Flow) -> Flow:
        self.flows[flow.name] = flow
        return flow


class Routes:
    """The merged view of every included router."""

    def __init__(self, routers: list[Router]) -> None:
        self.commands: dict[str, CommandHandler] = {}
        self.buttons: dict[str, ButtonHandler] = {}
        self.intents: dict[str, IntentHandler] = {}
        self.flows: dict[str, Flow] = {}
        self.attachment: IntentHandler | None = None
        self.takers: list[TakeHandler] = []
        for router in routers:
            self.commands.update(router.commands)
            self.buttons.update(router.buttons)
            self.intents.update(router.intents)
            self.flows.update(router.flows)
            self.attachment = router.attachment or self.attachment
            self.takers += router.takers
