"""The actor's free words reach the coach who wrote; files travel as files; the other
alerted coaches learn who took a case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.cases import alerts
from bot.cases.service import open_case
from bot.core.effects import SendFile, SendMessage
from bot.core.engine import Engine
from bot.core.i18n import translator
from storage.models import Actor, Case, CaseEvent, CaseSeverity, OutboxMessage, Role
from tests.driver import Hotline, Person


async def _case_with_an_answer(hotline: Hotline) -> tuple[Person, Person]:
    """Amina has case #1; coach Karim has answered it."""
    engine = hotline.engine
    karim = await hotline.person("karim", Role.COACH)
    amina = await hotline.person("amina")
    await amina.opens_call()
    async with engine.db.transaction() as session:
        await open_case(
            session,
            now=engine.clock.now(),
            actor=await session.get_one(Actor, amina.id),
            category="question",
            summary="comment préparer la réunion ?",
            settings=engine.settings,
        )
    await karim.replies(1, "Commencez par trois points prioritaires.")
    return amina, karim


async def _count(engine: Engine, kind: str) -> int:
    async with engine.db.transaction() as session:
        found = await session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.kind == kind))
    return found or 0


async def test_free_words_reach_the_coach_for_a_day(engine: Engine, hotline: Hotline) -> None:
    amina, _ = await _case_with_an_answer(hotline)
    effects = await amina.says("d'accord, on se voit mardi")
    assert "Envoyé à votre coach (dossier n° 1)" in effects.to("amina")
    assert "on se voit mardi" in effects.to("karim")
    photo = await amina.sends("photo", "AgAD-9")
    files = [e for e in photo if isinstance(e, SendFile) and e.chat_id == "karim"]
    assert [(f.kind, f.file_id) for f in files] == [("photo", "AgAD-9")]
    engine.clock.advance(timedelta(hours=25))
    await amina.opens_call()
    later = await amina.says("d'accord, on se voit mardi")
    assert later.to("karim") == "" and "coach (dossier" not in later.to("amina")
    assert await _count(engine, "message_in") == 2


async def test_a_sure_question_for_the_bot_stays_with_the_bot(
    engine: Engine, hotline: Hotline
) -> None:
    amina, _ = await _case_with_an_answer(hotline)
    effects = await amina.says("c'est quoi un sociogramme")
    assert effects.to("karim") == ""
    assert "sociogramme" in effects.to("amina").lower()
    assert await _count(engine, "message_in") == 0


async def test_nothing_is_relayed_once_the_case_is_resolved(
    engine: Engine, hotline: Hotline
) -> None:
    amina, karim = await _case_with_an_answer(hotline)
    await karim.taps("case:resolve:1")
    effects = await amina.says("d'accord, on se voit mardi")
    assert effects.to("karim") == ""
    assert await _count(engine, "message_in") == 0


async def test_taking_a_message_back_hands_it_to_the_bot_once(
    engine: Engine, hotline: Hotline
) -> None:
    amina, _ = await _case_with_an_answer(hotline)
    # A knowledge question the understanding layer is not sure enough of (about 0.6).
    effects = await amina.says("wach n9dro nbdlo lmakan dyal l'atelier?")
    ack = next(e for e in effects if e.chat_id == "amina" and e.buttons)
    back = ack.buttons[0][0].data
    assert back.startswith("casebot:")
    omar = await hotline.person("omar")
    await omar.opens_call()
    assert "plus actif" in (await omar.taps(back)).text  # not his message
    taken = await amina.taps(back)
    assert "destiné à la hotline" in taken.to("karim")
    # The bot answers it itself now: a knowledge answer (it carries "not what I asked").
    assert any(
        e.chat_id == "amina" and e.buttons and e.buttons[0][0].data.startswith("nothelp:")
        for e in taken
    )
    again = (await amina.taps(back)).text
    assert "déjà revenu" in again
    assert (await _count(engine, "message_in"), await _count(engine, "withdrawn")) == (1, 1)


async def test_a_coach_is_never_relayed_nor_opens_an_emergency(
    engine: Engine, hotline: Hotline
) -> None:
    _, karim = await _case_with_an_answer(hotline)
    await karim.taps("case:reply:1")
    effects = await karim.says("Si quelqu'un est en danger, appelez le 15.")
    assert "appelez le 15" in effects.to("amina")
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count(Case.id))) == 1
    await karim.says("bonne soirée")
    assert await _count(engine, "message_in") == 0


async def test_a_file_goes_as_caption_or_after_the_words_or_as_a_line(engine: Engine) -> None:
    voice = alerts.SharedFile("voice", "AwAD-1", "telegram")
    now = engine.clock.now()
    async with engine.db.transaction() as session:

        async def put(text: str, channel: str, file: alerts.SharedFile) -> list[OutboxMessage]:
            return await alerts.enqueue_with_file(
                session,
                channel=channel,
                chat_id="7",
                text=text,
                now=now,
                t=translator("fr"),
                file=file,
                missing="(a voice note)",
                buttons=alerts.reply_buttons(translator("fr"), 1),
            )

        short = await put("<b>Dossier n° 1</b>", "telegram", voice)
        long = await put("x" * 1100, "telegram", voice)
        note = await put("Dossier 1", "telegram", alerts.SharedFile("video_note", "N", "telegram"))
        elsewhere = await put("Dossier 1", "console", voice)
    assert [(r.kind, r.file_id, r.text, bool(r.buttons)) for r in short] == [
        ("voice", "AwAD-1", "<b>Dossier n° 1</b>", True)
    ]
    # Too long for a caption: the words first, then the file with the buttons.
    assert [(r.kind, r.file_id, bool(r.buttons)) for r in long] == [
        ("text", None, False),
        ("voice", "AwAD-1", True),
    ]
    assert [(r.kind, r.text) for r in note] == [("text", "Dossier 1"), ("video_note", "")]
    assert [(r.kind, r.file_id, r.text) for r in elsewhere] == [
        ("text", None, "Dossier 1\n(a voice note)")
    ]


@pytest.mark.parametrize(
    ("variant", "kind", "line"),
    [
        ("fr", "photo", "📎 photo: <code>AgAC-9</code>"),
        ("fr", "voice", "📎 message vocal: <code>AgAC-9</code>"),
        ("ary", "photo", "📎 تصويرة: <code>AgAC-9</code>"),
        ("ary-Latn", "photo", "📎 tswira: <code>AgAC-9</code>"),
        ("ary-Latn", "video_note", "📎 message video: <code>AgAC-9</code>"),
        ("fr", "sticker", "📎 sticker: <code>AgAC-9</code>"),  # no name: the kind as stored
    ],
)
async def test_a_file_that_cannot_go_is_named_in_the_recipients_variant(
    engine: Engine, variant: str, kind: str, line: str
) -> None:
    """On another channel (the web console's chat) the file id means nothing: the text names
    the kind in the recipient's words and keeps the id for whoever fetches it by hand."""
    async with engine.db.transaction() as session:
        rows = await alerts.enqueue_with_file(
            session,
            channel="console",
            chat_id="7",
            text="<b>Dossier n° 1</b>",
            now=engine.clock.now(),
            t=translator(variant),
            file=alerts.SharedFile(kind, "AgAC-9", "telegram"),
        )
    assert [(r.kind, r.file_id, r.text) for r in rows] == [
        ("text", None, f"<b>Dossier n° 1</b>\n{line}")
    ]


async def test_the_others_alerted_learn_who_took_the_case_once(
    engine: Engine, hotline: Hotline
) -> None:
    karim = await hotline.person("karim", Role.COACH)
    salma = await hotline.person("salma", Role.COACH, lang="ary-Latn")
    await hotline.person("nadia", Role.ADMIN)
    fatima = await hotline.person("fatima")
    async with engine.db.transaction() as session:
        for name in ("karim", "salma"):
            coach = await session.scalar(select(Actor).where(Actor.external_id == name))
            assert coach is not None
            coach.on_duty = True
        case = await open_case(
            session,
            now=engine.clock.now(),
            actor=await session.get_one(Actor, fatima.id),
            category="emergency",
            summary="",
            severity=CaseSeverity.EMERGENCY,
            settings=engine.settings,
        )
        case_id = case.id
    effects = await salma.taps(f"case:take:{case_id}")
    told = {e.chat_id: e.text for e in effects if isinstance(e, SendMessage) and "✅" in e.text}
    assert set(told) == {"karim"}  # nadia is no coordinator: she was not alerted
    assert "pris par Salma" in told["karim"]
    late = (await karim.taps(f"case:take:{case_id}")).text
    assert "déjà pris par Salma" in late
    async with engine.db.transaction() as session:
        stored = await session.get_one(Case, case_id)
        salma_row = await session.get_one(Actor, salma.id)
        again = await alerts.tell_taken(
            session, stored, salma_row, engine.settings, engine.clock.now()
        )
        assert again == []  # once per case, whatever happens
    assert karim.id != salma.id
