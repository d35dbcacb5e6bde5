"""A person in danger: the screen that looks first (policy in service.py), the question asked
when the understanding is not sure, and its answer."""

from __future__ import annotations

from typing import Literal

from bot.core.callback import CallbackData
from bot.core.effects import Button
from bot.core.router import Router
from bot.core.turn import Turn
from bot.safety import service

router = Router("safety")


class DangerAnswer(CallbackData, prefix="danger"):
    """The answer to "Is someone in danger right now?": danger:<yes|no>:<message asked about>."""

    answer: Literal["yes", "no"]
    message_id: int | None = None


@router.screen
async def screen(turn: Turn) -> bool:
    response = service.first_response(turn)
    if response is None:
        return False
    if response is service.Response.ACT:
        await service.act(turn)
    else:
        await danger_check(turn)
    return True


@router.intent(service.ACT_INTENT)
async def emergency_case(turn: Turn) -> None:
    """Someone said so (a button): act."""
    await service.act(turn)


# Understood in the ordinary course (words that left a form, a message handled later):
# asked about, never acted on.
@router.intent(service.EMERGENCY)
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
        await service.act(turn)
    elif button.message_id is not None:
        # Nobody in danger: the message asked about is answered as what it otherwise is.
        await turn.engine.replay(turn, button.message_id, not_danger=True)
    else:
        await turn.dispatch_intent("menu")
