"""The console refuses or escapes: a link used twice, an expired link, no cookie, another
coach's case by URL, a form without its CSRF token, HTML in what actors write. Also: only
coaches get links, and sessions expire and can be revoked."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from sqlalchemy import func, select

from bot.core.clock import ManualClock
from bot.core.engine import Engine
from bot.web import auth
from storage.models import Actor, Case, CaseStatus, WebSession
from tests.driver import Hotline
from tests.web.conftest import Served, link_for, press, sign_in
from tests.web.scenario import region


async def _signed_in_client(engine: Engine, served: Served, actor_id: int) -> aiohttp.ClientSession:
    """An HTTP client holding a session cookie, as a browser would after the link."""
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    link = await link_for(engine, served, actor_id)
    async with client.post(link, allow_redirects=False) as response:
        assert response.status == 303
    return client


async def _csrf(client: aiohttp.ClientSession, served: Served) -> str:
    async with client.get(served.url + "/inbox") as response:
        found = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    assert found is not None
    return found.group(1)


async def _status(engine: Engine, case_id: int) -> tuple[str, int | None]:
    async with engine.db.transaction() as session:
        case = await session.get_one(Case, case_id)
        return case.status, case.acknowledged_at and case.coach_id


async def _sessions(engine: Engine) -> int:
    async with engine.db.transaction() as session:
        return await session.scalar(select(func.count(WebSession.id))) or 0


async def test_a_link_works_once(browser: webdriver.Chrome, engine: Engine, served: Served) -> None:
    people = await region(engine)
    link = await link_for(engine, served, people.karim)
    browser.get(link)
    press(browser, "signin")
    assert browser.current_url.endswith("/inbox")
    async with aiohttp.ClientSession() as client:
        async with client.post(link, allow_redirects=False) as again:
            assert again.status == 403
            assert "set-cookie" not in again.headers
        async with client.get(link) as shown:
            assert shown.status == 403
    assert await _sessions(engine) == 1


async def test_an_expired_link_is_refused(
    engine: Engine, served: Served, clock: ManualClock
) -> None:
    people = await region(engine)
    link = await link_for(engine, served, people.karim)
    clock.advance(auth.LINK_LIFETIME + timedelta(seconds=1))
    async with aiohttp.ClientSession() as client, client.post(link, allow_redirects=False) as got:
        assert got.status == 403
    assert await _sessions(engine) == 0


@pytest.mark.parametrize(
    "path",
    ["/inbox", "/inbox/rows", "/case/1", "/plans", "/territory", "/canned", "/sessions", "/review"],
)
async def test_no_cookie_no_page(engine: Engine, served: Served, path: str) -> None:
    await region(engine)
    async with aiohttp.ClientSession() as client, client.get(served.url + path) as got:
        assert got.status == 401
        assert "Amina" not in await got.text()


async def test_no_cookie_no_action(engine: Engine, served: Served) -> None:
    people = await region(engine)
    url = f"{served.url}/case/{people.figuig_case}/take"
    async with aiohttp.ClientSession() as client, client.post(url, data={"csrf": "x"}) as got:
        assert got.status == 401
    assert await _status(engine, people.figuig_case) == (CaseStatus.OPEN, None)


async def test_another_coachs_case_by_url_is_not_found(
    engine: Engine, served: Served, hotline: Hotline
) -> None:
    people = await region(engine)
    client = await _signed_in_client(engine, served, people.salma)  # coach of Jerada
    try:
        csrf = await _csrf(client, served)
        case_url = f"{served.url}/case/{people.figuig_case}"
        async with client.get(case_url) as got:
            assert got.status == 404
            assert "الجمعية" not in await got.text()
        async with client.post(case_url + "/take", data={"csrf": csrf}) as got:
            assert got.status == 404
        async with client.post(case_url + "/reply", data={"csrf": csrf, "text": "x"}) as got:
            assert got.status == 404
        async with client.get(served.url + "/inbox") as got:
            page = await got.text()
            assert f"case-row-{people.jerada_case}" in page
            assert f"case-row-{people.figuig_case}" not in page
    finally:
        await client.close()
    assert await _status(engine, people.figuig_case) == (CaseStatus.OPEN, None)
    # The same rule in the chat: the case is answered as if it did not exist.
    answer = await hotline["salma"].says(f"/case {people.figuig_case}")
    assert "pas de dossier" in answer.text.lower()


async def test_a_form_without_its_csrf_token_is_refused(engine: Engine, served: Served) -> None:
    people = await region(engine)
    client = await _signed_in_client(engine, served, people.karim)
    url = f"{served.url}/case/{people.figuig_case}/take"
    try:
        async with client.post(url, data={}, allow_redirects=False) as got:
            assert got.status == 403
        async with client.post(url, data={"csrf": "forged"}, allow_redirects=False) as got:
            assert got.status == 403
        assert await _status(engine, people.figuig_case) == (CaseStatus.OPEN, None)
        csrf = await _csrf(client, served)
        async with client.post(url, data={"csrf": csrf}, allow_redirects=False) as got:
            assert got.status == 303
    finally:
        await client.close()
    assert await _status(engine, people.figuig_case) == (CaseStatus.ACKNOWLEDGED, people.karim)


async def test_html_in_actor_texts_is_shown_as_text(
    browser: webdriver.Chrome, engine: Engine, served: Served
) -> None:
    attack = '<script>alert(1)</script><b>gras</b> <img src=x onerror="alert(2)">'
    people = await region(engine, amina_summary=attack)
    await sign_in(browser, engine, served, people.karim)
    summary = browser.find_element(By.CSS_SELECTOR, f"#case-row-{people.figuig_case} .summary")
    assert summary.text == attack[:140]
    assert summary.find_elements(By.CSS_SELECTOR, "b, img, script") == []
    browser.get(f"{served.url}/case/{people.figuig_case}")
    said = browser.find_element(By.CSS_SELECTOR, ".msg.in .text")
    assert said.text == attack and said.get_attribute("dir") == "auto"
    assert browser.find_elements(By.CSS_SELECTOR, "main script, main img[src='x']") == []
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text


async def test_sessions_expire_and_can_be_revoked(
    engine: Engine, served: Served, clock: ManualClock
) -> None:
    people = await region(engine)
    first = await _signed_in_client(engine, served, people.karim)
    second = await _signed_in_client(engine, served, people.karim)
    try:
        csrf = await _csrf(first, served)
        async with engine.db.transaction() as session:
            ids = (await session.scalars(select(WebSession.id).order_by(WebSession.id))).all()
        revoke = f"{served.url}/sessions/{ids[1]}/revoke"
        async with first.post(revoke, data={"csrf": csrf}, allow_redirects=False) as got:
            assert got.status == 303
        async with second.get(served.url + "/inbox") as got:
            assert got.status == 401
        async with first.get(served.url + "/inbox") as got:
            assert got.status == 200
        clock.advance(timedelta(hours=served.settings.web_session_hours, seconds=1))
        async with first.get(served.url + "/inbox") as got:
            assert got.status == 401
    finally:
        await first.close()
        await second.close()


async def test_only_coaches_and_admins_get_a_link(engine: Engine, hotline: Hotline) -> None:
    karim = await hotline.person("karim", "coach")
    amina = await hotline.person("amina")
    assert "/signin/" in (await karim.says("/web")).text
    refused = (await amina.says("/web")).text
    assert "/signin/" not in refused and "coach" in refused.lower()
    async with engine.db.transaction() as session:
        amina = await session.scalar(select(Actor).where(Actor.external_id == "amina"))
        assert amina is not None
        with pytest.raises(PermissionError):
            await auth.issue_link(session, amina, engine.clock.now(), "http://127.0.0.1")


async def test_another_site_cannot_post_a_link_nor_redirect_away(
    engine: Engine, served: Served
) -> None:
    people = await region(engine)
    link = await link_for(engine, served, people.karim)
    async with aiohttp.ClientSession() as client:
        forged = {"Origin": "https://attacker.example"}
        async with client.post(link, headers=forged, allow_redirects=False) as got:
            assert got.status == 403
        async with client.post(link, allow_redirects=False) as got:
            assert got.status == 303  # the link was not spent by the forged attempt
        for back in ("//attacker.example", "/\\attacker.example", "https://attacker.example"):
            url = f"{served.url}/lang/ary"
            async with client.get(url, params={"back": back}, allow_redirects=False) as got:
                assert got.headers["Location"] == "/inbox"
