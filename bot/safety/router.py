"""When a message may be about a person in danger but the understanding is not sure: ask."""

from __future__ import annotations

from bot.core.effects import Button
from bot.core.router import Router
from bot.core.turn import Turn

router = Router("safety")


@router.intent("danger_check")
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
        await turn.dispatch_intent("emergency")
    elif len(fields) > 1 and fields[1].isdigit():
        # Nobody in danger: the message asked about is answered as what it otherwise is.
        await turn.engine.replay(turn, int(fields[1]), not_danger=True)
    else:
        await turn.dispatch_intent("menu")
