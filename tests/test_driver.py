"""The test driver itself (tests/driver.py): what every other test relies on to talk."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.core.effects import Button, SendMessage
from storage.models import (
    Call,
    Commitment,
    CommitteeMember,
    InboundMessage,
    OutboxMessage,
    Role,
    TerritoryCoach,
)
from tests.driver import Hotline, Replies, scan_jobs


def test_replies_tell_each_person_what_they_read_and_find_buttons() -> None:
    yes = Button("Oui", "yes:1")
    replies = Replies(
        [
            SendMessage("console", "amina", "Bonjour", buttons=((yes,),)),
            SendMessage("console", "karim", "Dossier 1", buttons=((Button("Non", "no"),),)),
        ],
        "amina",
    )
    assert (replies.text, replies.to("karim"), replies.to("omar")) == ("Bonjour", "Dossier 1", "")
    assert replies.button("Oui") == yes
    with pytest.raises(AssertionError, match="no button 'Non'"):
        replies.button("Non")  # shown to Karim, not to Amina


def test_scans_are_named_by_the_end_of_their_job_name() -> None:
    assert [job.name for job in scan_jobs("sla", "reminders")] == ["cases-sla", "plan_reminders"]
    assert len(scan_jobs()) >= 5
    with pytest.raises(AssertionError, match="no single scan"):
        scan_jobs("nothing")


async def test_a_person_speaks_through_the_engine_and_is_answered(hotline: Hotline) -> None:
    amina = await hotline.person("amina")
    framework = await amina.says("Bonjour")
    assert "cadre" in framework.text
    menu = await amina.taps(framework.button("J'ai compris"))
    assert menu.text and all(e.chat_id == "amina" for e in menu)
    async with hotline.db.transaction() as session:
        stored = (await session.scalars(select(InboundMessage.update_key))).all()
        replied = await session.scalar(select(func.count(OutboxMessage.id)))
    assert len(set(stored)) == 2 and None not in stored  # each event its own update id
    assert replied == len(framework) + len(menu)


async def test_someone_in_a_call_skips_the_framework(hotline: Hotline) -> None:
    karim = await hotline.person("karim", Role.COACH, in_call=True)
    assert hotline["karim"] is karim and karim.id is not None
    async with hotline.db.transaction() as session:
        assert await session.scalar(select(func.count(Call.id))) == 1
    assert "cadre" not in (await karim.says("/cases")).text


async def test_set_up_verbs_build_the_region(hotline: Hotline) -> None:
    await hotline.territory("Figuig", "province")
    await hotline.territory("Bouanane", "commune", "Figuig")
    karim = await hotline.person("karim", Role.COACH)
    amina = await hotline.person("amina")
    await karim.covers("Figuig")
    await amina.located_in("Bouanane")
    committee = await hotline.committee("Comité TS", "Bouanane")
    await amina.joins("Comité TS")
    await amina.joins("Comité TS")  # already a member: nothing changes
    await hotline.plan("Plan", reference=date(2026, 11, 1), coach="karim")
    first = await hotline.commitment("Plan", "Réunion", owner="amina")
    second = await hotline.commitment("Plan", "Atelier", due=date(2026, 12, 1))
    await hotline.change_commitment(first, status="done")
    assert (await amina.actor()).territory_id == await hotline.territory_id("Bouanane")
    async with hotline.db.transaction() as session:
        covered = (await session.scalars(select(TerritoryCoach.territory_id))).all()
        members = (await session.execute(select(CommitteeMember.committee_id))).scalars().all()
        rows = (await session.scalars(select(Commitment).order_by(Commitment.id))).all()
    assert covered == [await hotline.territory_id("Figuig")]
    assert members == [committee]
    assert [(r.id, r.position, r.status, r.owner_id) for r in rows] == [
        (first, 1, "done", amina.id),
        (second, 2, "not_started", None),
    ]
    assert rows[1].due is not None
