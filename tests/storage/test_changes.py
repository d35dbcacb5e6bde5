"""Writing a turn's changes by primary key (storage/changes.py): what changed is written, the
objects are left clean (the commit writes nothing again), and PostgreSQL gets one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bench.workload import counting
from storage.changes import write_changes
from storage.db import Database
from storage.models import Actor, Call, FrameworkText, InboundKind, InboundMessage

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _stored(db: Database) -> tuple[int, int, int]:
    async with db.transaction() as session:
        actor = Actor(
            channel="t", external_id="a", chat_id="a", display_name="A", lang="fr", created_at=T0
        )
        session.add(actor)
        await session.flush()
        call = Call(
            actor_id=actor.id,
            channel="t",
            chat_id="a",
            opened_at=T0,
            last_activity_at=T0,
            framework_text=FrameworkText.FULL,
            framework_lang="fr",
        )
        message = InboundMessage(
            channel="t", chat_id="a", actor_id=actor.id, kind=InboundKind.TEXT, received_at=T0
        )
        session.add_all([call, message])
        await session.flush()
        return actor.id, call.id, message.id


async def test_changes_are_written_once_and_the_objects_left_clean(database_url: str) -> None:
    db = Database(database_url)
    ids = await _stored(db)
    later = T0 + timedelta(minutes=5)
    try:
        with counting(db) as seen:
            async with db.transaction() as session:
                actor = await session.get_one(Actor, ids[0])
                call = await session.get_one(Call, ids[1])
                message = await session.get_one(InboundMessage, ids[2])
                seen.clear()
                actor.last_seen_at = later
                actor.recent_langs = ["ary"]
                actor.lang = "fr"  # set to what it was: not a change
                call.last_activity_at = later  # the reminder column has another name
                call.framework_text = FrameworkText.SHORT
                message.handled_at = later
                message.intent = "greeting"
                await write_changes(session, actor, call, message)
                writes = [
                    sql for sql in seen.sql if sql.lstrip().upper().startswith(("UPDATE", "WITH"))
                ]
                assert not session.dirty
                await session.execute(select(Actor.id))  # a query now flushes nothing
            # One statement on PostgreSQL, one per row on SQLite; nothing more at commit.
            assert len(writes) == (3 if db.is_sqlite else 1), writes
            after = [sql for sql in seen.sql if sql.lstrip().upper().startswith("UPDATE")]
            assert len(after) == (3 if db.is_sqlite else 0), after
        async with db.transaction() as session:
            actor = await session.get_one(Actor, ids[0])
            call = await session.get_one(Call, ids[1])
            message = await session.get_one(InboundMessage, ids[2])
            assert (actor.last_seen_at, actor.recent_langs, actor.lang) == (later, ["ary"], "fr")
            assert (call.last_activity_at, call.framework_text) == (later, FrameworkText.SHORT)
            assert (message.handled_at, message.intent) == (later, "greeting")
    finally:
        await db.dispose()


async def test_unchanged_objects_cost_nothing(database_url: str) -> None:
    db = Database(database_url)
    ids = await _stored(db)
    try:
        async with db.transaction() as session:
            actor = await session.get_one(Actor, ids[0])
            call = await session.get_one(Call, ids[1])
            actor.lang = "fr"  # the same value
            with counting(db) as seen:
                await write_changes(session, actor, call)
            assert seen.sql == []
            assert not session.dirty
    finally:
        await db.dispose()


async def test_a_change_an_update_listener_reacts_to_is_left_to_the_unit_of_work(
    database_url: str,
) -> None:
    """Someone unblocking the bot re-arms their reminders (an update listener of Actor,
    storage/models/schedule.py): that change is written by the flush, which runs it."""
    db = Database(database_url)
    ids = await _stored(db)
    try:
        async with db.transaction() as session:
            await session.execute(update(Actor).values(reachable=False))
        async with db.transaction() as session:
            actor = await session.get_one(Actor, ids[0])
            actor.reachable = True
            actor.last_seen_at = T0 + timedelta(minutes=1)
            with counting(db) as seen:
                await write_changes(session, actor)
            assert seen.sql == [] and actor in session.dirty
            actor.reachable = True  # the same again: nothing for the listener either
            call = await session.get_one(Call, ids[1])
            call.lang = "ary"
            with counting(db) as seen:
                await write_changes(session, call)
            assert len(seen.sql) == 1 and call not in session.dirty
    finally:
        await db.dispose()
