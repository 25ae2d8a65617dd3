"""Ages from the context clock, on the UK local date."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from domain.context import Context
from domain.families.models import Person

LONDON = ZoneInfo("Europe/London")
ADULT_AGE = 18
UNDER_FIVE = 5
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def local_today(ctx: Context) -> date:
    """Return today's date in the UK from the context clock."""
    return ctx.now().astimezone(LONDON).date()


def uk_date(day: date) -> str:
    """Format a date as UK readers expect it, e.g. 3 March 2027."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def years_between(born: date, today: date) -> int:
    """Return completed years (a 29 February birthday counts from 1 March)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def months_between(born: date, today: date) -> int:
    """Return completed months."""
    return (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)


def age_years(person: Person, today: date) -> int | None:
    """Return the person's age in completed years, or None when unborn or unknown."""
    if person.date_of_birth is None:
        return None
    return years_between(person.date_of_birth, today)


def is_child(person: Person, today: date) -> bool:
    """Derive child or adult from the date of birth; otherwise use what was recorded."""
    years = age_years(person, today)
    if years is not None:
        return years < ADULT_AGE
    if person.expected_date_of_birth is not None:
        return True
    return bool(person.recorded_is_child)


def is_under_5(person: Person, today: date) -> bool:
    """Return whether the person is an unborn child or a child under five."""
    if person.is_unborn:
        return True
    years = age_years(person, today)
    return years is not None and years < UNDER_FIVE


def age_label(person: Person, today: date) -> str:
    """Describe the age: '7 years', '5 months', 'unborn, due 3 March 2027' or 'age not known'."""
    if person.date_of_birth is not None:
        years = years_between(person.date_of_birth, today)
        if years >= 1:
            return f"{years} year{'s' if years > 1 else ''}"
        months = months_between(person.date_of_birth, today)
        if months >= 1:
            return f"{months} month{'s' if months > 1 else ''}"
        return "under 1 month"
    if person.expected_date_of_birth is not None:
        return f"unborn, due {uk_date(person.expected_date_of_birth)}"
    return "age not known"
