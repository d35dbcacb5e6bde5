"""The real `hotline run` (webhook) against a fake Bot API, killed with SIGKILL at random
points and restarted: nothing lost, at most one repeated message per kill, and what was
waiting when the process died leaves within seconds of the restart. And the database server
restarted under a running hotline: nothing lost either."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.transports.telegram import SECRET_HEADER
from storage.db import Database
from storage.models import DeliveryStatus, InboundMessage, OutboxMessage
from tests.trust.fake_telegram import FakeTelegram

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cret-webhook"
# The size: 10 kills at random points of a 1,000-update run (200 chats of 5 updates).
# New chats start one after the other over RUN_SECONDS of running time, so the run is under
# way at every kill: each strikes while replies are being sent and updates posted. Each kill
# costs a start of the process (1 to 3 s of CPU); the test takes about a minute per database.
CHATS = int(os.environ.get("HOTLINE_PROCESS_CHATS", "200"))
UPDATES_PER_CHAT = 5
KILLS = int(os.environ.get("HOTLINE_PROCESS_KILLS", "10"))
RUN_SECONDS = float(os.environ.get("HOTLINE_PROCESS_SECONDS", "45"))
RESTART_SLA = 10.0  # seconds from the restart to the last message that was waiting,
SEND_RATE = 30  # plus the time the sender's pacing (Telegram's 30 messages/s) needs for them
QUESTIONS = [
    "c'est quoi le cadre ?",
    "comment préparer la réunion du comité ?",
    "c koi le role du coach",
    "merci beaucoup",
    "/help",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _updates() -> list[list[dict[str, Any]]]:
    """Per chat, in order: a first message (the framework), its button, then questions."""
    chats = []
    update_id = 0
    for index in range(CHATS):
        user = {"id": 5000 + index, "is_bot": False, "first_name": f"Actor{index}"}
        chat = {"id": 5000 + index, "type": "private"}
        updates = []
        for step in range(UPDATES_PER_CHAT):
            update_id += 1
            if step == 1:
                updates.append(
                    {
                        "update_id": update_id,
                        "callback_query": {
                            "id": f"cb{update_id}",
                            "from": user,
                            "chat_instance": "1",
                            "data": "framework:ack",
                            "message": {"message_id": 1, "date": 0, "chat": chat, "text": "…"},
                        },
                    }
                )
                continue
            text = "Bonjour" if step == 0 else QUESTIONS[(index + step) % len(QUESTIONS)]
            updates.append(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "date": int(time.time()),
                        "chat": chat,
                        "from": user,
                        "text": text,
                    },
                }
            )
        chats.append(updates)
    return chats


class Hotline:
    """`hotline run` in webhook mode, started and killed as a whole process."""

    def __init__(
        self, database_url: str, api: str, listen: int, log: Path, transport: str = "aiogram"
    ) -> None:
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN",
            "TELEGRAM_API_BASE_URL": api,
            "HOTLINE_WEBHOOK_URL": "https://hotline.test/telegram",
            "HOTLINE_WEBHOOK_SECRET": SECRET,
            "HOTLINE_WEBHOOK_LISTEN": f"127.0.0.1:{listen}",
            "HOTLINE_FLOOD_LIMIT": "0",
            "HOTLINE_TRANSPORT": transport,
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        assert self.process.returncode == -signal.SIGKILL

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def _post_in_order(session: aiohttp.ClientSession, url: str, updates: list[Any]) -> None:
    """As Telegram does: each update again and again until answered 200, then the next."""
    for update in updates:
        while True:
            try:
                async with session.post(
                    url, json=update, headers={SECRET_HEADER: SECRET}, timeout=5
                ) as response:
                    if response.status == 200:
                        break
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
        await asyncio.sleep(random.uniform(0.1, 0.6))


async def _open_rows(db: Database) -> set[int]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING))
            )
        )
        return set(rows.all())


async def _sending(db: Database, within: float) -> bool:
    """Wait (up to `within` seconds) until some reply is claimed by the sender."""
    start = time.monotonic()
    while time.monotonic() - start <= within:
        async with db.transaction() as session:
            claimed = await session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.status == DeliveryStatus.SENDING
                )
            )
        if claimed:
            return True
        await asyncio.sleep(0.005)
    return False


async def _wait_delivered(db: Database, ids: set[int], within: float) -> float:
    """Seconds until every row of `ids` is settled (or `within` + 1 when it never is)."""
    start = time.monotonic()
    while time.monotonic() - start <= within:
        async with db.transaction() as session:
            left = await session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
                )
            )
        if not left:
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    return within + 1


async def _settled(db: Database, within: float) -> None:
    """Wait (up to `within` seconds) until every message is handled and every reply sent."""
    start = time.monotonic()
    while time.monotonic() - start <= within:
        async with db.transaction() as session:
            unhandled = await session.scalar(
                select(func.count(InboundMessage.id)).where(InboundMessage.handled_at.is_(None))
            )
        if not unhandled and not await _open_rows(db):
            return
        await asyncio.sleep(0.1)


async def _outcome(db: Database) -> tuple[int, int, Counter[str]]:
    """Messages stored, messages without a reply, and the replies' statuses."""
    async with db.transaction() as session:
        stored = await session.scalar(select(func.count(InboundMessage.id)))
        unanswered = await session.scalar(
            select(func.count(InboundMessage.id)).where(
                InboundMessage.id.not_in(
                    select(OutboxMessage.cause_id).where(OutboxMessage.cause_id.is_not(None))
                )
            )
        )
        statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
    return int(stored or 0), int(unanswered or 0), statuses


async def test_kill_9_under_load_loses_nothing_repeats_little_and_recovers_fast(
    database_url: str, tmp_path: Path
) -> None:
    chance = random.Random(int(os.environ.get("HOTLINE_KILL_SEED", "13")))
    random.seed(chance.random())
    api = FakeTelegram()
    base = await api.start()
    listen = _free_port()
    # Both Telegram libraries are killed: aiogram (the default) on SQLite, python-telegram-bot
    # on PostgreSQL (it also starts faster, and each kill costs a start).
    transport = "aiogram" if database_url.startswith("sqlite") else "ptb"
    hotline = Hotline(database_url, base, listen, tmp_path / "hotline.log", transport)
    db = Database(database_url)
    url = f"http://127.0.0.1:{listen}/telegram"
    recoveries: list[float] = []
    late: list[tuple[float, int]] = []  # (seconds, replies waiting) past the allowed time
    kills = 0
    during = 0  # kills that struck while updates were still being posted

    async def ready(after: int) -> None:
        while api.count("setWebhook") <= after:  # noqa: ASYNC110 - the fake only records calls
            await asyncio.sleep(0.05)

    try:
        hotline.start()
        await asyncio.wait_for(ready(0), 60)
        async with aiohttp.ClientSession() as session:
            running = asyncio.Event()  # new chats start only while no restart is timed
            running.set()
            chats: list[asyncio.Task[None]] = []

            async def feed() -> None:
                for updates in _updates():
                    await asyncio.sleep(RUN_SECONDS / CHATS)
                    await running.wait()
                    chats.append(asyncio.create_task(_post_in_order(session, url, updates)))
                await asyncio.gather(*chats)

            posting = asyncio.create_task(feed())
            for k in range(KILLS):
                # One kill in each tenth of the run, at a random point of it...
                planned = int(CHATS * (k + chance.uniform(0.1, 0.9)) / KILLS)
                while len(chats) < planned:  # noqa: ASYNC110 - paced by the feeder above
                    await asyncio.sleep(0.01)
                # ...while replies are being sent: the moment a crash used to hurt.
                await _sending(db, within=3.0)
                await asyncio.sleep(chance.uniform(0.0, 0.05))
                hotline.kill()
                kills += 1
                during += not posting.done()
                running.clear()
                waiting = await _open_rows(db)
                restarts = api.count("setWebhook")
                hotline.start()
                await asyncio.wait_for(ready(restarts), 120)  # a start under a loaded CI
                allowed = RESTART_SLA + len(waiting) / SEND_RATE
                recoveries.append(await _wait_delivered(db, waiting, allowed))
                if recoveries[-1] > allowed:
                    late.append((recoveries[-1], len(waiting)))
                running.set()
            await asyncio.wait_for(posting, 120 + RUN_SECONDS)
        # Everything stored is handled and answered: wait for the outbox to drain.
        await _settled(db, within=60.0)
        stored, unanswered, statuses = await _outcome(db)
        async with db.transaction() as session:
            rows = Counter(
                (chat, text)
                for chat, text in (
                    await session.execute(select(OutboxMessage.chat_id, OutboxMessage.text))
                ).all()
            )
    finally:
        hotline.stop()
        await db.dispose()
        await api.stop()
    sent = Counter((str(c.params.get("chat_id")), c.params.get("text", "")) for c in api.sent())
    repeated = sum(max(0, sent[key] - rows[key]) for key in sent)
    never_sent = sum(1 for key in rows if sent[key] < rows[key])
    sends = len(api.sent())
    print(f"kills {kills} ({during} in the run), {sends} sends, {repeated} repeated: {recoveries}")
    assert kills == KILLS
    assert during == KILLS, "a kill struck after the run: it tested an idle process"
    assert stored == CHATS * UPDATES_PER_CHAT  # each update stored once
    assert unanswered == 0
    assert set(statuses) == {DeliveryStatus.DELIVERED}
    assert never_sent == 0
    assert repeated <= kills, f"{repeated} repeated messages for {kills} kills"
    assert late == [], f"replies still waiting after a restart: {late}"


@pytest.mark.postgresql_only
async def test_a_postgresql_restart_under_load_loses_nothing_and_the_hotline_goes_on(
    database_url: str, postgres: Any, tmp_path: Path
) -> None:
    """The database server restarts while `hotline run` takes updates and sends replies, and
    the hotline itself is not restarted. Webhook calls answered 500 meanwhile are posted again
    (as Telegram does) and turns that failed are handled again: every update ends stored once
    and answered, every reply delivered."""
    cluster = postgres[1]
    if cluster is None:
        pytest.skip("an external PostgreSQL server is not ours to restart")
    api = FakeTelegram()
    base = await api.start()
    listen = _free_port()
    hotline = Hotline(database_url, base, listen, tmp_path / "hotline.log")
    url = f"http://127.0.0.1:{listen}/telegram"
    chats = _updates()[:30]
    db = Database(database_url)
    try:
        hotline.start()
        while api.count("setWebhook") == 0:  # noqa: ASYNC110 - the fake only records calls
            await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as session:

            async def feed() -> None:
                posting = []
                for updates in chats:
                    await asyncio.sleep(0.1)
                    posting.append(asyncio.create_task(_post_in_order(session, url, updates)))
                await asyncio.gather(*posting)

            feeding = asyncio.create_task(feed())
            assert await _sending(db, within=30.0)  # under way: replies are being sent
            await db.dispose()  # this test's own connections: about to die
            await asyncio.to_thread(cluster.stop, "fast")
            await asyncio.to_thread(cluster.restart)
            await asyncio.wait_for(feeding, 120)
        await _settled(db, within=120.0)  # a failed turn is handled again within a minute
        assert hotline.process is not None and hotline.process.poll() is None  # never stopped
        stored, unanswered, statuses = await _outcome(db)
    finally:
        hotline.stop()
        await db.dispose()
        await api.stop()
    assert stored == len(chats) * UPDATES_PER_CHAT
    assert unanswered == 0
    assert set(statuses) == {DeliveryStatus.DELIVERED}
