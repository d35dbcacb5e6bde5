"""The one test driver: people who talk to the real engine over a real database.

    hotline = Hotline(engine)                     # or the `hotline` fixture
    amina = await hotline.person("amina", lang="ary")
    replies = await amina.says("Le puits est à sec")
    assert "coach" in replies.text                # what Amina was told
    await amina.taps(replies.button("Oui"))       # or a callback data string
    hotline.advance(minutes=31)
    await hotline.scan("sla")                     # one scheduler job at the clock

Every event goes through `Engine.handle` with a fresh update id, as a transport would send
it; replies are the effects the engine returned. Golden transcripts (tests/golden/runner.py)
play their lines through the same objects.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select, update

from bot.app import build_engine, periodic_jobs
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.effects import Button, Effect, body
from bot.core.engine import Engine
from bot.core.events import Attachment, Event, Sender
from bot.core.scheduler import Periodic, ScanContext, run_once
from bot.plans.service import due_to_storage
from storage.db import Database
from storage.models import (
    ActionPlan,
    Actor,
    Call,
    Commitment,
    Committee,
    CommitteeMember,
    FrameworkText,
    Role,
    Territory,
    TerritoryCoach,
    TerritoryKind,
)

CHANNEL = "console"
_update_ids = itertools.count(1)


def scan_jobs(*names: str) -> list[Periodic]:
    """The periodic jobs called `names` ("sla", "digest", "weekly", "reminders",
    "retention" — the end of a job's name is enough); every job without a name."""
    jobs = periodic_jobs()
    if not names:
        return jobs
    chosen = []
    for name in names:
        found = [j for j in jobs if j.name == name or j.name.endswith(("-" + name, "_" + name))]
        if len(found) != 1:
            known = ", ".join(j.name for j in jobs)
            raise AssertionError(f"no single scan called {name!r} (there are {known})")
        chosen += found
    return chosen


class Replies(list[Effect]):
    """The effects one event produced, with what each person reads."""

    def __init__(self, effects: Iterable[Effect], chat_id: str) -> None:
        super().__init__(effects)
        self.chat_id = chat_id

    @property
    def text(self) -> str:
        """What the person who acted was told, all messages joined."""
        return self.to(self.chat_id)

    def to(self, who: str | Person) -> str:
        """What someone else was told (a coach alerted, a member relayed to...)."""
        chat_id = who.name if isinstance(who, Person) else who
        return "\n".join(body(e) for e in self if e.chat_id == chat_id)

    def button(self, label: str) -> Button:
        """The button with that label shown to the person who acted (the last one)."""
        for effect in reversed(self):
            if effect.chat_id != self.chat_id:
                continue
            for button in (b for row in reversed(effect.buttons) for b in reversed(row)):
                if button.label == label:
                    return button
        raise AssertionError(f"no button {label!r} shown to {self.chat_id}")


class Person:
    """Someone on the channel; declared in the database or not (yet)."""

    def __init__(
        self,
        hotline: Hotline,
        name: str,
        display_name: str,
        language_code: str | None = None,
        actor_id: int | None = None,
    ) -> None:
        self.hotline = hotline
        self.name = name  # their channel id and chat id
        self.display_name = display_name
        self.language_code = language_code
        self.id = actor_id  # the Actor row, when declared

    def __repr__(self) -> str:
        return f"Person({self.name!r})"

    def event(self, **content: object) -> Event:
        """What the transport would hand to the engine for this person's next action."""
        content.setdefault("update_id", self.hotline.next_update_id())
        sender = Sender(self.name, self.display_name, self.language_code)
        return Event(CHANNEL, self.name, sender, self.hotline.clock.now(), **content)  # type: ignore[arg-type]

    async def send(self, **content: object) -> Replies:
        """Any event content (text, button, attachment, unsupported, update_id...)."""
        effects = await self.hotline.engine.handle(self.event(**content))
        return Replies(effects, self.name)

    async def says(self, text: str, **content: object) -> Replies:
        return await self.send(text=text, **content)

    async def taps(self, button: Button | str) -> Replies:
        """Press a button (one shown to them, or its callback data)."""
        return await self.send(button=button.data if isinstance(button, Button) else button)

    async def sends(self, kind: str, file_id: str, caption: str | None = None) -> Replies:
        """A file (voice, photo, document, audio, video), with its caption."""
        return await self.send(attachment=Attachment(kind, file_id), text=caption)

    async def replies(self, case_id: int, text: str) -> Replies:
        """A coach answers a case (what /reply does; relayed to the actor by the bot)."""
        return await self.says(f"/reply {case_id} {text}")

    async def stores(self, **content: object) -> None:
        """The message is stored, then the process dies before handling it."""
        await self.hotline.engine.receive(self.event(**content))

    async def opens_call(self) -> None:
        """/start and acknowledge the framework, so what follows is handled as such."""
        await self.says("/start")
        await self.taps("framework:ack")

    async def actor(self) -> Actor:
        actor = await self.hotline.actor(self.name)
        assert actor is not None, f"{self.name} is not in the database"
        return actor

    # -- set-up: what an admin or a coach did before the story starts -------------------------

    async def _update(self, **values: object) -> None:
        async with self.hotline.db.transaction() as session:
            await session.execute(update(Actor).where(Actor.id == self.id).values(**values))

    async def located_in(self, territory: str) -> None:
        """Their territory (an actor's douar or commune; a coach's own)."""
        await self._update(territory_id=await self.hotline.territory_id(territory))

    async def covers(self, territory: str) -> None:
        """A coach covers the territory and everything under it."""
        territory_id = await self.hotline.territory_id(territory)
        async with self.hotline.db.transaction() as session:
            session.add(TerritoryCoach(territory_id=territory_id, coach_id=self.id))

    async def joins(self, committee: str) -> None:
        committee_id = await self.hotline.committee_id(committee)
        async with self.hotline.db.transaction() as session:
            if await session.get(CommitteeMember, (committee_id, self.id)) is None:
                session.add(
                    CommitteeMember(
                        committee_id=committee_id,
                        actor_id=self.id,
                        joined_at=self.hotline.clock.now(),
                    )
                )

    async def becomes_coordinator(self) -> None:
        await self._update(is_coordinator=True)

    async def goes_on_duty(self) -> None:
        await self._update(on_duty=True)


class Hotline:
    """The real engine with its database and manual clock, and the people talking to it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        assert isinstance(engine.clock, ManualClock), "tests move time with a ManualClock"
        self.clock: ManualClock = engine.clock
        self.people: dict[str, Person] = {}

    @property
    def db(self) -> Database:
        return self.engine.db

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    def next_update_id(self) -> str:
        # Unique in the process: several drivers may talk to one engine (and its database).
        return str(next(_update_ids))

    async def person(
        self,
        name: str,
        role: str = Role.ACTOR,
        *,
        lang: str = "fr",
        lang_chosen: bool = True,
        display_name: str | None = None,
        in_call: bool = False,
    ) -> Person:
        """Declare someone in the database before they speak. `in_call`: they are in a call
        opened a minute ago whose framework they acknowledged."""
        now = self.clock.now()
        display_name = display_name or name.capitalize()
        async with self.db.transaction() as session:
            actor = Actor(
                channel=CHANNEL,
                external_id=name,
                chat_id=name,
                display_name=display_name,
                role=role,
                lang=lang,
                lang_chosen=lang_chosen,
                created_at=now,
            )
            session.add(actor)
            await session.flush()
            if in_call:
                session.add(
                    Call(
                        actor_id=actor.id,
                        channel=CHANNEL,
                        chat_id=name,
                        opened_at=now - timedelta(minutes=1),
                        last_activity_at=now,
                        framework_text=FrameworkText.FULL,
                        framework_lang=lang,
                        acknowledged_at=now,
                    )
                )
            actor_id = actor.id
        person = Person(self, name, display_name, actor_id=actor_id)
        self.people[name] = person
        return person

    def newcomer(
        self, name: str, display_name: str | None = None, language_code: str | None = None
    ) -> Person:
        """Someone the hotline does not know yet: their first message creates them."""
        display = name.capitalize() if display_name is None else display_name
        person = Person(self, name, display, language_code)
        self.people[name] = person
        return person

    def __getitem__(self, name: str) -> Person:
        """The person called `name`: declared, met before, or someone new."""
        return self.people.get(name) or self.newcomer(name)

    def advance(self, **delta: float) -> None:
        """Move the clock: `advance(minutes=31)`, `advance(days=2)`."""
        self.clock.advance(timedelta(**delta))

    async def scan(self, *names: str) -> dict[str, int]:
        """Run these scheduler jobs (all of them without a name) once at the clock; returns
        how many things each enqueued."""
        context = ScanContext(self.db, self.clock, self.settings)
        return await run_once(context, scan_jobs(*names))

    async def restart(self) -> Engine:
        """A new engine on the same database file (the old process died), recovered."""
        settings, understander = self.engine.settings, self.engine.understander
        await self.db.dispose()
        self.engine = build_engine(settings, clock=self.clock, understander=understander)
        await self.engine.recover()
        return self.engine

    async def actor(self, name: str) -> Actor | None:
        async with self.db.transaction() as session:
            return await session.scalar(select(Actor).where(Actor.external_id == name))

    # -- set-up: the region, its committees and their plans -----------------------------------

    async def territory(self, name: str, kind: str, parent: str | None = None) -> int:
        parent_id = await self.territory_id(parent) if parent else None
        async with self.db.transaction() as session:
            territory = Territory(name=name, kind=TerritoryKind(kind), parent_id=parent_id)
            session.add(territory)
            await session.flush()
            return territory.id

    async def committee(self, name: str, territory: str | None = None) -> int:
        territory_id = await self.territory_id(territory) if territory else None
        async with self.db.transaction() as session:
            committee = Committee(name=name, territory_id=territory_id, created_at=self.clock.now())
            session.add(committee)
            await session.flush()
            return committee.id

    async def plan(
        self,
        title: str,
        *,
        reference: date,
        committee: str | None = None,
        territory: str | None = None,
        coach: str | None = None,
        theme: str = "",
    ) -> int:
        """A plan entered by hand (tables are imported with bot.plans.importer)."""
        plan = ActionPlan(
            title=title,
            theme=theme,
            reference_date=reference,
            committee_id=await self.committee_id(committee) if committee else None,
            territory_id=await self.territory_id(territory) if territory else None,
            coach_id=self[coach].id if coach else None,
            created_at=self.clock.now(),
        )
        async with self.db.transaction() as session:
            session.add(plan)
            await session.flush()
            return plan.id

    async def commitment(
        self,
        plan: str,
        what: str,
        *,
        due: date | None = None,
        owner: str | None = None,
        **fields: object,
    ) -> int:
        """A row of the plan titled `plan`, after its others; `owner`: a declared person,
        `owner_text`: a name not linked to anyone; other fields as in `Commitment`."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            plan_id = await session.scalar(select(ActionPlan.id).where(ActionPlan.title == plan))
            assert plan_id is not None, f"no plan {plan!r}"
            last = await session.scalar(
                select(func.max(Commitment.position)).where(Commitment.plan_id == plan_id)
            )
            row = Commitment(
                plan_id=plan_id,
                position=(last or 0) + 1,
                what=what,
                due=due_to_storage(due)[0],
                owner_id=self[owner].id if owner else None,
                created_at=now,
                updated_at=now,
                **fields,
            )
            session.add(row)
            await session.flush()
            return row.id

    async def change_commitment(self, commitment_id: int, **values: object) -> None:
        """Change a row behind the bot's back (as if the table had said so). A `due` date or
        local date-time is stored as the importer stores it (`due_has_time` is left as is)."""
        if isinstance(values.get("due"), date):
            values["due"] = due_to_storage(values["due"])[0]  # type: ignore[arg-type]
        async with self.db.transaction() as session:
            await session.execute(
                update(Commitment).where(Commitment.id == commitment_id).values(**values)
            )

    async def territory_id(self, name: str) -> int:
        async with self.db.transaction() as session:
            found = await session.scalar(select(Territory.id).where(Territory.name == name))
        assert found is not None, f"no territory {name!r}"
        return found

    async def committee_id(self, name: str) -> int:
        async with self.db.transaction() as session:
            found = await session.scalar(select(Committee.id).where(Committee.name == name))
        assert found is not None, f"no committee {name!r}"
        return found
