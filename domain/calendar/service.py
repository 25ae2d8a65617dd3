"""Build the working calendar from the library's bank holidays and the admin-managed table.

The table `calendar_days` holds three kinds of row:

- `closure`: an extra non-working day (an office closure, a newly announced bank holiday);
- `opening`: a correction, making a day the holidays library lists as a bank holiday a
  working day here;
- `reviewed_year`: on 1 January of a year, an admin's confirmation that the year's
  England and Wales bank holidays were checked against gov.uk ("Reviewed by <username>").
  The latest reviewed year bounds the holiday-data coverage.

Counting convention (domain brief §3 and §8, implemented in `engine.workdays`): the event
day is day 0 and N working days end at the close of the Nth working day after it, 17:00
Europe/London.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from domain import errors
from domain.audit import service as audit
from domain.calendar.models import CalendarDay
from domain.context import Context
from domain.db import first_writer_wins
from engine.workdays import SkippedDay, WorkingCalendar, calendar_with

CLOSURE = "closure"
OPENING = "opening"
REVIEWED_YEAR = "reviewed_year"
ADJUSTMENT_KINDS = frozenset({CLOSURE, OPENING})
MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_WORKING_DAYS = 1000
COVERAGE_MONTHS = 12
CONVENTION = (
    "The event day is day 0. N working days end at the close of business (17:00 "
    "Europe/London) on the Nth working day after it. Working days are Monday to Friday "
    "except England and Wales bank holidays and local closures."
)

_CACHE: dict[tuple[object, ...], WorkingCalendar] = {}
_SETTINGS: dict[str, object] = {"weekend": (5, 6), "close_time": time(17, 0)}


class CalendarSlot:
    """The calendar of one unit of work, read from the table the first time it is needed."""

    __slots__ = ("_calendar", "_session")

    def __init__(self, session: Session) -> None:
        self._session: Session | None = session
        self._calendar: WorkingCalendar | None = None

    def __call__(self) -> WorkingCalendar:
        if self._calendar is None:
            if self._session is None:  # released unread: never reopen a finished session
                return _fallback_calendar()
            # read mid-change by services that write other tables: no early flush (code that
            # changes the calendar flushes and calls `current_calendar` itself)
            with self._session.no_autoflush:
                self._calendar = _load_calendar(self._session)
        return self._calendar

    def reload(self) -> WorkingCalendar:
        """Read the table again (after this unit of work changed it)."""
        if self._session is None:  # pragma: no cover - current_calendar replaces released slots
            return self()
        self._calendar = _load_calendar(self._session)
        return self._calendar

    def release(self) -> None:
        """End the unit of work: keep what was read, never read through its session again."""
        self._session = None


_LOADED: ContextVar[CalendarSlot | None] = ContextVar("calendar_slot", default=None)


def release_calendar_slot() -> None:
    """Detach this thread's calendar from its unit of work (at the end of every app context).

    A slot left bound would let a later engine call open a transaction on a session that
    nobody closes any more.
    """
    slot = _LOADED.get()
    if slot is not None:
        slot.release()


def calendar_slot(session: Session) -> CalendarSlot:
    """Start a unit of work's calendar: `latest_calendar` in this thread or task reads it."""
    slot = CalendarSlot(session)
    _LOADED.set(slot)
    return slot


def configure(*, weekend: tuple[int, ...], close_time: time) -> None:
    """Set the weekend days and the close of the working day (from settings, at start-up)."""
    _SETTINGS["weekend"] = weekend
    _SETTINGS["close_time"] = close_time
    _CACHE.clear()


def _configured() -> tuple[tuple[int, ...], time]:
    weekend = _SETTINGS["weekend"]
    close = _SETTINGS["close_time"]
    if not isinstance(weekend, tuple) or not isinstance(close, time):  # pragma: no cover
        raise TypeError("calendar settings are not configured")
    return weekend, close


def current_calendar(session: Session) -> WorkingCalendar:
    """Return the calendar including every closure and correction row (cached per table content).

    Also makes it the calendar `latest_calendar` returns in this thread or task, so the
    engine's working-day functions use the table as this unit of work sees it.
    """
    slot = _LOADED.get()
    if slot is None or slot._session is not session:
        slot = calendar_slot(session)
    return slot.reload()


_ALL_DAYS = select(CalendarDay.day, CalendarDay.kind, CalendarDay.reason)


def _load_calendar(session: Session) -> WorkingCalendar:
    rows = session.connection().execute(_ALL_DAYS).all()
    key = (
        tuple(sorted((r.day, r.kind, r.reason) for r in rows if r.kind in ADJUSTMENT_KINDS)),
        _SETTINGS["weekend"],
        _SETTINGS["close_time"],
    )
    calendar = _CACHE.get(key)
    if calendar is None:
        _CACHE.clear()
        weekend, close = _configured()
        calendar = calendar_with(
            [(r.day, r.reason) for r in rows if r.kind == CLOSURE],
            [r.day for r in rows if r.kind == OPENING],
            weekend=weekend,
            close_time=close,
        )
        _CACHE[key] = calendar
    return calendar


def latest_calendar() -> WorkingCalendar:
    """Return the calendar last loaded by current_calendar (the engine's provider).

    Prefers the one loaded in this thread or task (every request and every timer firing
    loads it first), then the one loaded most recently anywhere in the process.
    """
    slot = _LOADED.get()
    if slot is not None:
        return slot()
    return _fallback_calendar()


def _fallback_calendar() -> WorkingCalendar:
    """The calendar loaded most recently anywhere in the process, else the library's alone."""
    for calendar in list(_CACHE.values()):
        return calendar
    weekend, close = _configured()
    return calendar_with(weekend=weekend, close_time=close)


# -- due dates -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueDate:
    """The end of a working-day period and the non-working days passed over."""

    start: datetime
    working_days: int
    due_at: datetime
    """Aware, in Europe/London (the close of the due date)."""
    due_date: date
    skipped: tuple[SkippedDay, ...]
    convention: str = CONVENTION


def due(session: Session, from_instant: datetime, working_days: int) -> DueDate:
    """Return when `working_days` working days from `from_instant` end, and what was skipped."""
    if from_instant.tzinfo is None:
        raise errors.ValidationFailedError(
            "The start instant needs a UTC offset.",
            [{"pointer": "#/from", "detail": "Give an ISO 8601 instant with an offset."}],
        )
    if not MIN_YEAR <= from_instant.year <= MAX_YEAR - 5:
        raise errors.ValidationFailedError(
            "The start instant is out of range.",
            [{"pointer": "#/from", "detail": f"Use a year from {MIN_YEAR} to {MAX_YEAR - 5}."}],
        )
    if not 0 <= working_days <= MAX_WORKING_DAYS:
        raise errors.ValidationFailedError(
            "The number of working days is out of range.",
            [{"pointer": "#/working_days", "detail": f"Use 0 to {MAX_WORKING_DAYS}."}],
        )
    calendar = current_calendar(session)
    day, skipped = calendar.count_forward(from_instant, working_days)
    return DueDate(
        start=from_instant,
        working_days=working_days,
        due_at=calendar.close_of(day),
        due_date=day,
        skipped=tuple(skipped),
    )


# -- holidays, closures and corrections ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearHolidays:
    """A year's non-working weekdays and the corrections applied to the library's list."""

    year: int
    days: tuple[tuple[date, str, str], ...]
    """(date, reason, source) with source `bank_holiday` or `closure`, in date order."""
    corrections: tuple[tuple[date, str], ...]
    reviewed: bool


def _check_year(year: int, pointer: str = "#/year") -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise errors.ValidationFailedError(
            "The year is out of range.",
            [{"pointer": pointer, "detail": f"Use a year from {MIN_YEAR} to {MAX_YEAR}."}],
        )


def _rows(session: Session, *kinds: str) -> list[CalendarDay]:
    query = select(CalendarDay).where(CalendarDay.kind.in_(kinds)).order_by(CalendarDay.day)
    return list(session.scalars(query))


def holidays_for_year(session: Session, year: int) -> YearHolidays:
    """List a year's bank holidays plus closures minus corrections (weekends left out)."""
    _check_year(year)
    calendar = current_calendar(session)
    closures = {d for d in calendar.closures if d.year == year}
    days = tuple(
        (s.day, s.reason, CLOSURE if s.day in closures else "bank_holiday")
        for s in calendar.holidays_in_year(year)
    )
    corrections = tuple(
        (row.day, row.reason) for row in _rows(session, OPENING) if row.day.year == year
    )
    reviewed = (
        session.scalar(
            select(CalendarDay.id).where(
                CalendarDay.kind == REVIEWED_YEAR, CalendarDay.day == date(year, 1, 1)
            )
        )
        is not None
    )
    return YearHolidays(year=year, days=days, corrections=corrections, reviewed=reviewed)


def list_adjustments(session: Session) -> list[CalendarDay]:
    """List every closure and correction row, by date."""
    return _rows(session, CLOSURE, OPENING)


def _refresh(ctx: Context) -> None:
    ctx.session.flush()
    ctx.calendar = current_calendar(ctx.session)


def add_adjustment(ctx: Context, *, day: date, kind: str, reason: str) -> CalendarDay:
    """Add a closure day or a correction (admin). A day holds at most one entry."""
    if kind not in ADJUSTMENT_KINDS:
        raise errors.ValidationFailedError(
            "Unknown kind.", [{"pointer": "#/kind", "detail": "Use closure or opening."}]
        )
    _check_year(day.year, "#/date")
    reason = reason.strip()
    if not 3 <= len(reason) <= 200:
        raise errors.ValidationFailedError(
            "The reason is missing or too long.",
            [{"pointer": "#/reason", "detail": "Use 3 to 200 characters."}],
        )
    existing = ctx.session.scalar(select(CalendarDay).where(CalendarDay.day == day))
    if existing is not None:
        raise errors.ConflictError(
            f"{day.isoformat()} already has a calendar entry ({existing.kind}). Remove it first."
        )
    taken = errors.ConflictError(
        f"{day.isoformat()} was given a calendar entry at the same moment. Reload to see it."
    )
    if kind == OPENING:
        library = calendar_with(weekend=tuple(sorted(ctx.calendar.weekend)))
        if library.is_working_day(day) or day.weekday() in library.weekend:
            raise errors.ValidationFailedError(
                "Only a listed bank holiday can be corrected to a working day.",
                [{"pointer": "#/date", "detail": "That day is not a bank holiday on a weekday."}],
            )
    row = CalendarDay(
        day=day,
        kind=kind,
        reason=reason,
        created_at=ctx.now(),
        created_by=ctx.actor.user_id if ctx.actor else None,
    )
    ctx.session.add(row)
    with first_writer_wins(taken):
        _refresh(ctx)
    audit.record(
        ctx, "calendar.day_added", ("calendar_day", row.id), day=day.isoformat(), kind=kind
    )
    return row


def remove_adjustment(ctx: Context, *, day: date) -> None:
    """Remove the closure or correction on a day (admin)."""
    row = ctx.session.scalar(
        select(CalendarDay).where(CalendarDay.day == day, CalendarDay.kind.in_(ADJUSTMENT_KINDS))
    )
    gone = errors.NotFoundError("No closure or correction on that day.")
    if row is None:
        raise gone
    # conditional, so that of two removals at the same moment only one is done and audited
    removed = ctx.session.execute(
        delete(CalendarDay)
        .where(CalendarDay.id == row.id)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], removed).rowcount != 1:
        raise gone
    ctx.session.expunge(row)
    audit.record(
        ctx, "calendar.day_removed", ("calendar_day", row.id), day=day.isoformat(), kind=row.kind
    )
    _refresh(ctx)


# -- holiday-data coverage -------------------------------------------------------------------


def confirm_year(ctx: Context, *, year: int) -> CalendarDay:
    """Record an admin's review of a year's bank holidays (idempotent per year)."""
    _check_year(year)
    who = ctx.actor.username if ctx.actor else "system"
    day = date(year, 1, 1)
    row = ctx.session.scalar(select(CalendarDay).where(CalendarDay.day == day))
    if row is not None and row.kind != REVIEWED_YEAR:
        raise errors.ConflictError(
            f"1 January {year} holds a {row.kind} entry; remove it before confirming the year."
        )
    if row is None:
        row = CalendarDay(day=day, kind=REVIEWED_YEAR, reason="", created_at=ctx.now())
        ctx.session.add(row)
    row.reason = f"Reviewed by {who}"[:200]
    row.created_at = ctx.now()
    row.created_by = ctx.actor.user_id if ctx.actor else None
    with first_writer_wins(
        errors.ConflictError(f"{year} was confirmed at the same moment. Reload to see it.")
    ):
        ctx.session.flush()
    audit.record(ctx, "calendar.year_reviewed", ("calendar_day", row.id), year=year)
    return row


def reviewed_years(session: Session) -> list[CalendarDay]:
    """List the confirmation rows, by year."""
    return _rows(session, REVIEWED_YEAR)


def coverage_end(session: Session) -> date | None:
    """Return 31 December of the latest confirmed year, or None if no year is confirmed."""
    rows = reviewed_years(session)
    return date(rows[-1].day.year, 12, 31) if rows else None


def _months_ahead(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def coverage_warning(session: Session, now: datetime) -> str | None:
    """Return a warning when confirmed holiday data covers less than 12 months from now.

    The message names dates only, never people, so it can go to the log.
    """
    end = coverage_end(session)
    today = now.astimezone(latest_calendar().tz).date()
    needed = _months_ahead(today, COVERAGE_MONTHS)
    if end is None:
        return (
            "No year of England and Wales bank holidays has been confirmed by an admin; "
            f"working-day deadlines need reviewed holiday data up to {needed.isoformat()}. "
            "Check the years ahead against gov.uk and confirm them."
        )
    if end < needed:
        return (
            f"Reviewed bank-holiday data ends on {end.isoformat()}, less than "
            f"{COVERAGE_MONTHS} months ahead (needed up to {needed.isoformat()}). "
            f"Check {end.year + 1} against gov.uk and confirm it."
        )
    return None
