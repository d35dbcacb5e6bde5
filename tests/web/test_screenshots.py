"""A picture of each page of the console, on a small but lived-in region. `make screenshots`
writes them to docs/screenshots/ for the README (HOTLINE_SCREENSHOTS); otherwise they go to
a temporary folder and the test only checks that every page renders."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from sqlalchemy import select

from bot.cases import work
from bot.engine import Engine
from bot.plans import importer
from storage.models import Actor, CannedReply, Case, CaseNote
from tests.web.conftest import Served, press
from tests.web.scenario import region

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MAX_HEIGHT = 1800


async def _lived_in(engine: Engine) -> tuple[int, int]:
    """The region, a plan imported for Karim, a case taken and answered, a note, canned
    replies, and a week of history."""
    people = await region(engine)
    clock = engine.clock
    async with engine.db.transaction() as session:
        karim = await session.get_one(Actor, people.karim)
        options = importer.PlanOptions(
            title="Tourisme solidaire Bouanane",
            reference=date(2026, 10, 1),
            territory="Bouanane",
            committee="Comité TS",
            coach=karim,
            importer=karim,
        )
        report = await importer.import_plan(
            session, FIXTURES / "bouanane_plan.xlsx", options, now=clock.now()
        )
        session.add_all(
            [
                CannedReply(
                    lang="ary",
                    title="موعد",
                    text="سلام، غادي نتلاقاو نهار الخميس مع اللجنة.",
                    created_at=clock.now(),
                ),
                CannedReply(
                    lang="fr",
                    title="Rendez-vous",
                    text="Bonjour, nous nous voyons jeudi avec le comité.",
                    created_at=clock.now(),
                ),
            ]
        )
        case = await session.get_one(Case, people.jerada_case)
        salma = await session.get_one(Actor, people.salma)
        desk = work.Desk(session, salma, clock.now(), engine.settings, "shot", "console")
        await work.take(desk, case)
        await work.relay(desk, case, "Commencez par fixer l'ordre du jour avec le président.")
        session.add(
            CaseNote(
                case_id=people.figuig_case,
                author_id=people.karim,
                at=clock.now(),
                text="Deux membres du bureau ne se parlent plus depuis l'AG.",
            )
        )
    assert report.plan_id is not None
    return people.karim, report.plan_id


def _shoot(browser: webdriver.Chrome, folder: Path, name: str) -> Path:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(height, 700), MAX_HEIGHT))
    path = folder / f"{name}.png"
    assert browser.save_screenshot(str(path))
    browser.set_window_size(1280, 900)
    return path


@pytest.mark.sqlite_only
async def test_screenshots_of_every_page(
    browser: webdriver.Chrome, engine: Engine, served: Served, tmp_path: Path
) -> None:
    folder = Path(os.environ.get("HOTLINE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    karim, plan_id = await _lived_in(engine)
    engine.clock.advance(timedelta(hours=3))  # the untaken case is now late
    async with engine.db.transaction() as session:
        figuig_case = await session.scalar(select(Case.id).where(Case.coach_id == karim))
    browser.get(await _link(engine, served, karim))
    shots = [_shoot(browser, folder, "signin")]
    press(browser, "signin")
    pages = [
        ("inbox", "/inbox"),
        ("case", f"/case/{figuig_case}"),
        ("plans", "/plans"),
        ("plan", f"/plans/{plan_id}"),
        ("territory", "/territory"),
        ("canned", "/canned"),
    ]
    for name, path in pages:
        browser.get(served.url + path)
        assert browser.find_elements(By.CSS_SELECTOR, "main h1")
        shots.append(_shoot(browser, folder, name))
    browser.get(served.url + "/plans/import")
    browser.find_element(By.ID, "file").send_keys(str(FIXTURES / "bouanane_plan.xlsx"))
    browser.find_element(By.ID, "title").send_keys("Tourisme solidaire")
    press(browser, "check")
    shots.append(_shoot(browser, folder, "import"))
    browser.get(f"{served.url}/lang/ary?back=/case/{figuig_case}")
    shots.append(_shoot(browser, folder, "case-ary"))
    browser.get(f"{served.url}/lang/ary?back=/inbox")
    shots.append(_shoot(browser, folder, "inbox-ary"))
    browser.get(f"{served.url}/lang/fr?back=/inbox")
    assert all(shot.stat().st_size > 10_000 for shot in shots)


async def _link(engine: Engine, served: Served, actor_id: int) -> str:
    from tests.web.conftest import link_for

    return await link_for(engine, served, actor_id)
