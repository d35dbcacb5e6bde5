"""Routing (plan, territory tree, group chat, admins) and idempotent SLA / digest scans."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from bot.app import periodic_jobs
from bot.cases.service import open_case
from bot.cases.sla import SlaPolicy
from bot.core.clock import LOCAL_TZ, ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.core.scheduler import ScanContext, run_once
from storage.db import Database
from storage.models import (
    ActionPlan,
    Actor,
    Case,
    CaseSeverity,
    Commitment,
    OutboxMessage,
    Role,
    Territory,
    TerritoryCoach,
)
from tests.driver import Hotline


async def _open(engine: Engine, name: str, settings: Settings | None = None, **kw: object) -> Case:
    async with engine.db.transaction() as session:
        actor = await session.scalar(select(Actor).where(Actor.external_id == name))
        assert actor is not None
        return await open_case(
            session,
            now=engine.clock.now(),
            actor=actor,
            category="blocked_action",
            summary="le chantier est arrêté",
            settings=settings or engine.settings,
            **kw,  # type: ignore[arg-type]
        )


async def _alerted(engine: Engine) -> list[tuple[str, str]]:
    async with engine.db.transaction() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.channel, OutboxMessage.chat_id).order_by(OutboxMessage.id)
            )
        ).all()
    return [(c, chat) for c, chat in rows]


async def test_commitment_owner_reaches_the_plan_coach(engine: Engine, hotline: Hotline) -> None:
    karim = await hotline.person("karim", Role.COACH)
    await hotline.person("salma", Role.COACH)
    omar = await hotline.person("omar")
    now = engine.clock.now()
    async with engine.db.transaction() as session:
        plan = ActionPlan(
            title="Plan", coach_id=karim.id, reference_date=date(2026, 11, 1), created_at=now
        )
        session.add(plan)
        await session.flush()
        session.add(
            Commitment(
                plan_id=plan.id, what="Réunion", owner_id=omar.id, created_at=now, updated_at=now
            )
        )
    case = await _open(engine, "omar")
    assert case.coach_id == karim.id
    assert case.plan_id is not None
    assert await _alerted(engine) == [("console", "karim")]


async def test_territory_tree_is_walked_up(engine: Engine, hotline: Hotline) -> None:
    await hotline.person("karim", Role.COACH)
    salma = await hotline.person("salma", Role.COACH)
    omar = await hotline.person("omar")
    async with engine.db.transaction() as session:
        region = Territory(name="Oriental", kind="region")
        session.add(region)
        await session.flush()
        commune = Territory(name="Bouanane", kind="commune", parent_id=region.id)
        session.add(commune)
        await session.flush()
        douar = Territory(name="Douar", kind="douar", parent_id=commune.id)
        session.add(douar)
        await session.flush()
        session.add(TerritoryCoach(territory_id=region.id, coach_id=salma.id))
        omar = await session.scalar(select(Actor).where(Actor.external_id == "omar"))
        assert omar is not None
        omar.territory_id = douar.id
    case = await _open(engine, "omar")
    assert case.coach_id == salma.id
    assert await _alerted(engine) == [("console", "salma")]


async def test_without_coach_the_group_chat_is_alerted(engine: Engine, hotline: Hotline) -> None:
    await hotline.person("karim", Role.COACH)
    await hotline.person("omar")
    settings = replace(engine.settings, coaches_chat_id="-100123")
    case = await _open(engine, "omar", settings=settings)
    assert case.coach_id is None
    assert await _alerted(engine) == [("telegram", "-100123")]


async def test_without_coach_nor_group_admins_are_alerted(engine: Engine, hotline: Hotline) -> None:
    await hotline.person("karim", Role.COACH)
    await hotline.person("nadia", Role.ADMIN)
    await hotline.person("omar")
    await _open(engine, "omar")
    assert await _alerted(engine) == [("console", "nadia")]


async def test_emergency_alerts_on_duty_and_coordinators_at_night(
    engine: Engine, hotline: Hotline
) -> None:
    engine.clock.set(datetime(2026, 11, 29, 3, 0, tzinfo=LOCAL_TZ))  # type: ignore[attr-defined]
    await hotline.person("karim", Role.COACH)
    await hotline.person("salma", Role.COACH)
    await hotline.person("hamid", Role.COACH)
    await hotline.person("omar")
    async with engine.db.transaction() as session:
        for name, column in (("karim", "on_duty"), ("salma", "is_coordinator")):
            coach = await session.scalar(select(Actor).where(Actor.external_id == name))
            assert coach is not None
            setattr(coach, column, True)
    await _open(engine, "omar", severity=CaseSeverity.EMERGENCY)
    assert sorted(await _alerted(engine)) == [("console", "karim"), ("console", "salma")]


def _context(engine: Engine, clock: ManualClock, db: Database | None = None) -> ScanContext:
    return ScanContext(db or engine.db, clock, engine.settings)


async def test_sla_scan_realerts_once_then_escalates_once(
    engine: Engine, clock: ManualClock, hotline: Hotline
) -> None:
    karim = await hotline.person("karim", Role.COACH)
    nadia = await hotline.person("nadia", Role.ADMIN)
    omar = await hotline.person("omar")
    async with engine.db.transaction() as session:
        territory = Territory(name="T", kind="commune")
        session.add(territory)
        await session.flush()
        karim = await session.scalar(select(Actor).where(Actor.external_id == "karim"))
        omar = await session.scalar(select(Actor).where(Actor.external_id == "omar"))
        assert karim is not None and omar is not None
        session.add(TerritoryCoach(territory_id=territory.id, coach_id=karim.id))
        omar.territory_id = territory.id
        (await session.get_one(Actor, nadia.id)).is_coordinator = True
    case = await _open(engine, "omar", severity=CaseSeverity.HIGH)  # Monday 10:00 → due 12:00
    jobs = periodic_jobs()

    async def keys() -> list[str]:
        async with engine.db.transaction() as session:
            found = await session.scalars(
                select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.like("sla:%"))
            )
            return sorted(k for k in found.all() if k)

    clock.set(datetime(2026, 11, 23, 11, 59, tzinfo=LOCAL_TZ))
    await run_once(_context(engine, clock), jobs)
    assert await keys() == []
    clock.set(datetime(2026, 11, 23, 12, 1, tzinfo=LOCAL_TZ))
    await run_once(_context(engine, clock), jobs)
    # A restart: a new database handle, the same file; nothing is sent twice.
    db = Database(engine.settings.database_url)
    await run_once(_context(engine, clock, db), jobs)
    assert await keys() == [f"sla:{case.id}:realert:a1"]
    clock.set(datetime(2026, 11, 23, 14, 1, tzinfo=LOCAL_TZ))
    await run_once(_context(engine, clock, db), jobs)
    await run_once(_context(engine, clock, db), jobs)
    await db.dispose()
    assert await keys() == [f"sla:{case.id}:escalate:a{nadia.id}", f"sla:{case.id}:realert:a1"]


async def test_acknowledged_case_is_not_realerted(
    engine: Engine, clock: ManualClock, hotline: Hotline
) -> None:
    await hotline.person("karim", Role.COACH)
    await hotline.person("omar")
    case = await _open(engine, "omar")
    async with engine.db.transaction() as session:
        (await session.get_one(Case, case.id)).acknowledged_at = clock.now()
        (await session.get_one(Case, case.id)).status = "acknowledged"
    clock.advance(timedelta(days=5))
    done = await run_once(_context(engine, clock), periodic_jobs())
    assert done["cases-sla"] == 0


async def test_digest_once_a_day_from_0830(
    engine: Engine, clock: ManualClock, hotline: Hotline
) -> None:
    await hotline.person("karim", Role.COACH)
    omar = await hotline.person("omar")
    async with engine.db.transaction() as session:
        territory = Territory(name="T", kind="commune")
        session.add(territory)
        await session.flush()
        session.add(TerritoryCoach(territory_id=territory.id, coach_id=1))
        omar = await session.scalar(select(Actor).where(Actor.external_id == "omar"))
        assert omar is not None
        omar.territory_id = territory.id
    await _open(engine, "omar")
    jobs = periodic_jobs()
    clock.set(datetime(2026, 11, 24, 8, 29, tzinfo=LOCAL_TZ))
    assert (await run_once(_context(engine, clock), jobs))["cases-digest"] == 0
    clock.set(datetime(2026, 11, 24, 8, 30, tzinfo=LOCAL_TZ))
    assert (await run_once(_context(engine, clock), jobs))["cases-digest"] == 1
    clock.set(datetime(2026, 11, 24, 15, 0, tzinfo=LOCAL_TZ))
    assert (await run_once(_context(engine, clock), jobs))["cases-digest"] == 0
    async with engine.db.transaction() as session:
        count = await session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.dedup_key == "digest:1:2026-11-24"
            )
        )
    assert count == 1


def test_sla_targets_from_the_settings() -> None:
    settings = Settings.from_env(
        {"HOTLINE_SLA_HIGH_MINUTES": "60", "HOTLINE_WORKING_HOURS": "08:00-16:00"}
    )
    policy = SlaPolicy.from_settings(settings)
    opened = datetime(2026, 11, 23, 15, 30, tzinfo=LOCAL_TZ)
    assert policy.ack_due(CaseSeverity.HIGH, opened) == datetime(
        2026, 11, 24, 8, 30, tzinfo=LOCAL_TZ
    )
    night = datetime(2026, 11, 29, 3, 0, tzinfo=LOCAL_TZ)  # Sunday
    assert policy.ack_due(CaseSeverity.EMERGENCY, night) == night + timedelta(minutes=15)
