"""Working-day calendar for England and Wales.

Counting convention (used everywhere: timers, task due dates, dashboards, exports):
the event day is day 0, and "N working days" ends at the close of the Nth working day
after it, at the configured close time in Europe/London local time. Zero working days
ends at the close of the event day, or of the next working day if the event day is not one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
_MAX_SCAN_DAYS = 366 * 5


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> Mapping[date, str]:
    """Return the England and Wales bank holidays of one year from the holidays library."""
    table = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return {d: str(name) for d, name in table.items()}


@dataclass(frozen=True, slots=True)
class SkippedDay:
    """A non-working day passed over while counting."""

    day: date
    reason: str


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days: Monday to Friday except bank holidays, adjusted by local closures."""

    closures: Mapping[date, str] = field(default_factory=dict)
    """Extra non-working days (e.g. an office closure), with a reason."""
    openings: frozenset[date] = frozenset()
    """Corrections: days the library calls a holiday that are working days here."""
    weekend: frozenset[int] = frozenset({5, 6})
    open_time: time = time(9, 0)
    close_time: time = time(17, 0)
    tz: ZoneInfo = LONDON

    def non_working_reason(self, day: date) -> str | None:
        """Return why `day` is not a working day, or None if it is one."""
        if day in self.closures:
            return self.closures[day]
        if day in self.openings:
            return None
        if day.weekday() in self.weekend:
            return "Weekend"
        return _bank_holidays(day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        """Return whether `day` is a working day."""
        return self.non_working_reason(day) is None

    def holidays_in_year(self, year: int) -> list[SkippedDay]:
        """List the bank holidays and closures of a year (weekends excluded), in date order."""
        days = {d: n for d, n in _bank_holidays(year).items() if d not in self.openings}
        days.update({d: r for d, r in self.closures.items() if d.year == year})
        return [SkippedDay(d, days[d]) for d in sorted(days)]

    def local_date(self, instant: datetime) -> date:
        """Return the calendar date of an aware instant in the calendar's timezone."""
        if instant.tzinfo is None:
            raise ValueError("naive datetime")
        return instant.astimezone(self.tz).date()

    def close_of(self, day: date) -> datetime:
        """Return the close of business on `day` as an aware instant."""
        return datetime.combine(day, self.close_time, self.tz)

    def count_forward(self, start: datetime, working_days: int) -> tuple[date, list[SkippedDay]]:
        """Return the Nth working day after start's local date (day 0) and the days skipped."""
        if working_days < 0:
            raise ValueError("working_days must not be negative")
        day = self.local_date(start)
        skipped: list[SkippedDay] = []
        counted = 0
        if working_days == 0:
            while (reason := self.non_working_reason(day)) is not None:
                skipped.append(SkippedDay(day, reason))
                day += timedelta(days=1)
            return day, skipped
        for _ in range(_MAX_SCAN_DAYS):
            day += timedelta(days=1)
            reason = self.non_working_reason(day)
            if reason is None:
                counted += 1
                if counted == working_days:
                    return day, skipped
            else:
                skipped.append(SkippedDay(day, reason))
        raise ValueError("no working day found within five years")

    def add_working_days(self, start: datetime, working_days: int) -> datetime:
        """Return the close of the Nth working day after start (start's day is day 0)."""
        day, _ = self.count_forward(start, working_days)
        return self.close_of(day)

    def add_calendar_days(self, start: datetime, days: int) -> datetime:
        """Return the close of the day `days` calendar days after start's local date."""
        return self.close_of(self.local_date(start) + timedelta(days=days))

    def add_calendar_days_by(self, start: datetime, days: int) -> datetime:
        """Return the close of the last working day on or before the day `days` calendar days
        after start's local date: a "within six weeks" deadline that falls on a Saturday or a
        bank holiday is due the working day before, never after."""
        day = self.local_date(start) + timedelta(days=days)
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return self.close_of(day)
            day -= timedelta(days=1)
        raise ValueError("no working day found within five years")

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Return the instant `hours` of working time after start (open to close, working days)."""
        if hours < 0:
            raise ValueError("hours must not be negative")
        remaining = timedelta(hours=hours)
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working_day(day):
                opens = datetime.combine(day, self.open_time, self.tz)
                closes = datetime.combine(day, self.close_time, self.tz)
                begin = max(local, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), self.tz)
        raise ValueError("no working time found within five years")

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Count working days after start's local date up to and including end's local date."""
        first, last = self.local_date(start), self.local_date(end)
        count = 0
        day = first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def calendar_with(
    closures: Iterable[tuple[date, str]] = (),
    openings: Iterable[date] = (),
    *,
    weekend: Iterable[int] = (5, 6),
    close_time: time = time(17, 0),
    open_time: time = time(9, 0),
) -> WorkingCalendar:
    """Build a calendar from closure and correction rows."""
    return WorkingCalendar(
        closures=dict(closures),
        openings=frozenset(openings),
        weekend=frozenset(weekend),
        close_time=close_time,
        open_time=open_time,
    )
