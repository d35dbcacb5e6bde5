"""Masking personal details before a message is kept as training data.

What is masked: phone numbers and other runs of 6 digits or more (CIN, account numbers),
e-mail addresses and @handles, the names the person is known by, and the name a person gives
when introducing themselves ("je m'appelle Fatima", "smiti Fatima", "أنا فاطمة رئيسة...").
Masking is conservative on purpose: a place or an association's name may stay, a person's
given name after "I am" may not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NAME = "NAME"
NUMBER = "PHONE"
EMAIL = "EMAIL"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_HANDLE = re.compile(r"(?<!\w)@\w{3,}")
# +212 6 12 34 56 78, 0612345678, 06-12-34-56-78, and any run of 6+ digits with separators.
_DIGITS = re.compile(r"\+?\d(?:[\s.\-]?\d){5,}")
# A name introduced by the person: the word after the cue, unless it is a role or a function
# word ("je suis trésorier", "ana ra2is", "أنا رئيسة").
_INTRO = re.compile(
    r"(?P<cue>(?i:je m'?appelle|mon nom est|moi c'est|je suis|smiti|esmi|ismi|smiyti|ana|"
    r"سميتي|اسمي|إسمي|انا|أنا|معاك|m3ak|ma3ak))\s+(?P<name>[^\s,.;:!?،]+)"
    r"(?P<second>\s+[A-Z][a-zà-ÿ]+)?"
)
_NOT_NAMES = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "du",
        "de",
        "des",
        "en",
        "au",
        "membre",
        "president",
        "presidente",
        "président",
        "présidente",
        "tresorier",
        "trésorier",
        "trésorière",
        "tresoriere",
        "secretaire",
        "secrétaire",
        "responsable",
        "coordinateur",
        "coordinatrice",
        "elu",
        "élu",
        "élue",
        "elue",
        "conseiller",
        "conseillère",
        "agent",
        "fonctionnaire",
        "animateur",
        "animatrice",
        "enseignant",
        "enseignante",
        "agriculteur",
        "agricultrice",
        "etudiant",
        "étudiant",
        "étudiante",
        "jeune",
        "coach",
        "nouveau",
        "nouvelle",
        "pas",
        "très",
        "tres",
        "bien",
        "desole",
        "désolé",
        "désolée",
        "content",
        "contente",
        "là",
        "la-bas",
        "ici",
        "chargé",
        "chargée",
        "ra2is",
        "ra2isa",
        "rais",
        "raisa",
        "rئيس",
        "3odw",
        "3",
        "odw",
        "3adw",
        "3ouda",
        "moustachar",
        "mostachar",
        "motatawi3",
        "fla7",
        "fellah",
        "ustad",
        "ostad",
        "oustad",
        "talib",
        "taliba",
        "m3a",
        "mn",
        "f",
        "fi",
        "men",
        "w",
        "wa",
        "رئيس",
        "رئيسة",
        "رئيسه",
        "عضو",
        "عضوة",
        "عضوه",
        "مستشار",
        "مستشارة",
        "كاتب",
        "كاتبة",
        "أمين",
        "امين",
        "أمينة",
        "امينة",
        "منسق",
        "منسقة",
        "مسؤول",
        "مسؤولة",
        "فلاح",
        "فلاحة",
        "أستاذ",
        "استاذ",
        "أستاذة",
        "استاذة",
        "طالب",
        "طالبة",
        "متطوع",
        "متطوعة",
        "موظف",
        "موظفة",
        "من",
        "مع",
        "في",
        "ف",
        "غير",
        "بغيت",
        "كنبغي",
        "كنسول",
        "ماشي",
    ]
)


def mask(text: str, names: Iterable[str] = ()) -> str:
    out = _EMAIL.sub(EMAIL, text)
    out = _HANDLE.sub(NAME, out)
    out = _DIGITS.sub(NUMBER, out)
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 3}, key=len, reverse=True):
        out = re.sub(rf"(?i)(?<!\w){re.escape(name)}(?!\w)", NAME, out)

    def intro(match: re.Match[str]) -> str:
        word = match["name"]
        if word.lower() in _NOT_NAMES or word in (NAME, NUMBER, EMAIL) or word[:1].isdigit():
            return match.group(0)
        # In Latin script a name is capitalised; "je suis perdu" is not a name.
        if word[:1].isascii() and word[:1].isalpha() and not word[:1].isupper():
            return match.group(0)
        second = match["second"] or ""
        if second and second.strip().lower() in _NOT_NAMES:
            return f"{match['cue']} {NAME}{second}"
        return f"{match['cue']} {NAME}"

    return _INTRO.sub(intro, out)
