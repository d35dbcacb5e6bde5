"""Working-time arithmetic: weekends, evenings, holidays and Morocco's Ramadan offset change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.cases.worktime import WorkingHours
from bot.core.clock import LOCAL_TZ

HOURS = WorkingHours()


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


def test_within_the_same_day() -> None:
    # Monday 10:00 + 2h = Monday 12:00
    assert HOURS.add(at(2026, 11, 23, 10), timedelta(hours=2)) == at(2026, 11, 23, 12)


def test_rolls_over_the_evening() -> None:
    # Monday 16:00 + 2h = Tuesday 10:00
    assert HOURS.add(at(2026, 11, 23, 16), timedelta(hours=2)) == at(2026, 11, 24, 10)


def test_friday_afternoon_lands_on_monday() -> None:
    assert HOURS.add(at(2026, 11, 27, 16), timedelta(hours=2)) == at(2026, 11, 30, 10)


def test_start_outside_hours_counts_from_next_opening() -> None:
    # Saturday night and Monday 06:00 both count from Monday 09:00.
    assert HOURS.add(at(2026, 11, 28, 23), timedelta(hours=1)) == at(2026, 11, 30, 10)
    assert HOURS.add(at(2026, 11, 30, 6), timedelta(hours=1)) == at(2026, 11, 30, 10)
    assert HOURS.add(at(2026, 11, 30, 18), timedelta(hours=1)) == at(2026, 12, 1, 10)


def test_one_working_day_is_eight_hours() -> None:
    assert HOURS.add(at(2026, 11, 23, 10), timedelta(hours=8)) == at(2026, 11, 24, 10)


def test_exact_end_of_window() -> None:
    assert HOURS.add(at(2026, 11, 23, 9), timedelta(hours=8)) == at(2026, 11, 23, 17)


def test_zero_duration_is_the_start() -> None:
    start = at(2026, 11, 28, 3)
    assert HOURS.add(start, timedelta(0)) == start


def test_holidays_are_skipped() -> None:
    hours = WorkingHours(holidays=frozenset({date(2026, 11, 24)}))
    assert hours.add(at(2026, 11, 23, 16), timedelta(hours=2)) == at(2026, 11, 25, 10)


def test_between_counts_only_working_time() -> None:
    assert HOURS.between(at(2026, 11, 27, 16), at(2026, 11, 30, 10)) == timedelta(hours=2)
    assert HOURS.between(at(2026, 11, 28, 8), at(2026, 11, 29, 20)) == timedelta(0)
    assert HOURS.between(at(2026, 11, 30, 10), at(2026, 11, 27, 16)) == timedelta(0)


@pytest.mark.parametrize(
    ("start", "hours"),
    [((2026, 11, 23, 10), 2), ((2026, 11, 27, 16, 30), 8), ((2027, 2, 5, 15), 13)],
)
def test_add_and_between_agree(start: tuple[int, ...], hours: int) -> None:
    begin = at(*start)
    end = HOURS.add(begin, timedelta(hours=hours))
    assert HOURS.between(begin, end) == timedelta(hours=hours)


def test_ramadan_offset_change_keeps_local_hours() -> None:
    # In 2027 Morocco leaves UTC+1 for UTC+0 around Ramadan (from about 7 February).
    before = at(2027, 2, 5, 16)  # Friday
    offset_before = before.utcoffset()
    end = HOURS.add(before, timedelta(hours=2))
    local_end = end.astimezone(LOCAL_TZ)
    assert local_end.time() == time(10, 0)
    assert local_end.date() == date(2027, 2, 8)
    assert offset_before != local_end.utcoffset()  # the test really crosses a change


def test_results_are_utc() -> None:
    assert HOURS.add(at(2026, 11, 23, 10), timedelta(hours=1)).tzinfo == UTC


def test_is_working() -> None:
    assert HOURS.is_working(at(2026, 11, 23, 9))
    assert not HOURS.is_working(at(2026, 11, 23, 17))
    assert not HOURS.is_working(at(2026, 11, 28, 11))


def test_parse_and_validate() -> None:
    assert WorkingHours.parse("08:30-16:30").start == time(8, 30)
    with pytest.raises(ValueError):
        WorkingHours.parse("17:00-09:00")
