"""Formatting helpers for Telegram's HTML parse mode and its message size limit."""

from __future__ import annotations

import html
import re

MESSAGE_LIMIT = 4096

_TAG = re.compile(r"</?[a-z]+[^>]*>")


def escape(text: str) -> str:
    """User text shown to anyone goes through here."""
    return html.escape(text, quote=False)


def to_plain(text: str) -> str:
    """Strip the HTML subset we use, for transports without formatting."""
    return html.unescape(_TAG.sub("", text))


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut a long text into parts under the limit, at paragraph, line or word boundaries."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
