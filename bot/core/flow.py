"""A flow is a small state machine whose position is stored per chat.

`start` sends the first question and sets the step; `resume` takes the next event at the
stored step. Buttons of a flow carry its name as prefix ("<flow>:<value>"), so a button
from an old message of another flow is recognised as stale instead of misread.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from bot.core.callback import CallbackData
from bot.core.i18n import N_
from bot.core.turn import Turn


class GoOn(CallbackData, prefix="flowgo"):
    """ "Go on" / "Leave it", offered after a question answered in the middle of a flow."""

    choice: Literal["on", "leave"]


class Flow:
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

    # Each flow declares its own keyword parameters (`turn.start_flow(name, **params)`);
    # `*args: Any, **params: Any` is the signature mypy lets any override narrow.
    async def start(self, turn: Turn, *args: Any, **params: Any) -> None:
        raise NotImplementedError

    async def resume(self, turn: Turn) -> None:
        """Route the event to `on_<step>`; text while buttons are awaited is re-prompted."""
        assert turn.flow is not None
        handler = getattr(self, f"on_{turn.flow.step}", None)
        if handler is None:
            raise RuntimeError(f"flow {self.name} has no step {turn.flow.step!r}")
        await handler(turn)

    async def prompt(self, turn: Turn) -> None:
        """Ask the question of the current step again (after an interruption)."""
        raise NotImplementedError

    def owns_button(self, turn: Turn) -> bool:
        """Whether the button pressed is one of this flow's ("<flow>:..."): the flow reads
        it with its own CallbackData kinds; any other button is handled outside the flow."""
        data = turn.message.button
        return data is not None and data.partition(":")[0] == self.name
