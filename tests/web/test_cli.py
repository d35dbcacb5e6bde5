"""`hotline web link ID`: a sign-in link for a coach or admin, refused for anyone else."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.web.server import main
from storage.models import Role
from tests.driver import Hotline
from tests.web.conftest import Served


async def test_link_for_a_coach_opens_a_session(
    hotline: Hotline,
    served: Served,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await hotline.person("karim", Role.COACH)
    await hotline.person("amina")
    monkeypatch.setenv("DATABASE_URL", served.settings.database_url)
    monkeypatch.setenv("HOTLINE_WEB_URL", served.url)
    assert await asyncio.to_thread(main, ["link", "karim", "--channel", "console"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith(served.url + "/signin/")
    async with aiohttp.ClientSession() as client, client.post(link, allow_redirects=False) as got:
        assert got.status == 303 and got.headers["Location"] == "/inbox"
    assert await asyncio.to_thread(main, ["link", "amina", "--channel", "console"]) == 1
    assert "no coach or admin" in capsys.readouterr().err
