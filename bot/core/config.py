"""Settings read once from the environment at start, with defaults that work on a fresh clone.

This is the only module that reads the hotline's variables; everything else is handed the
`Settings` (through the engine or a scan's context), so a test builds the settings it wants
instead of changing the environment. The README's tables list every variable read here
(tests/core/test_config.py checks it).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path

from bot.nlu.model import DEFAULT_CACHE_DIR as NLU_CACHE_DIR
from storage.db import DEFAULT_URL

REPO_ROOT = Path(__file__).resolve().parents[2]


def random_token() -> str:
    # Telegram allows 64 characters of [A-Za-z0-9_-] after ?start=; 22 random ones are plenty.
    return secrets.token_urlsafe(16)


def _hours(text: str) -> tuple[time, time]:
    """'09:00-17:00' -> (09:00, 17:00)."""
    start, _, end = text.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    knowledge_dir: Path = field(default_factory=lambda: REPO_ROOT / "knowledge")
    # Where trained models are cached by a hash of their data (None: no cache).
    nlu_cache_dir: Path | None = NLU_CACHE_DIR
    # A message after this much silence opens a new call, with its framework reminder.
    call_silence: timedelta = timedelta(minutes=30)
    max_text_length: int = 4096
    telegram_token: str | None = field(default=None, repr=False)  # a secret: never logged
    telegram_api_base_url: str | None = None
    transport: str = "aiogram"
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "127.0.0.1:8080"
    coaches_chat_id: str | None = None
    # Filled from getMe at start-up: invitation links are t.me/<bot_username>?start=<token>.
    bot_username: str | None = None
    # Flood limit: past this many messages from one actor in the window, a message is
    # stored but not processed (one polite "slow down" per window).
    flood_limit: int = 20
    flood_window: timedelta = timedelta(seconds=60)
    # Conversations older than this are removed by the retention scan.
    retention_days: int = 365
    # The web console: where it listens (by default beside the webhook), the address people
    # open (sign-in links start with it; https makes the cookie Secure), and how long a
    # browser stays signed in.
    web_listen: str | None = None
    web_url: str | None = None
    web_session_hours: int = 12
    # Cases: the time to take one per severity (high and normal count working time, Monday
    # to Friday, Africa/Casablanca) before the coach is alerted again; one more, the
    # coordinator.
    # An emergency alerts everyone at once: its target is only the wait before alerting again.
    sla_emergency: timedelta = timedelta(minutes=15)
    sla_high: timedelta = timedelta(hours=2)  # working time
    sla_normal: timedelta = timedelta(hours=8)  # one working day
    working_hours: tuple[time, time] = (time(9, 0), time(17, 0))
    # Plans: reminders go out in waking hours only; an overdue commitment alerts the plan's
    # coach this many days after its deadline.
    waking_hours: tuple[time, time] = (time(8, 0), time(20, 0))
    overdue_alert_days: int = 7
    # Invitation tokens (the golden transcripts use a counter, to read the same every run).
    new_token: Callable[[], str] = field(default=random_token, compare=False, repr=False)
    # Files people sent (photos, voice notes, documents), fetched from the Bot API for the
    # console and kept here, the least recently shown removed past the size bound.
    file_cache_dir: Path = Path("var/file-cache")
    file_cache_bytes: int = 200 * 1024 * 1024

    @property
    def console_listen(self) -> str:
        return self.web_listen or self.webhook_listen

    @property
    def console_url(self) -> str:
        return (self.web_url or f"http://{self.console_listen}").rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        silence = env.get("HOTLINE_CALL_SILENCE_MINUTES")
        flood_limit = env.get("HOTLINE_FLOOD_LIMIT")
        flood_window = env.get("HOTLINE_FLOOD_WINDOW_SECONDS")
        retention = env.get("HOTLINE_RETENTION_DAYS")
        cache = env.get("HOTLINE_NLU_CACHE_DIR")
        emergency = env.get("HOTLINE_SLA_EMERGENCY_MINUTES")
        high = env.get("HOTLINE_SLA_HIGH_MINUTES")
        normal = env.get("HOTLINE_SLA_NORMAL_MINUTES")
        working = env.get("HOTLINE_WORKING_HOURS")
        waking = env.get("HOTLINE_WAKING_HOURS")
        overdue = env.get("HOTLINE_OVERDUE_ALERT_DAYS")
        return cls(
            database_url=env.get("DATABASE_URL") or defaults.database_url,
            knowledge_dir=Path(env.get("HOTLINE_KNOWLEDGE_DIR") or defaults.knowledge_dir),
            nlu_cache_dir=defaults.nlu_cache_dir
            if cache is None
            else Path(cache)
            if cache
            else None,
            call_silence=timedelta(minutes=int(silence)) if silence else defaults.call_silence,
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            transport=env.get("HOTLINE_TRANSPORT") or defaults.transport,
            webhook_url=env.get("HOTLINE_WEBHOOK_URL") or None,
            webhook_secret=env.get("HOTLINE_WEBHOOK_SECRET") or None,
            webhook_listen=env.get("HOTLINE_WEBHOOK_LISTEN") or defaults.webhook_listen,
            coaches_chat_id=env.get("HOTLINE_COACHES_CHAT_ID") or None,
            flood_limit=int(flood_limit) if flood_limit else defaults.flood_limit,
            flood_window=timedelta(seconds=int(flood_window))
            if flood_window
            else defaults.flood_window,
            retention_days=int(retention) if retention else defaults.retention_days,
            web_listen=env.get("HOTLINE_WEB_LISTEN") or None,
            web_url=env.get("HOTLINE_WEB_URL") or None,
            web_session_hours=int(env.get("HOTLINE_WEB_SESSION_HOURS") or 12),
            sla_emergency=timedelta(minutes=int(emergency))
            if emergency
            else defaults.sla_emergency,
            sla_high=timedelta(minutes=int(high)) if high else defaults.sla_high,
            sla_normal=timedelta(minutes=int(normal)) if normal else defaults.sla_normal,
            working_hours=_hours(working) if working else defaults.working_hours,
            waking_hours=_hours(waking) if waking else defaults.waking_hours,
            overdue_alert_days=int(overdue) if overdue else defaults.overdue_alert_days,
            file_cache_dir=Path(env.get("HOTLINE_FILE_CACHE_DIR") or defaults.file_cache_dir),
            file_cache_bytes=int(env.get("HOTLINE_FILE_CACHE_MB") or 200) * 1024 * 1024,
        )
