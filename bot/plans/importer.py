"""Import a plan d'action concerté from a CSV or XLSX table into storage.

The whole file is read and validated first; a file with any error stores nothing. Due dates
keep their original text; a date that cannot be resolved with certainty is stored without a
value (or with the explicit reading, e.g. a weekday mismatch) and flagged for a coach to confirm.
Owners are matched to known actors by name; the others stay as text, listed for the coach.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.plans import service
from bot.plans.table import PlanRow, PlanTable, read_plan_table, row_to_json
from storage.db import Database
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

# Rows per transaction of a command-line import, and the pause after each on SQLite.
BATCH_ROWS = 500
BATCH_PAUSE = 0.1


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
    """Store the whole plan in the caller's transaction (small plans, tests, the chat)."""
    territory = await _territory(session, options.territory)
    committee = await _committee(session, options.committee, territory, now)
    plan = _plan(options, territory, now)
    plan.committee_id = committee.id if committee else None
    plan.coach_id = options.coach.id if options.coach else None
    session.add(plan)
    await session.flush()
    report.plan_id = plan.id
    rows = list(zip(report.table.rows, report.rows, strict=True))
    await _store_rows(session, plan.id, committee, rows, 0, options, now, source, {})
    return report


async def store_in_batches(
    db: Database,
    report: ImportReport,
    options: PlanOptions,
    *,
    now: datetime,
    source: str,
    batch: int = BATCH_ROWS,
    on_stored: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Store a plan in short transactions of `batch` rows, so that the bot keeps answering
    (SQLite has one writer at a time): the plan is created without its coach and committee,
    so nobody sees it while rows arrive, and gets them in a last short transaction. A failure
    removes what was stored; nothing half imported is ever shown."""
    async with db.transaction() as session:
        territory = await _territory(session, options.territory)
        committee = await _committee(session, options.committee, territory, now)
        plan = _plan(options, territory, now)
        session.add(plan)
        await session.flush()
        plan_id = plan.id
    rows = list(zip(report.table.rows, report.rows, strict=True))
    owners: dict[str, int | None] = {}
    try:
        for start in range(0, len(rows), batch):
            async with db.transaction() as session:
                await _store_rows(
                    session,
                    plan_id,
                    committee,
                    rows[start : start + batch],
                    start,
                    options,
                    now,
                    source,
                    owners,
                )
            if on_stored is not None:
                on_stored(min(start + batch, len(rows)), len(rows))
            if db.is_sqlite:
                # SQLite's lock is not fair: a pause lets the waiting writers (the bot) in.
                await asyncio.sleep(BATCH_PAUSE)
        async with db.transaction() as session:
            stored = await session.get_one(ActionPlan, plan_id)
            stored.committee_id = committee.id if committee else None
            stored.coach_id = options.coach.id if options.coach else None
    except BaseException:
        async with db.transaction() as session:
            await _remove_plan(session, plan_id)
        raise
    report.plan_id = plan_id
    return report


def _plan(options: PlanOptions, territory: Territory | None, now: datetime) -> ActionPlan:
    return ActionPlan(
        title=options.title[:200],
        theme=options.theme[:200],
        territory_id=territory.id if territory else None,
        reference_date=options.reference,
        reminder_offsets=options.reminder_offsets,
        created_at=now,
    )


async def _store_rows(
    session: AsyncSession,
    plan_id: int,
    committee: Committee | None,
    rows: list[tuple[PlanRow, dict[str, Any]]],
    first_position: int,
    options: PlanOptions,
    now: datetime,
    source: str,
    owners: dict[str, int | None],
) -> None:
    """Rows of a plan, with their history and owners; owners matched once per name."""
    commitments: list[Commitment] = []
    for offset, (row, _shown) in enumerate(rows):
        if row.owner not in owners:
            owner = await service.match_owner(session, row.owner)
            owners[row.owner] = owner.id if owner else None
        owner_id = owners[row.owner]
        # A flagged reading with an explicit value (weekday mismatch...) is kept, still flagged;
        # a guess (a month without its year) is only offered as a suggestion.
        due, has_time = service.due_to_storage(row.due.value)
        commitments.append(
            Commitment(
                plan_id=plan_id,
                position=first_position + offset,
                what=row.what,
                where=row.where,
                due=due,
                due_has_time=has_time,
                due_text=row.due_text[:200],
                due_needs_confirmation=row.due.needs_confirmation,
                owner_id=owner_id,
                owner_text=row.owner[:200],
                how=row.how,
                deliverables=row.deliverables,
                created_at=now,
                updated_at=now,
            )
        )
    session.add_all(commitments)
    await session.flush()
    for commitment, (row, shown) in zip(commitments, rows, strict=True):
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
        if commitment.owner_id is not None and committee is not None:
            await _ensure_member(session, committee.id, commitment.owner_id, now)
        shown["commitment_id"] = commitment.id
        shown["owner_id"] = commitment.owner_id
        shown["owner_pending"] = commitment.owner_id is None
    await session.flush()


async def _remove_plan(session: AsyncSession, plan_id: int) -> None:
    rows = select(Commitment.id).where(Commitment.plan_id == plan_id)
    await session.execute(delete(CommitmentEvent).where(CommitmentEvent.commitment_id.in_(rows)))
    await session.execute(delete(Commitment).where(Commitment.plan_id == plan_id))
    await session.execute(delete(ActionPlan).where(ActionPlan.id == plan_id))


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
    session: AsyncSession, committee_id: int, actor_id: int, now: datetime
) -> None:
    # An owner of a commitment of the committee's plan follows its status too.
    if await session.get(CommitteeMember, (committee_id, actor_id)) is None:
        session.add(CommitteeMember(committee_id=committee_id, actor_id=actor_id, joined_at=now))
        await session.flush()
