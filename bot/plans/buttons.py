"""The buttons of action plans: what each carries (bot/core/callback.py). Their wire forms
are the ones sent since the first version, so buttons in old messages still work."""

from __future__ import annotations

from typing import Literal

from bot.core.callback import CallbackData
from storage.models import CommitmentStatus


class ReminderAnswer(CallbackData, prefix="rem"):
    """A deadline reminder's answer: rem:<done|later|blocked>:<commitment>."""

    answer: Literal["done", "later", "blocked"]
    commitment_id: int


class PlanStatus(CallbackData, prefix="pstatus"):
    """The committee status of a plan: pstatus:<plan>."""

    plan_id: int


class PlanCoach(CallbackData, prefix="pcoach"):
    """A coach's plan card: pcoach:new, pcoach:<action>:<plan>, pcoach:owner:<plan>:<row>."""

    action: Literal["new", "open", "rows", "owners", "owner", "add", "dates", "xlsx"]
    plan_id: int | None = None
    commitment_id: int | None = None


class CommitmentCard(CallbackData, prefix="pcm"):
    """A coach's commitment card: pcm:<commitment>[:<field> | :history | :cancel]."""

    commitment_id: int
    action: str | None = None  # None: the card itself


# -- the flows' own buttons: "<flow>:<value>" ----------------------------------------------


class CheckChoice(CallbackData, prefix="plan_check"):
    """An answer in the plan check flow (a status, an evaluation, skip, yes/no...)."""

    value: str


class PlanEditChoice(CallbackData, prefix="plan_edit"):
    value: Literal["empty", "yes", "no", "more", "finish", "use"]


class CommitmentEditChoice(CallbackData, prefix="cedit"):
    """yes / no, leave empty, make an invitation link, keep the name as (t)ext."""

    value: Literal["yes", "no", "empty", "invite", "t"]


class CommitmentEditStatus(CallbackData, prefix="cedit:s"):
    status: CommitmentStatus


class CommitmentEditOwner(CallbackData, prefix="cedit:a"):
    person_id: int
