"""Working-time arithmetic for response-time targets.

"Two working hours" after Friday 16:00 is Monday 10:00. Windows are built in local wall
time (Africa/Casablanca, which moves during Ramadan) and compared in UTC, so a change of
offset never stretches or shrinks a window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import LOCAL_TZ

# Far enough for any target we use, short enough that a misconfiguration cannot loop forever.
_MAX_DAYS = 366


@dataclass(frozen=True)
class WorkingHours:
    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = field(default_factory=frozenset)
    tz: ZoneInfo = LOCAL_TZ

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("working hours must end after they start")
        if not self.weekdays:
            raise ValueError("at least one working day is needed")

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """'09:00-17:00' (Monday to Friday)."""
        first, _, second = text.partition("-")
        return cls(start=time.fromisoformat(first.strip()), end=time.fromisoformat(second.strip()))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def windows(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC) that end after `since`, in order; the first may be cut."""
        since = since.astimezone(UTC)
        day = since.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                opens = datetime.combine(day, self.start, self.tz).astimezone(UTC)
                closes = datetime.combine(day, self.end, self.tz).astimezone(UTC)
                if closes > since:
                    yield max(opens, since), closes
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start` has elapsed."""
        if duration <= timedelta(0):
            return start.astimezone(UTC)
        left = duration
        for opens, closes in self.windows(start):
            if closes - opens >= left:
                return opens + left
            left -= closes - opens
        raise ValueError("no working time within a year: check the working hours")

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Working time elapsed from a to b (zero if b is not after a)."""
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        total = timedelta(0)
        if b <= a:
            return total
        for opens, closes in self.windows(a):
            if opens >= b:
                break
            total += min(closes, b) - opens
        return total

    def is_working(self, when: datetime) -> bool:
        local = when.astimezone(self.tz)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end
