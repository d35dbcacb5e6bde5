"""Clear answers for capabilities that other features provide; their routers override these."""

from __future__ import annotations

from bot.router import Router
from bot.turn import Turn

router = Router("placeholders")


@router.intent("emergency")
async def emergency(turn: Turn) -> None:
    await turn.reply(
        turn._(
            "If someone is in danger, call now: police 19, gendarmerie 177, civil protection "
            "15. Your message is saved."
        )
    )


@router.intent("talk_to_coach", "report_problem", "check_action_plan", "commitment_status")
async def not_yet(turn: Turn) -> None:
    await turn.reply(
        turn._(
            "Noted. This service is being set up; your message is saved and a coach will see it."
        )
    )
