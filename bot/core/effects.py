"""What the engine asks transports to do. Every effect is first stored in the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.telegram_html import button_label

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit
LABEL_LIMIT = 128  # UTF-16 units: a safeguard, labels are plain text cut shorter where built


@dataclass(frozen=True)
class Button:
    label: str
    data: str

    def __post_init__(self) -> None:
        # Labels are plain text (never HTML-escaped), on one line, of a bounded length.
        object.__setattr__(self, "label", button_label(self.label, LABEL_LIMIT))
        if len(self.data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {self.data!r}")


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class SendMessage:
    channel: str
    chat_id: str
    text: str  # Telegram HTML: user text inside is already escaped
    buttons: Keyboard = ()
    outbox_id: int | None = None


@dataclass(frozen=True)
class SendPhoto:
    channel: str
    chat_id: str
    png: bytes = field(repr=False)
    caption: str = ""
    buttons: Keyboard = ()
    outbox_id: int | None = None


@dataclass(frozen=True)
class SendDocument:
    channel: str
    chat_id: str
    content: bytes = field(repr=False)
    filename: str = "document"
    caption: str = ""
    buttons: Keyboard = ()
    outbox_id: int | None = None


@dataclass(frozen=True)
class SendFile:
    """A file Telegram already holds, sent again by its file id (nothing is downloaded).

    How a coach's voice note reaches an actor and back. A file id is only valid on the
    channel (and bot) it came from: a transport that cannot deliver it shows a line instead.
    """

    channel: str
    chat_id: str
    kind: str  # one of FILE_KINDS
    file_id: str
    caption: str = ""
    buttons: Keyboard = ()
    outbox_id: int | None = None


# What a person can send us and we can send on: the Bot API method of each is send_<kind>
# (a file id only works with the method of its own type: a video note is not a video).
FILE_KINDS = ("photo", "document", "voice", "audio", "video", "video_note")
CAPTIONLESS = frozenset({"video_note"})  # Telegram takes no caption with these

Effect = SendMessage | SendPhoto | SendDocument | SendFile


def body(effect: Effect) -> str:
    """The text a person reads: the message itself, or a file's caption."""
    return effect.text if isinstance(effect, SendMessage) else effect.caption


def keyboard_to_json(buttons: Keyboard) -> list[list[dict[str, str]]] | None:
    return [[{"label": b.label, "data": b.data} for b in row] for row in buttons] or None


def keyboard_from_json(rows: list[list[dict[str, str]]] | None) -> Keyboard:
    return tuple(tuple(Button(b["label"], b["data"]) for b in row) for row in rows or [])
