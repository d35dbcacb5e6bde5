"""The limiter's decisions, at given times: no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.transports.delivery import Limits, RateLimiter

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_one_message_per_second_per_chat() -> None:
    limiter = RateLimiter()
    assert limiter.next_allowed("42", T0) == T0
    limiter.record("42", T0)
    assert limiter.next_allowed("42", s(0.3)) == s(1)
    assert limiter.next_allowed("43", s(0.3)) == s(0.3)  # another chat is not held back
    assert limiter.next_allowed("42", s(1.5)) == s(1.5)


def test_thirty_per_second_overall() -> None:
    limiter = RateLimiter()
    for index in range(30):
        limiter.record(str(index), s(index * 0.01))
    assert limiter.next_allowed("new", s(0.5)) == s(1)  # when the first of the 30 ages out
    assert limiter.next_allowed("new", s(1.0)) == s(1.0)


def test_twenty_per_minute_in_a_group() -> None:
    limiter = RateLimiter(Limits(per_chat_interval=timedelta(0)))
    for index in range(20):
        limiter.record("-100500", s(index * 2))
    assert limiter.next_allowed("-100500", s(40)) == s(60)
    assert limiter.next_allowed("500", s(40)) == s(40)  # a private chat has no such limit
    assert limiter.next_allowed("-100500", s(61)) == s(61)


def test_messages_leave_evenly_spaced_a_little_under_the_limit() -> None:
    limiter = RateLimiter()
    times = []
    at = T0
    for index in range(61):
        at = limiter.next_allowed(str(index), T0)
        limiter.record(str(index), at)
        times.append(at)
    assert times[1] - times[0] == Limits().spacing
    # No second ever holds 31: a sliding window on the other side has slack for jitter.
    windows = [later - first for first, later in zip(times, times[30:], strict=False)]
    assert min(windows) > timedelta(seconds=1)


def test_a_refused_message_gives_its_place_to_the_next() -> None:
    limiter = RateLimiter()
    spacing = limiter.limits.spacing
    for n in range(3):
        limiter.record(str(n), s(0) + n * spacing)
    without = limiter.overall_allowed(s(0))
    limiter.give_back(s(0) + 2 * spacing)  # the last one got a 429: Telegram did not count it
    assert limiter.overall_allowed(s(0)) == without - spacing


def test_late_rows_catching_up_never_put_thirty_one_in_a_second() -> None:
    """Times when requests really left: evenly paced ones never wait for this; a run of late
    rows leaving back to back waits once thirty are in the window, until the first leaves it."""
    limiter = RateLimiter()
    spacing = limiter.limits.spacing
    for n in range(30):  # on pace: each leaves at once
        assert limiter.sent_allowed(s(0) + n * spacing) == s(0) + n * spacing
        limiter.leaving(s(0) + n * spacing)
    assert limiter.sent_allowed(s(0) + 30 * spacing) == s(0) + 30 * spacing

    burst = RateLimiter()
    for n in range(30):  # late rows catching up, 1 ms apart
        burst.leaving(s(0.001 * n))
    assert burst.sent_allowed(s(0.03)) == s(0) + burst.limits.sent_window
    burst.not_counted(s(0.005))  # one of them was refused (a 429): its place is free
    assert burst.sent_allowed(s(0.03)) == s(0.03)
