"""Every string the code shows is translated in the three variants, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from bot.i18n import VARIANTS, Translator, _translations

REPO = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _used_messages() -> set[str]:
    found = extract_from_dir(str(REPO / "bot"), method_map=[("**.py", "python")], keywords=KEYWORDS)
    messages: set[str] = set()
    for _filename, _lineno, message, _comments, _context in found:
        messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


USED = sorted(_used_messages())


def test_messages_are_found() -> None:
    assert "I understand" in USED


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_message_is_translated(variant: str) -> None:
    catalog = _translations(variant)
    missing = [m for m in USED if catalog.gettext(m) == m and variant != "en"]
    assert missing == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_placeholders_survive_translation(variant: str) -> None:
    translator = Translator(variant)
    for message in USED:
        translated = translator.gettext(message)
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(message)), message


def test_variants_differ() -> None:
    texts = {v: Translator(v).gettext("I understand") for v in VARIANTS}
    assert len(set(texts.values())) == 3
