"""Import a plan d'action concerté from a CSV or XLSX table into storage.

The whole file is read and validated first; a file with any error stores nothing. Due dates
keep their original text; a date that cannot be resolved with certainty is stored without a
value (or with the explicit reading, e.g. a weekday mismatch) and flagged for a coach to confirm.
Owners are matched to known actors by name; the others stay as text, listed for the coach.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plans import service
from bot.plans.table import PlanTable, read_plan_table, row_to_json
from storage.models import (
    ActionPlan,
    Actor,
    Commitment,
    CommitmentEvent,
    Committee,
    CommitteeMember,
    Territory,
    TerritoryKind,
)


@dataclass
class PlanOptions:
    """What the table itself does not say about the plan."""

    title: str
    reference: date
    theme: str = ""
    territory: str | None = None  # name; created as a commune when unknown
    committee: str | None = None  # name; created when unknown
    coach: Actor | None = None
    reminder_offsets: list[int] | None = None
    importer: Actor | None = None  # who imports (None from the command line)


@dataclass
class ImportReport:
    table: PlanTable
    rows: list[dict[str, Any]] = field(default_factory=list)
    plan_id: int | None = None

    @property
    def valid(self) -> bool:
        return self.table.is_valid

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": list(self.table.errors),
            "plan_id": self.plan_id,
            "rows": self.rows,
        }


def read(path: Path, reference: date, on_row: Callable[[int], None] | None = None) -> ImportReport:
    """Parse and validate only (what ``--dry-run`` shows); nothing is stored."""
    table = read_plan_table(path, reference, on_row)
    return ImportReport(table=table, rows=[row_to_json(row) for row in table.rows])


async def import_plan(
    session: AsyncSession,
    path: Path,
    options: PlanOptions,
    *,
    now: datetime,
    on_row: Callable[[int], None] | None = None,
) -> ImportReport:
    """Read, validate, then store the plan and its commitments in the caller's transaction."""
    report = read(path, options.reference, on_row)
    if not report.valid:
        return report
    return await store(session, report, options, now=now, source=path.name)


async def store(
    session: AsyncSession,
    report: ImportReport,
    options: PlanOptions,
    *,
    now: datetime,
    source: str,
) -> ImportReport:
    territory = await _territory(session, options.territory)
    committee = await _committee(session, options.committee, territory, now)
    plan = ActionPlan(
        title=options.title[:200],
        theme=options.theme[:200],
        territory_id=territory.id if territory else None,
        committee_id=committee.id if committee else None,
        coach_id=options.coach.id if options.coach else None,
        reference_date=options.reference,
        reminder_offsets=options.reminder_offsets,
        created_at=now,
    )
    session.add(plan)
    await session.flush()
    report.plan_id = plan.id
    for position, (row, shown) in enumerate(zip(report.table.rows, report.rows, strict=True)):
        owner = await service.match_owner(session, row.owner)
        # A flagged reading with an explicit value (weekday mismatch...) is kept, still flagged;
        # a guess (a month without its year) is only offered as a suggestion.
        due, has_time = service.due_to_storage(row.due.value)
        commitment = Commitment(
            plan_id=plan.id,
            position=position,
            what=row.what,
            where=row.where,
            due=due,
            due_has_time=has_time,
            due_text=row.due_text[:200],
            due_needs_confirmation=row.due.needs_confirmation,
            owner_id=owner.id if owner else None,
            owner_text=row.owner[:200],
            how=row.how,
            deliverables=row.deliverables,
            created_at=now,
            updated_at=now,
        )
        session.add(commitment)
        await session.flush()
        session.add(
            CommitmentEvent(
                commitment_id=commitment.id,
                actor_id=options.importer.id if options.importer else None,
                at=now,
                kind="created",
                details={
                    "source": source,
                    "row": row.number,
                    "reason": row.due.reason,
                    "suggestion": shown["suggestion"],
                },
            )
        )
        if owner is not None and committee is not None:
            await _ensure_member(session, committee, owner, now)
        shown["commitment_id"] = commitment.id
        shown["owner_id"] = owner.id if owner else None
        shown["owner_pending"] = owner is None
    await session.flush()
    return report


async def _territory(session: AsyncSession, name: str | None) -> Territory | None:
    if not name:
        return None
    found = await session.scalar(select(Territory).where(Territory.name == name))
    if found is None:
        found = Territory(name=name, kind=TerritoryKind.COMMUNE)
        session.add(found)
        await session.flush()
    return found


async def _committee(
    session: AsyncSession, name: str | None, territory: Territory | None, now: datetime
) -> Committee | None:
    if not name:
        return None
    found = await session.scalar(select(Committee).where(Committee.name == name))
    if found is None:
        found = Committee(
            name=name, territory_id=territory.id if territory else None, created_at=now
        )
        session.add(found)
        await session.flush()
    return found


async def _ensure_member(
    session: AsyncSession, committee: Committee, actor: Actor, now: datetime
) -> None:
    # An owner of a commitment of the committee's plan follows its status too.
    if await session.get(CommitteeMember, (committee.id, actor.id)) is None:
        session.add(CommitteeMember(committee_id=committee.id, actor_id=actor.id, joined_at=now))
        await session.flush()
