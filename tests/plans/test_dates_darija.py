"""Due dates written in Darija, in Latin letters and in Arabic script, resolve like French ones."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from bot.core.i18n import VARIANTS, Translator
from bot.plans import dates
from bot.plans.darija_dates import _CLASS_OF, _MONTH_SPELLINGS, _WORDS, fold, to_french
from bot.plans.dates import DueDate, Reason, normalize, resolve_due

# Tuesday 10 March 2026.
REF = date(2026, 3, 10)

# Each month, a date with its year, in both scripts and the common spellings.
MONTHS = [
    (1, "yanayir", "يناير"),
    (1, "yennayer", "يناير"),
    (2, "fbrayr", "فبراير"),
    (2, "febrayer", "فبراير"),
    (3, "mars", "مارس"),
    (4, "abril", "أبريل"),
    (4, "avril", "ابريل"),
    (4, "abril", "إبريل"),
    (5, "mayu", "ماي"),
    (5, "may", "مايو"),
    (6, "yunyu", "يونيو"),
    (6, "younyou", "يونيو"),
    (7, "yulyuz", "يوليوز"),
    (7, "youliouz", "يوليو"),
    (8, "ghusht", "غشت"),
    (8, "ghocht", "أغسطس"),
    (9, "shutanbir", "شتنبر"),
    (9, "chtanbir", "سبتمبر"),
    (10, "oktobar", "أكتوبر"),
    (10, "oktobar", "اكتوبر"),
    (11, "nuwanbir", "نونبر"),
    (11, "nonbir", "نوفمبر"),
    (12, "dujanbir", "دجنبر"),
    (12, "dojanbir", "ديسمبر"),
]


@pytest.mark.parametrize(("month", "latin", "arabic"), MONTHS)
def test_every_month_in_both_scripts(month: int, latin: str, arabic: str) -> None:
    expected = date(2027, month, 15)
    for text in (f"15 {latin} 2027", f"15 {arabic} 2027", f"١٥ {arabic} ٢٠٢٧"):
        assert resolve_due(text, REF) == DueDate(text, expected, False), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Days, with the little words in front ("f", "nhar", "qbel": by that day).
        ("f 30 yunyu 2026", date(2026, 6, 30)),
        ("nhar 15 ghusht 2026", date(2026, 8, 15)),
        ("qbel 30 yunyu 2026", date(2026, 6, 30)),
        ("7ta 15 abril 2026", date(2026, 4, 15)),
        ("لحد 15 أبريل 2026", date(2026, 4, 15)),  # "until", not Sunday ("الحد")
        ("قبل 30 يونيو 2026", date(2026, 6, 30)),
        ("نهار 15 غشت 2026", date(2026, 8, 15)),
        ("في 15 أبريل 2026", date(2026, 4, 15)),
        ("15 abril 2026 f 10h", datetime(2026, 4, 15, 10, 0)),
        ("15 أبريل 2026 مع 10h30", datetime(2026, 4, 15, 10, 30)),
        # Periods, with the French conventions: end of a month, the 10th, the 15th.
        ("akhir abril 2026", date(2026, 4, 30)),
        ("akhir chhar 6 2026", date(2026, 6, 30)),
        ("lwel d abril 2027", date(2027, 4, 10)),
        ("wst ghusht 2026", date(2026, 8, 15)),
        ("آخر شتنبر 2026", date(2026, 9, 30)),
        ("أبريل 2026", date(2026, 4, 30)),
        ("15 chhar 6 2026", date(2026, 6, 15)),
        # Weekdays with "jay" (next) and the words of the calendar against the reference.
        ("letnin jay", date(2026, 3, 16)),
        ("tlat jay", date(2026, 3, 17)),  # not the reference day itself
        ("larb3 jay", date(2026, 3, 11)),
        ("lkhmis jay", date(2026, 3, 12)),
        ("ssebt jaya", date(2026, 3, 14)),
        ("l7ed jay", date(2026, 3, 15)),
        ("lhad jay", date(2026, 3, 15)),
        ("nhar l7ed jay", date(2026, 3, 15)),
        ("الاثنين الجاي", date(2026, 3, 16)),
        ("التنين الجاي", date(2026, 3, 16)),
        ("الثلاثاء الجاي", date(2026, 3, 17)),
        ("التلات الجاي", date(2026, 3, 17)),
        ("الأربعاء الجاي", date(2026, 3, 11)),
        ("لاربع الجاي", date(2026, 3, 11)),
        ("الخميس الجاي", date(2026, 3, 12)),
        ("السبت الجاي", date(2026, 3, 14)),
        ("الأحد الجاي", date(2026, 3, 15)),
        ("lyoum", date(2026, 3, 10)),
        ("اليوم", date(2026, 3, 10)),
        ("ghedda", date(2026, 3, 11)),
        ("ghdda", date(2026, 3, 11)),
        ("غدا", date(2026, 3, 11)),
        ("ba3d ghedda", date(2026, 3, 12)),
        ("بعد غدا", date(2026, 3, 12)),
        ("simana jaya", date(2026, 3, 22)),
        ("ssimana lli jaya", date(2026, 3, 22)),
        ("السيمانة الجاية", date(2026, 3, 22)),
        ("had simana", date(2026, 3, 15)),
        ("akhir simana", date(2026, 3, 15)),
        ("chhar jay", date(2026, 4, 30)),
        ("الشهر الجاي", date(2026, 4, 30)),
        ("akhir chhar", date(2026, 3, 31)),
        ("آخر الشهر", date(2026, 3, 31)),
        ("akhir chhar jay", date(2026, 4, 30)),
        ("l3am jay", date(2027, 12, 31)),
        ("العام الجاي", date(2027, 12, 31)),
        ("akhir l3am", date(2026, 12, 31)),
        ("f 10 ayam", date(2026, 3, 20)),
        ("ba3d 2 simanat", date(2026, 3, 24)),
        ("من بعد 3 شهور", date(2026, 6, 10)),
    ],
)
def test_darija_resolves_with_certainty(text: str, expected: date | datetime) -> None:
    due = resolve_due(text, REF)
    assert due == DueDate(text, expected, False)
    assert type(due.value) is type(expected)


@pytest.mark.parametrize(
    ("text", "reason", "suggestion"),
    [
        # No year: offered for confirmation, as "15 avril" is.
        ("15 abril", Reason.MISSING_YEAR, date(2026, 4, 15)),
        ("15 أبريل", Reason.MISSING_YEAR, date(2026, 4, 15)),
        ("f 30 yunyu", Reason.MISSING_YEAR, date(2026, 6, 30)),
        ("akhir chhar 6", Reason.MISSING_YEAR, date(2026, 6, 30)),
        ("nhar 15 ghusht", Reason.MISSING_YEAR, date(2026, 8, 15)),
        ("qbel shutanbir", Reason.MISSING_YEAR, date(2026, 9, 30)),
        ("قبل 30 يونيو", Reason.MISSING_YEAR, date(2026, 6, 30)),
        ("نهار 15 غشت", Reason.MISSING_YEAR, date(2026, 8, 15)),
        ("آخر شتنبر", Reason.MISSING_YEAR, date(2026, 9, 30)),
        ("5 yanayir", Reason.MISSING_YEAR, date(2027, 1, 5)),  # already past this year
        # A bare weekday names no week.
        ("l7ed", Reason.AMBIGUOUS_WEEKDAY, date(2026, 3, 15)),
        ("nhar ssebt", Reason.AMBIGUOUS_WEEKDAY, date(2026, 3, 14)),
        ("had lkhmis", Reason.AMBIGUOUS_WEEKDAY, date(2026, 3, 12)),
        ("الجمعة", Reason.AMBIGUOUS_WEEKDAY, date(2026, 3, 13)),
        # "jjem3a jaya" is next Friday or next week: asked, never taken as certain.
        ("jjem3a jaya", Reason.AMBIGUOUS_WEEKDAY, date(2026, 3, 13)),
        ("الجمعة الجاية", Reason.AMBIGUOUS_WEEKDAY, date(2026, 3, 13)),
    ],
)
def test_uncertain_darija_is_offered_not_taken(
    text: str, reason: str, suggestion: date | datetime
) -> None:
    due = resolve_due(text, REF)
    assert (due.value, due.needs_confirmation, due.reason) == (None, True, reason)
    assert due.suggestion == suggestion


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("15 abril 2025", date(2025, 4, 15)),
        ("15 أبريل 2025", date(2025, 4, 15)),
        ("akhir fbrayr 2026", date(2026, 2, 28)),
    ],
)
def test_a_darija_date_before_the_reference_is_flagged_but_kept(text: str, value: date) -> None:
    due = resolve_due(text, REF)
    assert (due.value, due.needs_confirmation, due.reason) == (value, True, Reason.BEFORE_REFERENCE)


def test_a_weekday_that_disagrees_is_flagged_in_darija_too() -> None:
    due = resolve_due("l7ed 15 abril 2026", REF)  # 15 April 2026 is a Wednesday
    assert (due.value, due.reason) == (date(2026, 4, 15), Reason.WEEKDAY_MISMATCH)
    assert resolve_due("larb3 15 abril 2026", REF).value == date(2026, 4, 15)


@pytest.mark.parametrize(
    "text",
    [
        "machi daba",
        "ma3rftch",
        "ma3reftch",
        "lyoum ma3ndi walo",  # "today" begins the sentence, but it is no deadline
        "اليوم ما عندي والو",
        "ما عرفتش",
        "mazal",
        "chi nhar",
        "had chhar ma9derch",
        "ghedda nchoufou",
        "simana",
        "jay",
        "15 chhar 13",  # no 13th month
    ],
)
def test_what_is_not_a_date_stays_unreadable(text: str) -> None:
    due = resolve_due(text, REF)
    assert (due.value, due.suggestion, due.needs_confirmation) == (None, None, True)
    assert due.reason == Reason.UNRECOGNISED


def test_a_darija_day_out_of_its_month_is_invalid() -> None:
    assert resolve_due("31 yunyu 2026", REF).reason == Reason.INVALID_DATE
    assert resolve_due("30 فبراير 2026", REF).reason == Reason.INVALID_DATE


def test_arabic_spellings_fold_together() -> None:
    # Hamza seats, taa marbuta, alif maqsura, tatweel and short vowels.
    assert normalize("أبريل") == normalize("إبريل") == normalize("ابريل") == "ابريل"
    assert normalize("آخر") == "اخر"
    assert normalize("الجاية") == normalize("الجايه")
    assert normalize("حتى") == normalize("حتي")
    assert normalize("يـونـيـو") == "يونيو"
    assert normalize("غَدًا") == "غدا"
    assert normalize("١٥/٠٤/٢٠٢٦") == "15/04/2026"
    assert normalize("۱۵ ابریل") == "15 ابریل"  # Persian digits
    assert resolve_due("١٥/٠٤/٢٠٢٦", REF).value == date(2026, 4, 15)


def test_latin_spellings_fold_together() -> None:
    assert fold("younyou") == fold("yunyu")
    assert fold("ghedda") == fold("gheda")
    assert fold("ssebt") == fold("sebt")
    assert fold("9bel") == fold("qbel")
    assert fold("2026") == "2026"  # numbers are never folded ("2200" stays)
    assert fold("2200") == "2200"


def test_the_tables_are_written_folded() -> None:
    """Table entries are compared with folded input, so a table entry written otherwise
    (with a hamza seat or a ة) would silently never match."""
    spellings = [w for words in _MONTH_SPELLINGS.values() for w in words]
    spellings += [w for _, words in _WORDS.values() for w in words]
    assert [w for w in spellings if normalize(w) != w] == []


def test_darija_words_never_change_french_ones() -> None:
    """A Darija spelling that is also a French date word must mean the same thing."""
    same = {"mars": "mars", "avril": "avril", "mai": "mai"}
    french = set(dates._MONTHS) | set(dates._WEEKDAYS) | set(dates._ORDINALS)
    french |= {"le", "la", "en", "au", "a", "avant", "pour", "fin", "debut", "mi", "dans"}
    french |= {"semaine", "mois", "annee", "jours", "prochain", "demain", "cette", "ce"}
    assert {w for w in _CLASS_OF if w in french} <= set(same)
    for word, french_word in same.items():
        assert to_french(word) == french_word


@pytest.mark.parametrize(
    "text",
    [
        "Dimanche 3 février 13 à 10h30",
        "1ère semaine du mois de mai 2013",
        "le 5 mars 2013",
        "dans le courant du mois d'avril 2013",
        "au plus tard fin juin 2013",
        "Jeudi prochain à 15h",
        "d'ici 2 semaines",
        "2ème quinzaine de mars 2013",
    ],
)
def test_french_text_passes_through_unchanged(text: str) -> None:
    s = normalize(text)
    assert to_french(s) == s


# The messages that show people how to write a date: their examples must be readable.
EXAMPLES = [
    "By when will “{what}” be done? Write the new date, for example “15 mars”, “fin avril 2026” "
    "or “dans 2 semaines”.",
    "I could not read this date. Write it like “15 avril 2026” or “fin avril 2026”.",
    "Please write a complete date, with the year: “30 avril 2013”.",
    "Write the new date, e.g. “15 avril 2026” or “fin avril 2026”.",
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("message", EXAMPLES)
def test_the_examples_people_are_given_are_read(variant: str, message: str) -> None:
    shown = Translator(variant).gettext(message, what="WHAT")
    examples = [e for e in re.findall(r"[«“]\s*([^»”]+?)\s*[»”]", shown) if e != "WHAT"]
    assert len(examples) == len(re.findall("“", message)) - ("{what}" in message)
    for example in examples:
        due = resolve_due(example, date(2013, 1, 31))
        assert due.value or due.suggestion, (variant, example, due.reason)
