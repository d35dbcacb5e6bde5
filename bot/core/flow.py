"""A flow is a small state machine whose position is stored per chat.

`start` sends the first question and sets the step; `resume` takes the next event at the
stored step. Each flow declares its steps: a handler per step, marked `@step("name")` (the
names are what is stored, so they never change), and the base dispatches through that
table; a stored step no flow declares any more ends the flow politely. A flow is started by
its typed parameters (a `FlowStart` subclass naming the flow), so the type checker checks
every caller. Buttons of a flow carry its name as prefix ("<flow>:<value>"), so a button
from an old message of another flow is recognised as stale instead of misread.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

from bot.core.callback import CallbackData
from bot.core.i18n import N_
from bot.core.turn import FlowStart, Turn

log = logging.getLogger(__name__)

StepHandler = Callable[[Any, Turn], Awaitable[None]]  # (the flow, the turn)
HandlerT = TypeVar("HandlerT", bound=StepHandler)


def step(*names: str) -> Callable[[HandlerT], HandlerT]:
    """Declare a flow's method as the handler of the steps `names` (stored as they are)."""

    def declare(handler: HandlerT) -> HandlerT:
        declared: tuple[str, ...] = getattr(handler, "flow_steps", ())
        handler.flow_steps = (*declared, *names)  # type: ignore[attr-defined]
        return handler

    return declare


StartT = TypeVar("StartT", bound=FlowStart)
# A flow's data, declared as a TypedDict and stored as the same JSON as ever.
StateT = TypeVar("StateT", bound=Mapping[str, object])


class GoOn(CallbackData, prefix="flowgo"):
    """ "Go on" / "Leave it", offered after a question answered in the middle of a flow."""

    choice: Literal["on", "leave"]


class FrameworkStart(FlowStart, flow="framework"):
    """The line's framework, recalled at the opening of a call; `pending`, the message that
    opened the call, is answered once it is acknowledged."""

    pending: int | None = None


class Flow(Generic[StartT, StateT]):
    name: ClassVar[str]
    # The intent that starts this flow: saying it again inside is not an interruption.
    intent: ClassVar[str | None] = None
    # Whether the flow is the person's own business with the bot (a report, a check):
    # then a clear question in its middle is answered and "ok" ends it. Flows whose text
    # goes to someone else (a message for a coach, a coach's reply) or is data (a date)
    # only end on a way out ("annuler", "خلاص").
    answers_questions: ClassVar[bool] = False
    # Steps answered in free text: only a question-shaped text interrupts them.
    text_steps: ClassVar[frozenset[str]] = frozenset()
    left_text: ClassVar[str] = N_("All right, we leave it there.")
    resume_question: ClassVar[str] = N_("Shall we go on where we were?")

    # The declared steps: step name -> handler; built from the `@step` marks of the class
    # and its bases.
    handlers: ClassVar[dict[str, StepHandler]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, StepHandler] = {}
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                for name in getattr(value, "flow_steps", ()):
                    handlers[name] = value
        cls.handlers = handlers

    async def start(self, turn: Turn, params: StartT) -> None:
        raise NotImplementedError

    def state(self, turn: Turn) -> StateT:
        """The flow's data, typed by its declaration (the stored dict itself, not a copy)."""
        if turn.flow is None:
            raise RuntimeError(f"flow {self.name}: no flow under way")
        return cast(StateT, turn.flow.data)

    def save(self, turn: Turn, state: StateT) -> None:
        """Replace the flow's data."""
        if turn.flow is None:
            raise RuntimeError(f"flow {self.name}: no flow under way")
        turn.flow.data = dict(state)

    async def resume(self, turn: Turn) -> None:
        """Hand the event to the handler of the stored step."""
        assert turn.flow is not None
        handler = self.handlers.get(turn.flow.step)
        if handler is None:
            # A step renamed or removed since this position was stored: end the flow
            # rather than fail on every message of the chat.
            log.warning("flow %s has no step %r: ended", self.name, turn.flow.step)
            turn.end_flow()
            await turn.reply(turn._(self.left_text))
            return
        await handler(self, turn)

    async def prompt(self, turn: Turn) -> None:
        """Ask the question of the current step again (after an interruption)."""
        raise NotImplementedError

    def owns_button(self, turn: Turn) -> bool:
        """Whether the button pressed is one of this flow's ("<flow>:..."): the flow reads
        it with its own CallbackData kinds; any other button is handled outside the flow."""
        data = turn.message.button
        return data is not None and data.partition(":")[0] == self.name
