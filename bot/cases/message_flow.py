"""Flows that take one message (text or file) from a person, or a press on Cancel."""

from __future__ import annotations

from typing import ClassVar, TypedDict

from bot.core.callback import CallbackData
from bot.core.flow import Flow, StartT, step
from bot.core.i18n import N_
from bot.core.turn import Turn
from storage.models import InboundKind


def attachment_of(turn: Turn) -> tuple[str, str] | None:
    """(kind, file id) of the file this message carries, if any."""
    m = turn.message
    if m.kind == InboundKind.ATTACHMENT and m.file_id:
        return (m.attachment_kind or "file", m.file_id)
    return None


class MessageState(TypedDict, total=False):
    case: int  # the case the message is about


class OneMessageFlow(Flow[StartT, MessageState]):
    """Start with an optional case number (`begin`), ask with `prompt`, hand the answer to
    `take`."""

    left_text = N_("All right, nothing was sent.")
    cancel_button: ClassVar[type[CallbackData]]  # "<flow>:cancel"

    async def start(self, turn: Turn, params: StartT) -> None:
        await self.begin(turn, None)

    async def begin(self, turn: Turn, case_id: int | None) -> None:
        """Ask for the message, about the case `case_id` if any."""
        assert turn.flow is not None
        self.save(turn, {"case": case_id} if case_id is not None else {})
        turn.goto("message")
        await self.prompt(turn)

    @step("message")
    async def on_message(self, turn: Turn) -> None:
        if self.cancel_button.unpack(turn.message.button) is not None:
            turn.end_flow()
            await turn.reply(turn._(self.left_text))
            return
        file = attachment_of(turn)
        if file is None and not turn.text:
            await self.prompt(turn)
            return
        await self.take(turn, file)

    async def take(self, turn: Turn, file: tuple[str, str] | None) -> None:
        raise NotImplementedError
