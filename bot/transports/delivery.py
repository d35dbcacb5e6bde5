"""Delivery of the outbox over a rate-limited channel, losing nothing and sending nothing twice.

Rows are claimed in batches, in a short transaction (status "sending", the claim time and this
process's instance id). Each is marked started just before its request (only if the claim is
still ours), in one short transaction that also writes the outcomes of the requests answered
since the last write (delivered, retried later, failed, or unreachable), then sent with no
transaction open; what is left is settled at the end of the batch. A row claimed but not
started is never at risk of a repeat, so it is taken back at once when its process is gone
(claimed before this process started) or after a short lease; a started row (a request maybe
received) only after the long lease, or a moment
after a restart: at most the requests in flight at a crash are repeated.

Only the first unsettled row of a chat is ever claimed, by priority then age, so each chat
receives its messages in order, and an urgent one (a case alert or reply) passes bulk output.
Telegram's limits are honoured by a clock-injected `RateLimiter`; messages leave evenly paced
a little under 30/s (a claim takes the next second's slots), not in bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from bot.core.clock import Clock
from bot.core.effects import Effect
from bot.core.outbox import file_not_sent_rows, insert_keyed, to_effect
from storage.db import Database
from storage.hot import HotStatement
from storage.models import Actor, DeliveryStatus, OutboxMessage, Priority

log = logging.getLogger(__name__)


# -- what a send can go wrong with, whatever the library ---------------------------------------


class DeliveryError(Exception):
    """Raised by a transport's send function; tells the sender what to do with the row."""


class RetryAfter(DeliveryError):
    """HTTP 429: Telegram says when to try again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Transient(DeliveryError):
    """5xx or a network error: try again later with backoff."""


class Blocked(DeliveryError):
    """403: the person blocked the bot (or left the group); retrying will not help."""


class Rejected(DeliveryError):
    """400 and the like: this message will never be accepted.

    For a file (a photo, a voice note...), the refusal concerns that file alone (a bad file
    id, too big, a wrong type): the row is set aside, tried again a few times while the
    chat's other messages go on, then replaced by a text saying what could not be sent."""


Send = Callable[[Effect], Awaitable[str | None]]
Wait = Callable[[float], Awaitable[None]]


# -- Telegram's limits -------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    overall_per_second: int = 30
    per_chat_interval: timedelta = timedelta(seconds=1)
    group_per_minute: int = 20
    # Messages leave evenly spaced, this share slower than the overall limit: 30 sent in one
    # burst, then 30 more a second later, meet a sliding window on the other side only if
    # both bursts travel equally fast; a little slack absorbs the jitter instead of a 429.
    pacing_margin: float = 0.03
    # And never more than the overall limit within this long, counted on the times requests
    # really left: a row whose slot has passed (after a slow claim, or a refused request
    # given back) would otherwise leave right behind the one before, and a few of those
    # together break Telegram's one-second window.
    sent_window: timedelta = timedelta(seconds=1.02)  # under 30 evenly paced: never met by them

    @property
    def spacing(self) -> timedelta:
        return timedelta(seconds=(1 + self.pacing_margin) / self.overall_per_second)


class RateLimiter:
    """Decides when the next message to a chat may leave; pure bookkeeping over given times."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._overall: deque[datetime] = deque()
        self._last: dict[str, datetime] = {}
        self._groups: defaultdict[str, deque[datetime]] = defaultdict(deque)
        self._latest: datetime | None = None  # the latest time a message leaves, maybe ahead
        self._sent: deque[datetime] = deque()  # when requests really left, within the window

    @staticmethod
    def is_group(chat_id: str) -> bool:
        return chat_id.startswith("-")  # groups and channels have negative ids

    def next_allowed(self, chat_id: str, now: datetime) -> datetime:
        """The earliest time a message to this chat respects every limit (now if allowed)."""
        return max(self.chat_allowed(chat_id, now), self.overall_allowed(now))

    def overall_allowed(self, now: datetime) -> datetime:
        """The earliest time the next message, to any chat, respects the overall limit."""
        when = now
        second = timedelta(seconds=1)
        overall = [t for t in self._overall if t > now - second]
        if len(overall) >= self.limits.overall_per_second:
            when = max(when, overall[-self.limits.overall_per_second] + second)
        if self._latest is not None:
            when = max(when, self._latest + self.limits.spacing)
        return when

    def chat_allowed(self, chat_id: str, now: datetime) -> datetime:
        """The earliest time a message to this chat respects the limits of that chat."""
        when = now
        last = self._last.get(chat_id)
        if last is not None:
            when = max(when, last + self.limits.per_chat_interval)
        if self.is_group(chat_id):
            minute = timedelta(minutes=1)
            recent = [t for t in self._groups[chat_id] if t > now - minute]
            if len(recent) >= self.limits.group_per_minute:
                when = max(when, recent[-self.limits.group_per_minute] + minute)
        return when

    def sent_allowed(self, now: datetime) -> datetime:
        """The earliest time a request may leave with fewer than the overall limit having
        really left within `sent_window` (now if allowed)."""
        window = self.limits.sent_window
        while self._sent and self._sent[0] <= now - window:
            self._sent.popleft()
        if len(self._sent) < self.limits.overall_per_second:
            return now
        return self._sent[-self.limits.overall_per_second] + window

    def leaving(self, at: datetime) -> None:
        """A request really leaves at `at`."""
        self._sent.append(at)

    def not_counted(self, at: datetime) -> None:
        """The request that left at `at` was refused, or never left: it does not count."""
        with contextlib.suppress(ValueError):
            self._sent.remove(at)

    def give_back(self, at: datetime) -> None:
        """The message that left at `at` was refused (a 429): it does not count against the
        overall limit, so its place in the pace goes to the messages after it."""
        with contextlib.suppress(ValueError):
            self._overall.remove(at)
        if self._latest is not None:
            self._latest -= self.limits.spacing

    def record(self, chat_id: str, at: datetime) -> None:
        """A message to this chat is leaving at `at` (now, or a slot ahead given by a claim)."""
        self._latest = at if self._latest is None else max(self._latest, at)
        self._overall.append(at)
        while self._overall and self._overall[0] <= at - timedelta(seconds=1):
            self._overall.popleft()
        self._last[chat_id] = at
        if self.is_group(chat_id):
            group = self._groups[chat_id]
            group.append(at)
            while group and group[0] <= at - timedelta(minutes=1):
                group.popleft()


# -- the sender --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 6  # transient failures before a row is marked failed
    file_attempts: int = 3  # tries of a file Telegram refuses, set aside from its chat
    backoff_base: float = 2.0  # seconds; doubled each attempt
    backoff_max: float = 300.0
    lease: timedelta = timedelta(minutes=2)  # a started row older than this is reclaimed
    # A row claimed and not started is safe to take (its claimer checks before sending); this
    # covers a claimer that died while another process keeps running.
    claim_lease: timedelta = timedelta(seconds=30)
    # After a restart, rows started before it are taken back once this has passed: time for a
    # request still in flight in another live process to settle.
    restart_grace: timedelta = timedelta(seconds=2)
    settle_attempts: int = 5  # a "delivered" not written means a repeat: try hard
    overlap_after: float = 2.0  # seconds: a slower request lets the next ones start
    idle_poll: float = 1.0  # seconds between looks at the outbox when nothing is due
    batch: int = 50
    # A claim takes the rows whose paced slot falls within this, and each is sent at its
    # slot: one claim per second or so feeds a steady 30/s without a claim per message.
    claim_ahead: timedelta = timedelta(seconds=1)

    def backoff(self, attempts: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** max(0, attempts - 1))


_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def _open(table: Any) -> ColumnElement[bool]:
    """Open rows, with the statuses written as literals: the condition of the partial
    indexes of the outbox (`storage.models.messages.OPEN_ROWS`), which a bound parameter
    would keep SQLite from using."""
    return table.status.in_([literal_column(f"'{status}'") for status in _OPEN])


@dataclass
class _Outcome:
    """A request answered (or failed), not yet written to its row."""

    row: OutboxMessage
    at: datetime
    error: DeliveryError | None = None
    external_id: str | None = None


class Sender:
    """Delivers one channel's outbox; several may run against one database."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        channel: str,
        send: Send,
        *,
        limiter: RateLimiter | None = None,
        policy: Policy | None = None,
        wait: Wait = asyncio.sleep,
    ) -> None:
        self.db = db
        self.clock = clock
        self.channel = channel
        self.send = send
        self.limiter = limiter or RateLimiter()
        self.policy = policy or Policy()
        self.wait = wait
        self._wake = asyncio.Event()
        self._slots: dict[int, datetime] = {}  # claimed row id -> when it may leave
        self._left: dict[int, datetime] = {}  # row id -> when its request really left
        self._answered: list[_Outcome] = []  # requests answered, outcome not yet written
        self._own: AsyncConnection | None = None  # for the one-statement marks (`_alone`)
        self._own_lock = asyncio.Lock()
        self._keeping = 0  # steps (or deliveries) running, which give the connection back
        # Who claims: rows claimed by another instance before this one started belong to a
        # process that is gone (or to a live one, which then finds its claim taken).
        self.instance = f"{os.getpid()}-{secrets.token_hex(8)}"[:32]
        self.booted_at = clock.now()
        (
            self._start_statement,
            self._delivered_statement,
            self._deliver_and_start_statement,
        ) = self._statements()
        self._claim_queries: dict[bool, Select[OutboxMessage]] = {}
        table = cast(Table, OutboxMessage.__table__)
        self._mark_claimed = (
            update(table)
            .where(table.c.id.in_(bindparam("ids", expanding=True)))
            .values(
                status=DeliveryStatus.SENDING,
                claimed_at=bindparam("now", type_=table.c.claimed_at.type),
                claimed_by=bindparam("by", type_=table.c.claimed_by.type),
                started_at=None,
            )
        )
        self._next_retry = select(func.min(OutboxMessage.not_before)).where(
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.channel == self.channel,
            OutboxMessage.not_before > bindparam("now", type_=OutboxMessage.not_before.type),
        )

    def wake(self) -> None:
        """New rows were enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def claim(self) -> tuple[list[OutboxMessage], datetime | None]:
        """Take the rows that may leave now; also say when the next one will be due."""
        now = self.clock.now()
        settled = now >= self.booted_at + self.policy.restart_grace
        async with self.db.transaction() as session:
            rows = (
                await session.scalars(
                    self._claim_query(settled),
                    {
                        "now": now,
                        "claim_expired": now - self.policy.claim_lease,
                        "lease_expired": now - self.policy.lease,
                        "booted": self.booted_at,
                    },
                )
            ).all()
            claimed: list[OutboxMessage] = []
            next_due: datetime | None = None
            for row in rows:
                # Held back by its own chat (or a retry time): not claimed, looked at again.
                due = max(row.not_before, self.limiter.chat_allowed(row.chat_id, now))
                if row.status == DeliveryStatus.SENDING:
                    log.warning(
                        "reclaiming outbox row %s from %s (%s)",
                        row.id,
                        row.claimed_by,
                        "claimed, not sent" if row.started_at is None else "maybe sent: repeated",
                    )
                if due > now:
                    next_due = due if next_due is None else min(next_due, due)
                    continue
                # Only pacing left: claimed now if its slot is near, sent at that slot.
                slot = self.limiter.overall_allowed(now)
                if slot > now + self.policy.claim_ahead:
                    next_due = slot if next_due is None else min(next_due, slot)
                    break
                self.limiter.record(row.chat_id, slot)
                self._slots[row.id] = slot
                claimed.append(row)
            if claimed:
                # Marked in one statement (the unit of work would write one row at a time);
                # the objects, left out of the session, carry the same values.
                await (await session.connection()).execute(
                    self._mark_claimed,
                    {"ids": [row.id for row in claimed], "now": now, "by": self.instance},
                )
                for row in claimed:
                    session.expunge(row)
                    row.status = DeliveryStatus.SENDING
                    row.claimed_at = now
                    row.claimed_by = self.instance
                    row.started_at = None
            elif next_due is None:
                # Nothing to take now: when the next retry falls due (an index range).
                next_due = await session.scalar(self._next_retry, {"now": now})
        return claimed, next_due

    def _claim_query(self, settled: bool) -> Select[OutboxMessage]:
        """The rows to look at, in sending order (built once per shape: building costs more
        than running it). Parameters: now, claim_expired, lease_expired, booted.

        The first unsettled row of each chat, by priority then age: later rows wait for it,
        keeping order; an urgent row passes bulk ones queued before it. Walked in sending
        order on a partial index of the open rows, so a claim reads the few it takes, not the
        whole backlog (nor the rows waiting for a retry time)."""
        cached = self._claim_queries.get(settled)
        if cached is not None:
            return cached
        now = bindparam("now", type_=OutboxMessage.not_before.type)
        earlier = aliased(OutboxMessage, name="earlier")
        ahead = (
            select(earlier.id)
            .where(
                earlier.chat_id == OutboxMessage.chat_id,
                _open(earlier),
                earlier.channel == OutboxMessage.channel,
                or_(
                    earlier.priority < OutboxMessage.priority,
                    and_(
                        earlier.priority == OutboxMessage.priority,
                        earlier.id < OutboxMessage.id,
                    ),
                ),
            )
            .exists()
        )
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == self.channel,
                _open(OutboxMessage),
                OutboxMessage.not_before <= now,
                self._claimable(settled),
                ~ahead,
            )
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(self.policy.batch)
        )
        if not self.db.is_sqlite:  # SQLite already holds the write lock (BEGIN IMMEDIATE)
            query = query.with_for_update(skip_locked=True)
        self._claim_queries[settled] = query
        return query

    def _claimable(self, settled: bool) -> ColumnElement[bool]:
        """Pending, or claimed and left: by a process that never started it (its claim
        expired, or it was claimed before this one booted), or started and never settled
        (its lease expired, or, once `settled`, started by another before this one booted)."""
        when = OutboxMessage.claimed_at.type
        claim_expired = bindparam("claim_expired", type_=when)
        lease_expired = bindparam("lease_expired", type_=when)
        booted = bindparam("booted", type_=when)
        sending = OutboxMessage.status == DeliveryStatus.SENDING
        not_mine = or_(
            OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_by != self.instance
        )
        idle = and_(
            sending,
            OutboxMessage.started_at.is_(None),
            or_(
                OutboxMessage.claimed_at < claim_expired,
                and_(not_mine, OutboxMessage.claimed_at < booted),
            ),
        )
        stale = [OutboxMessage.claimed_at < lease_expired]
        if settled:
            stale.append(and_(not_mine, OutboxMessage.started_at < booted))
        in_flight = and_(sending, OutboxMessage.started_at.is_not(None), or_(*stale))
        return or_(OutboxMessage.status == DeliveryStatus.PENDING, idle, in_flight)

    async def _start(self, row: OutboxMessage) -> bool:
        """Mark the request as started, if the claim is still ours; only then may it be sent.

        The same transaction writes the outcomes of the requests already answered: one short
        transaction per message, and never more than the request about to leave (plus a slow
        one still running) marked started without its outcome written."""
        now = self.clock.now()
        start = {"row_id": row.id, "claimed": row.claimed_at, "at": now}
        outcomes, self._answered = self._answered, []
        try:
            if not outcomes or (len(outcomes) == 1 and outcomes[0].error is None):
                # The usual case, the previous one delivered: one statement, atomic alone.
                if outcomes:
                    values = {**start, **self._delivered_values(outcomes[0])}
                    rows = await self._alone(self._deliver_and_start_statement, values)
                    started = row.id in rows
                else:
                    started = bool(await self._alone(self._start_statement, start))
            else:
                async with self.db.transaction() as session:
                    await self._write_outcomes(session, outcomes)
                    connection = await session.connection()
                    started = bool(await self._start_statement.rows(connection, start))
        except BaseException:
            self._answered[:0] = outcomes  # not written: kept for the next write
            raise
        self._log_outcomes(outcomes)
        if not started:
            log.warning("outbox row %s was taken over before its send; not sent", row.id)
            return False
        row.started_at = now
        return True

    async def _alone(self, statement: HotStatement, values: dict[str, Any]) -> set[int]:
        """Run one statement, atomic on its own, on a connection kept for the step: no session,
        no pool round trip, no BEGIN (a quarter of the sender's CPU per message), on the
        driver's connection (storage/hot.py). Returns the ids it returned."""
        async with self._own_lock:
            own = self._own
            if own is None:
                own = await self.db.connect_alone()
            self._own = None  # kept again only once the statement went through
            try:
                ids = {row[0] for row in await statement.rows(own, values)}
                await own.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    await own.invalidate()
                    await own.close()
                raise
            if self._keeping:
                self._own = own
            else:  # outside a step: nobody would give it back later
                await own.close()
        return ids

    async def _release(self) -> None:
        """Give the kept connection back to the pool (at the end of each step)."""
        async with self._own_lock:
            if self._own is not None and not self._keeping:
                own, self._own = self._own, None
                await own.close()

    @staticmethod
    def _delivered_values(outcome: _Outcome) -> dict[str, Any]:
        return {
            "done_id": outcome.row.id,
            "done_claimed": outcome.row.claimed_at,
            "done_at": outcome.at,
            "external": outcome.external_id,
            "attempts": outcome.row.attempts + 1,
        }

    async def deliver(self, row: OutboxMessage) -> None:
        """Send one claimed row (no transaction open) at its slot, and settle it."""
        await self._wait_slot(row)
        self._keeping += 1
        try:
            if await self._start(row):
                outcome = await self._request(row)
                if isinstance(outcome.error, RetryAfter):
                    self._not_counted(row)
                self._answered.append(outcome)
            else:
                self._not_counted(row)
        finally:
            self._left.pop(row.id, None)
            self._keeping -= 1
            await self._release()
        await self._settle()

    async def _wait_slot(self, row: OutboxMessage) -> datetime | None:
        slot = self._slots.pop(row.id, None)
        if slot is not None:
            delay = (slot - self.clock.now()).total_seconds()
            if delay > 0:
                await self.wait(delay)
            while (when := self.limiter.sent_allowed(self.clock.now())) > self.clock.now():
                await self.wait((when - self.clock.now()).total_seconds())
            self._left[row.id] = self.clock.now()
            self.limiter.leaving(self._left[row.id])
        return slot

    def _not_counted(self, row: OutboxMessage) -> None:
        """The row's request was refused with a 429, or never left (another took it)."""
        left = self._left.pop(row.id, None)
        if left is not None:
            self.limiter.not_counted(left)

    def _give_back(self, slot: datetime) -> None:
        """A request refused with a 429 was not counted by Telegram: the rows claimed after
        it leave one place earlier (never before the refused one), so the pace holds."""
        self.limiter.give_back(slot)
        spacing = self.limiter.limits.spacing
        for row_id, later in self._slots.items():
            if later > slot:
                self._slots[row_id] = max(slot, later - spacing)

    async def _request(self, row: OutboxMessage) -> _Outcome:
        """The network call alone: never raises (but for cancellation), says what happened."""
        try:
            external_id = await self.send(to_effect(row))
        except DeliveryError as error:
            return _Outcome(row, self.clock.now(), error)
        except Exception as error:  # an unknown failure is treated as transient
            log.exception("sending outbox row %s failed", row.id)
            return _Outcome(row, self.clock.now(), Transient(f"{type(error).__name__}: {error}"))
        return _Outcome(row, self.clock.now(), None, external_id)

    async def _settle(self) -> None:
        """Write every outcome not written yet, in one transaction (retried: an outcome not
        written makes its row look in flight, and it would be sent again)."""
        for attempt in range(1, self.policy.settle_attempts + 1):
            outcomes, self._answered = self._answered, []
            if not outcomes:
                return
            try:
                async with self.db.transaction() as session:
                    await self._write_outcomes(session, outcomes)
            except Exception:
                self._answered[:0] = outcomes
                if attempt == self.policy.settle_attempts:
                    raise
                log.warning(
                    "settling %s outbox rows failed; retrying", len(outcomes), exc_info=True
                )
                await asyncio.sleep(0.2 * attempt)
            else:
                self._log_outcomes(outcomes)
                return

    async def _write_outcomes(self, session: AsyncSession, outcomes: list[_Outcome]) -> None:
        """Settle only our own claims: if a lease was taken over, the other sender settles."""
        if not outcomes:
            return
        connection = await session.connection()
        delivered = [self._delivered_values(o) for o in outcomes if o.error is None]
        if delivered:
            await connection.execute(self._delivered_statement, delivered)
        for outcome in outcomes:
            if outcome.error is not None:
                await self._write_failure(connection, outcome)

    def _statements(self) -> tuple[HotStatement, Update, HotStatement]:
        """Built once (building costs more than running them): mark started, mark delivered,
        and both at once (one row delivered, the next started)."""
        start = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id == bindparam("row_id"),
                OutboxMessage.status == DeliveryStatus.SENDING,
                OutboxMessage.claimed_by == self.instance,
                OutboxMessage.claimed_at == bindparam("claimed"),
                OutboxMessage.started_at.is_(None),
            )
            .values(started_at=bindparam("at", type_=OutboxMessage.started_at.type))
            .returning(OutboxMessage.id)
        )
        ours = (
            OutboxMessage.status == DeliveryStatus.SENDING,
            OutboxMessage.claimed_by == self.instance,
        )
        done = and_(
            OutboxMessage.id == bindparam("done_id"),
            OutboxMessage.claimed_at == bindparam("done_claimed"),
        )
        delivered_at = bindparam("done_at", type_=OutboxMessage.delivered_at.type)
        external = bindparam("external", type_=OutboxMessage.external_id.type)
        attempts = bindparam("attempts", type_=OutboxMessage.attempts.type)
        delivered = (
            update(OutboxMessage)
            .where(done, *ours)
            .values(
                status=DeliveryStatus.DELIVERED,
                delivered_at=delivered_at,
                external_id=external,
                attempts=attempts,
            )
        )
        nxt = OutboxMessage.id == bindparam("row_id")
        both = (
            update(OutboxMessage)
            .where(
                *ours,
                or_(
                    done,
                    and_(
                        nxt,
                        OutboxMessage.claimed_at == bindparam("claimed"),
                        OutboxMessage.started_at.is_(None),
                    ),
                ),
            )
            .values(
                started_at=case(
                    (nxt, bindparam("at", type_=OutboxMessage.started_at.type)),
                    else_=OutboxMessage.started_at,
                ),
                status=case((nxt, OutboxMessage.status), else_=DeliveryStatus.DELIVERED),
                delivered_at=case((nxt, OutboxMessage.delivered_at), else_=delivered_at),
                external_id=case((nxt, OutboxMessage.external_id), else_=external),
                attempts=case((nxt, OutboxMessage.attempts), else_=attempts),
            )
            .returning(OutboxMessage.id)
        )
        return HotStatement(start), delivered, HotStatement(both)

    async def _write_failure(self, connection: AsyncConnection, outcome: _Outcome) -> None:
        row, error, now = outcome.row, outcome.error, outcome.at
        values: dict[str, object]
        if isinstance(error, RetryAfter):
            # Telegram's own pacing is not a failure of the message: no attempt counted.
            values = {
                "status": DeliveryStatus.PENDING,
                "not_before": now + timedelta(seconds=error.seconds),
                "last_error": str(error),
            }
        elif isinstance(error, Transient):
            attempts = row.attempts + 1
            gave_up = attempts >= self.policy.max_attempts
            values = {
                "status": DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
                "attempts": attempts,
                "not_before": now + timedelta(seconds=self.policy.backoff(attempts)),
                "last_error": str(error)[:2000],
            }
        elif isinstance(error, Rejected) and row.kind != "text":
            # This file alone is refused: the next message of the chat would go through, so
            # it does not wait behind this one's retries (a 429 or a network error, which the
            # next one would meet too, keeps the chat in order above).
            attempts = row.attempts + 1
            gave_up = attempts >= self.policy.file_attempts
            values = {
                "status": DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
                "attempts": attempts,
                "priority": Priority.SET_ASIDE,
                "not_before": now + timedelta(seconds=self.policy.backoff(attempts)),
                "last_error": str(error)[:2000],
            }
        else:
            values = {
                "status": DeliveryStatus.UNREACHABLE
                if isinstance(error, Blocked)
                else DeliveryStatus.FAILED,
                "attempts": row.attempts + 1,
                "last_error": str(error)[:2000],
            }
        result = await connection.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row.id,
                OutboxMessage.status == DeliveryStatus.SENDING,
                OutboxMessage.claimed_by == self.instance,
                OutboxMessage.claimed_at == row.claimed_at,
            )
            .values(**values)
        )
        if result.rowcount == 0:
            log.warning("outbox row %s was reclaimed by another sender", row.id)
        elif values["status"] == DeliveryStatus.FAILED and row.kind != "text":
            await self._file_not_sent(connection, row, now)
        if isinstance(error, Blocked):
            await connection.execute(
                update(Actor)
                .where(
                    or_(
                        Actor.id == row.actor_id,
                        and_(Actor.channel == row.channel, Actor.chat_id == row.chat_id),
                    )
                )
                .values(reachable=False)
            )

    async def _file_not_sent(
        self, connection: AsyncConnection, row: OutboxMessage, now: datetime
    ) -> None:
        """The person is told, in their language, which file did not come (once: keyed)."""
        person = (
            Actor.id == row.actor_id
            if row.actor_id is not None
            else and_(Actor.channel == row.channel, Actor.chat_id == row.chat_id)
        )
        variant = await connection.scalar(select(Actor.lang).where(person).limit(1))
        await insert_keyed(connection, file_not_sent_rows(row, variant, now))
        log.warning("outbox row %s: file given up, the person is told", row.id)

    @staticmethod
    def _log_outcomes(outcomes: list[_Outcome]) -> None:
        for outcome in outcomes:
            if outcome.error is not None:
                log.warning("outbox row %s: %s", outcome.row.id, outcome.error)

    async def step(self) -> tuple[int, datetime | None]:
        """Claim what may leave now and send it; returns (sent, next due).

        One request at a time, each answered before the next is marked started: a crash can
        then repeat only the one in flight. A request slower than `overlap_after` (a network
        timeout, a slow server) no longer holds the others: they go on while it finishes.
        Whatever happens, no request of this step is left running when it returns or raises.
        """
        rows, next_due = await self.claim()
        requests: set[asyncio.Task[None]] = set()
        self._keeping += 1

        async def request(row: OutboxMessage, slot: datetime | None) -> None:
            outcome = await self._request(row)
            if slot is not None and isinstance(outcome.error, RetryAfter):
                self._give_back(slot)
                self._not_counted(row)
            self._left.pop(row.id, None)
            self._answered.append(outcome)

        try:
            for row in rows:
                slot = await self._wait_slot(row)
                if not await self._start(row):
                    self._not_counted(row)
                    continue
                sending = asyncio.ensure_future(request(row, slot))
                requests.add(sending)
                await asyncio.wait({sending}, timeout=self.policy.overlap_after)
        finally:
            if running := {task for task in requests if not task.done()}:
                await asyncio.wait(running)
            self._keeping -= 1
            await self._release()
            await self._settle()
        return len(rows), next_due

    async def run_until_idle(self, max_steps: int = 10_000) -> None:
        """Deliver until no row is open; waits (through `wait`) for retries and limits."""
        for _ in range(max_steps):
            sent, next_due = await self.step()
            if sent:
                continue
            if next_due is None and not await self._open_rows():
                return
            delay = (next_due - self.clock.now()).total_seconds() if next_due else 0.05
            await self.wait(max(delay, 0.001))
        raise RuntimeError("outbox not drained")

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver for ever (until `stop`), waking on `wake()` or when something falls due."""
        while not stop.is_set():
            self._wake.clear()  # before looking, so a wake-up during the step is not lost
            try:
                sent, next_due = await self.step()
            except Exception:
                log.exception("outbox delivery step failed")
                sent, next_due = 0, None
            if sent:
                continue
            delay = self.policy.idle_poll
            if next_due is not None:
                delay = min(delay, max(0.0, (next_due - self.clock.now()).total_seconds()))
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for task in waiters:
                task.cancel()

    async def _open_rows(self) -> int:
        async with self.db.transaction() as session:
            return int(
                await session.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.channel == self.channel,
                        OutboxMessage.status.in_(_OPEN),
                    )
                )
                or 0
            )
