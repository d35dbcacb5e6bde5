"""A person in danger: the screen that looks first (policy in service.py), the question asked
when the understanding is not sure, and its answer."""

from __future__ import annotations

from bot.core.effects import Button
from bot.core.router import Router
from bot.core.turn import Turn
from bot.safety import service

router = Router("safety")


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
            (Button(turn._("Yes, someone is in danger"), f"danger:yes:{turn.message.id}"),),
            (Button(turn._("No"), f"danger:no:{turn.message.id}"),),
        ),
    )


@router.button("danger")
async def danger_answer(turn: Turn, fields: list[str]) -> None:
    if fields[:1] == ["yes"]:
        await service.act(turn)
    elif len(fields) > 1 and fields[1].isdigit():
        # Nobody in danger: the message asked about is answered as what it otherwise is.
        await turn.engine.replay(turn, int(fields[1]), not_danger=True)
    else:
        await turn.dispatch_intent("menu")
