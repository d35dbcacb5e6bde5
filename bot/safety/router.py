"""When a message may be about a person in danger but the understanding is not sure: ask."""

from __future__ import annotations

from typing import Literal

from bot.core.callback import CallbackData
from bot.core.effects import Button
from bot.core.router import Router
from bot.core.turn import Turn

router = Router("safety")


class DangerAnswer(CallbackData, prefix="danger"):
    """The answer to "Is someone in danger right now?": danger:<yes|no>:<message asked about>."""

    answer: Literal["yes", "no"]
    message_id: int | None = None


@router.intent("danger_check")
async def danger_check(turn: Turn) -> None:
    await turn.reply(
        turn._("Is someone in danger right now?"),
        (
            (
                Button(
                    turn._("Yes, someone is in danger"), DangerAnswer("yes", turn.message.id).pack()
                ),
            ),
            (Button(turn._("No"), DangerAnswer("no", turn.message.id).pack()),),
        ),
    )


async def _menu(turn: Turn) -> None:
    await turn.dispatch_intent("menu")


@router.button(DangerAnswer, stale=_menu)
async def danger_answer(turn: Turn, button: DangerAnswer) -> None:
    if button.answer == "yes":
        await turn.dispatch_intent("emergency")
    elif button.message_id is not None:
        # Nobody in danger: the message asked about is answered as what it otherwise is.
        await turn.engine.replay(turn, button.message_id, not_danger=True)
    else:
        await turn.dispatch_intent("menu")
