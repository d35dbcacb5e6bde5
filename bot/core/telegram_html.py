"""Formatting helpers for Telegram's HTML parse mode and its size limits.

Telegram counts lengths in UTF-16 code units (an emoji outside the BMP is two), after parsing
the HTML: every limit here is checked in those units on the raw text, which is never shorter.
"""

from __future__ import annotations

import html
import re
import unicodedata

MESSAGE_LIMIT = 4096  # UTF-16 units of a message's text
CAPTION_LIMIT = 1024  # UTF-16 units of a file's caption
BUTTON_LABEL_LIMIT = 60  # ours: a longer label is cut by the clients anyway

_TAG = re.compile(r"</?[a-z]+[^>]*>")
_TAG_PARTS = re.compile(r"<(/?)([a-z-]+)[^>]*>")
# Characters that change how the rest of a line is shown (bidi overrides, embeddings and
# isolates) or are invisible (zero-width space, word joiner, BOM): a name or message using them
# can show a coach something other than what it says. ZWJ/ZWNJ stay: scripts and emoji need them.
_INVISIBLE = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x2060, 0xFEFF, 0x180E]
)


def escape(text: str) -> str:
    """User text shown to anyone goes through here."""
    return html.escape(text, quote=False)


def to_plain(text: str) -> str:
    """Strip the HTML subset we use, for transports without formatting."""
    return html.unescape(_TAG.sub("", text))


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def clean(text: str, *, one_line: bool = False) -> str:
    """What people send, made safe to store and show: no NUL (PostgreSQL refuses it), no
    control characters but line breaks and tabs, no bidi overrides or zero-width spaces."""
    if text.isprintable():  # the usual case, checked in C: none of those characters is
        return " ".join(text.split()) if one_line else text
    text = text.translate(_INVISIBLE)
    kept = []
    for char in text:
        if char in "\n\t" and not one_line:
            kept.append(char)
        elif unicodedata.category(char) == "Cc":
            kept.append(" " if char in "\n\r\t" else ("\ufffd" if char == "\x00" else ""))
        else:
            kept.append(char)
    out = "".join(kept)
    return " ".join(out.split()) if one_line else out


def _fit(text: str, units: int) -> int:
    """How many characters of `text` fit in `units` UTF-16 units."""
    total = 0
    for index, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > units:
            return index
    return len(text)


def clip(text: str, units: int) -> str:
    """Plain text cut to `units` UTF-16 units, with an ellipsis when cut. Cut before escaping."""
    if utf16_len(text) <= units:
        return text
    return text[: _fit(text, units - 1)].rstrip() + "…"


def escape_clip(text: str, units: int) -> str:
    """User text cut to a length, then escaped: never a broken entity such as ``&am``."""
    return escape(clip(text, units))


def button_label(text: str, units: int = BUTTON_LABEL_LIMIT) -> str:
    """A button label: plain text (no HTML, no entities), one line, cut to a length."""
    return clip(clean(text, one_line=True), units)


def _safe_cut(window: str, cut: int) -> int:
    """Move a cut back out of an HTML tag or entity it would split."""
    head = window[:cut]
    lt, gt = head.rfind("<"), head.rfind(">")
    if lt > gt:
        cut = lt
        head = window[:cut]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:] and cut - amp <= 10:
        cut = amp
    return cut


def _open_tags(text: str, opened: list[str]) -> list[str]:
    """The tags still open at the end of `text`, given those open at its start."""
    stack = list(opened)
    for match in _TAG_PARTS.finditer(text):
        closing, name = match.group(1), match.group(2)
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if _TAG_PARTS.match(stack[i]).group(2) == name:  # type: ignore[union-attr]
                    del stack[i]
                    break
        else:
            stack.append(match.group(0))
    return stack


def _closing(tags: list[str]) -> str:
    return "".join(f"</{_TAG_PARTS.match(t).group(2)}>" for t in reversed(tags))  # type: ignore[union-attr]


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut a long text into parts under the limit (UTF-16 units), at paragraph, line or word
    boundaries, never inside a tag or an entity; a tag open at a cut is closed and reopened."""
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    opened: list[str] = []
    while True:
        prefix = "".join(opened)
        if utf16_len(prefix) + utf16_len(rest) <= limit:
            parts.append(prefix + rest)
            break
        reserve = 64 if "<" in rest else 0  # room for the closing tags
        size = _fit(rest, limit - utf16_len(prefix) - reserve)
        window = rest[:size]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < size // 2:
            cut = window.rfind(" ")
        if cut < size // 2:
            cut = size
        cut = _safe_cut(window, cut) or size
        piece = rest[:cut].rstrip()
        still_open = _open_tags(piece, opened)
        parts.append(prefix + piece + _closing(still_open))
        opened = still_open
        rest = rest[cut:].lstrip()
        if not rest:
            break
    return [p for p in parts if to_plain(p).strip()] or parts[:1]
