"""The console served for real on 127.0.0.1 and one headless Chromium for the session.

The server runs in a thread with its own event loop (and its own connection pool), so that
the test can drive the browser synchronously while its own loop prepares the database
through the real engine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.engine import Engine
from bot.nlu import Understander
from bot.web import auth
from bot.web.app import create_app
from bot.web.server import start_site
from storage.db import Database
from storage.models import Actor
from tests import browser as chromium
from tests.pgserver import _free_port
from tests.web.fake_bot_api import TOKEN, FakeBotApi


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    browser = chromium.start(tmp_path_factory.mktemp("chromium-profile"))
    browser.set_page_load_timeout(20)
    browser.implicitly_wait(2)
    try:
        yield browser
    finally:
        browser.quit()


@dataclass
class Served:
    url: str
    settings: Settings
    upload_dir: Path


class _ServerThread(threading.Thread):
    def __init__(
        self,
        settings: Settings,
        clock: ManualClock,
        listen: str,
        uploads: Path,
        understander: Understander | None,
    ) -> None:
        super().__init__(daemon=True)
        self.settings, self.clock, self.listen, self.uploads = settings, clock, listen, uploads
        self.understander = understander
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None

    def run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        db = Database(self.settings.database_url)
        self.stop = asyncio.Event()
        try:
            app = create_app(
                db,
                self.clock,
                self.settings,
                upload_dir=self.uploads,
                understander=self.understander,
            )
            runner = await start_site(app, self.listen)
        except BaseException as error:
            self.error = error
            self.ready.set()
            await db.dispose()
            return
        self.ready.set()
        await self.stop.wait()
        await runner.cleanup()
        await db.dispose()

    def shutdown(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.join(10)


@contextmanager
def serving(
    settings: Settings,
    clock: ManualClock,
    tmp_path: Path,
    understander: Understander | None,
    **more: Any,
) -> Iterator[Served]:
    """The console on a free port; `more` are further settings (the Bot API, the cache).
    Without an understander, the console builds its own, as `hotline web` alone does."""
    listen = f"127.0.0.1:{_free_port()}"
    url = f"http://{listen}"
    console_settings = Settings(
        database_url=settings.database_url,
        knowledge_dir=settings.knowledge_dir,
        web_listen=listen,
        web_url=url,
        **more,
    )
    # The engine's understander, as when the console runs beside the bot.
    thread = _ServerThread(console_settings, clock, listen, tmp_path / "uploads", understander)
    thread.start()
    thread.ready.wait(10)
    if thread.error is not None:
        raise thread.error
    try:
        yield Served(url, console_settings, tmp_path / "uploads")
    finally:
        thread.shutdown()


@pytest.fixture
def served(
    settings: Settings, clock: ManualClock, tmp_path: Path, understander: Understander
) -> Iterator[Served]:
    with serving(settings, clock, tmp_path, understander) as found:
        yield found


@pytest.fixture
def on_telegram(
    settings: Settings,
    clock: ManualClock,
    tmp_path: Path,
    understander: Understander,
    bot_api: FakeBotApi,
) -> Iterator[Served]:
    """The console of a bot on Telegram: it holds the token and the Bot API's address (the
    test module's `bot_api` fixture says which files that API holds)."""
    with serving(
        settings,
        clock,
        tmp_path,
        understander,
        telegram_token=TOKEN,
        telegram_api_base_url=bot_api.url,
        file_cache_dir=tmp_path / "file-cache",
    ) as found:
        yield found


@pytest.fixture
def browser(driver: webdriver.Chrome, served: Served) -> Iterator[webdriver.Chrome]:
    """The session's browser, signed out and back in French at the start of each test."""
    driver.get(served.url + "/static/app.css")
    driver.delete_all_cookies()
    yield driver
    driver.delete_all_cookies()


async def link_for(engine: Engine, served: Served, actor_id: int) -> str:
    async with engine.db.transaction() as session:
        person = await session.get_one(Actor, actor_id)
        return await auth.issue_link(session, person, engine.clock.now(), served.url)


def _replaced(element: WebElement) -> Callable[[webdriver.Chrome], bool]:
    """Like selenium's `staleness_of`, but Chromium asked in the middle of a navigation may
    also answer that the node no longer belongs to the document: gone all the same."""

    def check(_browser: webdriver.Chrome) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return check


def press(browser: webdriver.Chrome, element_id: str) -> None:
    """Click a button that submits a form, and wait for the next page."""
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, element_id).click()
    WebDriverWait(browser, 10).until(_replaced(old))


async def sign_in(browser: webdriver.Chrome, engine: Engine, served: Served, actor_id: int) -> None:
    browser.get(await link_for(engine, served, actor_id))
    press(browser, "signin")
    assert browser.current_url.endswith("/inbox"), browser.current_url
