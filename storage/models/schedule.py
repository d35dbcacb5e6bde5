"""Next-due times kept beside their inputs, so that periodic scans read only what is due.

`commitments.remind_at` and `cases.sla_check_at` say when a scan must next look at a row.
The scans move them forward; everything else that changes an input of the decision resets
them here, in one place per aggregate, whichever code path made the change (ORM flushes;
a bulk `UPDATE` statement bypasses these hooks and must set the column itself):

* a commitment whose status, deadline, owner or plan changes is looked at by the next scan;
* so are the rows of a plan whose offsets, coach, committee or territory change, the rows a
  person owns or relays when they become reachable again or turn reminders back on, and
  the rows of a committee that is renamed or of a territory that gets a coach;
* a case taken, resolved or closed leaves the SLA scan; a new case enters it at its
  acknowledgement deadline.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, inspect, or_, select, update
from sqlalchemy.orm import Mapper

from storage.models.actors import Actor
from storage.models.base import RECHECK
from storage.models.cases import Case, CaseStatus
from storage.models.plans import ActionPlan, Commitment, CommitmentStatus
from storage.models.territories import Committee, TerritoryCoach

COMMITMENT_INPUTS = (
    "status",
    "due",
    "due_has_time",
    "due_needs_confirmation",
    "owner_id",
    "owner_text",
    "plan_id",
)
PLAN_INPUTS = ("reminder_offsets", "coach_id", "committee_id", "territory_id")
OPEN = (CommitmentStatus.NOT_STARTED, CommitmentStatus.IN_PROGRESS, CommitmentStatus.BLOCKED)

# The attributes the update listeners below react to, by class. A change to one of them must
# go through the unit of work, which runs the listeners: storage/changes.py, which writes
# some changes past it, leaves those to it (and every change of a class with update
# listeners not declared here).
WATCHED: dict[type, frozenset[str]] = {
    Commitment: frozenset(COMMITMENT_INPUTS),
    ActionPlan: frozenset(PLAN_INPUTS),
    Actor: frozenset({"reachable", "reminders_stopped"}),
    Committee: frozenset({"name"}),
    Case: frozenset({"ack_due_at", "status", "acknowledged_at"}),
}


def _changed(target: Any, *names: str) -> bool:
    state = inspect(target)
    return any(state.attrs[name].history.has_changes() for name in names)


def _recheck(connection: Connection, *conditions: Any) -> None:
    connection.execute(
        update(Commitment.__table__)  # type: ignore[arg-type]
        .where(Commitment.__table__.c.status.in_(OPEN), *conditions)
        .values(remind_at=RECHECK)
    )


@event.listens_for(Commitment, "before_update")
def _commitment_changed(_mapper: Mapper[Any], _connection: Connection, target: Commitment) -> None:
    if _changed(target, *COMMITMENT_INPUTS):
        target.remind_at = RECHECK


@event.listens_for(ActionPlan, "after_update")
def _plan_changed(_mapper: Mapper[Any], connection: Connection, target: ActionPlan) -> None:
    if _changed(target, *PLAN_INPUTS):
        _recheck(connection, Commitment.__table__.c.plan_id == target.id)


def _plans_relayed_by(actor_id: int) -> Any:
    """The plans whose reminders this person may relay: theirs, or their territories' ones."""
    territories = select(TerritoryCoach.territory_id).where(TerritoryCoach.coach_id == actor_id)
    return select(ActionPlan.id).where(
        or_(
            ActionPlan.coach_id == actor_id,
            ActionPlan.coach_id.is_(None) & ActionPlan.territory_id.in_(territories),
        )
    )


@event.listens_for(Actor, "after_update")
def _actor_changed(_mapper: Mapper[Any], connection: Connection, target: Actor) -> None:
    state = inspect(target)
    back = (state.attrs.reachable.history.has_changes() and target.reachable) or (
        state.attrs.reminders_stopped.history.has_changes() and not target.reminders_stopped
    )
    if back:
        column = Commitment.__table__.c
        _recheck(
            connection,
            or_(column.owner_id == target.id, column.plan_id.in_(_plans_relayed_by(target.id))),
        )


@event.listens_for(Committee, "after_update")
def _committee_renamed(_mapper: Mapper[Any], connection: Connection, target: Committee) -> None:
    if _changed(target, "name"):
        plans = select(ActionPlan.id).where(ActionPlan.committee_id == target.id)
        _recheck(connection, Commitment.__table__.c.plan_id.in_(plans))


@event.listens_for(TerritoryCoach, "after_insert")
def _territory_coached(_mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    plans = select(ActionPlan.id).where(
        ActionPlan.coach_id.is_(None), ActionPlan.territory_id == target.territory_id
    )
    _recheck(connection, Commitment.__table__.c.plan_id.in_(plans))


def _sla_check(case: Case) -> Any:
    if case.status != CaseStatus.OPEN or case.acknowledged_at is not None:
        return None
    return case.ack_due_at


@event.listens_for(Case, "before_insert")
def _case_opened(_mapper: Mapper[Any], _connection: Connection, target: Case) -> None:
    if target.sla_check_at is None:
        target.sla_check_at = _sla_check(target)


@event.listens_for(Case, "before_update")
def _case_changed(_mapper: Mapper[Any], _connection: Connection, target: Case) -> None:
    if _changed(target, "ack_due_at"):
        target.sla_check_at = _sla_check(target)
    elif _changed(target, "status", "acknowledged_at") and _sla_check(target) is None:
        target.sla_check_at = None
