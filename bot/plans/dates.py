"""Resolve the free-text due dates written in action plans ("Fin février 2013", "Avril") and in
the chat, in French or in Darija ("15 abril", "قبل 30 يونيو": see ``darija_dates``).

Conventions (the importer and the reminders rely on them):

* A due date is a deadline, so a *period* resolves to its **last day**: "Fin mars 2013" and
  "avril 2013" -> 31 March / 30 April; "1ère semaine du mois de mai 2013" -> 7 May (weeks of a month
  are days 1-7, 8-14, 15-21, 22-28, then the rest); "2ème quinzaine de mars" -> 31 March;
  "semaine prochaine" -> the Sunday of the next Monday-Sunday week; "1er trimestre 2013" -> 31
  March.
* "début <mois>" covers the first ten days, so it resolves to the **10th**; "mi-<mois>" to the 15th.
* Numeric dates are day-first (French): 05/03/2013 is 5 March. A two-digit year is 20yy.
* Nothing is guessed silently. A date that lacks its year, a weekday that disagrees with the day,
  a date before the reference (the plan's date) or text we cannot read gives
  ``needs_confirmation=True`` and a machine ``reason``; where a reasonable reading exists it is
  offered as ``suggestion`` (and, for the weekday and before-reference checks, also kept in
  ``value`` because the text itself is explicit).
* Results are naive: a ``date``, or a ``datetime`` when a time was written ("à 10h30"). The caller
  applies Africa/Casablanca.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.plans.darija_dates import to_french

__all__ = ["DueDate", "Reason", "due_from_value", "normalize", "resolve_due"]


class Reason:
    """Machine codes for ``DueDate.reason`` (the caller translates them)."""

    EMPTY = "empty"
    UNRECOGNISED = "unrecognised"
    MISSING_YEAR = "missing_year"
    MISSING_DATE = "missing_date"  # a time alone, e.g. "à 10h"
    INVALID_DATE = "invalid_date"  # e.g. 31/02/2013
    WEEKDAY_MISMATCH = "weekday_mismatch"
    BEFORE_REFERENCE = "before_reference"
    AMBIGUOUS_WEEKDAY = "ambiguous_weekday"  # a bare weekday: which week?


@dataclass(frozen=True, slots=True)
class DueDate:
    """A due date as written, and what it resolves to."""

    text: str
    value: date | datetime | None
    needs_confirmation: bool
    reason: str | None = None
    suggestion: date | datetime | None = None

    def iso(self) -> str | None:
        """ISO text of ``value`` (minutes precision for date-times), or None."""
        return _iso(self.value)


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return value.isoformat()


# --- vocabulary (accent-free, lower case: matched after ``normalize``) ---------------------------

_MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        ("janvier", "janv", "jan"),
        ("fevrier", "fevr", "fev"),
        ("mars", "mar"),
        ("avril", "avr"),
        ("mai",),
        ("juin",),
        ("juillet", "juil"),
        ("aout", "aou"),
        ("septembre", "sept", "sep"),
        ("octobre", "oct"),
        ("novembre", "nov"),
        ("decembre", "dec"),
    ],
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _num

_WEEKDAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
}

# Ordinals as written in plans: 1er, 1ère, 1re, premiere, 2ème, 2e, 2nde, deuxième, dernière...
_ORDINALS = {
    "premier": 1,
    "premiere": 1,
    "deuxieme": 2,
    "second": 2,
    "seconde": 2,
    "troisieme": 3,
    "quatrieme": 4,
    "cinquieme": 5,
    "dernier": -1,
    "derniere": -1,
}
_ORD = r"(?:\d{1,2}\s*(?:er|ere|re|eme|e|nde|nd)?|" + "|".join(_ORDINALS) + r")"

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:\s+(?:de\s+l'?\s*annee\s+)?(?P<year>\d{4}|\d{2}))?"
# "du mois de", "de", "d'", "du" between a qualifier and the month name.
_OF_MONTH = r"(?:\s+(?:du\s+mois\s+)?(?:de|d'|du)?)?\s*"

_TIME_RE = re.compile(
    r"(?:\b(?:a|vers|des)\s+)?\b(?P<h>[01]?\d|2[0-3])\s*(?:h|:)\s*(?P<m>[0-5]\d)?(?:\s*mn|\s*min)?\b"
)
_WEEKDAY_RE = re.compile(r"\b(?P<wd>" + "|".join(_WEEKDAYS) + r")\b(?P<next>\s+prochain)?")
_FILLERS_RE = re.compile(
    # Also at the very end: "le" is all that is left of "le lundi prochain" once the weekday is out.
    r"^(?:(?:au\s+plus\s+tard|avant|d'ici(?!\s+\d)|pour|jusqu'au|jusqu'a|prevu|prevue|le|la|en|au|a)"
    r"(?:\s+|$))+"
)

_NUMERIC_DMY = re.compile(r"(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>\d{4}|\d{2})")
_NUMERIC_YMD = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")
_NUMERIC_DM = re.compile(r"(?P<d>\d{1,2})\s*/\s*(?P<m>\d{1,2})")
_DAY_MONTH = re.compile(r"(?P<day>" + _ORD + r")\s+" + _MONTH + _YEAR)
_QUALIFIED_MONTH = re.compile(
    r"(?:(?P<q>fin|debut|mi|milieu|courant|dans\s+le\s+courant|(?:au\s+)?cours|"
    r"(?:le\s+)?mois)" + _OF_MONTH + r")?" + _MONTH + _YEAR
)
_WEEK_OF_MONTH = re.compile(
    r"(?P<ord>" + _ORD + r")\s+(?P<unit>semaine|quinzaine)" + _OF_MONTH + _MONTH + _YEAR
)
_PART_OF_YEAR = re.compile(
    r"(?:(?P<ord>" + _ORD + r")\s+(?P<unit>trimestre|semestre)|(?P<t>t|s)(?P<n>[1-4])|"
    r"(?P<q>fin|courant))\s*(?:de\s+l'?\s*annee\s+|de\s+)?(?P<year>\d{4})"
)
_IN_N = re.compile(r"(?:dans|d'ici)\s+(?P<n>\d{1,3})\s+(?P<unit>jours?|semaines?|mois)")


# Arabic script: NFKD already takes the hamza off its seat (أ إ آ -> ا, ؤ -> و, ئ -> ي) and the
# short vowels are combining marks; these fold the letters people write either way, drop the
# tatweel (elongation) and read Arabic-Indic and Persian digits as ASCII.
_ARABIC_FOLD = str.maketrans(
    {
        "\u0629": "\u0647",  # ة -> ه
        "\u0649": "\u064a",  # ى -> ي
        "\u0640": None,  # tatweel
        "\u060c": ",",  # Arabic comma
        "\u061b": ";",  # Arabic semicolon
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)


def normalize(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces (shared with ``table``);
    Arabic script keeps its letters, folded as ``_ARABIC_FOLD`` says."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.translate(_ARABIC_FOLD)
    stripped = stripped.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    stripped = stripped.replace("\u2013", "-").replace("\u2014", "-").replace("\u00a0", " ")
    return " ".join(stripped.lower().split())


def _ordinal(token: str) -> int:
    token = token.replace(" ", "")
    if token in _ORDINALS:
        return _ORDINALS[token]
    return int(re.match(r"\d+", token).group())  # type: ignore[union-attr]


def _year(raw: str) -> int:
    # Two-digit years in plans are this century ("février 13" is 2013).
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What the date part of the text says, before time, weekday and reference checks."""

    value: date | None
    # True when the text did not name the year and ``value`` is only our reading of it.
    year_guessed: bool = False
    reason: str | None = None


def _in_year(resolve: Callable[[int], date], year: str | None, reference: date) -> _Parsed:
    """Apply ``resolve(year)``; without a year, propose the first one not before the reference."""
    if year is not None:
        return _Parsed(resolve(_year(year)))
    candidate = resolve(reference.year)
    if candidate < reference:
        candidate = resolve(reference.year + 1)
    return _Parsed(candidate, year_guessed=True)


def _parse_date_part(s: str, reference: date) -> _Parsed:
    """Resolve the date part of normalised text (time and weekday already removed)."""
    if m := _NUMERIC_YMD.fullmatch(s):
        return _Parsed(date(int(m["y"]), int(m["m"]), int(m["d"])))
    if m := _NUMERIC_DMY.fullmatch(s):
        return _Parsed(date(_year(m["y"]), int(m["m"]), int(m["d"])))
    if m := _NUMERIC_DM.fullmatch(s):
        day, month = int(m["d"]), int(m["m"])
        return _in_year(lambda y: date(y, month, day), None, reference)

    # Hyphens only matter in numeric dates; "mi-mars" reads as "mi mars".
    s = " ".join(s.replace("-", " ").split())

    relative = _parse_relative(s, reference)
    if relative is not None:
        return _Parsed(relative)

    if m := _DAY_MONTH.fullmatch(s):
        day, month = _ordinal(m["day"]), _MONTHS[m["month"]]
        if day < 1:
            return _Parsed(None, reason=Reason.UNRECOGNISED)
        return _in_year(lambda y: date(y, month, day), m["year"], reference)

    if m := _WEEK_OF_MONTH.fullmatch(s):
        n, month = _ordinal(m["ord"]), _MONTHS[m["month"]]
        span = 7 if m["unit"] == "semaine" else 15
        limit = 5 if span == 7 else 2
        if n == 0 or n > limit:
            return _Parsed(None, reason=Reason.UNRECOGNISED)

        def week_end(y: int) -> date:
            end = _month_end(y, month)
            # The last week/fortnight ("dernière", or the 5th week / 2nd fortnight) ends the month.
            if n == -1 or n == limit:
                return end
            return min(date(y, month, span * n), end)

        return _in_year(week_end, m["year"], reference)

    if m := _QUALIFIED_MONTH.fullmatch(s):
        month, qualifier = _MONTHS[m["month"]], (m["q"] or "")
        if qualifier.startswith("debut"):
            return _in_year(lambda y: date(y, month, 10), m["year"], reference)
        if qualifier in ("mi", "milieu"):
            return _in_year(lambda y: date(y, month, 15), m["year"], reference)
        # "fin", "courant", "au cours", "mois de" or the bare month: the whole month.
        return _in_year(lambda y: _month_end(y, month), m["year"], reference)

    if m := _PART_OF_YEAR.fullmatch(s):
        year = int(m["year"])
        if m["q"]:
            return _Parsed(date(year, 12, 31))
        if m["unit"]:
            n, months = _ordinal(m["ord"]), 3 if m["unit"] == "trimestre" else 6
        else:
            n, months = int(m["n"]), 3 if m["t"] == "t" else 6
        count = 12 // months
        if n == -1:
            n = count
        if not 1 <= n <= count:
            return _Parsed(None, reason=Reason.UNRECOGNISED)
        return _Parsed(_month_end(year, n * months))

    return _Parsed(None, reason=Reason.UNRECOGNISED)


def _parse_relative(s: str, reference: date) -> date | None:
    """Phrases that only make sense against the reference date."""
    week_sunday = reference + timedelta(days=6 - reference.weekday())
    fixed = {
        "aujourd'hui": reference,
        "ce jour": reference,
        "demain": reference + timedelta(days=1),
        "apres demain": reference + timedelta(days=2),
        "cette semaine": week_sunday,
        "fin de semaine": week_sunday,
        "fin de la semaine": week_sunday,
        "semaine prochaine": week_sunday + timedelta(days=7),
        "fin de la semaine prochaine": week_sunday + timedelta(days=7),
        "ce mois": _month_end(reference.year, reference.month),
        "ce mois ci": _month_end(reference.year, reference.month),
        "fin du mois": _month_end(reference.year, reference.month),
        "fin de ce mois": _month_end(reference.year, reference.month),
        "fin du mois en cours": _month_end(reference.year, reference.month),
        "mois prochain": _month_end(*_ym(_add_months(reference.replace(day=1), 1))),
        "fin du mois prochain": _month_end(*_ym(_add_months(reference.replace(day=1), 1))),
        "fin d'annee": date(reference.year, 12, 31),
        "fin de l'annee": date(reference.year, 12, 31),
        "annee prochaine": date(reference.year + 1, 12, 31),
    }
    if s in fixed:
        return fixed[s]
    if m := _IN_N.fullmatch(s):
        n, unit = int(m["n"]), m["unit"]
        if unit.startswith("jour"):
            return reference + timedelta(days=n)
        if unit.startswith("semaine"):
            return reference + timedelta(weeks=n)
        return _add_months(reference, n)
    return None


def _ym(day: date) -> tuple[int, int]:
    return day.year, day.month


def resolve_due(text: str, reference: date) -> DueDate:
    """Resolve a due date written in French or Darija against ``reference`` (the plan's date).

    Never raises on user text: whatever cannot be read with certainty comes back with
    ``value=None`` (or a flagged value) and ``needs_confirmation=True``.
    """
    s = normalize(text).strip(" .,;:")
    if not s:
        return DueDate(text, None, True, Reason.EMPTY)
    # Darija words (either script) become the French ones read below: one set of conventions.
    s = to_french(s)

    # ISO date-times as exported by spreadsheets ("2013-03-15T10:30").
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2})?", s):
        try:
            exact = datetime.fromisoformat(s.upper().replace(" ", "T"))
        except ValueError:
            return DueDate(text, None, True, Reason.INVALID_DATE)
        return _checked(text, exact, reference)

    clock: time | None = None
    if (m := _TIME_RE.search(s)) and not _NUMERIC_YMD.fullmatch(s):
        clock = time(int(m["h"]), int(m["m"] or 0))
        s = (s[: m.start()] + " " + s[m.end() :]).strip()

    weekday: int | None = None
    weekday_next = False
    if m := _WEEKDAY_RE.search(s):
        weekday, weekday_next = _WEEKDAYS[m["wd"]], bool(m["next"])
        s = (s[: m.start()] + " " + s[m.end() :]).strip()

    s = " ".join(s.split()).strip(" ,.;:")
    s = _FILLERS_RE.sub("", s).strip(" ,")

    if not s:
        if weekday is not None:
            # "lundi prochain" is unambiguous; a bare "lundi" is our guess of the next one.
            ahead = (weekday - reference.weekday() - 1) % 7 + 1
            day = reference + timedelta(days=ahead)
            value = _combine(day, clock)
            if weekday_next:
                return _checked(text, value, reference)
            return DueDate(text, None, True, Reason.AMBIGUOUS_WEEKDAY, suggestion=value)
        if clock is not None:
            return DueDate(text, None, True, Reason.MISSING_DATE)
        return DueDate(text, None, True, Reason.UNRECOGNISED)

    try:
        parsed = _parse_date_part(s, reference)
    except ValueError:  # day out of range for the month, month 13...
        return DueDate(text, None, True, Reason.INVALID_DATE)

    if parsed.value is None:
        return DueDate(text, None, True, parsed.reason or Reason.UNRECOGNISED)
    value = _combine(parsed.value, clock)
    if parsed.year_guessed:
        return DueDate(text, None, True, Reason.MISSING_YEAR, suggestion=value)
    if weekday is not None and parsed.value.weekday() != weekday:
        return DueDate(text, value, True, Reason.WEEKDAY_MISMATCH, suggestion=value)
    return _checked(text, value, reference)


def _combine(day: date, clock: time | None) -> date | datetime:
    return datetime.combine(day, clock) if clock is not None else day


def _checked(text: str, value: date | datetime, reference: date) -> DueDate:
    """Flag deadlines before the plan itself: usually a typo in the year."""
    day = value.date() if isinstance(value, datetime) else value
    if day < reference:
        return DueDate(text, value, True, Reason.BEFORE_REFERENCE, suggestion=value)
    return DueDate(text, value, False)


def due_from_value(value: date | datetime, reference: date) -> DueDate:
    """A due date that arrived as a real date (a spreadsheet date cell): ``text`` is its ISO form.

    A date-time at midnight is taken as a plain date: spreadsheets store dates that way.
    """
    if isinstance(value, datetime) and value.time() == time(0, 0):
        value = value.date()
    return _checked(_iso(value) or "", value, reference)
