"""Keep secrets out of the logs.

Libraries log request URLs, and Telegram's carry the bot token (`/bot<token>/getUpdates`);
exceptions may quote database URLs. A filter on every root handler rewrites each record,
its traceback included, before any handler writes it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
_TELEGRAM_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _TELEGRAM_TOKEN.sub(REDACTED, text)
        return _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install(secrets: Iterable[str | None] = (), logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of the root logger (handlers see every record)."""
    target = logger or logging.getLogger()
    redacting = RedactingFilter(secrets)
    for handler in target.handlers:
        handler.addFilter(redacting)
