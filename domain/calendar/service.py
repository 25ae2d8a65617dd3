"""Build the working calendar from the library's bank holidays and the admin-managed table."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar.models import CalendarDay
from engine.workdays import WorkingCalendar, calendar_with

_CACHE: dict[tuple[object, ...], WorkingCalendar] = {}
_SETTINGS: dict[str, object] = {"weekend": (5, 6), "close_time": time(17, 0)}


def configure(*, weekend: tuple[int, ...], close_time: time) -> None:
    """Set the weekend days and the close of the working day (from settings, at start-up)."""
    _SETTINGS["weekend"] = weekend
    _SETTINGS["close_time"] = close_time
    _CACHE.clear()


def current_calendar(session: Session) -> WorkingCalendar:
    """Return the calendar including every closure and correction row (cached per table content)."""
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.reason)).all()
    key = (
        tuple(sorted((r.day, r.kind, r.reason) for r in rows)),
        _SETTINGS["weekend"],
        _SETTINGS["close_time"],
    )
    calendar = _CACHE.get(key)
    if calendar is None:
        _CACHE.clear()
        weekend = _SETTINGS["weekend"]
        close = _SETTINGS["close_time"]
        assert isinstance(weekend, tuple) and isinstance(close, time)
        calendar = calendar_with(
            [(r.day, r.reason) for r in rows if r.kind == "closure"],
            [r.day for r in rows if r.kind == "opening"],
            weekend=weekend,
            close_time=close,
        )
        _CACHE[key] = calendar
    return calendar


def latest_calendar() -> WorkingCalendar:
    """Return the calendar most recently loaded by current_calendar (the engine's provider)."""
    for calendar in list(_CACHE.values()):
        return calendar
    weekend = _SETTINGS["weekend"]
    close = _SETTINGS["close_time"]
    assert isinstance(weekend, tuple) and isinstance(close, time)
    return calendar_with(weekend=weekend, close_time=close)
