"""The python-telegram-bot 22 adapter: the plain `telegram.Bot`, no Application, no updater —
the runtime polls itself so that updates are stored before they are confirmed."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

# Opt in now to PTB's coming behaviour (time periods as timedelta): otherwise every 429
# logs a deprecation warning. Set before telegram is imported, which reads it.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.error import RetryAfter as PtbRetryAfter
from telegram.request import HTTPXRequest

from bot.core.effects import (
    CAPTIONLESS,
    FILE_KINDS,
    Effect,
    Keyboard,
    SendDocument,
    SendFile,
    SendMessage,
    SendPhoto,
)
from bot.transports.delivery import Blocked, Rejected, RetryAfter, Transient

PARSE_MODE = "HTML"
_FILE_REFUSED = re.compile(r"not found|too large|\((404|413)\)", re.IGNORECASE)


def _markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons]
    )


def _seconds(error: PtbRetryAfter) -> float:
    value = error._retry_after  # the timedelta, without the int/timedelta deprecation dance
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PtbAdapter:
    name = "ptb"

    def __init__(self, token: str, base_url: str | None = None) -> None:
        root = (base_url or "https://api.telegram.org").rstrip("/")
        self.bot = Bot(
            token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=HTTPXRequest(connection_pool_size=32),
            get_updates_request=HTTPXRequest(),
        )
        self._ready = False

    async def _init(self) -> None:
        if not self._ready:
            await self.bot.initialize()
            self._ready = True

    async def get_me(self) -> str:
        await self._init()
        return self.bot.username

    async def get_updates(self, offset: int | None, long_poll: int) -> list[dict[str, Any]]:
        await self._init()
        updates = await self.bot.get_updates(
            offset=offset,
            timeout=long_poll,
            read_timeout=long_poll + 10,
            allowed_updates=["message", "callback_query"],
        )
        return [update.to_dict() for update in updates]

    async def send(self, effect: Effect) -> str | None:
        await self._init()
        markup = _markup(effect.buttons)
        try:
            if isinstance(effect, SendFile):
                sent = await self._send_file(effect, markup)
            elif isinstance(effect, SendPhoto):
                sent = await self.bot.send_photo(
                    effect.chat_id,
                    InputFile(effect.png, filename="picture.png"),
                    caption=effect.caption or None,
                    parse_mode=PARSE_MODE,
                    reply_markup=markup,
                )
            elif isinstance(effect, SendDocument):
                sent = await self.bot.send_document(
                    effect.chat_id,
                    InputFile(effect.content, filename=effect.filename),
                    caption=effect.caption or None,
                    parse_mode=PARSE_MODE,
                    reply_markup=markup,
                )
            else:
                sent = await self.bot.send_message(
                    effect.chat_id, effect.text, parse_mode=PARSE_MODE, reply_markup=markup
                )
        except PtbRetryAfter as error:
            raise RetryAfter(_seconds(error)) from error
        except Forbidden as error:
            raise Blocked(str(error)) from error
        except BadRequest as error:  # a subclass of NetworkError: caught first
            raise Rejected(str(error)) from error
        except (InvalidToken, NetworkError) as error:
            # A file's own refusal (404 for it, 413 too large) is PTB's InvalidToken or a
            # NetworkError: told apart by the status in the message, for files only.
            if not isinstance(effect, SendMessage) and _FILE_REFUSED.search(str(error)):
                raise Rejected(str(error)) from error
            raise Transient(str(error)) from error
        except TelegramError as error:
            raise Transient(str(error)) from error
        return str(sent.message_id)

    async def _send_file(self, effect: SendFile, markup: InlineKeyboardMarkup | None) -> Message:
        """send_photo, send_document, send_voice... with the file id string: no upload."""
        method = getattr(self.bot, f"send_{effect.kind}", None)
        if effect.kind not in FILE_KINDS or method is None:
            raise Rejected(f"cannot send a file of kind {effect.kind!r}")
        if effect.kind in CAPTIONLESS:
            sent: Message = await method(effect.chat_id, effect.file_id, reply_markup=markup)
        else:
            sent = await method(
                effect.chat_id,
                effect.file_id,
                caption=effect.caption or None,
                parse_mode=PARSE_MODE,
                reply_markup=markup,
            )
        return sent

    async def answer_callback(self, callback_id: str) -> None:
        await self.bot.answer_callback_query(callback_id)

    async def set_commands(self, commands: list[tuple[str, str]], language: str | None) -> None:
        await self.bot.set_my_commands(
            [BotCommand(name, text) for name, text in commands], language_code=language
        )

    async def set_webhook(self, url: str, secret: str) -> None:
        await self._init()
        await self.bot.set_webhook(
            url, secret_token=secret, allowed_updates=["message", "callback_query"]
        )

    async def delete_webhook(self) -> None:
        await self._init()
        await self.bot.delete_webhook()

    async def close(self) -> None:
        if self._ready:
            await self.bot.shutdown()
