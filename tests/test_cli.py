"""The `hotline` command dispatches to each part and the operator can name roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.models import Actor

REPO = Path(__file__).resolve().parent.parent


def test_plan_import_dry_run_through_the_main_command(capsys: pytest.CaptureFixture[str]) -> None:
    plan = REPO / "tests" / "fixtures" / "bouanane_plan.csv"
    argv = ["plan", "import", str(plan), "--reference-date", "2013-01-31", "--dry-run", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] and report["plan_id"] is None
    dues = [row["due"] for row in report["rows"]]
    assert dues == ["2013-02-03T10:30", "2013-02-28", "2013-03-31", None, "2013-05-07"]


def test_ask_through_the_main_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "slt svp c koi le role du coach"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["intent"], answer["lang"]) == ("coach_role", "fr")


async def test_role_names_an_admin(database_url: str) -> None:
    from datetime import UTC, datetime

    from bot.core.access import set_role

    db = Database(database_url)
    async with db.transaction() as session:
        session.add(
            Actor(
                channel="telegram", external_id="4242", chat_id="4242", created_at=datetime.now(UTC)
            )
        )
    assert await set_role(database_url, "telegram", "4242", "admin") is True
    assert await set_role(database_url, "telegram", "9999", "admin") is False
    async with db.transaction() as session:
        assert (
            await session.scalar(select(Actor.role).where(Actor.external_id == "4242")) == "admin"
        )
    await db.dispose()


@pytest.mark.parametrize(
    ("token", "runs", "collecting_while_running"),
    [("1:token", "run_telegram", False), (None, "run_chat", True)],
)
def test_run_pauses_the_collector_for_telegrams_start_and_resumes_it(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    token: str | None,
    runs: str,
    collecting_while_running: bool,
) -> None:
    """`hotline run` builds its start with the cyclic collector paused (`settle_after_start`
    resumes it once updates flow); the console, which never settles, runs with it on, and
    the collector is on again when the command returns, whatever happened."""
    import gc

    import bot.transports.console as console
    import bot.transports.telegram as telegram

    seen: list[bool] = []

    async def runner(*args: object, **kwargs: object) -> None:
        seen.append(gc.isenabled())
        raise RuntimeError("stopped")

    monkeypatch.setattr(telegram if runs == "run_telegram" else console, runs, runner)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/hotline.sqlite3")
    if token is None:
        monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    else:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    try:
        with pytest.raises(RuntimeError, match="stopped"):
            main(["run"])
        assert seen == [collecting_while_running]
        assert gc.isenabled()
    finally:
        gc.enable()
