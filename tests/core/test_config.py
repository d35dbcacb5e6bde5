"""The configuration: one reader of the environment, documented in the README's tables."""

from __future__ import annotations

import dataclasses
import re
from datetime import time, timedelta
from pathlib import Path

from bot.core.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
# Settings fields that are not read from the environment.
NOT_FROM_ENV = {"max_text_length", "bot_username", "new_token"}


class _Recording(dict[str, str]):
    """An environment that remembers every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.append(key)
        return super().get(key, default)


def _documented() -> set[str]:
    """The variables named in the first column of the README's configuration tables."""
    names: set[str] = set()
    for line in README.read_text(encoding="utf-8").splitlines():
        cell = re.match(r"^\| (`[A-Z][^|]*`) \|", line)
        if cell is None:
            continue
        for name in re.findall(r"`([A-Z][A-Z0-9_{},]*)`", cell.group(1)):
            # `HOTLINE_SLA_{EMERGENCY,HIGH,NORMAL}_MINUTES` names three variables.
            braces = re.search(r"\{([A-Z,]+)\}", name)
            if braces:
                names |= {name.replace(braces.group(0), part) for part in braces[1].split(",")}
            else:
                names.add(name)
    return names


def test_the_readme_documents_exactly_the_variables_read() -> None:
    env = _Recording()
    Settings.from_env(env)
    assert set(env.asked) == _documented()


def test_every_setting_is_read_from_the_environment_or_known_not_to_be() -> None:
    # Each variable set alone must change a field; together they cover all but NOT_FROM_ENV.
    env = _Recording()
    Settings.from_env(env)
    defaults = Settings.from_env({})
    values = {
        "DATABASE_URL": "postgresql://h/db",
        "HOTLINE_CALL_SILENCE_MINUTES": "5",
        "HOTLINE_FLOOD_LIMIT": "3",
        "HOTLINE_FLOOD_WINDOW_SECONDS": "9",
        "HOTLINE_RETENTION_DAYS": "30",
        "HOTLINE_WEB_SESSION_HOURS": "2",
        "HOTLINE_SLA_EMERGENCY_MINUTES": "1",
        "HOTLINE_SLA_HIGH_MINUTES": "2",
        "HOTLINE_SLA_NORMAL_MINUTES": "3",
        "HOTLINE_WORKING_HOURS": "08:00-16:00",
        "HOTLINE_WAKING_HOURS": "07:00-21:00",
        "HOTLINE_OVERDUE_ALERT_DAYS": "4",
        "HOTLINE_NLU_CACHE_DIR": "",
        "HOTLINE_FILE_CACHE_MB": "50",
    }
    changed: set[str] = set()
    for name in set(env.asked):
        settings = Settings.from_env({name: values.get(name, "x")})
        moved = {
            f.name
            for f in dataclasses.fields(Settings)
            if getattr(settings, f.name) != getattr(defaults, f.name)
        }
        assert moved, f"{name} changes no setting"
        changed |= moved
    every = {f.name for f in dataclasses.fields(Settings)}
    assert changed == every - NOT_FROM_ENV


def test_policies_are_parsed_once_into_plain_values() -> None:
    settings = Settings.from_env(
        {
            "HOTLINE_SLA_HIGH_MINUTES": "60",
            "HOTLINE_WORKING_HOURS": "08:00-16:00",
            "HOTLINE_WAKING_HOURS": "07:30-21:00",
            "HOTLINE_OVERDUE_ALERT_DAYS": "10",
            "HOTLINE_NLU_CACHE_DIR": "",
        }
    )
    assert settings.sla_high == timedelta(minutes=60)
    assert settings.sla_normal == timedelta(hours=8)
    assert settings.working_hours == (time(8, 0), time(16, 0))
    assert settings.waking_hours == (time(7, 30), time(21, 0))
    assert settings.overdue_alert_days == 10
    assert settings.nlu_cache_dir is None  # empty: no model cache
    assert Settings.from_env({}).nlu_cache_dir == Path("var/nlu-cache")


def test_secrets_stay_out_of_the_settings_repr() -> None:
    settings = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": "123:SECRET", "HOTLINE_WEBHOOK_SECRET": "s3"}
    )
    assert "SECRET" not in repr(settings) and "s3" not in repr(settings)
