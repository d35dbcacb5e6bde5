"""Every string the code shows is translated in the three variants, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.i18n import LOCALES_DIR, VARIANTS, Translator

REPO = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _used_messages() -> set[str]:
    # The web console's templates call _() and ngettext() too.
    method_map = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
    found = extract_from_dir(str(REPO / "bot"), method_map=method_map, keywords=KEYWORDS)
    messages: set[str] = set()
    for _filename, _lineno, message, _comments, _context in found:
        messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


USED = sorted(_used_messages())


def test_messages_are_found() -> None:
    assert "I understand" in USED


def _translated(variant: str) -> set[str]:
    """Message ids with a non-empty translation in any .po file of the variant."""
    folder = LOCALES_DIR / variant.replace("-", "_") / "LC_MESSAGES"
    found: set[str] = set()
    for path in folder.glob("*.po"):
        with path.open("rb") as handle:
            for message in read_po(handle):
                text = message.string
                if message.id and (any(text) if isinstance(text, tuple) else text):
                    found.add(message.id if isinstance(message.id, str) else message.id[0])
    return found


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_message_is_translated(variant: str) -> None:
    translated = _translated(variant)
    assert [m for m in USED if m not in translated] == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_placeholders_survive_translation(variant: str) -> None:
    translator = Translator(variant)
    for message in USED:
        translated = translator.gettext(message)
        assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(message)), message


def test_variants_differ() -> None:
    texts = {v: Translator(v).gettext("I understand") for v in VARIANTS}
    assert len(set(texts.values())) == 3


@pytest.mark.parametrize("variant", VARIANTS)
def test_plural_messages_have_one_form_per_plural_of_the_catalog(variant: str) -> None:
    """Read as text: Babel silently drops forms beyond the header's nplurals (and warns on
    stdout), so an extra or missing form would otherwise go unnoticed."""
    folder = LOCALES_DIR / variant.replace("-", "_") / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        text = path.read_text(encoding="utf-8")
        header = re.search(r"nplurals=(\d+)", text)
        assert header is not None, path.name
        expected = list(range(int(header.group(1))))
        for block in text.split("\n\n"):
            if "msgid_plural" in block:
                forms = [int(n) for n in re.findall(r"^msgstr\[(\d+)\]", block, re.MULTILINE)]
                assert forms == expected, (path.name, block.splitlines()[0])
