"""Helpers shared by the family, dashboard and instance pages: rendering with dates and tags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import render_template

from api.common.context import command_context
from domain.context import Context
from web.dates import due_tag, uk_date, uk_datetime

STATUS_TAGS: dict[str, tuple[str, str]] = {
    "active": ("In progress", "govuk-tag--blue"),
    "incident": ("Needs attention", "govuk-tag--red"),
    "completed": ("Completed", "govuk-tag--green"),
    "terminated": ("Ended early", "govuk-tag--grey"),
}


class PageDates:
    """Date formatting and due tags for templates, in the working calendar's timezone."""

    def __init__(self, ctx: Context) -> None:
        """Bind to the request's clock and calendar."""
        self._now = ctx.now()
        self._calendar = ctx.calendar

    @property
    def now(self) -> datetime:
        """The request's current instant."""
        return self._now

    def uk_date(self, value: datetime | date | None) -> str:
        """Return "Wednesday 30 December 2026" ("" for None)."""
        return uk_date(value, self._calendar.tz)

    def uk_datetime(self, value: datetime | None) -> str:
        """Return "5:30pm on Wednesday 30 December 2026" ("" for None)."""
        return uk_datetime(value, self._calendar.tz)

    def iso(self, value: datetime | date | None) -> str:
        """Return the local date as YYYY-MM-DD for a <time datetime> attribute."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.astimezone(self._calendar.tz).date().isoformat()
        return value.isoformat()

    def tag(self, due_at: datetime | None) -> tuple[str, str] | None:
        """Return the Overdue / Due soon tag (text, class) for a due instant, or None."""
        return due_tag(due_at, self._now, self._calendar)


def status_tag(status: str) -> tuple[str, str]:
    """Return the tag (text, class) for a process status."""
    return STATUS_TAGS.get(status, (status.replace("_", " ").capitalize(), "govuk-tag--grey"))


def render_page(template: str, **values: Any) -> str:
    """Render a page template with `dates` and `status_tag` available."""
    ctx = command_context()
    return render_template(template, dates=PageDates(ctx), status_tag=status_tag, **values)
