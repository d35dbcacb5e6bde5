"""French free-text due dates, resolved against the plan's date."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.plans.dates import DueDate, Reason, normalize, resolve_due

# The Bouanane plan was drawn up at the workshop of 31 January 2013.
REF = date(2013, 1, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The seed plan, verbatim.
        ("Dimanche 3 février 13 à 10h30", datetime(2013, 2, 3, 10, 30)),
        ("Fin février 2013", date(2013, 2, 28)),
        ("Fin Mars 2013", date(2013, 3, 31)),
        ("1ère semaine du mois de mai 2013", date(2013, 5, 7)),
        # Numeric forms are day-first.
        ("15/03/2013", date(2013, 3, 15)),
        ("15-03-13", date(2013, 3, 15)),
        ("15.03.2013", date(2013, 3, 15)),
        ("2013-03-15", date(2013, 3, 15)),
        ("2013-03-15T10:30", datetime(2013, 3, 15, 10, 30)),
        ("2013-03-15 10:30", datetime(2013, 3, 15, 10, 30)),
        ("15/03/2013 à 14h", datetime(2013, 3, 15, 14, 0)),
        # Day and month names.
        ("le 5 mars 2013", date(2013, 3, 5)),
        ("Le 1er mars 2013 à 9h", datetime(2013, 3, 1, 9, 0)),
        ("premier avril 2013", date(2013, 4, 1)),
        ("5 fév 2013", date(2013, 2, 5)),
        ("5 fev. 2013", date(2013, 2, 5)),
        ("12 sept. 2013", date(2013, 9, 12)),
        ("3 aout 2013", date(2013, 8, 3)),
        ("3 AOÛT 2013", date(2013, 8, 3)),
        ("3 décembre 2013 à 10h", datetime(2013, 12, 3, 10, 0)),
        ("3 decembre 2013 10:15", datetime(2013, 12, 3, 10, 15)),
        ("jeudi 7 mars 2013 vers 9h30", datetime(2013, 3, 7, 9, 30)),
        # Periods resolve to their last day (deadline convention); "début" to the 10th.
        ("début avril 2013", date(2013, 4, 10)),
        ("Debut du mois d'avril 2013", date(2013, 4, 10)),
        ("mi-mars 2013", date(2013, 3, 15)),
        ("mi mars 2013", date(2013, 3, 15)),
        ("courant avril 2013", date(2013, 4, 30)),
        ("avril 2013", date(2013, 4, 30)),
        ("en avril 2013", date(2013, 4, 30)),
        ("au cours du mois de mai 2013", date(2013, 5, 31)),
        ("dans le courant du mois d'avril 2013", date(2013, 4, 30)),
        ("fin du mois de juin 2013", date(2013, 6, 30)),
        ("fin février 2016", date(2016, 2, 29)),  # leap year
        ("FIN FEVRIER 2100", date(2100, 2, 28)),  # not a leap year
        ("2ème quinzaine de mars 2013", date(2013, 3, 31)),
        ("1ère quinzaine de mars 2013", date(2013, 3, 15)),
        ("deuxième semaine de mars 2013", date(2013, 3, 14)),
        ("premiere semaine de juin 2013", date(2013, 6, 7)),
        ("1re semaine de juin 2013", date(2013, 6, 7)),
        ("4eme semaine de fevrier 2013", date(2013, 2, 28)),
        ("dernière semaine de février 2013", date(2013, 2, 28)),
        ("1er trimestre 2013", date(2013, 3, 31)),
        ("T2 2013", date(2013, 6, 30)),
        ("2ème semestre 2013", date(2013, 12, 31)),
        ("fin 2013", date(2013, 12, 31)),
        # Relative to the reference (Thursday 31 January 2013).
        ("semaine prochaine", date(2013, 2, 10)),
        ("la semaine prochaine", date(2013, 2, 10)),
        ("cette semaine", date(2013, 2, 3)),
        ("fin du mois", date(2013, 1, 31)),
        ("fin du mois prochain", date(2013, 2, 28)),
        ("le mois prochain", date(2013, 2, 28)),
        ("demain", date(2013, 2, 1)),
        ("dans 10 jours", date(2013, 2, 10)),
        ("d'ici 2 semaines", date(2013, 2, 14)),
        ("dans 1 mois", date(2013, 2, 28)),
        ("lundi prochain", date(2013, 2, 4)),
        ("le lundi prochain", date(2013, 2, 4)),
        ("Jeudi prochain à 15h", datetime(2013, 2, 7, 15, 0)),
    ],
)
def test_resolves_with_certainty(text: str, expected: date | datetime) -> None:
    due = resolve_due(text, REF)
    assert due == DueDate(text, expected, False)
    assert type(due.value) is type(expected)


def test_seed_time_is_a_naive_datetime_and_weekday_agrees() -> None:
    due = resolve_due("Dimanche 3 février 13 à 10h30", REF)
    assert isinstance(due.value, datetime)
    assert due.value.tzinfo is None
    assert due.value.weekday() == 6  # Sunday, as written
    assert due.iso() == "2013-02-03T10:30"


def test_bare_month_is_never_guessed() -> None:
    due = resolve_due("Avril", REF)
    assert due.value is None
    assert due.needs_confirmation
    assert due.reason == Reason.MISSING_YEAR
    assert due.suggestion == date(2013, 4, 30)
    assert due.iso() is None


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("3 mars", date(2013, 3, 3)),
        ("15/03", date(2013, 3, 15)),
        ("fin mars", date(2013, 3, 31)),
        ("début janvier", date(2014, 1, 10)),  # 10 Jan 2013 is already past: next year
        ("mi-janvier", date(2014, 1, 15)),
        ("1ère semaine de mai", date(2013, 5, 7)),
        ("le 5 mars à 10h", datetime(2013, 3, 5, 10, 0)),
        ("janvier", date(2013, 1, 31)),  # the reference month itself is not over yet
    ],
)
def test_day_or_month_without_year_needs_confirmation(
    text: str, suggestion: date | datetime
) -> None:
    due = resolve_due(text, REF)
    assert (due.value, due.needs_confirmation, due.reason) == (None, True, Reason.MISSING_YEAR)
    assert due.suggestion == suggestion


def test_weekday_that_disagrees_is_flagged_but_kept() -> None:
    due = resolve_due("Lundi 3 février 2013", REF)  # 3 February 2013 was a Sunday
    assert due.value == date(2013, 2, 3)
    assert due.needs_confirmation
    assert due.reason == Reason.WEEKDAY_MISMATCH


def test_date_before_the_plan_is_flagged() -> None:
    due = resolve_due("Fin février 2012", REF)
    assert due.value == date(2012, 2, 29)
    assert (due.needs_confirmation, due.reason) == (True, Reason.BEFORE_REFERENCE)


def test_due_on_the_reference_day_is_fine() -> None:
    assert resolve_due("31/01/2013", REF) == DueDate("31/01/2013", date(2013, 1, 31), False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", Reason.EMPTY),
        ("   ", Reason.EMPTY),
        ("à 10h30", Reason.MISSING_DATE),
        ("10h", Reason.MISSING_DATE),
        ("31/02/2013", Reason.INVALID_DATE),
        ("30 février 2013", Reason.INVALID_DATE),
        ("15/13/2013", Reason.INVALID_DATE),
        ("2013-02-30T10:00", Reason.INVALID_DATE),
        ("n'importe quoi", Reason.UNRECOGNISED),
        ("après l'Aïd", Reason.UNRECOGNISED),
        ("2013", Reason.UNRECOGNISED),
        ("6ème semaine de mars 2013", Reason.UNRECOGNISED),
        ("3ème quinzaine de mars 2013", Reason.UNRECOGNISED),
        ("dès que possible", Reason.UNRECOGNISED),
        ("fin mars 2013 ou avril", Reason.UNRECOGNISED),
        ("lundi", Reason.AMBIGUOUS_WEEKDAY),
    ],
)
def test_unresolvable_text_is_flagged_not_guessed(text: str, reason: str) -> None:
    due = resolve_due(text, REF)
    assert due.value is None
    assert due.needs_confirmation
    assert due.reason == reason
    assert due.text == text


def test_bare_weekday_proposes_the_next_one() -> None:
    assert resolve_due("lundi", REF).suggestion == date(2013, 2, 4)
    assert resolve_due("jeudi", REF).suggestion == date(2013, 2, 7)  # not the reference day


def test_reference_drives_relative_dates() -> None:
    ref = date(2016, 2, 10)  # Wednesday, leap year
    assert resolve_due("fin du mois", ref).value == date(2016, 2, 29)
    assert resolve_due("semaine prochaine", ref).value == date(2016, 2, 21)
    assert resolve_due("dans 1 mois", date(2013, 1, 31)).value == date(2013, 2, 28)
    assert resolve_due("fin du mois prochain", date(2013, 12, 5)).value == date(2014, 1, 31)


def test_due_date_is_frozen() -> None:
    due = resolve_due("Fin Mars 2013", REF)
    with pytest.raises(AttributeError):
        due.value = None  # type: ignore[misc]


def test_normalize() -> None:
    assert normalize("  Quant  (date de MOA) ") == "quant (date de moa)"
    assert normalize("Où\u00a0FÉVRIER d\u2019avril") == "ou fevrier d'avril"
