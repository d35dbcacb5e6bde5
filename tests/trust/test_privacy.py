"""/mydata, /forget, stop and the retention scan, with their audit entries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import audit
from bot.app import periodic_jobs
from bot.cases.service import open_case
from bot.effects import SendDocument, body
from bot.engine import Engine
from bot.outbox import enqueue
from bot.personal_data import retention_scan
from bot.scheduler import ScanContext, run_once
from storage.models import (
    Actor,
    AuditEntry,
    AuditTrailIsAppendOnly,
    Call,
    Case,
    DeliveryStatus,
    InboundMessage,
    OutboxMessage,
)
from tests.trust.helpers import actor_named, declare, say


async def test_mydata_sends_everything_as_json_and_is_audited(engine: Engine) -> None:
    actor_id = await declare(engine, "amina")
    await say(engine, "amina", "Le puits de Tamgrout est à sec")
    effects = await say(engine, "amina", "/mydata")
    documents = [e for e in effects if isinstance(e, SendDocument)]
    assert len(documents) == 1
    data = json.loads(documents[0].content)
    assert data["profile"]["display_name"] == "Amina"
    texts = [m["text"] for m in data["messages"]]
    assert "Le puits de Tamgrout est à sec" in texts
    assert data["calls"] and data["replies"]
    assert {"cases", "commitments", "committees"} <= data.keys()
    async with engine.db.transaction() as session:
        entries = await audit.entries(session, subject=f"actor:{actor_id}")
    assert [(e.action, e.actor_id) for e in entries] == [("export", actor_id)]


async def test_forget_asks_first_then_erases_and_keeps_what_a_case_needs(engine: Engine) -> None:
    actor_id = await declare(engine, "amina")
    await say(engine, "amina", "Le président du comité bloque tout")
    async with engine.db.transaction() as session:
        actor = await session.get_one(Actor, actor_id)
        source = await session.scalar(
            select(InboundMessage.id).where(InboundMessage.actor_id == actor_id)
        )
        case = await open_case(
            session,
            now=engine.clock.now(),
            actor=actor,
            category="conflict",
            summary="Blocage au comité",
            source_message_id=source,
        )
        case_id = case.id
    asked = await say(engine, "amina", "/forget")
    assert asked[-1].buttons  # nothing erased before the button
    assert await actor_named(engine, "amina") is not None
    await say(engine, "amina", button="privacy:forget:no")
    assert await actor_named(engine, "amina") is not None
    done = await say(engine, "amina", button="privacy:forget:yes")
    assert done and "effacées" in body(done[-1])
    assert await actor_named(engine, "amina") is None
    async with engine.db.transaction() as session:
        actor = await session.get_one(Actor, actor_id)
        assert (actor.display_name, actor.external_id) == ("", f"forgotten:{actor_id}")
        texts = (
            await session.scalars(
                select(InboundMessage.text).where(InboundMessage.actor_id == actor_id)
            )
        ).all()
        assert all(t is None or t.startswith("privacy:") is False for t in texts)
        assert "Le président du comité bloque tout" not in texts
        kept_case = await session.get_one(Case, case_id)
        assert kept_case.actor_id == actor_id
        source_row = await session.get(InboundMessage, source)
        assert source_row is not None and source_row.text is None
        calls = await session.scalar(select(func.count(Call.id)).where(Call.actor_id == actor_id))
        assert calls == 1  # only the call the erasure happened in, without content
        old_replies = await session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.actor_id == actor_id, OutboxMessage.status == DeliveryStatus.DELIVERED
            )
        )
        assert old_replies == 0
        actions = [e.action for e in await audit.entries(session, actor_id=actor_id)]
        assert actions == ["forget"]
    # Writing again is a new person, greeted with the full framework.
    again = await say(engine, "amina", "Bonjour")
    assert "Bienvenue" in body(again[0])


async def test_stop_halts_reminders_at_once_and_start_asks_to_resume(engine: Engine) -> None:
    actor_id = await declare(engine, "amina")
    async with engine.db.transaction() as session:
        await enqueue(
            session,
            channel="console",
            chat_id="amina",
            text="Rappel : réunion demain",
            now=engine.clock.now(),
            actor_id=actor_id,
            dedup_key="reminder:1:amina",
            not_before=engine.clock.now() + timedelta(days=1),
        )
    await say(engine, "amina", "stop")
    actor = await actor_named(engine, "amina")
    assert actor is not None and actor.reminders_stopped
    async with engine.db.transaction() as session:
        status = await session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.dedup_key == "reminder:1:amina")
        )
    assert status == DeliveryStatus.CANCELLED
    # /start asks; it does not turn them back on by itself.
    await say(engine, "amina", "/start")
    actor = await actor_named(engine, "amina")
    assert actor is not None and actor.reminders_stopped
    await say(engine, "amina", button="privacy:reminders:on")
    actor = await actor_named(engine, "amina")
    assert actor is not None and not actor.reminders_stopped


async def test_stop_is_honoured_on_the_message_that_opens_a_call(engine: Engine) -> None:
    await declare(engine, "amina")
    engine.clock.advance(timedelta(hours=3))
    effects = await say(engine, "amina", "STOP")
    actor = await actor_named(engine, "amina")
    assert actor is not None and actor.reminders_stopped
    assert "rappels" in body(effects[0])


async def test_retention_removes_old_conversations_once(engine: Engine) -> None:
    await declare(engine, "amina")
    await say(engine, "amina", "Une vieille question")
    engine.clock.advance(timedelta(days=engine.settings.retention_days + 1))
    await say(engine, "amina", "Une nouvelle question")
    context = ScanContext(engine.db, engine.clock, engine.settings)
    assert await retention_scan(context) > 0
    assert await retention_scan(context) == 0
    assert "retention" in await run_once(context, periodic_jobs())
    async with engine.db.transaction() as session:
        texts = (await session.scalars(select(InboundMessage.text))).all()
        entries = (await session.scalars(select(AuditEntry.action))).all()
    assert texts == ["Une nouvelle question"]
    assert entries == ["retention"]


async def test_the_audit_trail_is_append_only(engine: Engine) -> None:
    actor_id = await declare(engine, "coach1", role="coach")
    async with engine.db.transaction() as session:
        actor = await session.get_one(Actor, actor_id)
        entry = await audit.record(session, actor, audit.Action.READ, "case:1", engine.clock.now())
        entry_id = entry.id
    with pytest.raises(AuditTrailIsAppendOnly):
        async with engine.db.transaction() as session:
            entry = await session.get_one(AuditEntry, entry_id)
            entry.subject = "case:2"
    with pytest.raises(AuditTrailIsAppendOnly):
        async with engine.db.transaction() as session:
            await session.delete(await session.get_one(AuditEntry, entry_id))
