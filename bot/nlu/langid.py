"""Which variant a message is in: French, Darija in Arabic script, Darija in Latin script."""

from __future__ import annotations

import re
from functools import cache

from bot.nlu import lexicon
from bot.nlu.normalize import key_set, latin_key, strip_accents

_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3]")
_LATIN_LETTER = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_WORD = re.compile(r"[a-z0-9]+")
# A digit glued to letters is an Arabizi letter ("3la", "m3a", "l7al", "9ra").
_DIGIT_LETTER = re.compile(r"[a-z][235789]|[235789][a-z]")
# Darija verbs conjugated with a person prefix before a consonant cluster ("nwjdo", "tbloka",
# "nchouf", "ysayni"): French words hardly ever start that way.
_DARIJA_VERB = re.compile(r"^[ntyk][bcdfghjklmnpqrstvwxz]{2}")
# Elided French articles ("d'action" -> "d") also appear in Arabizi: no evidence either way.
_ELISION = frozenset({"d", "l"})


@cache
def _vocabularies() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """Darija, French, the words both share once normalised ("la", "ma", "f"...: they decide
    nothing), and the French domain nouns Darija borrows (weak evidence of French); from
    knowledge/lexicon/."""
    darija = key_set(lexicon.words("darija_latin.txt"))
    french = key_set(lexicon.words("french.txt"))
    return darija, french, darija & french, key_set(lexicon.words("french_domain.txt"))


def identify_language(text: str) -> str:
    """Return "fr", "ary" or "ary-Latn" for one message.

    Arabic script wins as soon as it makes up a fair share of the letters: a Darija message with a
    few French nouns is answered in Darija. Latin text is Arabizi when it has digit letters or
    Darija words; French nouns inside Arabizi (code-switching) do not make it French.
    """
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if arabic and arabic >= 0.3 * latin:
        return "ary"
    lowered = strip_accents(text.lower())
    words = _WORD.findall(lowered)
    if not words:
        return "ary" if arabic else "fr"
    darija_words, french_words, ambiguous, domain = _vocabularies()
    darija = 0.0
    french = 0.0
    for word in words:
        if _DIGIT_LETTER.search(word):
            darija += 2.0
            continue
        key = latin_key(word)
        if key in ambiguous or word in _ELISION:
            continue
        if key in darija_words:
            darija += 1.0
        elif key in french_words:
            # Domain nouns are borrowed into Darija all the time: weak evidence of French.
            french += 0.4 if key in domain else 1.0
        elif _DARIJA_VERB.match(word):
            darija += 0.5
    if darija > 0 and darija >= 0.6 * french:
        return "ary-Latn"
    return "fr"


def reload() -> None:
    """Read the word lists again (after an edit of knowledge/lexicon/)."""
    lexicon.reload()
    _vocabularies.cache_clear()
