"""Golden transcripts: readable conversations replayed against the real engine.

A transcript is its own expected output. The runner reads the input lines, plays them,
and writes the transcript again with what the hotline actually said; the test compares
the two. `UPDATE_GOLDEN=1 make test` rewrites the files after an intended change.

Input lines:
    # comment                       kept as is
    at 2026-11-23 10:00             set the clock (local time, Africa/Casablanca)
    wait 31m | 2h | 3d              move the clock
    actor NAME role=coach lang=fr   declare someone before they speak (lang: chosen with
                                    /lang; app=ar: only their app's language)
    NAME: some text                 NAME writes
    NAME presses: Label             NAME presses the button with that label, last shown to them
    NAME sends: voice | photo | document | sticker
    NAME sends: photo le puits      a file with a caption; files are "file-photo-1",
                                    "file-photo-2"... in the order they are sent
    NAME writes 5000 characters     an oversized message
    crash                           the next message is stored, then the process dies
    restart                         a new engine on the same database file
    sql: SELECT ...                 the query's rows, written as "=> ..." on the next line
                                    (checks only: set-up goes through the verbs below)
    scan                            run every periodic scan (bot.app.periodic_jobs) once at
                                    the player's clock, then deliver what they enqueued
    scan sla | reminders | digest | weekly | retention
                                    run only these scans (several may follow `scan`)
    import FILE reference=YYYY-MM-DD title="..." committee="..." coach=NAME members=a,b
           owners="Comité TS=rachida"
                                    import a plan table (path from the repository root) with
                                    bot.plans.importer; members join the committee; owners
                                    links rows whose owner text is exactly that to an actor
                                    (what a coach does for a pending owner)
Set-up verbs (tests/driver.py does the work; names in quotes, people by their actor name):
    given region | province | commune | douar "NAME" [in "PARENT"]
                                    a territory, under another one
    given NAME is in "TERRITORY"    the person's territory (an actor's, or a coach's own)
    given NAME covers "TERRITORY"   a coach covers it and everything under it
    given NAME is coordinator       the coach cases escalate to
    given NAME is on duty           reached by emergencies at any hour
    given committee "NAME" [in "TERRITORY"]
    given NAME is member of "COMMITTEE"
    given plan "TITLE" reference DATE [committee "C"] [territory "T"] [coach NAME]
               [theme WORD]         a plan entered by hand
    given plan "TITLE" has commitment "WHAT" [due DATE] [owner NAME] [FIELD VALUE...]
                                    a row after the plan's others; FIELD is a column of
                                    Commitment (where, due_text, owner_text, deliverables,
                                    status...)
    given commitment N is STATUS    a row's status changed behind the bot's back
    given commitment N is due DATE[THH:MM] written "TEXT"
                                    a row's deadline (local), and how the table wrote it
Invitation tokens are "token1", "token2"... in transcripts, so that deep links are stable.
Output lines (written by the runner, replaced on each run):
    bot → NAME:                     a message to NAME,
      | [file: voice file-voice-1]  a file sent on by its id (kind, id), caption below,
      | text                        its text, line by line (HTML as sent to Telegram),
      [Label] [Label]               its buttons, one line per row.
    => value                        result of the sql line above.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text, update

from bot.app import build_engine
from bot.core.clock import LOCAL_TZ, ManualClock
from bot.core.config import Settings
from bot.core.effects import Button, Effect, SendDocument, SendFile, SendPhoto, body
from bot.core.engine import Engine
from bot.core.events import Attachment
from bot.core.outbox import deliver_pending
from bot.nlu import Understander
from bot.plans import importer
from storage.db import Database
from storage.models import (
    Actor,
    Commitment,
    CommitmentStatus,
    Role,
    TerritoryKind,
)
from tests.driver import CHANNEL, Hotline

REPO = Path(__file__).resolve().parent.parent.parent
_WAIT = re.compile(r"^wait (\d+)([mhd])$")
_SAYS = re.compile(r"^([\w-]+): (.*)$")
_PRESSES = re.compile(r"^([\w-]+) presses: (.*)$")
_SENDS = re.compile(r"^([\w-]+) sends: (\w+)(?: (.+))?$")
_LONG = re.compile(r"^([\w-]+) writes (\d+) characters$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_ATTACHMENTS = {"voice", "photo", "document", "audio", "video"}


@dataclass
class Player:
    settings: Settings
    understander: Understander
    clock: ManualClock = field(
        default_factory=lambda: ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_TZ))
    )
    out: list[str] = field(default_factory=list)
    buttons: dict[str, list[Button]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # chat id -> name
    crash_next: bool = False
    files: dict[str, int] = field(default_factory=dict)  # kind -> files sent so far
    hotline: Hotline | None = None

    def __post_init__(self) -> None:
        # Invitation tokens read the same on every run (token1, token2...), restarts included.
        tokens = itertools.count(1)
        self.settings = replace(self.settings, new_token=lambda: f"token{next(tokens)}")

    @property
    def engine(self) -> Engine:
        assert self.hotline is not None
        return self.hotline.engine

    async def play(self, source: str) -> str:
        engine = build_engine(
            self.settings,
            clock=self.clock,
            db=Database(self.settings.database_url),
            understander=self.understander,
        )
        self.hotline = Hotline(engine)
        try:
            for line in source.splitlines():
                await self.line(line.rstrip())
        finally:
            await self.engine.db.dispose()
        return "\n".join(self.out).rstrip() + "\n"

    async def line(self, line: str) -> None:
        stripped = line.strip()
        if line.startswith(("  |", "  [", "=>")) or stripped.startswith("bot → "):
            return  # output of the previous run: regenerated below
        self.out.append(line)
        if not stripped or stripped.startswith("#"):
            return
        if stripped.startswith("at "):
            local = datetime.strptime(stripped[3:], "%Y-%m-%d %H:%M").replace(tzinfo=LOCAL_TZ)
            self.clock.set(local)
        elif match := _WAIT.match(stripped):
            self.clock.advance(timedelta(**{_UNITS[match[2]]: int(match[1])}))
        elif stripped.startswith("actor "):
            await self.declare(shlex.split(stripped)[1:])
        elif stripped == "crash":
            self.crash_next = True
        elif stripped == "restart":
            assert self.hotline is not None
            await self.hotline.restart()
            await self.deliver()
        elif stripped == "scan" or stripped.startswith("scan "):
            await self.scan(stripped.split()[1:])
        elif stripped.startswith("given "):
            await self.given(shlex.split(stripped)[1:])
        elif stripped.startswith("import "):
            await self.import_plan(shlex.split(stripped)[1:])
        elif stripped.startswith("sql: "):
            await self.query(stripped[5:])
        elif match := _PRESSES.match(stripped):
            label = match[2]
            # Like in Telegram, buttons of older messages can still be pressed: latest first.
            found = [b for b in reversed(self.buttons.get(match[1], [])) if b.label == label]
            if not found:
                raise AssertionError(f"no button {label!r} shown to {match[1]}")
            await self.send(match[1], button=found[0].data)
        elif match := _SENDS.match(stripped):
            kind = match[2]
            if kind in _ATTACHMENTS:
                self.files[kind] = self.files.get(kind, 0) + 1
                file = Attachment(kind, f"file-{kind}-{self.files[kind]}")
                await self.send(match[1], attachment=file, text=match[3])
            else:
                await self.send(match[1], unsupported=kind)
        elif match := _LONG.match(stripped):
            await self.send(match[1], text="a" * int(match[2]))
        elif match := _SAYS.match(stripped):
            await self.send(match[1], text=match[2])
        else:
            raise AssertionError(f"cannot read transcript line: {line!r}")

    async def declare(self, words: list[str]) -> None:
        name, options = words[0], dict(word.split("=", 1) for word in words[1:])
        assert self.hotline is not None
        await self.hotline.person(
            name,
            Role(options.get("role", "actor")),
            # app=: the language of their Telegram app, a hint they did not choose.
            lang=options.get("lang", _app_lang(options.get("app", ""))),
            lang_chosen="lang" in options,
            display_name=options.get("name"),
        )
        self.names[name] = name

    async def given(self, words: list[str]) -> None:
        """The set-up verbs listed at the top of this file."""
        assert self.hotline is not None
        hotline, head = self.hotline, words[0]
        if head in {kind.value for kind in TerritoryKind}:
            parent = words[3] if words[2:3] == ["in"] else None
            await hotline.territory(words[1], head, parent)
        elif head == "committee":
            await hotline.committee(words[1], words[3] if words[2:3] == ["in"] else None)
        elif head == "plan" and words[2:4] == ["has", "commitment"]:
            options = _pairs(words[5:])
            due = options.pop("due", None)
            await hotline.commitment(
                words[1], words[4], due=date.fromisoformat(due) if due else None, **options
            )
        elif head == "plan":
            options = _pairs(words[2:])
            reference = date.fromisoformat(options.pop("reference"))
            await hotline.plan(words[1], reference=reference, **options)
        elif head == "commitment" and words[2:4] == ["is", "due"]:
            assert words[5] == "written", words
            due = (
                datetime.fromisoformat(words[4])
                if "T" in words[4]
                else date.fromisoformat(words[4])
            )
            await hotline.change_commitment(int(words[1]), due=due, due_text=words[6])
        elif head == "commitment":
            assert words[2] == "is" and len(words) == 4, words
            await hotline.change_commitment(int(words[1]), status=CommitmentStatus(words[3]))
        else:
            person, verb = hotline[head], words[1:]
            if verb[:1] == ["covers"]:
                await person.covers(verb[1])
            elif verb[:3] == ["is", "member", "of"]:
                await person.joins(verb[3])
            elif verb == ["is", "coordinator"]:
                await person.becomes_coordinator()
            elif verb == ["is", "on", "duty"]:
                await person.goes_on_duty()
            elif verb[:2] == ["is", "in"]:
                await person.located_in(verb[2])
            else:
                raise AssertionError(f"no set-up verb: given {shlex.join(words)}")

    async def import_plan(self, words: list[str]) -> None:
        path, options = REPO / words[0], dict(word.split("=", 1) for word in words[1:])
        async with self.engine.db.transaction() as session:
            coach = None
            if "coach" in options:
                coach = await session.scalar(
                    select(Actor).where(Actor.external_id == options["coach"])
                )
            report = await importer.import_plan(
                session,
                path,
                importer.PlanOptions(
                    title=options.get("title", path.stem),
                    reference=date.fromisoformat(options["reference"]),
                    committee=options.get("committee"),
                    territory=options.get("territory"),
                    coach=coach,
                ),
                now=self.clock.now(),
            )
            assert report.valid, report.to_json()
            for link in filter(None, options.get("owners", "").split(",")):
                owner_text, _, name = link.partition("=")
                actor = await session.scalar(select(Actor).where(Actor.external_id == name))
                assert actor is not None, name
                await session.execute(
                    update(Commitment)
                    .where(
                        Commitment.plan_id == report.plan_id,
                        Commitment.owner_text == owner_text,
                    )
                    .values(owner_id=actor.id)
                )
        assert self.hotline is not None
        for name in filter(None, options.get("members", "").split(",")):
            assert "committee" in options, "members need committee="
            await self.hotline[name].joins(options["committee"])

    async def send(self, name: str, **content: object) -> None:
        assert self.hotline is not None
        self.names[name] = name
        person = self.hotline[name]
        if self.crash_next:
            self.crash_next = False
            await person.stores(**content)
            return
        await person.send(**content)
        await self.deliver()

    async def deliver(self) -> None:
        await deliver_pending(self.engine.db, self.clock, CHANNEL, self.show)

    async def show(self, effect: Effect) -> str:
        name = self.names.get(effect.chat_id, effect.chat_id)
        self.out.append(f"bot → {name}:")
        if isinstance(effect, SendPhoto):
            kind = "PNG" if effect.png.startswith(b"\x89PNG") else "not a PNG"
            self.out.append(f"  | [picture: {kind}]")
        elif isinstance(effect, SendDocument):
            self.out.append(f"  | [file: {effect.filename}]")
        elif isinstance(effect, SendFile):
            self.out.append(f"  | [file: {effect.kind} {effect.file_id}]")
        for text_line in body(effect).splitlines() or [""]:
            self.out.append(f"  | {text_line}".rstrip())
        if effect.buttons:
            self.buttons.setdefault(name, []).extend(b for row in effect.buttons for b in row)
            for row in effect.buttons:
                self.out.append("  " + " ".join(f"[{button.label}]" for button in row))
        return str(len(self.out))

    async def scan(self, names: list[str]) -> None:
        assert self.hotline is not None
        await self.hotline.scan(*names)
        await self.deliver()

    async def query(self, sql: str) -> None:
        async with self.engine.db.transaction() as session:
            result = await session.execute(text(sql))
            if not result.returns_rows:
                return
            rows = result.all()
        self.out.append("=> " + "; ".join(", ".join(_cell(v) for v in row) for row in rows))


def _pairs(words: list[str]) -> dict[str, str]:
    """`key value key value...` as a dict."""
    assert len(words) % 2 == 0, words
    return dict(zip(words[::2], words[1::2], strict=True))


def _app_lang(app: str) -> str:
    return "ary" if app.startswith("ar") else "fr"


def _cell(value: object) -> str:
    """A value written the same whatever the database (SQLite returns text and 0/1)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, dict | list):  # PostgreSQL hands JSON back parsed, SQLite as text
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return str(value)


async def replay(path: Path, settings: Settings, understander: Understander) -> str:
    return await Player(settings, understander).play(path.read_text(encoding="utf-8"))
