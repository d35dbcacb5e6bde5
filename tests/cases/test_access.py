"""Nobody sees or touches another actor's case; coach commands are for coaches only."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.cases.service import open_case
from bot.core.engine import Engine
from storage.models import Actor, Case, CaseEvent, CaseStatus, OutboxMessage, Role
from tests.cases.helpers import open_call, person, say


async def _case_of(engine: Engine, name: str) -> int:
    async with engine.db.transaction() as session:
        actor = await session.scalar(select(Actor).where(Actor.external_id == name))
        assert actor is not None
        case = await open_case(
            session,
            now=engine.clock.now(),
            actor=actor,
            category="question",
            summary="secret matter of Amina",
            settings=engine.settings,
        )
        return case.id


async def _snapshot(engine: Engine, case_id: int) -> tuple[str, bool | None, int]:
    async with engine.db.transaction() as session:
        case = await session.get_one(Case, case_id)
        events = await session.scalar(
            select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case_id)
        )
        return case.status, case.helpful, events or 0


async def test_actor_cannot_touch_another_actors_case(engine: Engine) -> None:
    await person(engine, "karim", Role.COACH)
    await person(engine, "amina")
    await person(engine, "omar")
    case_id = await _case_of(engine, "amina")
    before = await _snapshot(engine, case_id)
    await open_call(engine, "omar")

    for button in (f"casefb:{case_id}:no", f"caseans:{case_id}"):
        answer = await say(engine, "omar", button=button)
        assert "Je ne trouve pas ce dossier" in answer
        assert "secret" not in answer
    for button in (f"case:take:{case_id}", f"case:resolve:{case_id}", f"case:view:{case_id}"):
        answer = await say(engine, "omar", button=button)
        assert "réservé aux coachs" in answer
    for command in (f"/case {case_id}", "/cases", f"/reply {case_id} hello", "/onduty"):
        answer = await say(engine, "omar", command)
        assert "réservé aux coachs" in answer
        assert "secret" not in answer
    # His own list does not show her case either.
    assert "secret" not in await say(engine, "omar", "/mycases")
    assert f"#{case_id}" not in await say(engine, "omar", "/mycases")
    assert await _snapshot(engine, case_id) == before


async def test_actor_cannot_send_on_another_actors_message(engine: Engine) -> None:
    await person(engine, "karim", Role.COACH)
    await person(engine, "amina")
    await person(engine, "omar")
    await open_call(engine, "amina")
    await say(engine, "amina", "Une question que personne ne connaît")
    async with engine.db.transaction() as session:
        message_id = await session.scalar(
            select(func.max(OutboxMessage.cause_id)).where(OutboxMessage.chat_id == "amina")
        )
    assert message_id is not None
    await open_call(engine, "omar")
    await say(engine, "omar", button=f"unanswered:send:{message_id}")
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count(Case.id))) == 0


async def test_only_admins_name_coordinators(engine: Engine) -> None:
    await person(engine, "karim", Role.COACH)
    await person(engine, "nadia", Role.ADMIN)
    answer = await say(engine, "karim", "/coordinator karim")
    assert "réservé" in answer
    assert "coordinateur" in await say(engine, "nadia", "/coordinator karim")
    async with engine.db.transaction() as session:
        karim = await session.scalar(select(Actor).where(Actor.external_id == "karim"))
        assert karim is not None and karim.is_coordinator


async def test_owner_can_answer_and_rate(engine: Engine) -> None:
    await person(engine, "karim", Role.COACH)
    await person(engine, "amina")
    case_id = await _case_of(engine, "amina")
    await say(engine, "karim", button=f"case:resolve:{case_id}")
    await open_call(engine, "amina")
    await say(engine, "amina", button=f"casefb:{case_id}:yes")
    async with engine.db.transaction() as session:
        case = await session.get_one(Case, case_id)
        assert case.status == CaseStatus.RESOLVED
        assert case.helpful is True
