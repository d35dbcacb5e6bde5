"""A small region for the console's tests: two provinces, a coach for each, an actor with a
case in each, through the real engine and case service."""

from __future__ import annotations

from dataclasses import dataclass

from bot.cases.service import open_case
from bot.core.engine import Engine
from storage.models import Actor, Role, Territory, TerritoryCoach
from tests.driver import Hotline


@dataclass
class Region:
    karim: int  # coach of Figuig
    salma: int  # coach of Jerada
    amina: int  # actor in a douar of Figuig, writes Darija in Arabic script
    omar: int  # actor in Jerada, writes French
    figuig_case: int
    jerada_case: int


async def region(
    engine: Engine, amina_summary: str = "الجمعية ما بقاتش كتجتمع، بغيت نصيحة"
) -> Region:
    hotline = Hotline(engine)
    karim = await hotline.person("karim", Role.COACH)
    salma = await hotline.person("salma", Role.COACH)
    amina = await hotline.person("amina", lang="ary")
    omar = await hotline.person("omar")
    async with engine.db.transaction() as session:
        oriental = Territory(name="Oriental", kind="region")
        session.add(oriental)
        await session.flush()
        figuig = Territory(name="Figuig", kind="province", parent_id=oriental.id)
        jerada = Territory(name="Jerada", kind="province", parent_id=oriental.id)
        session.add_all([figuig, jerada])
        await session.flush()
        bouanane = Territory(name="Bouanane", kind="commune", parent_id=figuig.id)
        session.add(bouanane)
        await session.flush()
        session.add_all(
            [
                TerritoryCoach(territory_id=figuig.id, coach_id=karim.id),
                TerritoryCoach(territory_id=jerada.id, coach_id=salma.id),
            ]
        )
        for actor_id, territory_id in ((amina.id, bouanane.id), (omar.id, jerada.id)):
            (await session.get_one(Actor, actor_id)).territory_id = territory_id
    await amina.opens_call()
    await omar.opens_call()
    cases = []
    for who, category, summary in (
        (amina, "conflict", amina_summary),
        (omar, "question", "Comment préparer la réunion du comité ?"),
    ):
        async with engine.db.transaction() as session:
            case = await open_case(
                session,
                now=engine.clock.now(),
                actor=await session.get_one(Actor, who.id),
                category=category,
                summary=summary,
                settings=engine.settings,
            )
            cases.append(case.id)
    return Region(karim.id, salma.id, amina.id, omar.id, cases[0], cases[1])
