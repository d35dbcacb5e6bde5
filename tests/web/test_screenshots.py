"""A picture of each page of the console, on a small but lived-in region. `make screenshots`
writes them to docs/screenshots/ for the README (HOTLINE_SCREENSHOTS); otherwise they go to
a temporary folder and the test only checks that every page renders. The console holds a
bot token here, with a stand-in Bot API on 127.0.0.1 that serves the photo of a case."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from bot.cases import work
from bot.cases.service import open_case
from bot.core.engine import Engine
from bot.plans import importer
from storage.models import Actor, CannedReply, Case, CaseEvent, CaseNote, InboundMessage
from tests.driver import Hotline
from tests.web.conftest import Served, press
from tests.web.fake_bot_api import FakeBotApi
from tests.web.scenario import Region, on_telegram_near_amina, region

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MAX_HEIGHT = 1800
# What the bot did not understand, in the three variants, and an answer marked unhelpful.
UNCLEAR = (
    ("driss", "ary-Latn", "wach 3andkom dik lwer9a li fiha chkoun m3a chkoun"),
    ("hanane", "ary", "واش ممكن نديرو الاجتماع فدار الشباب ولا خاصنا رخصة من الباشا؟"),
    ("fatima", "fr", "bonjour je voudrais savoir si on peut changer le trésorier en cours d année"),
)


def _photo() -> bytes:
    """A picture of a meeting's flip chart, drawn for the screenshot."""
    image = Image.new("RGB", (480, 320), (236, 232, 222))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 30, 420, 290), fill=(255, 255, 255), outline=(120, 120, 120), width=3)
    for row, color in enumerate(((11, 110, 79), (74, 127, 181), (179, 38, 30))):
        y = 70 + row * 70
        draw.ellipse((90, y - 15, 120, y + 15), fill=color)
        draw.rectangle((140, y - 6, 380 - row * 60, y + 6), fill=(200, 205, 210))
    return _jpeg(image)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    files = {
        "PHOTO-1": ("photos/file_1.jpg", _photo()),
        "VOICE-1": ("voice/file_2.oga", b"OggS" + b"\0" * 400),
        "DOC-1": ("documents/file_3.pdf", b"%PDF-1.4"),
    }
    with FakeBotApi(files) as api:
        yield api


@pytest.fixture
def served(on_telegram: Served) -> Served:
    return on_telegram


async def _unclear_questions(engine: Engine, hotline: Hotline) -> None:
    for name, lang, text in UNCLEAR:
        await hotline.person(name, lang=lang)
        await hotline[name].opens_call()
        await hotline[name].says(text)
    rachid = await hotline.person("rachid")
    await rachid.opens_call()
    await rachid.says("Comment préparer la réunion du comité ?")
    async with engine.db.transaction() as session:
        asked = await session.scalar(
            select(InboundMessage.id)
            .where(InboundMessage.chat_id == "rachid", InboundMessage.text.is_not(None))
            .order_by(InboundMessage.id.desc())
        )
    await rachid.taps(f"nothelp:{asked}")


async def _case_with_files(engine: Engine, people: Region) -> int:
    """Someone on Telegram sends the coach a photo, a voice note and the minutes."""
    async with engine.db.transaction() as session:
        youssef = await on_telegram_near_amina(session, people, engine.clock.now())
        case = await open_case(
            session,
            now=engine.clock.now(),
            actor=youssef,
            category="idea",
            summary="Le tableau de l'atelier de samedi, et mon message pour le comité.",
            attachments=[("photo", "PHOTO-1"), ("voice", "VOICE-1")],
            settings=engine.settings,
        )
        session.add(
            CaseEvent(
                case_id=case.id,
                actor_id=youssef.id,
                at=engine.clock.now(),
                kind="message_in",
                text="Le compte rendu de l'atelier",
                file_id="DOC-1",
                details={"kind": "document"},
            )
        )
        return case.id


async def _lived_in(engine: Engine) -> tuple[Region, int]:
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
    return people, report.plan_id


def _shoot(browser: webdriver.Chrome, folder: Path, name: str) -> Path:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(height, 700), MAX_HEIGHT))
    path = folder / f"{name}.png"
    assert browser.save_screenshot(str(path))
    browser.set_window_size(1280, 900)
    return path


@pytest.mark.sqlite_only
async def test_screenshots_of_every_page(
    browser: webdriver.Chrome, engine: Engine, served: Served, tmp_path: Path, hotline: Hotline
) -> None:
    folder = Path(os.environ.get("HOTLINE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    people, plan_id = await _lived_in(engine)
    karim = people.karim
    files_case = await _case_with_files(engine, people)
    await _unclear_questions(engine, hotline)
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
        ("review", "/review"),
        ("case-files", f"/case/{files_case}"),
    ]
    for name, path in pages:
        browser.get(served.url + path)
        assert browser.find_elements(By.CSS_SELECTOR, "main h1")
        for image in browser.find_elements(By.CSS_SELECTOR, "img.photo"):
            browser.execute_script("arguments[0].scrollIntoView()", image)
            WebDriverWait(browser, 10).until(
                lambda b, image=image: b.execute_script(
                    "return arguments[0].complete && arguments[0].naturalWidth > 0", image
                )
            )
        browser.execute_script("window.scrollTo(0, 0)")
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
    browser.get(f"{served.url}/lang/ary?back=/review")
    shots.append(_shoot(browser, folder, "review-ary"))
    browser.get(f"{served.url}/lang/fr?back=/inbox")
    assert all(shot.stat().st_size > 10_000 for shot in shots)


async def _link(engine: Engine, served: Served, actor_id: int) -> str:
    from tests.web.conftest import link_for

    return await link_for(engine, served, actor_id)
