"""The engine: an event in, effects out. Transports translate; this decides.

Each event is first stored (its own transaction, so nothing said is lost), then handled in a
second transaction that marks it handled and writes every reply to the outbox. A crash
between the two leaves an unhandled message that `recover()` picks up on restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias
from typing import cast as typed

from sqlalchemy import (
    Row,
    Select,
    String,
    Table,
    bindparam,
    cast,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core import calls, flood
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.effects import Button, Effect
from bot.core.events import Event
from bot.core.flow import Flow, FrameworkStart, GoOn
from bot.core.i18n import N_, translator
from bot.core.leaving import leaves
from bot.core.outbox import enqueue, to_effect
from bot.core.router import Router, Routes
from bot.core.telegram_html import clean, escape
from bot.core.turn import FlowState, Turn
from bot.nlu import Understander, Understanding
from bot.nlu.normalize import key_set, tokens
from storage.changes import write_changes
from storage.db import Database
from storage.hot import HotStatement
from storage.models import (
    Actor,
    Call,
    FlowSession,
    InboundKind,
    InboundMessage,
    OutboxMessage,
    UtcDateTime,
)

log = logging.getLogger(__name__)


# The word people write to opt out of messages (as for SMS): the same as /stop.
STOP_WORDS = frozenset({"stop"})
# Run even on the message that opens a call (before the framework): opting out, and /start,
# which opts back in.
IMMEDIATE_COMMANDS = frozenset({"stop", "start"})

# The interface language switches when this many of a person's last LANG_VOTES messages
# identified with confidence are in the same other variant.
LANG_VOTES = 5
VOTES_TO_SWITCH = 3
# A flow's data key: set aside while a question asked in its middle is answered.
PAUSED = "_paused"
# From this confidence, an intent other than the flow's answer interrupts it (see _interrupts).
INTERRUPT_SCORE = 0.75
# "ok", "mzyan", "it is not a problem", "thanks", "bye": nothing more to report. At a step
# that takes free text, only when short (a longer text is the answer itself).
CLOSING = frozenset({"acknowledge", "thanks", "goodbye"})
CLOSING_WORDS = 8
_QUESTION_WORDS = """
quoi quel quelle quels quelles comment pourquoi combien qui quand ou est-ce qu'est-ce
achno chno chnou ach kifach kifash 3lach alach imta fin fayn wach chkoun chkun ch7al
شنو اشنو اش اشنا كيفاش علاش امتى فين واش شكون شحال ما هل ماهو ماهي
"""
QUESTION_WORDS = key_set(_QUESTION_WORDS.split())
# Telegram keeps an undelivered update for 24 hours: a stored update id older than this is
# another update that re-uses the id, not a redelivery.
DEDUP_WINDOW = timedelta(hours=48)
# How long a process waits for another to finish a turn in a chat both hold messages of (a
# turn lasts milliseconds): past it the holder is stuck, and the chat is left to it.
HELD_WAIT = timedelta(seconds=10)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out
HELD_RETRIES = 5  # waits in a row for a chat other processes keep taking

# The columns of a stored message that come from the event (see `_fields`).
STORED_FIELDS = (
    "channel",
    "chat_id",
    "update_key",
    "kind",
    "text",
    "button",
    "attachment_kind",
    "file_id",
    "received_at",
)

SORRY = N_(
    "Sorry, something went wrong on our side. Your message is saved and a coach can see it; "
    "please try again in a moment."
)


# What the claim reads: the message, its actor, their latest call, the chat's flow position,
# whether another message waits, whether the framework was ever acknowledged, and the
# flood check (None when not counted).
if TYPE_CHECKING:
    ClaimStatement: TypeAlias = Select[
        InboundMessage,
        Actor,
        Call | None,
        str | None,
        str | None,
        dict[str, Any] | None,
        bool,
        bool,
        Any,
    ]


@dataclass(frozen=True)
class _Known:
    """What the claim query brought along with the message (no query of its own needed)."""

    call: Call | None
    acknowledged: bool
    flow: FlowState | None  # the chat's flow position, when it is in a flow
    flooded: bool | None  # whether the actor is over the flood limit, when known


class Engine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        understander: Understander,
        routers: list[Router],
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.understander = understander
        self.routes = Routes(routers)
        self._chat_locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._claims: dict[bool, ClaimStatement] = {}
        self._store: HotStatement | None = None

    # -- entry points -------------------------------------------------------------------------

    async def handle(self, event: Event) -> list[Effect]:
        """Store then handle one event; messages of one chat are handled one at a time."""
        async with self._chat_locks[(event.channel, event.chat_id)]:
            await self.receive(event)
            return await self._process_chat(event.channel, event.chat_id, event.at)

    async def process(self, channel: str, chat_id: str) -> list[Effect]:
        """Handle what is stored and not yet handled in this chat (after `receive`)."""
        async with self._chat_locks[(channel, chat_id)]:
            return await self._process_chat(channel, chat_id)

    async def receive(self, event: Event) -> int | None:
        """Store the event; returns its id, or None when the update was already stored."""
        # Someone known, an update not seen before: one statement, atomic on its own.
        fields = _fields(event, _update_key(event))
        async with self.db.single_statement() as connection:
            stored = await self._store_known().scalar(
                connection, {**fields, "external_id": event.sender.external_id}
            )
        if stored is not None:
            return int(stored)
        # Someone new, or an update id already stored (a redelivery, or an id re-used).
        return (await self._store_together([event]))[0]

    def _store_known(self) -> HotStatement:
        """INSERT ... SELECT the sender's actor id; nothing when the sender is unknown or the
        update was already stored (then the slower path sorts out which). Parameters: the
        message's fields and `external_id`; built once (see `_claim`)."""
        if self._store is not None:
            return self._store
        table = typed(Table, InboundMessage.__table__)
        values = []
        for name in STORED_FIELDS:
            bound = bindparam(name, type_=table.c[name].type)
            # PostgreSQL infers no type for a bare parameter in a SELECT list.
            values.append(bound if self.db.is_sqlite else cast(bound, table.c[name].type))
        source = select(*values, Actor.id).where(
            Actor.channel == bindparam("channel"), Actor.external_id == bindparam("external_id")
        )
        insert = sqlite_insert if self.db.is_sqlite else postgresql_insert
        # On the table, not the entity: the ORM would take parameters for a bulk insert.
        self._store = HotStatement(
            insert(table)
            .from_select([*STORED_FIELDS, "actor_id"], source)
            .on_conflict_do_nothing(index_elements=["update_key"])
            .returning(table.c.id)
        )
        return self._store

    async def receive_many(self, events: list[Event]) -> list[int | None]:
        """Store events; for each, its id, or None when the update was already stored. One
        event alone (the webhook's usual batch when it is not busy) as `receive` does."""
        if len(events) == 1:
            return [await self.receive(events[0])]
        return await self._store_together(events)

    async def _store_together(self, events: list[Event]) -> list[int | None]:
        """Store events in one short transaction (taken before handling on SQLite); for each,
        its id, or None when the update was already stored.

        Few round trips whatever the number of events (the webhook stores a burst this way):
        one query for the keys seen, one for the actors, one insert of the new people, one of
        the messages. A concurrent process storing the same person or update at the same
        moment makes an insert skip that row (ON CONFLICT DO NOTHING), never fail.

        An update id is a redelivery only within `DEDUP_WINDOW`: Telegram re-uses ids (per
        bot, chosen afresh after a quiet week), so an older holder of the key gives it up.
        """
        async with self.db.transaction(urgent=True) as session:
            keys = [_update_key(event) for event in events]
            seen = await self._seen(session, [k for k in keys if k is not None])
            wanted: list[int] = []  # indexes of the events to store
            taken: set[str] = set()
            for index, (event, key) in enumerate(zip(events, keys, strict=True)):
                if key is not None and key in taken:
                    log.info("update %s dropped: twice in one batch", key)
                    continue
                holder = seen.get(key) if key is not None else None
                if holder is not None:
                    if holder.received_at >= event.at - DEDUP_WINDOW:
                        log.info("update %s dropped: already stored as message %s", key, holder.id)
                        continue
                    log.warning(
                        "update key %s re-used after %s: stored as a new message",
                        key,
                        event.at - holder.received_at,
                    )
                    await session.execute(
                        update(InboundMessage)
                        .where(InboundMessage.id == holder.id)
                        .values(update_key=None)
                    )
                if key is not None:
                    taken.add(key)
                wanted.append(index)
            actor_ids = await self._actor_ids(session, [events[i] for i in wanted])
            stored = await self._insert_messages(
                session,
                {
                    index: {**_fields(events[index], keys[index]), "actor_id": actor_id}
                    for index, actor_id in zip(wanted, actor_ids, strict=True)
                },
            )
            return [stored.get(i) for i in range(len(events))]

    def _insert(self) -> Any:
        return sqlite_insert if self.db.is_sqlite else postgresql_insert

    async def _insert_messages(
        self, session: AsyncSession, rows: dict[int, dict[str, Any]]
    ) -> dict[int, int]:
        """Insert the messages (index -> columns); index -> id of those stored."""
        table = typed(Table, InboundMessage.__table__)
        stored: dict[int, int] = {}
        keyed = {row["update_key"]: index for index, row in rows.items() if row["update_key"]}
        if keyed:
            inserted = await session.execute(
                self._insert()(table)
                .on_conflict_do_nothing(index_elements=["update_key"])
                .returning(table.c.id, table.c.update_key),
                [rows[index] for index in keyed.values()],
            )
            for id_, key in inserted:
                stored[keyed[typed(str, key)]] = typed(int, id_)
            for key in keyed.keys() - {rows[i]["update_key"] for i in stored}:
                log.info("update %s dropped: stored elsewhere at once", key)
        for index, row in rows.items():  # without an update id (not from Telegram): rare
            if not row["update_key"]:
                stored[index] = (
                    await session.execute(table.insert().returning(table.c.id), row)
                ).scalar_one()
        return stored

    async def _seen(self, session: AsyncSession, keys: list[str]) -> dict[str, Row[Any]]:
        found: dict[str, Row[Any]] = {}
        for start in range(0, len(keys), 500):
            rows = await session.execute(
                select(
                    InboundMessage.id, InboundMessage.update_key, InboundMessage.received_at
                ).where(InboundMessage.update_key.in_(keys[start : start + 500]))
            )
            found.update({row.update_key: row for row in rows})
        return found

    async def _actor_ids(self, session: AsyncSession, events: list[Event]) -> list[int]:
        """The actor id of each event's sender: known ones in one query, new ones inserted.

        A new person's first updates often arrive together (an album's photos), possibly at
        several processes: the first insert wins, the others skip the row and read it.
        """
        ids: dict[tuple[str, str], int] = {}

        async def read(wanted: set[tuple[str, str]]) -> None:
            by_channel: defaultdict[str, list[str]] = defaultdict(list)
            for channel, external_id in sorted(wanted):
                by_channel[channel].append(external_id)
            for channel, listed in by_channel.items():
                for start in range(0, len(listed), 500):
                    rows = await session.execute(
                        select(Actor.external_id, Actor.id).where(
                            Actor.channel == channel,
                            Actor.external_id.in_(listed[start : start + 500]),
                        )
                    )
                    ids.update({(channel, external_id): id_ for external_id, id_ in rows})

        await read({(e.channel, e.sender.external_id) for e in events})
        new: dict[tuple[str, str], dict[str, Any]] = {}
        for event in events:
            key = (event.channel, event.sender.external_id)
            if key not in ids and key not in new:
                new[key] = _new_actor_row(event)
        if new:
            table = typed(Table, Actor.__table__)
            inserted = await session.execute(
                self._insert()(table)
                .on_conflict_do_nothing(index_elements=["channel", "external_id"])
                .returning(table.c.channel, table.c.external_id, table.c.id),
                list(new.values()),
            )
            for channel, external_id, id_ in inserted:
                ids[(typed(str, channel), typed(str, external_id))] = typed(int, id_)
            if new.keys() - ids.keys():  # stored elsewhere at the same moment
                await read(new.keys() - ids.keys())
        return [ids[(e.channel, e.sender.external_id)] for e in events]

    async def recover(self) -> list[Effect]:
        """Handle whatever was stored but not handled before the last stop."""
        effects: list[Effect] = []
        for channel, chat_id in await self.waiting_chats():
            async with self._chat_locks[(channel, chat_id)]:
                effects += await self._process_chat(channel, chat_id)
        return effects

    async def waiting_chats(self, before: datetime | None = None) -> list[tuple[str, str]]:
        """The chats with messages stored and not handled (after a stop or a crash, or a
        turn that failed), received before `before` when given. Reads unhandled messages
        only (a partial index): its cost follows what waits, not what was ever stored."""
        async with self.db.transaction() as session:
            chats = await session.execute(waiting_chats_query(before))
            return [(channel, chat_id) for channel, chat_id in chats]

    # -- handling -----------------------------------------------------------------------------

    async def _process_chat(
        self, channel: str, chat_id: str, received_at: datetime | None = None
    ) -> list[Effect]:
        effects: list[Effect] = []
        waits = 0
        while True:
            done = await self._handle_next(channel, chat_id, received_at)
            if done is None:
                # Bounded: a message the claim could never take must not make this spin.
                if waits < HELD_RETRIES and await self._held_elsewhere(channel, chat_id):
                    waits += 1
                    continue  # its holder has finished: what it left is ours
                return effects
            waits = 0
            sent, more = done
            effects += sent
            received_at = None
            if not more:
                return effects

    def _claim(self, flood_counted: bool) -> ClaimStatement:
        """The oldest unhandled message of a chat, locked, with everything handling needs:
        its actor, their latest call, the chat's flow position, whether they ever
        acknowledged the framework, whether another message of the chat waits, and (when
        `flood_counted`) whether the actor is over the flood limit at this message.

        Parameters: `channel`, `chat_id`, and `since` (the start of the flood window of the
        message expected). Built once per shape and cached: statement building costs more
        than running it, and a cached statement hits SQLAlchemy's compiled cache. Every part
        is an indexed search that stops early, so its cost does not grow with a chat's
        backlog or an actor's history (see tests/test_costs.py).

        Several processes may share one PostgreSQL: the row lock makes one of them handle it,
        and a process that finds it locked leaves the whole chat to the holder, which goes on
        to the chat's next message (so a chat's messages stay in order). SQLite ignores FOR
        UPDATE; its write lock, taken at BEGIN, serialises processes instead.
        """
        cached = self._claims.get(flood_counted)
        if cached is not None:
            return cached
        channel = bindparam("channel", type_=String())
        chat_id = bindparam("chat_id", type_=String())
        oldest = (
            select(InboundMessage.id)
            .where(
                InboundMessage.channel == channel,
                InboundMessage.chat_id == chat_id,
                InboundMessage.handled_at.is_(None),
            )
            .order_by(InboundMessage.id)
            .limit(1)
            .scalar_subquery()
        )
        other = aliased(InboundMessage)
        more = (
            select(other.id)
            .where(
                other.channel == InboundMessage.channel,
                other.chat_id == InboundMessage.chat_id,
                other.handled_at.is_(None),
                other.id != InboundMessage.id,
            )
            .correlate(InboundMessage)
            .exists()
        )
        latest_call = (
            select(Call.id)
            .where(Call.actor_id == InboundMessage.actor_id)
            .order_by(Call.id.desc())
            .limit(1)
            .correlate(InboundMessage)
            .scalar_subquery()
        )
        acknowledged = (
            select(Call.id)
            .where(Call.actor_id == InboundMessage.actor_id, Call.acknowledged_at.is_not(None))
            .correlate(InboundMessage)
            .exists()
        )
        flooded: Any = literal(None)
        if flood_counted:
            # Over the limit when the window holds a message beyond the limit's count: the
            # search reads at most limit + 1 entries of (actor_id, received_at).
            flooded = (
                select(other.id)
                .where(
                    other.actor_id == InboundMessage.actor_id,
                    other.received_at > bindparam("since", type_=UtcDateTime()),
                    other.id <= InboundMessage.id,
                )
                .order_by(other.received_at.desc())
                .limit(1)
                .offset(self.settings.flood_limit)
                .correlate(InboundMessage)
                .scalar_subquery()
            )
        claim = (
            select(
                InboundMessage,
                Actor,
                Call,
                # Read as values, not as an object: the turn works on its own FlowState.
                FlowSession.flow,
                FlowSession.step,
                FlowSession.data,
                more,
                acknowledged,
                flooded,
            )
            .join(Actor, Actor.id == InboundMessage.actor_id)
            .outerjoin(Call, Call.id == latest_call)
            .outerjoin(
                FlowSession,
                (FlowSession.channel == InboundMessage.channel)
                & (FlowSession.chat_id == InboundMessage.chat_id),
            )
            .where(InboundMessage.id == oldest, InboundMessage.handled_at.is_(None))
            .with_for_update(skip_locked=True, of=InboundMessage)
        )
        self._claims[flood_counted] = claim
        return claim

    def _claim_params(
        self, channel: str, chat_id: str, received_at: datetime | None
    ) -> tuple[ClaimStatement, dict[str, Any]]:
        """The claim statement for this chat and its parameters."""
        counted = received_at is not None and self.settings.flood_limit > 0
        params: dict[str, Any] = {"channel": channel, "chat_id": chat_id}
        if counted:
            assert received_at is not None
            params["since"] = received_at - self.settings.flood_window
        return self._claim(counted), params

    async def _handle_next(
        self, channel: str, chat_id: str, received_at: datetime | None
    ) -> tuple[list[Effect], bool] | None:
        """Claim and handle one message in one transaction; (effects, more may wait) or None
        when nothing is left. A failing handler rolls everything back; the message is then
        marked with its error and answered with an apology in a transaction of its own."""
        message_id: int | None = None
        try:
            async with self.db.transaction() as session:
                claim, params = self._claim_params(channel, chat_id, received_at)
                row = (await session.execute(claim, params)).first()
                if row is None:
                    return None
                message, actor, call, flow, step, data, more, acknowledged, beyond = row
                state = None
                if flow is not None:  # the chat is in a flow
                    state = FlowState(flow, typed(str, step), dict(data or {}))
                message_id = message.id
                flooded = None
                if received_at is not None and message.received_at == received_at:
                    flooded = beyond is not None  # else an older message came first: its
                    # own window is counted by the flood check
                known = _Known(call, bool(acknowledged), state, flooded)
                sent, deferred = await self._process(session, message, actor, known)
                effects = [to_effect(r) for r in sent]
            for job in deferred:  # committed: the turn's work is safe, the lock released
                effects += [to_effect(r) for r in await job()]
            return effects, bool(more)
        except Exception as error:
            if message_id is None:
                raise
            log.exception("handling message %s failed", message_id)
            return await self._failed(message_id, error), True

    async def _failed(self, message_id: int, error: Exception) -> list[Effect]:
        async with self.db.transaction() as session:
            message = await session.scalar(
                select(InboundMessage)
                .where(InboundMessage.id == message_id, InboundMessage.handled_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if message is None:
                return []  # another process took it meanwhile
            message.error = f"{type(error).__name__}: {error}"[:2000]
            message.handled_at = self.clock.now()
            return await self._apologise(session, message)

    async def _held_elsewhere(self, channel: str, chat_id: str) -> bool:
        """When no message of the chat could be claimed: whether one is left unhandled,
        after waiting for the process that holds it (if any) to finish its turn.

        Several processes may share one PostgreSQL. One that stores a message while another
        handles the chat finds the chat's oldest message locked; it waits here for that turn
        to end, then claims what is left. The holder never looks for messages stored after
        its claim, which spares every turn a statement after its commit. A holder stuck for
        longer than `HELD_WAIT` keeps the chat (its message is then handled with the chat's
        next one, or at the next start). On SQLite nothing is held elsewhere: a process
        storing a message waits for the write lock, then handles the message itself.
        """
        if self.db.is_sqlite:
            return False
        try:
            async with self.db.transaction() as session:
                wait = int(HELD_WAIT.total_seconds() * 1000)
                await session.execute(text(f"SET LOCAL lock_timeout = {wait}"))
                found = await session.scalar(_HELD, {"channel": channel, "chat_id": chat_id})
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            log.warning(
                "chat %s held elsewhere for over %s: left to its holder", chat_id, HELD_WAIT
            )
            return False
        return found is not None

    async def _process(
        self, session: AsyncSession, message: InboundMessage, actor: Actor, known: _Known
    ) -> tuple[list[OutboxMessage], list[Callable[[], Awaitable[list[OutboxMessage]]]]]:
        now = self.clock.now()
        # What this turn changes on the message, the actor and the call is set before any
        # query of the handlers can autoflush it (and the message's after a new call is
        # flushed): one UPDATE each, not one per change.
        actor.last_seen_at = now
        actor.reachable = True  # writing again means they unblocked the bot
        if _addressed_elsewhere(message.text, self.settings.bot_username):
            message.handled_at = now
            return [], []  # "/case@other_bot" in a group: another bot's command
        if await flood.over_limit(session, message, self.settings, known.flooded):
            message.handled_at = now
            return await flood.slow_down(session, message, actor, now, self.settings), []
        understanding = self._understand(message)
        # "ok", "plan", an emoji: a message whose variant is unsure says nothing of it.
        sure = understanding.lang if understanding is not None and understanding.lang_sure else None
        if actor.is_coach and known.flow is not None:
            sure = None  # a coach's words in a flow are for someone else, or data
        if sure is not None:
            _note_variant(actor, sure)
        command, _ = _command(message.text)
        call, opened = await calls.current_or_new(
            session,
            actor,
            message.channel,
            message.chat_id,
            now,
            self.settings.call_silence,
            force_new=command == "start",
            known=(known.call, known.acknowledged),
            # A coach's screens stay in his language; a caller is answered in the variant
            # of the call until he writes surely in another.
            lang=None if actor.is_coach else sure,
        )
        message.handled_at = now
        message.call_id = call.id
        if understanding is not None:
            message.lang = understanding.lang
            message.intent = understanding.intent
            message.intent_score = understanding.score
        # Written now, by primary key, rather than by the unit of work when the handlers'
        # first query autoflushes them (storage/changes.py).
        await write_changes(session, actor, call, message)
        message_lang = sure if actor.is_coach else (sure or call.lang)
        turn = Turn(
            self, session, message, actor, call, now, understanding, known.flow, message_lang
        )
        await self._route(turn, opened)
        await self._save_flow(session, turn, stored=known.flow is not None)
        return turn.sent, turn.deferred

    def _understand(self, message: InboundMessage) -> Understanding | None:
        text = (message.text or "").strip()
        if message.kind != InboundKind.TEXT or not text or text.startswith("/"):
            return None
        if len(text) > self.settings.max_text_length:
            return None
        return self.understander.understand(text)

    async def _route(self, turn: Turn, call_opened: bool) -> None:
        message = turn.message
        if call_opened and turn.flow is not None:
            # A flow left for the length of a call ends with it: what opens the new call is
            # taken as itself, not as the next answer of a form the person walked away from.
            turn.end_flow()
        # Looked at before the framework or a flow takes the words: a person in danger is
        # never kept waiting (bot/safety/service.py says when, and what is done).
        if self.routes.screen is not None and await self.routes.screen(turn):
            if call_opened:
                await turn.start_flow(FrameworkStart(pending=None))
            return
        command, argument = _command(message.text)
        if command in IMMEDIATE_COMMANDS and command in self.routes.commands:
            # Acted on at once, even on the message that opens a call (stop must stop now).
            await self.routes.commands[command](turn, argument)
            if not call_opened or turn.actor.is_coach:
                return
        # Coaches run the line: the framework is recalled to callers, not to them.
        if call_opened and not turn.actor.is_coach:
            pending = _pending(turn, command, argument)
            await turn.start_flow(FrameworkStart(pending=pending))
            return
        await self.route_in_call(turn)

    async def route_in_call(self, turn: Turn) -> None:
        """Handle a message of a call under way: a command, a flow's answer, or an event."""
        message = turn.message
        command, argument = _command(message.text)
        if command is not None:
            handler = self.routes.commands.get(command)
            if handler is None:
                await turn.reply(
                    turn._("I don't know the command /{command}.", command=escape(command))
                )
                await self.dispatch_intent(turn, "help")
                return
            await handler(turn, argument)
            return
        if turn.flow is not None:
            flow = self.routes.flows.get(turn.flow.name)
            if flow is None:  # a flow removed from the code: forget the stale position
                turn.end_flow()
            elif turn.flow.data.get(PAUSED):
                # Set aside for a question: its own buttons take it up again; a way out
                # ends it; anything else is handled as itself while the flow waits.
                if flow.owns_button(turn):
                    turn.flow.data = _unpaused(turn.flow.data)
                    await flow.resume(turn)
                    return
                if message.kind == InboundKind.TEXT and leaves(turn.text):
                    turn.end_flow()
                    await turn.reply(turn._(flow.left_text))
                    return
            elif message.button is None or flow.owns_button(turn):
                if not await self._interrupts(turn, flow):
                    await flow.resume(turn)
                return
        await self.dispatch_event(turn)

    async def _interrupts(self, turn: Turn, flow: Flow[Any, Any]) -> bool:
        """Whether this message is not the flow's answer, and then deal with it.

        Every message is a person talking: a way out ("annuler", "laisse tomber", "خلاص",
        "safi") leaves any flow; "stop" stops reminders and leaves it; in a flow of the
        person's own business with the bot, a clear question is answered and the flow
        offered to go on, and "ok" / "it is not a problem" ends it.
        """
        assert turn.flow is not None
        if flow.name == "framework" or turn.message.kind != InboundKind.TEXT:
            return False
        if leaves(turn.text):
            turn.end_flow()
            await turn.reply(turn._(flow.left_text))
            return True
        understanding = turn.understanding
        if understanding is None or understanding.score < INTERRUPT_SCORE:
            return False
        intent = understanding.intent
        if intent == "stop_reminders":
            turn.end_flow()
            await self.dispatch_intent(turn, intent)
            return True
        if not flow.answers_questions or intent in ("none", flow.intent):
            return False
        at_text_step = turn.flow.step in flow.text_steps
        if intent in CLOSING:
            if at_text_step and len(turn.text.split()) > CLOSING_WORDS:
                return False
            turn.end_flow()
            await turn.reply(turn._(flow.left_text))
            return True
        if at_text_step:
            entry = self.understander.entry(intent)
            for_the_bot = entry is not None and entry.kind == "topic"
            if not (for_the_bot and _asks(turn.text)):
                return False  # the answer to the step, which may well name a topic
        waiting = FlowState(turn.flow.name, turn.flow.step, {**turn.flow.data, PAUSED: True})
        turn.flow = waiting
        await self.dispatch_intent(turn, intent)
        if turn.flow is waiting:  # the answer started nothing else: offer to go on
            await turn.reply(
                turn._(flow.resume_question),
                (
                    (Button(turn._("Go on"), GoOn("on").pack()),),
                    (Button(turn._("Leave it"), GoOn("leave").pack()),),
                ),
            )
        return True

    async def go_on(self, turn: Turn, choice: str) -> None:
        """The buttons offered after a question answered in the middle of a flow."""
        flow = self.routes.flows.get(turn.flow.name) if turn.flow is not None else None
        if flow is None or turn.flow is None or not turn.flow.data.get(PAUSED):
            await turn.reply(turn._("This button is no longer active."))
            return
        if choice == "on":
            turn.flow.data = _unpaused(turn.flow.data)
            await flow.prompt(turn)
        else:
            turn.end_flow()
            await turn.reply(turn._(flow.left_text))

    async def dispatch_event(self, turn: Turn) -> None:
        """Handle an event outside any flow."""
        message = turn.message
        if message.kind in (InboundKind.TEXT, InboundKind.ATTACHMENT):
            for take in self.routes.takers:
                if await take(turn):
                    return
        if message.kind == InboundKind.BUTTON:
            data = message.button or ""
            route = self.routes.buttons.get(data.partition(":")[0])
            if route is None:
                await turn.reply(turn._("This button is no longer active."))
                await self.dispatch_intent(turn, "menu")
                return
            await route.press(turn, data)
        elif message.kind == InboundKind.ATTACHMENT and self.routes.attachment is not None:
            await self.routes.attachment(turn)
        elif message.kind in (InboundKind.ATTACHMENT, InboundKind.UNSUPPORTED):
            await self.dispatch_intent(turn, "unsupported")
        elif not turn.text:
            await self.dispatch_intent(turn, "empty")
        elif len(turn.text) > self.settings.max_text_length:
            await self.dispatch_intent(turn, "too_long")
        else:
            intent = turn.understanding.intent if turn.understanding else "none"
            await self.dispatch_intent(turn, intent)

    async def dispatch_intent(self, turn: Turn, intent: str) -> None:
        handler = self.routes.intents.get(intent)
        if handler is None:
            # Knowledge topics share one handler; anything else unknown is "none".
            handler = self.routes.intents[
                "topic" if self.understander.answer(intent, "fr") else "none"
            ]
        await handler(turn)

    async def replay(
        self, turn: Turn, message_id: int, *, not_danger: bool = False, lang: str | None = None
    ) -> None:
        """Handle an earlier message of this call now (one held back by the framework, or one
        asked about: with `not_danger` the person said nobody is in danger), in `lang`, the
        variant it was written in when that was sure."""
        message = await turn.session.get(InboundMessage, message_id)
        if message is None or message.actor_id != turn.actor.id:
            return
        understanding = None
        if not_danger and message.text:
            understanding = self.understander.understand(message.text, danger=False)
        elif message.intent is not None and message.lang is not None:
            understanding = Understanding(message.intent, message.intent_score or 0.0, message.lang)
        flow = self.routes.flows.get(turn.flow.name) if turn.flow is not None else None
        # Asked about in the middle of a flow: the words were the flow's answer after all.
        in_flow = not_danger and flow is not None and flow.name != "framework"
        earlier = Turn(
            self,
            turn.session,
            message,
            turn.actor,
            turn.call,
            turn.now,
            understanding,
            turn.flow if in_flow or not not_danger else None,
            lang or turn.message_lang,
        )
        if in_flow and flow is not None:
            await flow.resume(earlier)
        else:
            await self.route_in_call(earlier)
        turn.sent += earlier.sent
        turn.flow = earlier.flow

    async def _save_flow(self, session: AsyncSession, turn: Turn, stored: bool) -> None:
        """The chat's flow position after the turn (`stored`: the chat had one before): one
        cached statement by key, past the unit of work (whose flush of one object costs
        about twice as much)."""
        if turn.flow is None and not stored:
            return
        connection = await session.connection()  # not session.execute: no autoflush
        key = {"k_channel": turn.message.channel, "k_chat_id": turn.message.chat_id}
        if turn.flow is None:
            await _FLOW_DELETE.execute(connection, key)
            return
        values = {
            "flow": turn.flow.name,
            "step": turn.flow.step,
            "data": dict(turn.flow.data),
            "updated_at": turn.now,
        }
        if not stored:
            await _FLOW_INSERT.execute(
                connection,
                {
                    "channel": turn.message.channel,
                    "chat_id": turn.message.chat_id,
                    "actor_id": turn.actor.id,
                    "started_at": turn.now,
                    **values,
                },
            )
        else:
            await _FLOW_UPDATE.execute(
                connection, key | {f"v_{name}": value for name, value in values.items()}
            )

    async def _apologise(self, session: AsyncSession, message: InboundMessage) -> list[Effect]:
        actor = await session.get_one(Actor, message.actor_id)
        rows = await enqueue(
            session,
            channel=message.channel,
            chat_id=message.chat_id,
            text=translator(actor.lang).gettext(SORRY),
            now=self.clock.now(),
            actor_id=actor.id,
            cause_id=message.id,
        )
        return [to_effect(row) for row in rows]


# A chat's flow position, by its key (built once: building costs more than running it).
_FLOWS = typed(Table, FlowSession.__table__)
_FLOW_KEY = (_FLOWS.c.channel == bindparam("k_channel", type_=String())) & (
    _FLOWS.c.chat_id == bindparam("k_chat_id", type_=String())
)
_FLOW_INSERT = HotStatement(
    _FLOWS.insert(),
    ("channel", "chat_id", "actor_id", "started_at", "flow", "step", "data", "updated_at"),
)
_FLOW_UPDATE = HotStatement(
    _FLOWS.update()
    .where(_FLOW_KEY)
    .values(
        {
            name: bindparam(f"v_{name}", type_=_FLOWS.c[name].type)
            for name in ("flow", "step", "data", "updated_at")
        }
    )
)
_FLOW_DELETE = HotStatement(_FLOWS.delete().where(_FLOW_KEY))

# The oldest unhandled message of a chat, once no other transaction holds it (built once:
# building costs more than running it). FOR SHARE waits for a claim's FOR UPDATE but not for
# another waiter; the row is matched by its id alone, so the wait ends with the row found
# even when its holder has just handled it.
_OLDEST = aliased(InboundMessage)
_HELD = (
    select(InboundMessage.id)
    .where(
        InboundMessage.id
        == select(_OLDEST.id)
        .where(
            _OLDEST.channel == bindparam("channel", type_=String()),
            _OLDEST.chat_id == bindparam("chat_id", type_=String()),
            _OLDEST.handled_at.is_(None),
        )
        .order_by(_OLDEST.id)
        .limit(1)
        .scalar_subquery()
    )
    .with_for_update(read=True)
)


def _new_actor_row(event: Event) -> dict[str, Any]:
    return {
        "channel": event.channel,
        "external_id": event.sender.external_id,
        "chat_id": event.chat_id,
        "display_name": clean(event.sender.display_name, one_line=True)[:128],
        "lang": _hint(event.sender.language_code),
        "created_at": event.at,
    }


def waiting_chats_query(before: datetime | None = None) -> Select[str, str]:
    """`Engine.waiting_chats`' query."""
    query = select(InboundMessage.channel, InboundMessage.chat_id).where(
        InboundMessage.handled_at.is_(None)
    )
    if before is not None:
        query = query.where(InboundMessage.received_at < before)
    return query.distinct()


def _update_key(event: Event) -> str | None:
    return f"{event.channel}:{event.update_id}" if event.update_id else None


def _fields(event: Event, update_key: str | None) -> dict[str, Any]:
    """The columns of a stored message, cleaned and cut to what the columns take."""
    attachment_kind = event.attachment.kind if event.attachment else event.unsupported
    return {
        "channel": event.channel,
        "chat_id": event.chat_id,
        "update_key": update_key,
        "kind": _kind(event),
        # PostgreSQL refuses NUL in text and enforces column sizes: store what fits.
        "text": _storable(clean(event.text) if event.text is not None else None),
        "button": _storable(event.button, 64),
        "attachment_kind": _storable(attachment_kind, 16),
        "file_id": _storable(event.attachment.file_id, 256) if event.attachment else None,
        "received_at": event.at,
    }


def _kind(event: Event) -> str:
    if event.button is not None:
        return InboundKind.BUTTON
    if event.attachment is not None:
        return InboundKind.ATTACHMENT
    if event.unsupported is not None:
        return InboundKind.UNSUPPORTED
    return InboundKind.TEXT


def _command(text: str | None) -> tuple[str | None, str]:
    """'/lang ary' -> ('lang', 'ary'); '/start@HotlineBot x' -> ('start', 'x')."""
    text = (text or "").strip()
    if text.casefold() in STOP_WORDS:
        return "stop", ""
    if not text.startswith("/") or len(text) < 2:
        return None, ""
    head, _, argument = text[1:].partition(" ")
    return head.split("@", 1)[0].lower(), argument.strip()


def _addressed_elsewhere(text: str | None, username: str | None) -> bool:
    """A command for another bot ("/case@other_bot"), as groups with several bots see."""
    text = (text or "").strip()
    if not text.startswith("/") or username is None:
        return False
    head = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    _, at, target = head.partition("@")
    return bool(at) and target.casefold() != username.lstrip("@").casefold()


def _storable(value: str | None, size: int | None = None) -> str | None:
    if value is None:
        return None
    value = value.replace("\x00", "\ufffd")
    return value[:size] if size is not None else value


def _pending(turn: Turn, command: str | None, argument: str = "") -> int | None:
    """What a new call opened with is taken up once the framework is acknowledged."""
    if command == "start":
        # A bare /start is the call opening itself; a deep link's token is taken up after.
        return turn.message.id if argument else None
    if command in IMMEDIATE_COMMANDS:
        return None  # already acted on
    if command is not None:
        return turn.message.id  # /engagements after a silence still shows the commitments
    if turn.message.kind == InboundKind.BUTTON:
        # A button of an earlier message (a deadline reminder, say) is an explicit answer:
        # take it up after the framework instead of dropping it.
        prefix = (turn.message.button or "").partition(":")[0]
        return turn.message.id if prefix in turn.engine.routes.buttons else None
    if turn.understanding is not None and turn.understanding.intent in ("greeting", "goodbye"):
        return None
    return turn.message.id


def _note_variant(actor: Actor, lang: str) -> None:
    """Keep the variant of a message identified with confidence; the interface follows the
    variant the person mostly uses (VOTES_TO_SWITCH of the last LANG_VOTES), so one short
    or mixed message never flips it. /lang overrides all of it."""
    recent = [*(actor.recent_langs or [])[-(LANG_VOTES - 1) :], lang]
    actor.recent_langs = recent
    if actor.lang_chosen:
        return
    top = max(dict.fromkeys(reversed(recent)), key=recent.count)
    if recent.count(top) >= VOTES_TO_SWITCH:
        actor.lang = top


def _asks(text: str) -> bool:
    """The text is shaped like a question (a question mark, or a question word early)."""
    if "?" in text or "؟" in text:
        return True
    return any(word in QUESTION_WORDS for word in tokens(text)[:6])


def _unpaused(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != PAUSED}


def _hint(language_code: str | None) -> str:
    return "ary" if (language_code or "").startswith("ar") else "fr"
