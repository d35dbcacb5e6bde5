"""The composition root: builds the engine with every feature's router."""

from __future__ import annotations

import asyncio

from bot.cases import actor_side as cases_actor
from bot.cases import coach_side as cases_coach
from bot.cases import scans as case_scans
from bot.conversation import knowledge
from bot.conversation import router as conversation
from bot.core.clock import Clock, SystemClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.core.router import Router
from bot.core.scheduler import Periodic
from bot.invitations import service as invitations
from bot.nlu import Understander, lexicon
from bot.plans import reminders as plan_reminders
from bot.plans import router as plans
from bot.privacy import router as privacy
from bot.privacy import service as privacy_service
from bot.review import router as review
from bot.review import service as review_service
from bot.safety import router as safety
from bot.web import chat as web_console
from storage.db import Database


def routers() -> list[Router]:
    # One handler per command, button, intent and flow: a later router replaces an earlier
    # one's only where it declares override=True (bot/core/router.py).
    return [
        conversation.router,
        knowledge.router,
        safety.router,
        invitations.router,
        plans.router,
        cases_actor.router,
        cases_coach.router,
        privacy.router,
        review.router,
        web_console.router,
    ]


def periodic_jobs() -> list[Periodic]:
    """The scans each feature contributes (reminders, SLA alerts, digests, delivery...)."""
    return [
        Periodic("plan_reminders", plan_reminders.scan, 60),
        *case_scans.jobs(),
        Periodic("retention", privacy_service.retention_scan, every_seconds=3600),
    ]


def build_engine(
    settings: Settings,
    clock: Clock | None = None,
    db: Database | None = None,
    understander: Understander | None = None,
) -> Engine:
    lexicon.use(settings.knowledge_dir)
    return Engine(
        db=db or Database(settings.database_url),
        clock=clock or SystemClock(),
        settings=settings,
        understander=understander
        or Understander(settings.knowledge_dir, cache_dir=settings.nlu_cache_dir),
        routers=routers(),
    )


async def learn_reviews(engine: Engine) -> int:
    """At start: the messages coaches reviewed join the model (they live in the database, not
    in knowledge/). Cached by data hash, so a restart without new reviews trains nothing."""
    async with engine.db.transaction() as session:
        reviewed = await review_service.training_examples(session, engine.understander.labels)
    if reviewed:
        await asyncio.to_thread(engine.understander.reload, reviewed)
    return len(reviewed)
