"""Dates as ThinkFamily pages show them: UK local dates and the Overdue / Due soon tags.

Every instant is stored as an aware UTC datetime; people see the calendar date in the working
calendar's timezone (Europe/London), written out in full: "Wednesday 30 December 2026".
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from engine.workdays import WorkingCalendar

LONDON = ZoneInfo("Europe/London")
DUE_SOON_WORKING_DAYS = 2
OVERDUE = ("Overdue", "govuk-tag--red")
DUE_SOON = ("Due soon", "govuk-tag--yellow")


def _local(value: datetime, tz: ZoneInfo | None) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(tz or LONDON)


def uk_date(value: datetime | date | None, tz: ZoneInfo | None = None) -> str:
    """Return "Wednesday 30 December 2026" for an aware instant (in UK local time) or a date.

    None gives "" so templates can pass optional values straight through.

    Raises:
        ValueError: the datetime is naive.
    """
    if value is None:
        return ""
    day = _local(value, tz).date() if isinstance(value, datetime) else value
    return f"{day:%A} {day.day} {day:%B %Y}"


def uk_short_date(value: datetime | date | None, tz: ZoneInfo | None = None) -> str:
    """Return "30 December 2026" (no weekday) for an aware instant or a date; None gives ""."""
    if value is None:
        return ""
    day = _local(value, tz).date() if isinstance(value, datetime) else value
    return f"{day.day} {day:%B %Y}"


def uk_time(value: datetime, tz: ZoneInfo | None = None) -> str:
    """Return the UK local time in GOV.UK style: "9am", "5:30pm", "midday", "midnight"."""
    local = _local(value, tz)
    if local.hour == 12 and local.minute == 0:
        return "midday"
    if local.hour == 0 and local.minute == 0:
        return "midnight"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    if local.minute:
        return f"{hour}:{local.minute:02d}{suffix}"
    return f"{hour}{suffix}"


def uk_datetime(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    """Return "5:30pm on Wednesday 30 December 2026" for an aware instant; None gives ""."""
    if value is None:
        return ""
    return f"{uk_time(value, tz)} on {uk_date(value, tz)}"


def iso_date(value: datetime | date | None, tz: ZoneInfo | None = None) -> str:
    """Return the UK local date as YYYY-MM-DD (for a <time datetime> attribute); None gives ""."""
    if value is None:
        return ""
    day = _local(value, tz).date() if isinstance(value, datetime) else value
    return day.isoformat()


def due_tag(
    due_at: datetime | None, now: datetime, calendar: WorkingCalendar
) -> tuple[str, str] | None:
    """Return the GOV.UK tag (text, css class) for a due instant, or None when not due soon.

    "Overdue" (red) once `now` is past `due_at`; "Due soon" (yellow) when `due_at` falls on or
    before the close of the second working day after today (today is day 0).
    """
    if due_at is None:
        return None
    if now > due_at:
        return OVERDUE
    if due_at <= calendar.add_working_days(now, DUE_SOON_WORKING_DAYS):
        return DUE_SOON
    return None


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    """Return whether a due instant has passed."""
    return due_at is not None and now > due_at


def is_due_soon(due_at: datetime | None, now: datetime, calendar: WorkingCalendar) -> bool:
    """Return whether a due instant is not yet past but within two working days."""
    return due_tag(due_at, now, calendar) == DUE_SOON
