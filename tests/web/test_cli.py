"""`hotline web link ID`: a sign-in link for a coach or admin, refused for anyone else."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.core.engine import Engine
from bot.web.server import main
from storage.models import Role
from tests.cases.helpers import person
from tests.web.conftest import Served


async def test_link_for_a_coach_opens_a_session(
    engine: Engine,
    served: Served,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await person(engine, "karim", Role.COACH)
    await person(engine, "amina")
    monkeypatch.setenv("DATABASE_URL", served.settings.database_url)
    monkeypatch.setenv("HOTLINE_WEB_URL", served.url)
    assert await asyncio.to_thread(main, ["link", "karim", "--channel", "console"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith(served.url + "/signin/")
    async with aiohttp.ClientSession() as client, client.post(link, allow_redirects=False) as got:
        assert got.status == 303 and got.headers["Location"] == "/inbox"
    assert await asyncio.to_thread(main, ["link", "amina", "--channel", "console"]) == 1
    assert "no coach or admin" in capsys.readouterr().err
