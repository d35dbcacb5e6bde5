"""The aiogram 3 adapter: Bot API calls through aiogram, errors as `bot.transports.delivery`'s."""

from __future__ import annotations

from typing import Any

from bot.transports.aiogram_import import import_aiogram

# First: aiogram's models are then built when used, not all at import (see the module).
import_aiogram()

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

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


def _markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.label, callback_data=b.data) for b in row]
            for row in buttons
        ]
    )


def _dump(update: Update) -> dict[str, Any]:
    return update.model_dump(mode="json", by_alias=True, exclude_none=True)


class AiogramAdapter:
    name = "aiogram"

    def __init__(self, token: str, base_url: str | None = None) -> None:
        api = TelegramAPIServer.from_base(base_url) if base_url else None
        session = AiohttpSession(api=api) if api else AiohttpSession()
        self.bot = Bot(token, session=session)

    async def get_me(self) -> str:
        me = await self.bot.get_me()
        return me.username or ""

    async def get_updates(self, offset: int | None, long_poll: int) -> list[dict[str, Any]]:
        updates = await self.bot.get_updates(
            offset=offset,
            timeout=long_poll,
            allowed_updates=["message", "callback_query"],
            request_timeout=long_poll + 10,
        )
        return [_dump(update) for update in updates]

    async def send(self, effect: Effect) -> str | None:
        chat_id = int(effect.chat_id)
        markup = _markup(effect.buttons)
        try:
            if isinstance(effect, SendFile):
                sent = await self._send_file(chat_id, effect, markup)
            elif isinstance(effect, SendPhoto):
                sent = await self.bot.send_photo(
                    chat_id,
                    BufferedInputFile(effect.png, "picture.png"),
                    caption=effect.caption or None,
                    parse_mode=PARSE_MODE,
                    reply_markup=markup,
                )
            elif isinstance(effect, SendDocument):
                sent = await self.bot.send_document(
                    chat_id,
                    BufferedInputFile(effect.content, effect.filename),
                    caption=effect.caption or None,
                    parse_mode=PARSE_MODE,
                    reply_markup=markup,
                )
            else:
                sent = await self.bot.send_message(
                    chat_id, effect.text, parse_mode=PARSE_MODE, reply_markup=markup
                )
        except TelegramRetryAfter as error:
            raise RetryAfter(float(error.retry_after)) from error
        except TelegramForbiddenError as error:
            raise Blocked(str(error)) from error
        except TelegramBadRequest as error:
            raise Rejected(str(error)) from error
        except (TelegramNotFound, TelegramEntityTooLarge) as error:
            if isinstance(effect, SendMessage):
                raise Transient(str(error)) from error
            raise Rejected(str(error)) from error  # this file: not found, too large
        except (TelegramServerError, TelegramNetworkError, TelegramAPIError) as error:
            raise Transient(str(error)) from error
        return str(sent.message_id)

    async def _send_file(
        self, chat_id: int, effect: SendFile, markup: InlineKeyboardMarkup | None
    ) -> Message:
        """send_photo, send_document, send_voice... with the file id string: no upload."""
        method = getattr(self.bot, f"send_{effect.kind}", None)
        if effect.kind not in FILE_KINDS or method is None:
            raise Rejected(f"cannot send a file of kind {effect.kind!r}")
        if effect.kind in CAPTIONLESS:
            sent: Message = await method(chat_id, effect.file_id, reply_markup=markup)
        else:
            sent = await method(
                chat_id,
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
            [BotCommand(command=name, description=text) for name, text in commands],
            language_code=language,
        )

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(
            url, secret_token=secret, allowed_updates=["message", "callback_query"]
        )

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook()

    async def close(self) -> None:
        await self.bot.session.close()
