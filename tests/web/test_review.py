"""The review queue in the browser: a message the bot did not understand is there, masked,
with the model's guesses; one click files it, the person who asked gets the answer through
the outbox, and the item leaves the queue. Filing follows the chat's rules (first coach
wins, out of scope answers nobody) and every filing is audited."""

from __future__ import annotations

import html
import re
from pathlib import Path

import aiohttp
from selenium import webdriver
from selenium.webdriver.common.by import By
from sqlalchemy import select

from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.core.telegram_html import escape
from bot.nlu.corpus import NONE
from storage.models import AuditEntry, ReviewItem
from tests.driver import Hotline
from tests.web.conftest import Served, link_for, press, serving, sign_in
from tests.web.test_journeys import _received

# Not understood (the model's first guess is the sociogram, below its threshold).
QUESTION = "wach 3andkom dik lwer9a li fiha chkoun m3a chkoun? ana Driss, 0612345678"


async def _asked(engine: Engine, hotline: Hotline) -> int:
    """Driss asks what the bot does not understand; his question is queued."""
    driss = await hotline.person("driss", lang="ary-Latn")
    await driss.opens_call()
    said = (await driss.says(QUESTION)).text
    assert "Ma mt2kedch bli fhemtek" in said
    await _received(engine, "driss")  # what he was already told
    async with engine.db.transaction() as session:
        item = (await session.scalars(select(ReviewItem))).one()
    return item.id


async def _item(engine: Engine, item_id: int) -> ReviewItem:
    async with engine.db.transaction() as session:
        return await session.get_one(ReviewItem, item_id)


async def test_a_coach_files_a_question_in_one_click_and_the_asker_gets_the_answer(
    browser: webdriver.Chrome, engine: Engine, served: Served, hotline: Hotline
) -> None:
    item_id = await _asked(engine, hotline)
    karim = await hotline.person("karim", "coach")
    await sign_in(browser, engine, served, karim.id)
    browser.find_element(By.CSS_SELECTOR, "header nav a[href='/review']").click()
    card = browser.find_element(By.ID, f"review-{item_id}")
    shown = card.find_element(By.CSS_SELECTOR, "blockquote")
    # Masked as queued: neither his name nor his number reach the coaches' screen.
    assert "lwer9a" in shown.text and "Driss" not in shown.text
    assert "0612345678" not in card.text and shown.get_attribute("dir") == "auto"
    assert "lettres latines" in card.text and "sans réponse" in card.text
    guesses = card.find_elements(By.CSS_SELECTOR, ".guesses button")
    assert [g.text for g in guesses[:1]] == ["Sociogramme"] and len(guesses) == 3

    # Out of scope and skip are one click too; any other label is chosen from the list.
    assert card.find_element(By.ID, f"file-{item_id}-{NONE}").text == "Hors du champ de la ligne"
    assert card.find_element(By.ID, f"file-{item_id}-skip").text == "Passer"
    options = card.find_elements(By.CSS_SELECTOR, f"#label-{item_id} option")
    assert "privacy" in [o.get_attribute("value") for o in options]
    press(browser, f"file-{item_id}-sociogram")
    assert "« Sociogramme »" in browser.find_element(By.ID, "flash").text
    assert browser.find_elements(By.ID, f"review-{item_id}") == []
    assert browser.find_element(By.ID, "queue-empty").is_displayed()

    delivered = await _received(engine, "driss")
    assert len(delivered) == 1
    answer = engine.understander.answer("sociogram", "ary-Latn")
    assert answer is not None and escape(answer) in delivered[0]
    assert "Wa7ed l coach chaf so2al dyalk" in delivered[0]  # as the chat's /review says it
    item = await _item(engine, item_id)
    assert (item.label, item.reviewed_by) == ("sociogram", karim.id)
    async with engine.db.transaction() as session:
        audited = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "review"))
        ).one()
    assert audited.subject == f"review:{item_id}" and audited.actor_id == karim.id
    assert audited.details["label"] == "sociogram" and audited.details["via"] == "web"


async def _client(
    engine: Engine, served: Served, actor_id: int
) -> tuple[aiohttp.ClientSession, str]:
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.post(await link_for(engine, served, actor_id), allow_redirects=False):
        pass
    async with client.get(served.url + "/review") as got:
        found = re.search(r'name="csrf" value="([^"]+)"', await got.text())
    assert found is not None
    return client, found.group(1)


async def test_filing_follows_the_chats_rules(
    engine: Engine, served: Served, hotline: Hotline
) -> None:
    item_id = await _asked(engine, hotline)
    karim = await hotline.person("karim", "coach")
    salma = await hotline.person("salma", "coach")
    url = f"{served.url}/review/{item_id}"
    first, csrf = await _client(engine, served, karim.id)
    second, other_csrf = await _client(engine, served, salma.id)
    try:
        # No CSRF token, or a label the knowledge base does not have: nothing is filed.
        async with first.post(url, data={"label": NONE}, allow_redirects=False) as got:
            assert got.status == 403
        async with first.post(url, data={"csrf": csrf, "label": "nope"}) as got:
            assert "n'existe plus" in html.unescape(await got.text())
        assert (await _item(engine, item_id)).label is None
        # Out of scope (chosen like any label) answers nobody; a second coach changes nothing.
        async with first.post(url, data={"csrf": csrf, "label": NONE}) as got:
            assert "Hors du champ de la ligne" in html.unescape(await got.text())
        async with second.post(url, data={"csrf": other_csrf, "label": "privacy"}) as got:
            assert "Un autre coach a déjà classé ce message" in html.unescape(await got.text())
    finally:
        await first.close()
        await second.close()
    item = await _item(engine, item_id)
    assert (item.label, item.reviewed_by) == (NONE, karim.id)
    assert await _received(engine, "driss") == []


async def test_actors_have_no_review_page(engine: Engine, served: Served, hotline: Hotline) -> None:
    await _asked(engine, hotline)
    async with aiohttp.ClientSession() as client, client.get(served.url + "/review") as got:
        assert got.status == 401
        assert "lwer9a" not in await got.text()


async def test_the_console_alone_ranks_with_an_understanding_of_its_own(
    engine: Engine, settings: Settings, clock: ManualClock, tmp_path: Path, hotline: Hotline
) -> None:
    item_id = await _asked(engine, hotline)
    karim = await hotline.person("karim", "coach")
    with serving(settings, clock, tmp_path, None) as alone:
        client, _csrf = await _client(engine, alone, karim.id)
        try:
            async with client.get(alone.url + "/review") as got:
                page = await got.text()
        finally:
            await client.close()
    assert f'id="file-{item_id}-sociogram"' in page
