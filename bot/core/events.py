"""What transports hand to the engine: one event per thing a person did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Sender:
    external_id: str  # the person's id on the channel
    display_name: str = ""
    language_code: str | None = None  # the client's UI language, a weak hint only


@dataclass(frozen=True)
class Attachment:
    kind: str  # "voice", "photo", "document", "audio", "video"
    file_id: str


@dataclass(frozen=True)
class Event:
    channel: str  # "telegram", "console", ...
    chat_id: str
    sender: Sender
    at: datetime
    text: str | None = None
    button: str | None = None  # callback data of a pressed button
    attachment: Attachment | None = None
    # Content the hotline cannot take (a sticker, a location...): its kind.
    unsupported: str | None = None
    # The transport's own id for the update, so a redelivery is not handled twice.
    update_id: str | None = None
