"""/mydata, /forget, stop and the retention scan, with their audit entries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import periodic_jobs
from bot.cases.service import open_case
from bot.core import audit
from bot.core.effects import SendDocument, body
from bot.core.engine import Engine
from bot.core.i18n import VARIANTS, Translator
from bot.core.outbox import enqueue
from bot.core.scheduler import ScanContext, run_once
from bot.privacy import document
from bot.privacy.service import retention_scan
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
from tests.driver import Hotline


async def test_mydata_sends_everything_as_json_and_is_audited(
    engine: Engine, hotline: Hotline
) -> None:
    amina = await hotline.person("amina", in_call=True)
    actor_id = amina.id
    await amina.says("Le puits de Tamgrout est à sec")
    effects = await amina.says("/mydata")
    documents = [e for e in effects if isinstance(e, SendDocument)]
    assert len(documents) == 1
    data = json.loads(documents[0].content)
    # Labelled in her variant (French here), like everything else she reads on the line.
    assert data["Votre profil"]["Nom"] == "Amina"
    texts = [m.get("Texte") for m in data["Vos messages"]]
    assert "Le puits de Tamgrout est à sec" in texts
    assert data["Vos appels à la ligne"] and data["Ce que la ligne vous a envoyé"]
    assert {"Vos demandes à un coach", "Vos engagements dans les plans", "Vos comités"} <= set(data)
    async with engine.db.transaction() as session:
        entries = await audit.entries(session, subject=f"actor:{actor_id}")
    assert [(e.action, e.actor_id) for e in entries] == [("export", actor_id)]


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_two_labels_of_the_export_read_the_same(variant: str) -> None:
    t = Translator(variant)
    for fields in document.ROWS:
        shown = [t.gettext(f.label) for f in fields]
        # Two fields under one name would overwrite each other in the file.
        assert len(set(shown)) == len(shown), shown
    sections = [t.gettext(s) for s in (*document.SECTIONS.values(), document.EXPORTED_AT)]
    assert len(set(sections)) == len(sections)


async def test_forget_asks_first_then_erases_and_keeps_what_a_case_needs(
    engine: Engine, hotline: Hotline
) -> None:
    amina = await hotline.person("amina", in_call=True)
    actor_id = amina.id
    await amina.says("Le président du comité bloque tout")
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
            settings=engine.settings,
        )
        case_id = case.id
    asked = await amina.says("/forget")
    assert asked[-1].buttons  # nothing erased before the button
    assert await hotline.actor("amina") is not None
    await amina.taps("privacy:forget:no")
    assert await hotline.actor("amina") is not None
    done = await amina.taps("privacy:forget:yes")
    assert done and "effacées" in body(done[-1])
    assert await hotline.actor("amina") is None
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
    again = await amina.says("Bonjour")
    assert "Bienvenue" in body(again[0])


async def test_stop_halts_reminders_at_once_and_start_asks_to_resume(
    engine: Engine, hotline: Hotline
) -> None:
    amina = await hotline.person("amina", in_call=True)
    actor_id = amina.id
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
    await amina.says("stop")
    actor = await hotline.actor("amina")
    assert actor is not None and actor.reminders_stopped
    async with engine.db.transaction() as session:
        status = await session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.dedup_key == "reminder:1:amina")
        )
    assert status == DeliveryStatus.CANCELLED
    # /start asks; it does not turn them back on by itself.
    await amina.says("/start")
    actor = await hotline.actor("amina")
    assert actor is not None and actor.reminders_stopped
    await amina.taps("privacy:reminders:on")
    actor = await hotline.actor("amina")
    assert actor is not None and not actor.reminders_stopped


async def test_stop_is_honoured_on_the_message_that_opens_a_call(
    engine: Engine, hotline: Hotline
) -> None:
    amina = await hotline.person("amina", in_call=True)
    engine.clock.advance(timedelta(hours=3))
    effects = await amina.says("STOP")
    actor = await hotline.actor("amina")
    assert actor is not None and actor.reminders_stopped
    assert "rappels" in body(effects[0])


async def test_retention_removes_old_conversations_once(engine: Engine, hotline: Hotline) -> None:
    amina = await hotline.person("amina", in_call=True)
    await amina.says("Une vieille question")
    engine.clock.advance(timedelta(days=engine.settings.retention_days + 1))
    await amina.says("Une nouvelle question")
    context = ScanContext(engine.db, engine.clock, engine.settings)
    assert await retention_scan(context) > 0
    assert await retention_scan(context) == 0
    assert "retention" in await run_once(context, periodic_jobs())
    async with engine.db.transaction() as session:
        texts = (await session.scalars(select(InboundMessage.text))).all()
        entries = (await session.scalars(select(AuditEntry.action))).all()
    assert texts == ["Une nouvelle question"]
    assert entries == ["retention"]


async def test_the_audit_trail_is_append_only(engine: Engine, hotline: Hotline) -> None:
    coach1 = await hotline.person("coach1", role="coach", in_call=True)
    actor_id = coach1.id
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


async def test_forget_leaves_no_copy_anywhere_in_the_database(
    engine: Engine, database_url: str, hotline: Hotline
) -> None:
    """Name and words of a person, spread by the line (a relay to a coach still queued, the
    report's answers, a plan row written with their name), are nowhere after /forget: not in
    any table, and on SQLite not in the database files either (deleted pages, WAL)."""
    from datetime import date
    from pathlib import Path

    from sqlalchemy import MetaData, text
    from sqlalchemy.engine import make_url

    from storage.models import ActionPlan, CaseEvent, Commitment, Role

    name, words, answer = "Zoubida Qxnomarque", "Qxparolesecrete du puits", "Qxreponsecachee"
    markers = ["Qxnomarque", "Qxparolesecrete", "Qxreponsecachee"]
    karim = await hotline.person("karim", role=Role.COACH, in_call=True)
    now = engine.clock.now()
    zoubida = hotline.newcomer("zoubida", display_name=name)
    await zoubida.opens_call()
    async with engine.db.transaction() as session:
        actor = await session.scalar(select(Actor).where(Actor.external_id == "zoubida"))
        assert actor is not None and actor.display_name == name
        actor_id = actor.id
        case = await open_case(
            session,
            now=now,
            actor=actor,
            category="question",
            summary="réunion",
            settings=engine.settings,
        )
        session.add(
            CaseEvent(
                case_id=case.id,
                actor_id=actor_id,
                at=now,
                kind="report",
                details={"answers": {"where": answer}},
            )
        )
        plan = ActionPlan(title="Plan", reference_date=date(2026, 1, 1), created_at=now)
        session.add(plan)
        await session.flush()
        session.add(
            Commitment(
                plan_id=plan.id,
                what="Réunion",
                owner_id=actor_id,
                owner_text=name,
                created_at=now,
                updated_at=now,
            )
        )
    await karim.replies(1, "Bien reçu.")
    relayed = await zoubida.says(words)
    assert "coach" in relayed.text  # relayed to Karim: a row in the outbox, not delivered yet
    async with engine.db.transaction() as session:
        queued = await session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.about_id == actor_id, OutboxMessage.text.contains("Qxparolesecrete")
            )
        )
    assert queued == 1
    await engine.db.checkpoint()  # what they said is in the database file itself by now
    await zoubida.says("/forget")
    await zoubida.taps("privacy:forget:yes")

    # Every row of every table, as text.
    async with engine.db.engine.connect() as connection:
        metadata = MetaData()
        await connection.run_sync(metadata.reflect)
        dump = []
        for table in metadata.sorted_tables:
            dump += [repr(row) for row in (await connection.execute(table.select())).all()]
    found = [m for m in markers if any(m in line for line in dump)]
    assert found == []
    if not engine.db.is_sqlite:
        # The erased rows' old versions were vacuumed at once, not left to autovacuum.
        async with engine.db.transaction() as session:
            vacuumed = set(
                await session.scalars(
                    text("SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL")
                )
            )
        assert {"actors", "messages", "outbox", "case_events", "commitments"} <= vacuumed
    if engine.db.is_sqlite:
        path = Path(make_url(database_url).database or "")
        files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
        raw = b"".join(p.read_bytes() for p in files)
        assert [m for m in markers if m.encode() in raw] == []
