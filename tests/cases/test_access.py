"""Nobody sees or touches another actor's case; coach commands are for coaches only."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.cases.service import open_case
from bot.core.engine import Engine
from storage.models import Actor, Case, CaseEvent, CaseStatus, OutboxMessage, Role
from tests.driver import Hotline


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


async def test_actor_cannot_touch_another_actors_case(engine: Engine, hotline: Hotline) -> None:
    await hotline.person("karim", Role.COACH)
    await hotline.person("amina")
    omar = await hotline.person("omar")
    case_id = await _case_of(engine, "amina")
    before = await _snapshot(engine, case_id)
    await omar.opens_call()

    for button in (f"casefb:{case_id}:no", f"caseans:{case_id}"):
        answer = (await omar.taps(button)).text
        assert "Je ne trouve pas ce dossier" in answer
        assert "secret" not in answer
    for button in (f"case:take:{case_id}", f"case:resolve:{case_id}", f"case:view:{case_id}"):
        answer = (await omar.taps(button)).text
        assert "réservé aux coachs" in answer
    for command in (f"/case {case_id}", "/cases", f"/reply {case_id} hello", "/onduty"):
        answer = (await omar.says(command)).text
        assert "réservé aux coachs" in answer
        assert "secret" not in answer
    # His own list does not show her case either.
    assert "secret" not in (await omar.says("/mycases")).text
    assert f"#{case_id}" not in (await omar.says("/mycases")).text
    assert await _snapshot(engine, case_id) == before


async def test_actor_cannot_send_on_another_actors_message(
    engine: Engine, hotline: Hotline
) -> None:
    await hotline.person("karim", Role.COACH)
    amina = await hotline.person("amina")
    omar = await hotline.person("omar")
    await amina.opens_call()
    await amina.says("Une question que personne ne connaît")
    async with engine.db.transaction() as session:
        message_id = await session.scalar(
            select(func.max(OutboxMessage.cause_id)).where(OutboxMessage.chat_id == "amina")
        )
    assert message_id is not None
    await omar.opens_call()
    await omar.taps(f"unanswered:send:{message_id}")
    async with engine.db.transaction() as session:
        assert await session.scalar(select(func.count(Case.id))) == 0


async def test_only_admins_name_coordinators(engine: Engine, hotline: Hotline) -> None:
    karim = await hotline.person("karim", Role.COACH)
    nadia = await hotline.person("nadia", Role.ADMIN)
    answer = (await karim.says("/coordinator karim")).text
    assert "réservé" in answer
    assert "coordinateur" in (await nadia.says("/coordinator karim")).text
    async with engine.db.transaction() as session:
        karim = await session.scalar(select(Actor).where(Actor.external_id == "karim"))
        assert karim is not None and karim.is_coordinator


async def test_owner_can_answer_and_rate(engine: Engine, hotline: Hotline) -> None:
    karim = await hotline.person("karim", Role.COACH)
    amina = await hotline.person("amina")
    case_id = await _case_of(engine, "amina")
    await karim.taps(f"case:resolve:{case_id}")
    await amina.opens_call()
    await amina.taps(f"casefb:{case_id}:yes")
    async with engine.db.transaction() as session:
        case = await session.get_one(Case, case_id)
        assert case.status == CaseStatus.RESOLVED
        assert case.helpful is True
