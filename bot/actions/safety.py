"""When a message may be about a person in danger but the understanding is not sure: ask."""

from __future__ import annotations

from bot.effects import Button
from bot.router import Router
from bot.turn import Turn

router = Router("safety")


@router.intent("danger_check")
async def danger_check(turn: Turn) -> None:
    await turn.reply(
        turn._("Is someone in danger right now?"),
        (
            (Button(turn._("Yes, someone is in danger"), "danger:yes"),),
            (Button(turn._("No"), "danger:no"),),
        ),
    )


@router.button("danger")
async def danger_answer(turn: Turn, fields: list[str]) -> None:
    if fields[:1] == ["yes"]:
        await turn.dispatch_intent("emergency")
    else:
        await turn.dispatch_intent("menu")
