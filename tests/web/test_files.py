"""Files in the case view: photos inline, voice notes playable, documents downloadable,
fetched from the Bot API by file id (a fake one on 127.0.0.1) and cached on disk under a
size bound; served only to whoever may see the case, and audited. On the console chat,
where no file is kept, the kind and the caption are shown without fetching anything."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from bot.cases.service import open_case
from bot.core.engine import Engine
from bot.web.files import FileCache, FileUnavailable
from storage.models import AuditEntry, Case, CaseEvent
from tests.web.conftest import Served, link_for, sign_in
from tests.web.fake_bot_api import TOKEN, FakeBotApi
from tests.web.scenario import Region, on_telegram_near_amina, region


def _jpeg(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


FILES = {
    "PHOTO-1": ("photos/file_1.jpg", _jpeg()),
    "VOICE-1": ("voice/file_2.oga", b"OggS" + b"\0" * 400),
    "DOC-1": ("documents/file_3.pdf", b"%PDF-1.4 the meeting's minutes"),
    # A voice note whose file is not audio: it must not be rendered by the browser.
    "VOICE-HTML": ("voice/file_4.html", b"<script>alert(1)</script>"),
}


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    with FakeBotApi(dict(FILES)) as api:
        yield api


async def _telegram_case(engine: Engine, people: Region) -> tuple[int, dict[str, int]]:
    """A case from someone on Telegram in Karim's province, with a photo, a voice note and a
    captioned document; returns the case and each file's event."""
    async with engine.db.transaction() as session:
        youssef = await on_telegram_near_amina(session, people, engine.clock.now())
        case = await open_case(
            session,
            now=engine.clock.now(),
            actor=youssef,
            category="question",
            summary="Voici la réunion d'hier",
            attachments=[("photo", "PHOTO-1"), ("voice", "VOICE-1")],
            settings=engine.settings,
        )
        for kind, file_id, caption in (
            ("document", "DOC-1", "Le compte rendu"),
            ("voice", "VOICE-HTML", None),
        ):
            session.add(
                CaseEvent(
                    case_id=case.id,
                    actor_id=youssef.id,
                    at=engine.clock.now(),
                    kind="message_in",
                    text=caption,
                    file_id=file_id,
                    details={"kind": kind},
                )
            )
        await session.flush()
        events = await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.file_id.is_not(None))
        )
        return case.id, {e.file_id: e.id for e in events if e.file_id}


async def _client(engine: Engine, served: Served, actor_id: int) -> aiohttp.ClientSession:
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.post(await link_for(engine, served, actor_id), allow_redirects=False):
        pass
    return client


def _shown_width(driver: webdriver.Chrome, image: WebElement) -> int:
    """The picture's width once the browser has loaded it (0 if it could not)."""
    driver.execute_script("arguments[0].scrollIntoView()", image)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return arguments[0].complete", image)
    )
    return int(driver.execute_script("return arguments[0].naturalWidth", image))


async def test_photos_inline_voice_notes_playable_documents_downloadable(
    driver: webdriver.Chrome, engine: Engine, on_telegram: Served, bot_api: FakeBotApi
) -> None:
    people = await region(engine)
    case_id, events = await _telegram_case(engine, people)
    driver.get(on_telegram.url + "/static/app.css")
    driver.delete_all_cookies()
    await sign_in(driver, engine, on_telegram, people.karim)
    driver.get(f"{on_telegram.url}/case/{case_id}")

    photo = driver.find_element(By.CSS_SELECTOR, f"#file-{events['PHOTO-1']} img.photo")
    assert _shown_width(driver, photo) == 40
    voice = driver.find_element(By.CSS_SELECTOR, f"#file-{events['VOICE-1']} audio[controls]")
    document = driver.find_element(By.CSS_SELECTOR, f"#file-{events['DOC-1']} a.download")
    assert document.get_attribute("download") is not None
    assert "Message vocal" in driver.find_element(By.ID, f"file-{events['VOICE-1']}").text
    assert "Le compte rendu" in driver.page_source
    assert TOKEN not in driver.page_source and bot_api.url not in driver.page_source

    fetch = (
        "const done = arguments[1]; fetch(arguments[0]).then(r => r.arrayBuffer().then(b => "
        "done([r.status, r.headers.get('content-type'), r.headers.get('content-disposition'),"
        " b.byteLength])))"
    )
    status, media, disposition, size = driver.execute_async_script(
        fetch, voice.get_attribute("src")
    )
    assert (status, media, disposition, size) == (200, "audio/ogg", None, 404)
    status, media, disposition, size = driver.execute_async_script(
        fetch, document.get_attribute("href")
    )
    assert status == 200 and media == "application/octet-stream"
    assert disposition.startswith("attachment;") and disposition.endswith('.pdf"')
    assert size == len(FILES["DOC-1"][1])
    # A "voice note" that is HTML is not played, nor shown: it can only be downloaded.
    _, media, disposition, _ = driver.execute_async_script(
        fetch, f"/case/{case_id}/file/{events['VOICE-HTML']}"
    )
    assert media == "application/octet-stream" and disposition.startswith("attachment;")

    # Once fetched, a file comes from the cache.
    driver.refresh()
    photo = driver.find_element(By.CSS_SELECTOR, f"#file-{events['PHOTO-1']} img.photo")
    assert _shown_width(driver, photo) == 40
    assert bot_api.get_file == {"PHOTO-1": 1, "VOICE-1": 1, "DOC-1": 1, "VOICE-HTML": 1}
    assert sum(bot_api.downloads.values()) == 4
    cached = list((on_telegram.settings.file_cache_dir).iterdir())
    assert len(cached) == 4 and all(p.suffix in (".jpg", ".oga", ".pdf", ".html") for p in cached)
    async with engine.db.transaction() as session:
        reads = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.subject == f"case:{case_id}", AuditEntry.action == "read"
                )
            )
        ).all()
    shown = [entry.details.get("file_event") for entry in reads if entry.details.get("file_event")]
    assert shown.count(events["PHOTO-1"]) == 2 and events["DOC-1"] in shown
    assert {entry.actor_id for entry in reads} == {people.karim}


async def test_files_only_for_whoever_may_see_the_case(
    engine: Engine, on_telegram: Served, bot_api: FakeBotApi
) -> None:
    people = await region(engine)
    case_id, events = await _telegram_case(engine, people)
    url = f"{on_telegram.url}/case/{case_id}/file/{events['PHOTO-1']}"
    async with aiohttp.ClientSession() as stranger, stranger.get(url) as got:
        assert got.status == 401
    salma = await _client(engine, on_telegram, people.salma)  # the coach of another province
    try:
        async with salma.get(url) as got:
            assert got.status == 404
        # Nor through a case she does see: the file must belong to the case of the URL.
        async with salma.get(
            f"{on_telegram.url}/case/{people.jerada_case}/file/{events['PHOTO-1']}"
        ) as got:
            assert got.status == 404
    finally:
        await salma.close()
    karim = await _client(engine, on_telegram, people.karim)
    try:
        async with karim.get(url) as got:
            assert got.status == 200 and (await got.read()) == FILES["PHOTO-1"][1]
    finally:
        await karim.close()
    assert bot_api.get_file == {"PHOTO-1": 1}


async def test_a_file_the_bot_api_refuses_is_reported_not_cached(
    engine: Engine, on_telegram: Served, bot_api: FakeBotApi
) -> None:
    people = await region(engine)
    case_id, events = await _telegram_case(engine, people)
    del bot_api.files["DOC-1"]  # gone from Telegram's side (too old, or too big)
    karim = await _client(engine, on_telegram, people.karim)
    try:
        async with karim.get(f"{on_telegram.url}/case/{case_id}/file/{events['DOC-1']}") as got:
            assert got.status == 502
            assert TOKEN not in await got.text()
    finally:
        await karim.close()
    assert bot_api.get_file == {"DOC-1": 1}
    assert not on_telegram.settings.file_cache_dir.exists()


async def test_on_the_console_chat_files_are_described_not_fetched(
    driver: webdriver.Chrome, engine: Engine, on_telegram: Served, bot_api: FakeBotApi
) -> None:
    people = await region(engine)
    async with engine.db.transaction() as session:
        session.add(
            CaseEvent(
                case_id=people.figuig_case,
                actor_id=people.amina,
                at=engine.clock.now(),
                kind="message_in",
                text="صورة الاجتماع",
                file_id="console-file-1",
                details={"kind": "photo"},
            )
        )
        await session.flush()
        event_id = await session.scalar(
            select(CaseEvent.id).where(CaseEvent.file_id == "console-file-1")
        )
        assert (await session.get_one(Case, people.figuig_case)).actor_id == people.amina
    driver.get(on_telegram.url + "/static/app.css")
    driver.delete_all_cookies()
    await sign_in(driver, engine, on_telegram, people.karim)
    driver.get(f"{on_telegram.url}/case/{people.figuig_case}")
    shown = driver.find_element(By.ID, f"file-{event_id}")
    assert "Photo" in shown.text and "ne peut pas être affiché ici" in shown.text
    assert shown.find_elements(By.CSS_SELECTOR, "img, audio, video, a") == []
    assert "صورة الاجتماع" in driver.page_source  # the caption
    karim = await _client(engine, on_telegram, people.karim)
    try:
        async with karim.get(f"{on_telegram.url}/case/{people.figuig_case}/file/{event_id}") as got:
            assert got.status == 404
    finally:
        await karim.close()
    assert not bot_api.get_file


async def test_the_cache_keeps_to_its_bound(tmp_path: Path) -> None:
    files = {f"F{i}": (f"documents/file_{i}.bin", bytes([i]) * 400) for i in range(3)}
    files["BIG"] = ("documents/big.bin", b"x" * 1500)
    with FakeBotApi(files) as api:
        cache = FileCache(api.url, TOKEN, tmp_path / "cache", max_bytes=1000)
        for file_id in ("F0", "F1", "F2"):  # 1200 bytes: the least recently served goes
            fetched = await cache.get(file_id)
            assert fetched.path is not None and fetched.path.read_bytes() == files[file_id][1]
        kept = sorted(p.read_bytes()[:1] for p in (tmp_path / "cache").iterdir())
        assert kept == [b"\x01", b"\x02"]
        assert (await cache.get("F1")).path is not None and api.get_file["F1"] == 1
        assert (await cache.get("F0")).path is not None and api.get_file["F0"] == 2
        # F2 was served longest ago: it made room for F0.
        assert sorted(p.read_bytes()[:1] for p in (tmp_path / "cache").iterdir()) == [
            b"\x00",
            b"\x01",
        ]
        # Bigger than the whole cache: served, not kept.
        big = await cache.get("BIG")
        assert big.path is None and big.body == files["BIG"][1]
        assert sum(p.stat().st_size for p in (tmp_path / "cache").iterdir()) <= 1000
        with pytest.raises(FileUnavailable):
            await cache.get("nope")
