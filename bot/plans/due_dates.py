"""Due dates in the plan flows: reading the date people type, showing one, storing it in a
flow's state (shared by the check flow, the plan flow and the commitment editing)."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.clock import LOCAL_TZ, local
from bot.core.turn import Turn
from bot.plans import service
from bot.plans.dates import DueDate, resolve_due
from bot.plans.reminders import DATETIME_PATTERN


async def read_due(turn: Turn) -> tuple[DueDate, date | datetime] | None:
    """The date the person wrote and its proposed value; None once they were asked again."""
    due = resolve_due(turn.text, local(turn.now).date())
    proposed = service.proposed_due(due)
    if proposed is None:
        await turn.reply(
            turn._("I could not read this date. Write it like “15 avril 2026” or “fin avril 2026”.")
        )
        return None
    return due, proposed


def day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def to_iso(value: date | datetime) -> str:
    return value.isoformat()


def from_iso(text: str) -> date | datetime:
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


def show(turn: Turn, value: date | datetime) -> str:
    """A due date as people read it, in their variant (local wall time)."""
    if isinstance(value, datetime):
        return turn.t.datetime(value.replace(tzinfo=LOCAL_TZ), DATETIME_PATTERN)
    return turn.t.date(value, "long")
