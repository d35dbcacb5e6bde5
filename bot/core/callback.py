"""Typed callback data: what a button carries back when it is pressed.

In the spirit of aiogram's `CallbackData`, without any transport: one class per kind of
button declares its prefix and its typed fields, and its data travels as
"<prefix>:<field>:<field>...". `pack()` refuses a value holding the separator and data over
Telegram's 64 bytes; `unpack()` gives the typed object back, or None for data that is not of
this kind or is forged or stale (a wrong prefix, a missing or extra part, a non-digit id, a
value outside its choices), so a handler only ever sees well-formed data.

    class Reminder(CallbackData, prefix="rem"):
        answer: Literal["done", "later", "blocked"]
        commitment_id: int

    Reminder("done", 12).pack() == "rem:done:12"

Field types: `int` (ASCII digits only), `str` (not empty), `bool` ("1"/"0"), a `StrEnum`,
a `Literal` of strings, and any of them `| None`. Fields with a default may be left out at the
end of the data (a trailing None is not written), which keeps the short forms of the wire
format ("case:take:5" beside "case:to:5:7"); a None in the middle is written empty.
A prefix may hold several parts ("cedit:a"): one kind per shape of button.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Literal, Self, dataclass_transform

SEPARATOR = ":"
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8: Telegram's limit
_DIGITS = re.compile(r"[0-9]{1,18}")


class CallbackDataError(ValueError):
    """Data that cannot be packed, or that is not a well-formed button of a kind."""


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    parse: Callable[[str], Any]  # raises ValueError on a value outside the field's type
    optional: bool  # None is a value
    has_default: bool


@dataclass_transform(frozen_default=True)
class CallbackData:
    """The base of every kind of button; subclasses are frozen dataclasses."""

    prefix: ClassVar[str]
    __fields: ClassVar[tuple[_Field, ...] | None] = None

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or any(not part for part in prefix.split(SEPARATOR)):
            raise TypeError(f"{cls.__name__}: a prefix of non-empty parts is needed")
        cls.prefix = prefix
        cls.__fields = None
        dataclasses.dataclass(frozen=True)(cls)

    # -- packing ----------------------------------------------------------------------------

    def pack(self) -> str:
        parts = [self.prefix]
        values = [_encode(self, f, getattr(self, f.name)) for f in self._fields()]
        while values and values[-1] is None and self._fields()[len(values) - 1].has_default:
            values.pop()  # trailing defaults are left out: the short wire forms
        parts += ["" if v is None else v for v in values]
        data = SEPARATOR.join(parts)
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise CallbackDataError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {data!r}")
        return data

    @classmethod
    def parse(cls, data: str) -> Self:
        """The typed button of this kind, or CallbackDataError."""
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise CallbackDataError("callback data over the limit")
        head = cls.prefix + SEPARATOR
        if data == cls.prefix:
            rest: list[str] = []
        elif data.startswith(head):
            rest = data[len(head) :].split(SEPARATOR)
        else:
            raise CallbackDataError(f"not a {cls.__name__} button: {data!r}")
        fields = cls._fields()
        if len(rest) > len(fields):
            raise CallbackDataError(f"extra parts in {data!r}")
        values: dict[str, Any] = {}
        for i, f in enumerate(fields):
            if i >= len(rest):
                if not f.has_default:
                    raise CallbackDataError(f"{f.name} missing in {data!r}")
                continue
            raw = rest[i]
            if raw == "" and f.optional:
                values[f.name] = None
                continue
            try:
                values[f.name] = f.parse(raw)
            except ValueError as error:
                raise CallbackDataError(f"{f.name} of {data!r}: {error}") from None
        return cls(**values)

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        """The typed button of this kind, or None for anything else (stale or forged)."""
        if data is None:
            return None
        try:
            return cls.parse(data)
        except CallbackDataError:
            return None

    @classmethod
    def key(cls) -> str:
        """The first part of the prefix: what the router dispatches on."""
        return cls.prefix.partition(SEPARATOR)[0]

    @classmethod
    def _fields(cls) -> tuple[_Field, ...]:
        # Resolved at first use: annotations may name classes defined after this one.
        if cls.__fields is None:
            hints = typing.get_type_hints(cls)
            made = []
            for f in dataclasses.fields(cls):  # type: ignore[arg-type]
                parse, optional = _parser(cls.__name__, f.name, hints[f.name])
                has_default = (
                    f.default is not dataclasses.MISSING
                    or f.default_factory is not dataclasses.MISSING
                )
                made.append(_Field(f.name, parse, optional, has_default))
            cls.__fields = tuple(made)
        return cls.__fields


def _parser(owner: str, name: str, hint: Any) -> tuple[Callable[[str], Any], bool]:
    """How to read one field's text, and whether it may be None."""
    optional = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1 or len(typing.get_args(hint)) != 2:
            raise TypeError(f"{owner}.{name}: only `X | None` unions are supported")
        optional, hint, origin = True, args[0], typing.get_origin(args[0])
    if hint is int:
        return _int, optional
    if hint is str:
        return _str, optional
    if hint is bool:
        return _bool, optional
    if origin is Literal:
        choices = typing.get_args(hint)
        if not all(isinstance(c, str) for c in choices):
            raise TypeError(f"{owner}.{name}: only string literals are supported")
        return _choice(frozenset(choices)), optional
    if isinstance(hint, type) and issubclass(hint, enum.StrEnum):
        return hint, optional  # StrEnum("x") raises ValueError outside its members
    raise TypeError(f"{owner}.{name}: unsupported field type {hint!r}")


def _int(raw: str) -> int:
    # Only ASCII digits: int() would take "+1", " 1", "1_0" and Arabic-Indic digits.
    if not _DIGITS.fullmatch(raw):
        raise ValueError(f"not a number: {raw!r}")
    return int(raw)


def _str(raw: str) -> str:
    if not raw:
        raise ValueError("empty")
    return raw


def _bool(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError(f"not a flag: {raw!r}")
    return raw == "1"


def _choice(choices: frozenset[str]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"not one of {sorted(choices)}: {raw!r}")
        return raw

    return parse


def _encode(button: CallbackData, f: _Field, value: Any) -> str | None:
    if value is None:
        if not f.optional:
            raise CallbackDataError(f"{type(button).__name__}.{f.name} may not be None")
        return None
    if isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, enum.Enum):
        text = str(value.value)
    elif isinstance(value, int):
        if value < 0:
            raise CallbackDataError(f"{type(button).__name__}.{f.name} is negative")
        text = str(value)
    else:
        text = str(value)
    if SEPARATOR in text:
        raise CallbackDataError(f"{type(button).__name__}.{f.name} holds {SEPARATOR!r}: {text!r}")
    try:
        f.parse(text)  # what is packed must unpack to the same
    except ValueError as error:
        raise CallbackDataError(f"{type(button).__name__}.{f.name}: {error}") from None
    return text
