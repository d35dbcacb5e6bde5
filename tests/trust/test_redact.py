"""Secrets never reach the logs, tracebacks included."""

from __future__ import annotations

import io
import logging

from bot.core.redact import REDACTED, install

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_token_and_passwords_are_redacted_in_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("redact-test")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    install([TOKEN, "s3cret-webhook"], logger)
    logger.warning("GET https://api.telegram.org/bot%s/getUpdates", TOKEN)
    logger.warning("secret header %s", "s3cret-webhook")
    try:
        raise RuntimeError("cannot reach postgresql://hotline:hunter2@db/hotline")
    except RuntimeError:
        logger.exception("failed")
    logger.removeHandler(handler)
    written = stream.getvalue()
    assert TOKEN not in written and "s3cret-webhook" not in written and "hunter2" not in written
    assert written.count(REDACTED) >= 3


def test_unknown_telegram_tokens_are_redacted_too() -> None:
    from bot.core.redact import RedactingFilter

    assert TOKEN not in RedactingFilter().redact(f"url /bot{TOKEN}/sendMessage")
