"""The review queue end to end on the real engine: what is queued, who may file it, what the
asker gets, what /forget removes, and the spreadsheet round trip."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.core.config import Settings
from bot.core.engine import Engine
from bot.review import cli, service
from storage.models import InboundMessage, ReviewItem, Role
from tests.driver import Hotline

UNKNOWN = "wach 3andkom dik lwer9a li fiha chkoun m3a chkoun, ana Karim 0661223344"


async def _items(engine: Engine) -> list[ReviewItem]:
    async with engine.db.transaction() as session:
        return list((await session.scalars(select(ReviewItem).order_by(ReviewItem.id))).all())


async def test_unanswered_is_queued_masked_and_filed_once(engine: Engine, hotline: Hotline) -> None:
    amina = await hotline.person("amina", lang="ary-Latn")
    coach1 = await hotline.person("coach1", role=Role.COACH)
    coach2 = await hotline.person("coach2", role=Role.COACH)
    await amina.opens_call()
    answer = (await amina.says(UNKNOWN)).text
    assert "19" in answer and "177" in answer and "15" in answer  # emergency numbers recalled
    [item] = await _items(engine)
    assert item.reason == "unanswered" and item.label is None
    assert "0661223344" not in item.text and "Karim" not in item.text
    assert "PHONE" in item.text and "NAME" in item.text
    assert "NAME PHONE" in (await coach1.says("/review")).text
    filed = (await coach1.taps(f"rv:{item.id}:sociogram")).text
    assert "Sociogramme" in filed and "Plus rien" in filed
    # The second coach's tap on the same card changes nothing.
    late = (await coach2.taps(f"rv:{item.id}:none")).text
    assert "déjà classé" in late
    [item] = await _items(engine)
    assert item.label == "sociogram"
    assert item.reviewed_by == coach1.id


async def test_filing_a_topic_answers_the_asker(engine: Engine, hotline: Hotline) -> None:
    amina = await hotline.person("amina", lang="ary-Latn")
    coach1 = await hotline.person("coach1", role=Role.COACH)
    await amina.opens_call()
    await amina.says(UNKNOWN)
    [item] = await _items(engine)
    filed = await coach1.taps(f"rv:{item.id}:sociogram")
    to_amina = [e for e in filed if e.chat_id == "amina"]
    assert len(to_amina) == 1
    assert "Sociogramme territorial" in to_amina[0].text  # the knowledge answer, in her variant


async def test_actors_cannot_review(hotline: Hotline) -> None:
    amina = await hotline.person("amina")
    await amina.opens_call()
    assert "réservé aux coachs" in (await amina.says("/review")).text
    assert "réservé aux coachs" in (await amina.taps("rv:1:sociogram")).text


async def test_not_helpful_queues_the_question_and_offers_a_coach(
    engine: Engine, hotline: Hotline
) -> None:
    amina = await hotline.person("amina")
    await amina.opens_call()
    await amina.says("c'est quoi un sociogramme ?")
    [message_id] = [i.message_id for i in await _items(engine)] or [None]
    assert message_id is None  # answered: nothing queued yet
    async with engine.db.transaction() as session:
        asked = await session.scalar(
            select(InboundMessage.id).where(InboundMessage.text == "c'est quoi un sociogramme ?")
        )
    reply = (await amina.taps(f"nothelp:{asked}")).text
    assert "coach" in reply
    again = (await amina.taps(f"nothelp:{asked}")).text
    assert "coach" in again
    [item] = await _items(engine)
    assert (item.reason, item.guess) == ("not_helpful", "sociogram")


async def test_forget_removes_what_waits_in_the_queue(engine: Engine, hotline: Hotline) -> None:
    amina = await hotline.person("amina", lang="ary-Latn")
    await amina.opens_call()
    await amina.says(UNKNOWN)
    await amina.says("/forget")
    await amina.taps("privacy:forget:yes")
    assert await _items(engine) == []


async def test_training_examples_leave_out_skipped_and_unknown_labels(
    engine: Engine, hotline: Hotline
) -> None:
    await hotline.person("coach1", role=Role.COACH)
    async with engine.db.transaction() as session:
        for label in ("sociogram", service.SKIP, "no_such_label", None, "none"):
            session.add(
                ReviewItem(text=f"texte {label}", lang="fr", reason="unanswered",
                           created_at=engine.clock.now(), label=label)
            )  # fmt: skip
    async with engine.db.transaction() as session:
        examples = await service.training_examples(session, ["sociogram", "privacy"])
    assert [(e.label, e.source) for e in examples] == [("sociogram", "field"), ("none", "field")]


async def test_spreadsheet_round_trip(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    async with engine.db.transaction() as session:
        for text in ('=HYPERLINK("http://x")', "question deux", "question trois"):
            session.add(
                ReviewItem(text=text, lang="fr", reason="unanswered", created_at=engine.clock.now())
            )
    out = tmp_path / "queue.xlsx"
    assert await cli._export(settings, _Args(out=out)) == 0
    book = load_workbook(out)
    sheet = book["queue"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0][1].startswith("'=")  # a formula-looking text stays text
    sheet.cell(row=2, column=6, value="none")
    sheet.cell(row=3, column=6, value="sociogram")
    book.save(out)
    assert await cli._import(settings, _Args(file=out)) == 0
    labels = [i.label for i in await _items(engine)]
    assert labels == ["none", "sociogram", None]
    # A sheet with a label that does not exist files nothing.
    bad = tmp_path / "bad.xlsx"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "queue"
    ws.append(cli.HEADER)
    ws.append([3, "question trois", "fr", "unanswered", "", "sociogramme"])
    wb.save(bad)
    assert await cli._import(settings, _Args(file=bad)) == 1
    assert [i.label for i in await _items(engine)][2] is None


class _Args:
    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)
