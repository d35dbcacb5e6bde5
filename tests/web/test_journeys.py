"""Journeys through the console in a real Chromium: sign in by link, work a case end to end
(the actor receives the reply through the outbox), import a plan from XLSX, and the
Darija interface laid out right to left."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from bot.cases.labels import DEFAULT_SIGNATURE
from bot.cases.service import open_case
from bot.core.effects import Effect, body
from bot.core.engine import Engine
from bot.core.i18n import translator
from bot.core.outbox import deliver_pending
from storage.models import ActionPlan, Actor, AuditEntry, Case, CaseStatus, Commitment
from tests.web.conftest import Served, press, sign_in
from tests.web.scenario import region

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


async def _received(engine: Engine, chat_id: str) -> list[str]:
    """What the outbox delivers to this console chat now."""
    got: list[str] = []

    async def show(effect: Effect) -> str:
        got.append(body(effect))
        return str(len(got))

    await deliver_pending(engine.db, engine.clock, "console", show, chat_id=chat_id)
    return got


async def test_sign_in_then_the_inbox_lists_my_territory_only(
    browser: webdriver.Chrome, engine: Engine, served: Served
) -> None:
    people = await region(engine)
    await sign_in(browser, engine, served, people.karim)
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.case-row")
    assert [r.get_attribute("id") for r in rows] == [f"case-row-{people.figuig_case}"]
    assert browser.find_element(By.ID, "view-unassigned").text.endswith("1")
    # The session cookie cannot be read by scripts and never leaves for another site.
    cookie = browser.get_cookie("hotline_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    async with engine.db.transaction() as session:
        sign_ins = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "sign_in"))
        ).all()
    assert [e.actor_id for e in sign_ins] == [people.karim]


async def test_take_reply_resolve_reaches_the_actor_through_the_outbox(
    browser: webdriver.Chrome, engine: Engine, served: Served
) -> None:
    people = await region(engine)
    await _received(engine, "amina")  # what the case opening already told her
    await sign_in(browser, engine, served, people.karim)
    browser.get(f"{served.url}/case/{people.figuig_case}")
    press(browser, "take")
    assert "pris" in browser.find_element(By.ID, "flash").text
    assert any("رقم" in text for text in await _received(engine, "amina"))

    browser.find_element(By.ID, "reply-text").send_keys("سلام، غادي نتلاقاو نهار الخميس.")
    press(browser, "send")
    assert "Envoyé" in browser.find_element(By.ID, "flash").text
    delivered = await _received(engine, "amina")
    assert len(delivered) == 1
    assert "غادي نتلاقاو نهار الخميس" in delivered[0]
    assert translator("ary").gettext(DEFAULT_SIGNATURE) in delivered[0]  # signed as in the chat
    bubbles = browser.find_elements(By.CSS_SELECTOR, ".msg.out .text")
    assert bubbles[-1].text == "سلام، غادي نتلاقاو نهار الخميس."
    assert bubbles[-1].get_attribute("dir") == "auto"

    press(browser, "resolve")
    assert browser.find_element(By.ID, "status").text.lower() == "résolu"
    assert any("casefb" not in t and "1" in t for t in await _received(engine, "amina"))
    async with engine.db.transaction() as session:
        case = await session.get_one(Case, people.figuig_case)
        audited = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.subject == f"case:{case.id}")
            )
        ).all()
    assert case.status == CaseStatus.RESOLVED and case.coach_id == people.karim
    assert "read" in audited and "reply" in audited


async def test_import_a_plan_from_xlsx_after_a_dry_run(
    browser: webdriver.Chrome, engine: Engine, served: Served
) -> None:
    people = await region(engine)
    await sign_in(browser, engine, served, people.karim)
    browser.get(served.url + "/plans/import")
    browser.find_element(By.ID, "file").send_keys(str(FIXTURES / "bouanane_plan.xlsx"))
    browser.find_element(By.ID, "title").send_keys("Tourisme solidaire")
    reference = browser.find_element(By.ID, "reference")
    browser.execute_script("arguments[0].value = '2013-01-31'", reference)
    press(browser, "check")
    assert "lignes lues" in browser.find_element(By.ID, "report-summary").text
    async with engine.db.transaction() as session:
        assert (await session.scalars(select(ActionPlan))).all() == []  # a dry run
    press(browser, "confirm")
    assert "/plans/" in browser.current_url
    async with engine.db.transaction() as session:
        plan = (await session.scalars(select(ActionPlan))).one()
        rows = (
            await session.scalars(select(Commitment).where(Commitment.plan_id == plan.id))
        ).all()
    assert plan.title == "Tourisme solidaire" and plan.coach_id == people.karim
    assert len(browser.find_elements(By.CSS_SELECTOR, "article.commitment")) == len(rows) > 0
    timeline = browser.find_element(By.CSS_SELECTOR, "img.timeline")
    assert browser.execute_script("return arguments[0].naturalWidth", timeline) > 100


async def test_darija_interface_is_right_to_left(
    browser: webdriver.Chrome, engine: Engine, served: Served, tmp_path: Path
) -> None:
    people = await region(engine)
    await sign_in(browser, engine, served, people.karim)
    browser.get(served.url + "/lang/ary?back=/case/" + str(people.figuig_case))
    html = browser.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("dir") == "rtl"
    brand = browser.find_element(By.CSS_SELECTOR, ".brand").rect
    nav = browser.find_element(By.CSS_SELECTOR, "header nav").rect
    width = browser.execute_script("return document.documentElement.clientWidth")
    # Right to left: the title sits at the right edge and the menu follows to its left.
    assert brand["x"] + brand["width"] > width - 60
    assert nav["x"] + nav["width"] <= brand["x"]
    # The conversation column starts on the right, the side panel is on the left.
    talk = browser.find_element(By.CSS_SELECTOR, "section.conversation").rect
    aside = browser.find_element(By.TAG_NAME, "aside").rect
    assert aside["x"] < talk["x"]
    family = browser.execute_script("return getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Noto Sans Arabic"')
    loaded = browser.execute_async_script(
        "const done = arguments[0]; document.fonts.ready.then("
        "() => done(document.fonts.check('16px \"Noto Sans Arabic\"', 'سلام')))"
    )
    assert loaded
    shot = tmp_path / "case-ary.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    Select(browser.find_element(By.NAME, "coach"))  # the hand-over list is there too


async def test_the_inbox_updates_itself(
    browser: webdriver.Chrome, engine: Engine, served: Served
) -> None:
    people = await region(engine)
    await sign_in(browser, engine, served, people.karim)
    async with engine.db.transaction() as session:
        amina = await session.get_one(Actor, people.amina)
        case = await open_case(
            session,
            now=engine.clock.now(),
            actor=amina,
            category="missing_means",
            summary="ما عندناش فين نجتمعو",
            settings=engine.settings,
        )
    # The list is polled every 10 s; the test asks for the same refresh at once.
    browser.execute_script("htmx.trigger('#rows', 'refresh')")
    WebDriverWait(browser, 5).until(lambda b: b.find_elements(By.ID, f"case-row-{case.id}"))
