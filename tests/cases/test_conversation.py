"""The actor's free words reach the coach who wrote; files travel as files; the other
alerted coaches learn who took a case."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.cases import alerts
from bot.cases.service import open_case
from bot.core.effects import Effect, SendFile, SendMessage, body
from bot.core.engine import Engine
from bot.core.events import Attachment, Event, Sender
from bot.core.i18n import translator
from storage.models import Actor, Case, CaseEvent, CaseSeverity, OutboxMessage, Role
from tests.cases.helpers import CHANNEL, open_call, person, say


async def _send(engine: Engine, name: str, **content: object) -> list[Effect]:
    event = Event(CHANNEL, name, Sender(name), engine.clock.now(), **content)  # type: ignore[arg-type]
    return await engine.handle(event)


def _to(effects: list[Effect], name: str) -> str:
    return "\n".join(body(e) for e in effects if e.chat_id == name)


async def _case_with_an_answer(engine: Engine) -> None:
    """Amina has case #1; coach Karim has answered it."""
    await person(engine, "karim", Role.COACH)
    await person(engine, "amina")
    await open_call(engine, "amina")
    async with engine.db.transaction() as session:
        amina = await session.scalar(select(Actor).where(Actor.external_id == "amina"))
        assert amina is not None
        await open_case(
            session,
            now=engine.clock.now(),
            actor=amina,
            category="question",
            summary="comment préparer la réunion ?",
            settings=engine.settings,
        )
    await say(engine, "karim", "/reply 1 Commencez par trois points prioritaires.")


async def _count(engine: Engine, kind: str) -> int:
    async with engine.db.transaction() as session:
        found = await session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.kind == kind))
    return found or 0


async def test_free_words_reach_the_coach_for_a_day(engine: Engine) -> None:
    await _case_with_an_answer(engine)
    effects = await _send(engine, "amina", text="d'accord, on se voit mardi")
    assert "Envoyé à votre coach (dossier n° 1)" in _to(effects, "amina")
    assert "on se voit mardi" in _to(effects, "karim")
    photo = await _send(engine, "amina", attachment=Attachment("photo", "AgAD-9"))
    files = [e for e in photo if isinstance(e, SendFile) and e.chat_id == "karim"]
    assert [(f.kind, f.file_id) for f in files] == [("photo", "AgAD-9")]
    engine.clock.advance(timedelta(hours=25))
    await open_call(engine, "amina")
    later = await _send(engine, "amina", text="d'accord, on se voit mardi")
    assert _to(later, "karim") == "" and "coach (dossier" not in _to(later, "amina")
    assert await _count(engine, "message_in") == 2


async def test_a_sure_question_for_the_bot_stays_with_the_bot(engine: Engine) -> None:
    await _case_with_an_answer(engine)
    effects = await _send(engine, "amina", text="c'est quoi un sociogramme")
    assert _to(effects, "karim") == ""
    assert "sociogramme" in _to(effects, "amina").lower()
    assert await _count(engine, "message_in") == 0


async def test_nothing_is_relayed_once_the_case_is_resolved(engine: Engine) -> None:
    await _case_with_an_answer(engine)
    await say(engine, "karim", button="case:resolve:1")
    effects = await _send(engine, "amina", text="d'accord, on se voit mardi")
    assert _to(effects, "karim") == ""
    assert await _count(engine, "message_in") == 0


async def test_taking_a_message_back_hands_it_to_the_bot_once(engine: Engine) -> None:
    await _case_with_an_answer(engine)
    # A knowledge question the understanding layer is not sure enough of (about 0.6).
    effects = await _send(engine, "amina", text="wach n9dro nbdlo lmakan dyal l'atelier?")
    ack = next(e for e in effects if e.chat_id == "amina" and e.buttons)
    back = ack.buttons[0][0].data
    assert back.startswith("casebot:")
    await person(engine, "omar")
    await open_call(engine, "omar")
    assert "plus actif" in await say(engine, "omar", button=back)  # not his message
    taken = await _send(engine, "amina", button=back)
    assert "destiné à la hotline" in _to(taken, "karim")
    # The bot answers it itself now: a knowledge answer (it carries "not what I asked").
    assert any(
        e.chat_id == "amina" and e.buttons and e.buttons[0][0].data.startswith("nothelp:")
        for e in taken
    )
    again = await say(engine, "amina", button=back)
    assert "déjà revenu" in again
    assert (await _count(engine, "message_in"), await _count(engine, "withdrawn")) == (1, 1)


async def test_a_coach_is_never_relayed_nor_opens_an_emergency(engine: Engine) -> None:
    await _case_with_an_answer(engine)
    await say(engine, "karim", button="case:reply:1")
    effects = await _send(engine, "karim", text="Si quelqu'un est en danger, appelez le 15.")
    assert "appelez le 15" in _to(effects, "amina")
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count(Case.id))) == 1
    await _send(engine, "karim", text="bonne soirée")
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


async def test_the_others_alerted_learn_who_took_the_case_once(engine: Engine) -> None:
    karim = await person(engine, "karim", Role.COACH)
    salma = await person(engine, "salma", Role.COACH, lang="ary-Latn")
    await person(engine, "nadia", Role.ADMIN)
    await person(engine, "fatima")
    async with engine.db.transaction() as session:
        for name in ("karim", "salma"):
            coach = await session.scalar(select(Actor).where(Actor.external_id == name))
            assert coach is not None
            coach.on_duty = True
        fatima = await session.scalar(select(Actor).where(Actor.external_id == "fatima"))
        assert fatima is not None
        case = await open_case(
            session,
            now=engine.clock.now(),
            actor=fatima,
            category="emergency",
            summary="",
            severity=CaseSeverity.EMERGENCY,
            settings=engine.settings,
        )
        case_id = case.id
    effects = await _send(engine, "salma", button=f"case:take:{case_id}")
    told = {e.chat_id: e.text for e in effects if isinstance(e, SendMessage) and "✅" in e.text}
    assert set(told) == {"karim"}  # nadia is no coordinator: she was not alerted
    assert "pris par Salma" in told["karim"]
    late = await say(engine, "karim", button=f"case:take:{case_id}")
    assert "déjà pris par Salma" in late
    async with engine.db.transaction() as session:
        stored = await session.get_one(Case, case_id)
        salma_row = await session.get_one(Actor, salma.id)
        again = await alerts.tell_taken(
            session, stored, salma_row, engine.settings, engine.clock.now()
        )
        assert again == []  # once per case, whatever happens
    assert karim.id != salma.id
