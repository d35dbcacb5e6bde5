"""Translations in three variants, loaded from the Babel catalogs under bot/locales.

Each variant folder may hold several .po files (one per feature); they are merged.
The catalogs are compiled in memory at start-up, so there is no build step to forget.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.core.clock import LOCAL_TZ

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
VARIANTS = ("fr", "ary", "ary-Latn")
DEFAULT_VARIANT = "fr"
# Folder names cannot carry the hyphen portably; Babel has no CLDR data for "ary",
# so dates and numbers use the nearest Moroccan locale.
_FOLDER = {"fr": "fr", "ary": "ary", "ary-Latn": "ary_Latn"}
_BABEL_LOCALE = {"fr": "fr_MA", "ary": "ar_MA", "ary-Latn": "fr_MA"}


def _compile(po_files: Iterable[Path]) -> Translations:
    merged: Translations | None = None
    for path in sorted(po_files):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        translations = Translations(buffer)
        if merged is None:
            merged = translations
        else:
            merged.merge(translations)
    return merged if merged is not None else Translations()


@cache
def _translations(variant: str) -> Translations:
    return _compile((LOCALES_DIR / _FOLDER[variant] / "LC_MESSAGES").glob("*.po"))


def reload_catalogs() -> None:
    _translations.cache_clear()


@dataclass(frozen=True)
class Translator:
    """Everything a reply needs to speak one variant."""

    variant: str

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}")

    def gettext(self, message: str, /, **params: object) -> str:
        text = _translations(self.variant).gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        text = _translations(self.variant).ngettext(singular, plural, n)
        return text.format(n=n, **params)

    @property
    def babel_locale(self) -> str:
        return _BABEL_LOCALE[self.variant]

    def date(self, value: date, fmt: str = "long") -> str:
        return format_date(value, format=fmt, locale=self.babel_locale)

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        return format_datetime(value, format=fmt, tzinfo=LOCAL_TZ, locale=self.babel_locale)


def translator(variant: str | None) -> Translator:
    return Translator(variant if variant in VARIANTS else DEFAULT_VARIANT)


def N_(message: str) -> str:
    """Marks a string for extraction where it is translated later."""
    return message
