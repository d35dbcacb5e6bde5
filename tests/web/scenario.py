"""A small region for the console's tests: two provinces, a coach for each, an actor with a
case in each, through the real engine and case service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.service import open_case
from bot.core.engine import Engine
from storage.models import Actor, Role
from tests.driver import Hotline


async def on_telegram_near_amina(session: AsyncSession, people: Region, now: datetime) -> Actor:
    """Youssef, who writes on Telegram from Amina's douar (files there have real ids)."""
    amina = await session.get_one(Actor, people.amina)
    youssef = Actor(
        channel="telegram",
        external_id="5550001",
        chat_id="5550001",
        display_name="Youssef",
        role=Role.ACTOR,
        lang="fr",
        lang_chosen=True,
        territory_id=amina.territory_id,
        created_at=now,
    )
    session.add(youssef)
    await session.flush()
    return youssef


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
    await hotline.territory("Oriental", "region")
    await hotline.territory("Figuig", "province", "Oriental")
    await hotline.territory("Jerada", "province", "Oriental")
    await hotline.territory("Bouanane", "commune", "Figuig")
    await karim.covers("Figuig")
    await salma.covers("Jerada")
    await amina.located_in("Bouanane")
    await omar.located_in("Jerada")
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
