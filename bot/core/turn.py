"""Everything one handled message needs: who, where, when, in which call, and how to answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, dataclass_transform

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.effects import Keyboard
from bot.core.i18n import Translator, translator
from bot.core.outbox import enqueue, enqueue_to
from bot.nlu import Understanding
from storage.models import Actor, Call, InboundMessage, OutboxMessage

if TYPE_CHECKING:
    from bot.core.engine import Engine


@dataclass_transform(frozen_default=True)
class FlowStart:
    """The typed parameters that start a flow: `turn.start_flow(ReportStart())`. Each flow
    has its own subclass, naming it; subclasses are frozen dataclasses."""

    flow: ClassVar[str]

    def __init_subclass__(cls, *, flow: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.flow = flow
        dataclasses.dataclass(frozen=True)(cls)


@dataclass
class FlowState:
    """The position of this chat in a flow; saved by the engine after the turn."""

    name: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


class Turn:
    def __init__(
        self,
        engine: Engine,
        session: AsyncSession,
        message: InboundMessage,
        actor: Actor,
        call: Call,
        now: datetime,
        understanding: Understanding | None,
        flow: FlowState | None,
        message_lang: str | None = None,
    ) -> None:
        self.engine = engine
        self.session = session
        self.message = message
        self.actor = actor
        self.call = call
        self.now = now
        self.understanding = understanding
        self.flow = flow
        # The variant of this message (or of this call so far) when identified with
        # confidence: replies to it use it, while the actor's stable language stays the
        # interface's (menus, reminders, cards).
        self.message_lang = message_lang
        self.sent: list[OutboxMessage] = []
        # Work run after this turn's transaction commits (a long task must not hold the
        # database's write lock); each returns the outbox rows it enqueued in its own one.
        self.deferred: list[Callable[[], Awaitable[list[OutboxMessage]]]] = []

    # -- language ---------------------------------------------------------------------------

    @property
    def lang(self) -> str:
        """The variant to answer in: the one chosen with /lang, else that of the message."""
        if self.actor.lang_chosen or self.message_lang is None:
            return self.actor.lang
        return self.message_lang

    @property
    def t(self) -> Translator:
        return translator(self.lang)

    def _(self, message: str, /, **params: object) -> str:
        return self.t.gettext(message, **params)

    @property
    def text(self) -> str:
        return (self.message.text or "").strip()

    # -- answering --------------------------------------------------------------------------

    async def reply(self, text: str, buttons: Keyboard = ()) -> None:
        self.sent += await enqueue(
            self.session,
            channel=self.message.channel,
            chat_id=self.message.chat_id,
            text=text,
            buttons=buttons,
            now=self.now,
            actor_id=self.actor.id,
            call_id=self.call.id,
            cause_id=self.message.id,
        )

    async def reply_photo(self, png: bytes, caption: str = "", buttons: Keyboard = ()) -> None:
        self.sent += await enqueue(
            self.session,
            channel=self.message.channel,
            chat_id=self.message.chat_id,
            text=caption,
            photo=png,
            buttons=buttons,
            now=self.now,
            actor_id=self.actor.id,
            call_id=self.call.id,
            cause_id=self.message.id,
        )

    async def reply_document(
        self, filename: str, content: bytes, caption: str = "", buttons: Keyboard = ()
    ) -> None:
        self.sent += await enqueue(
            self.session,
            channel=self.message.channel,
            chat_id=self.message.chat_id,
            text=caption,
            document=(filename, content),
            buttons=buttons,
            now=self.now,
            actor_id=self.actor.id,
            call_id=self.call.id,
            cause_id=self.message.id,
        )

    async def send_to(
        self, actor: Actor, text: str, buttons: Keyboard = (), dedup_key: str | None = None
    ) -> None:
        """A message to someone else (a coach, a committee member), already in their variant."""
        self.sent += await enqueue_to(
            self.session,
            actor,
            text,
            buttons=buttons,
            now=self.now,
            cause_id=self.message.id,
            dedup_key=dedup_key,
        )

    # -- flows ------------------------------------------------------------------------------

    async def start_flow(self, params: FlowStart) -> None:
        """Leave any current flow and start the one `params` names at its first step."""
        flow = self.engine.routes.flows[params.flow]
        self.flow = FlowState(name=params.flow, step="start", data={})
        await flow.start(self, params)

    def goto(self, step: str) -> None:
        if self.flow is None:
            raise RuntimeError("goto outside a flow")
        flow = self.engine.routes.flows.get(self.flow.name)
        if flow is not None and step not in flow.handlers:
            raise ValueError(f"flow {self.flow.name} declares no step {step!r}")
        self.flow.step = step

    def end_flow(self) -> None:
        self.flow = None

    # -- dispatch back into the engine (e.g. after the framework is acknowledged) -----------

    async def dispatch_intent(self, intent: str) -> None:
        await self.engine.dispatch_intent(self, intent)
