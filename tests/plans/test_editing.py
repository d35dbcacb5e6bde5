"""Coaches' edits of commitments: history, owners (linked, pending, invited), committee rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LOCAL_TZ, ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.plans import importer, service
from bot.plans.reminders import scan_session
from storage.db import Database
from storage.models import (
    ActionPlan,
    Actor,
    Commitment,
    CommitmentEvent,
    CommitmentStatus,
    CommitteeMember,
    Invitation,
    InvitationKind,
    OutboxMessage,
    Role,
)
from tests.driver import Hotline

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = datetime(2013, 1, 31, 10, 0, tzinfo=LOCAL_TZ)


def at(month: int, day: int, hour: int = 8) -> datetime:
    return datetime(2013, month, day, hour, 0, tzinfo=LOCAL_TZ)


def _actor(name: str, display: str, role: str = Role.ACTOR) -> Actor:
    return Actor(
        channel="console",
        external_id=name,
        chat_id=name,
        display_name=display,
        role=role,
        created_at=NOW,
    )


async def _seed(session: AsyncSession, members: tuple[str, ...] = ("rachida",)) -> ActionPlan:
    people = {
        "coach1": _actor("coach1", "Abdesselam El Mouket", Role.COACH),
        "coach2": _actor("coach2", "Karim El Kaddouri", Role.COACH),
        "rachida": _actor("rachida", "Rachida Alaoui", Role.COMMITTEE_MEMBER),
        "admin": _actor("admin", "Admin", Role.ADMIN),
    }
    session.add_all(people.values())
    await session.flush()
    report = await importer.import_plan(
        session,
        FIXTURES / "bouanane_plan.csv",
        importer.PlanOptions(
            "Tourisme solidaire", date(2013, 1, 31), committee="Comité TS", coach=people["coach1"]
        ),
        now=NOW,
    )
    plan = await session.get_one(ActionPlan, report.plan_id)
    for name in members:
        session.add(
            CommitteeMember(committee_id=plan.committee_id, actor_id=people[name].id, joined_at=NOW)
        )
    await session.flush()
    return plan


async def _by(session: AsyncSession, name: str) -> Actor:
    return (await session.scalars(select(Actor).where(Actor.external_id == name))).one()


async def _keys(session: AsyncSession) -> list[str]:
    rows = await session.scalars(
        select(OutboxMessage.dedup_key)
        .where(OutboxMessage.dedup_key.like("reminder:%"))
        .order_by(OutboxMessage.id)
    )
    return [key for key in rows.all() if key]


async def test_only_the_plans_coach_or_an_admin_edits_it(database_url: str) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        plan = await _seed(session)
        assert await service.can_edit_plan(session, await _by(session, "coach1"), plan)
        assert await service.can_edit_plan(session, await _by(session, "admin"), plan)
        assert not await service.can_edit_plan(session, await _by(session, "coach2"), plan)
        # A committee member sees the plan but does not edit it.
        rachida = await _by(session, "rachida")
        assert await service.can_see_plan(session, rachida, plan)
        assert not await service.can_edit_plan(session, rachida, plan)
    await db.dispose()


async def test_every_edit_is_in_the_history_with_old_and_new(database_url: str) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        plan = await _seed(session)
        coach = await _by(session, "coach1")
        row = (await service.commitments_of_plan(session, plan.id))[1]
        await service.set_text(session, row, "where", "Maison des jeunes", actor=coach, now=NOW)
        await service.set_due(session, row, date(2013, 6, 30), text="Juin", actor=coach, now=NOW)
        await service.set_status(session, row, CommitmentStatus.CANCELLED, actor=coach, now=NOW)
        events = await service.history(session, row.id)
        assert [(e.kind, e.actor_id) for e in events[-3:]] == [
            ("edit", coach.id),
            ("due", coach.id),
            ("status", coach.id),
        ]
        assert events[-3].details == {
            "field": "where",
            "old": "Siège de la commune",
            "new": "Maison des jeunes",
        }
        assert events[-2].details["old"] == "2013-02-28"
        assert events[-1].details == {"old": "not_started", "new": "cancelled"}
        # A cancelled row is neither open nor late.
        assert row not in await service.open_commitments_of(session, coach.id)
        assert not service.is_overdue(row, at(12, 1))
    await db.dispose()


async def test_candidates_are_close_names_and_always_the_committee(database_url: str) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        plan = await _seed(session)
        names = [a.display_name for a in await service.owner_candidates(session, plan, "rachida")]
        assert names[0] == "Rachida Alaoui"
        # "Comité TS" resembles nobody: the committee's members are offered anyway.
        names = [a.display_name for a in await service.owner_candidates(session, plan, "Comité TS")]
        assert names == ["Rachida Alaoui"]
        names = [
            a.display_name for a in await service.owner_candidates(session, plan, "el kaddouri")
        ]
        assert names[0] == "Karim El Kaddouri"
    await db.dispose()


async def test_linking_a_pending_owner_links_every_row_of_that_name(database_url: str) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        plan = await _seed(session)
        pending = await service.pending_owners(session, plan.id)
        assert [(name, count) for name, _, count in pending] == [
            ("Comité TS", 4),
            ("M Jaouad ELAFOUI (comité TS)", 1),
        ]
        rachida, coach = await _by(session, "rachida"), await _by(session, "coach1")
        linked = await service.link_pending_owner(
            session, plan.id, "Comité TS", rachida, actor=coach, now=NOW
        )
        assert len(linked) == 4 and all(c.owner_id == rachida.id for c in linked)
        event = (await service.history(session, linked[0].id))[-1]
        assert event.kind == "owner" and event.details["new_id"] == rachida.id
        assert event.details["old_id"] is None and event.details["old_text"] == "Comité TS"
        # Nothing left to link under that name.
        again = await service.link_pending_owner(
            session, plan.id, "Comité TS", coach, actor=coach, now=NOW
        )
        assert again == []
    await db.dispose()


async def test_committee_rows_are_relayed_through_the_coach(database_url: str) -> None:
    settings = Settings()
    db = Database(database_url)
    async with db.transaction() as session:
        plan = await _seed(session)
        committee = await service.committee_of(session, plan)
        rows = await service.commitments_of_plan(session, plan.id)
        assert [service.is_committee_owned(c, committee) for c in rows] == [
            False,
            True,
            True,
            True,
            True,
        ]
        await scan_session(session, at(2, 21), settings)
        coach = await _by(session, "coach1")
        assert await _keys(session) == [f"reminder:2:20130228:-7:coach{coach.id}"]
        # The coach updates the row: that is the committee's answer until the next reminder.
        await service.set_status(
            session, rows[1], CommitmentStatus.IN_PROGRESS, actor=coach, now=at(2, 21, 9)
        )
        await scan_session(session, at(2, 21, 10), settings)
        assert len(await _keys(session)) == 1
    await db.dispose()


async def test_a_new_owner_gets_the_later_reminders_not_the_fallen_ones(
    database_url: str,
) -> None:
    settings = Settings()
    db = Database(database_url)
    async with db.transaction() as session:
        plan = await _seed(session)
        rachida, coach = await _by(session, "rachida"), await _by(session, "coach1")
        row = (await service.commitments_of_plan(session, plan.id))[1]  # due 28 February
        # Handed over on 22 February, after the -7 reminder fell due: she was told then.
        await service.set_owner(session, row, rachida, actor=coach, now=at(2, 22, 10))
        await scan_session(session, at(2, 22, 11), settings)
        assert await _keys(session) == []
        await scan_session(session, at(2, 27), settings)
        assert await _keys(session) == ["reminder:2:20130228:-1"]
        # Cancelled: no more.
        await service.set_status(
            session, row, CommitmentStatus.CANCELLED, actor=coach, now=at(2, 27, 9)
        )
        await scan_session(session, at(2, 28), settings)
        assert await _keys(session) == ["reminder:2:20130228:-1"]
        events = await session.scalars(
            select(CommitmentEvent.kind).where(CommitmentEvent.commitment_id == row.id)
        )
        assert "overdue_alert" not in events.all()
    await db.dispose()


async def test_pending_owner_invitation_links_rows_on_acceptance(
    engine: Engine, clock: ManualClock, hotline: Hotline
) -> None:
    """The coach's link, opened by the person: committee membership and the rows."""
    clock.set(NOW)
    async with engine.db.transaction() as session:
        plan = await _seed(session)
        coach = await _by(session, "coach1")
        session.add(
            Invitation(
                token="tok",
                kind=InvitationKind.COMMITTEE,
                committee_id=plan.committee_id,
                plan_id=plan.id,
                owner_text="M Jaouad ELAFOUI (comité TS)",
                created_by_id=coach.id,
                created_at=NOW,
                expires_at=at(2, 7),
            )
        )
    invited = hotline.newcomer("jaouad")
    await invited.says("/start tok")
    await invited.taps("framework:ack")
    async with engine.db.transaction() as session:
        jaouad = await _by(session, "jaouad")
        row = await session.scalar(select(Commitment).where(Commitment.position == 0))
        assert row is not None and row.owner_id == jaouad.id
        assert await session.get(CommitteeMember, (plan.committee_id, jaouad.id)) is not None
