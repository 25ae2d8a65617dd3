"""The working-day calendar service: the counting convention, Easter, the clock change,
closures and corrections, coverage of reviewed holiday data."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask

from domain import errors
from tests.conftest import FakeClock
from tests.timers.conftest import deploy_test, start, timer_rows


def _due(app: Flask, iso: str, days: int) -> tuple[str, list[tuple[str, str]]]:
    from api.common.extensions import db
    from domain.calendar import service

    with app.app_context():
        result = service.due(db.session(), datetime.fromisoformat(iso), days)
        db.session.remove()
    return result.due_at.isoformat(), [(s.day.isoformat(), s.reason) for s in result.skipped]


def _adjust(app: Flask, day: date, kind: str, reason: str) -> None:
    from api.common.context import base_context
    from domain.calendar import service
    from domain.db import unit_of_work

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            service.add_adjustment(ctx, day=day, kind=kind, reason=reason)


def _confirm(app: Flask, year: int) -> None:
    from api.common.context import base_context
    from domain.calendar import service
    from domain.db import unit_of_work

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            service.confirm_year(ctx, year=year)


def _warning(app: Flask, now: datetime) -> str | None:
    from api.common.extensions import db
    from domain.calendar import service

    with app.app_context():
        warning = service.coverage_warning(db.session(), now)
        db.session.remove()
    return warning


def test_five_working_days_over_christmas_2026(app: Flask) -> None:
    due_at, skipped = _due(app, "2026-12-21T10:00:00+00:00", 5)
    assert due_at == "2026-12-30T17:00:00+00:00"
    assert [d for d, _ in skipped] == ["2026-12-25", "2026-12-26", "2026-12-27", "2026-12-28"]
    assert dict(skipped)["2026-12-25"] == "Christmas Day"
    assert dict(skipped)["2026-12-26"] == "Weekend"
    assert "Boxing Day" in dict(skipped)["2026-12-28"]


def test_the_counting_trap_from_the_domain_brief(app: Flask) -> None:
    # 15 working days from Thursday 18 December 2025, event day = day 0: Tuesday 13 January.
    due_at, _ = _due(app, "2025-12-18T10:00:00+00:00", 15)
    assert due_at == "2026-01-13T17:00:00+00:00"


def test_zero_working_days_is_the_close_of_the_event_day_or_the_next_working_day(
    app: Flask,
) -> None:
    assert _due(app, "2026-12-21T10:00:00+00:00", 0)[0] == "2026-12-21T17:00:00+00:00"
    assert _due(app, "2026-12-25T10:00:00+00:00", 0)[0] == "2026-12-29T17:00:00+00:00"


def test_easter_2027_and_the_clock_change(app: Flask) -> None:
    # Thursday 25 March 2027: Good Friday 26, weekend (clocks go forward on Sunday 28),
    # Easter Monday 29. One working day ends on Tuesday 30 at 17:00 BST.
    due_at, skipped = _due(app, "2027-03-25T10:00:00+00:00", 1)
    assert due_at == "2027-03-30T17:00:00+01:00"
    assert [d for d, _ in skipped] == ["2027-03-26", "2027-03-27", "2027-03-28", "2027-03-29"]
    assert dict(skipped)["2027-03-26"] == "Good Friday"
    assert dict(skipped)["2027-03-29"] == "Easter Monday"
    due_at, _ = _due(app, "2027-03-25T10:00:00+00:00", 2)
    assert due_at == "2027-03-31T17:00:00+01:00"
    assert datetime.fromisoformat(due_at).astimezone().utcoffset() is not None
    assert datetime.fromisoformat(due_at) == datetime.fromisoformat("2027-03-31T16:00:00+00:00")


def test_the_local_date_decides_day_zero(app: Flask) -> None:
    # 23:30Z on Tuesday 30 March 2027 is already Wednesday 31 March in London (BST).
    due_at, _ = _due(app, "2027-03-30T23:30:00+00:00", 1)
    assert due_at == "2027-04-01T17:00:00+01:00"


def test_working_hours_across_the_clock_change(app: Flask) -> None:
    from api.common.context import services

    with app.app_context():
        functions = services()["engine"].functions
        # Thursday 25 March 2027 16:00 GMT: one hour that day, then Tuesday 30 from 09:00 BST.
        assert functions["working_hours"](3, "2027-03-25T16:00:00+00:00") == (
            "2027-03-30T11:00:00+01:00"
        )
        # Friday 29 October 2027 16:30 BST: half an hour, then (clocks go back on Sunday 31)
        # Monday 1 November from 09:00 GMT.
        assert functions["working_hours"](2, "2027-10-29T15:30:00+00:00") == (
            "2027-11-01T10:30:00+00:00"
        )
        assert functions["working_days"](2, "2027-03-25T10:00:00+00:00") == (
            "2027-03-31T17:00:00+01:00"
        )


def test_a_within_deadline_in_calendar_days_never_moves_past_its_date(app: Flask) -> None:
    from api.common.context import services

    with app.app_context():
        functions = services()["engine"].functions
        by, on = functions["calendar_days_by"], functions["calendar_days"]
        # Consent on Saturday 28 November 2026: six weeks on is Saturday 9 January 2027.
        assert on(42, "2026-11-28T10:00:00+00:00") == "2027-01-09T17:00:00+00:00"
        assert by(42, "2026-11-28T10:00:00+00:00") == "2027-01-08T17:00:00+00:00"  # Friday
        # Six weeks from 14 November 2026 is Boxing Day: back past Christmas Day to the 24th.
        assert by(42, "2026-11-14T10:00:00+00:00") == "2026-12-24T17:00:00+00:00"
        # A working day is itself.
        assert by(42, "2026-11-30T10:00:00+00:00") == on(42, "2026-11-30T10:00:00+00:00")


def test_closures_and_corrections_change_due_dates(app: Flask) -> None:
    assert _due(app, "2026-12-21T10:00:00+00:00", 5)[0] == "2026-12-30T17:00:00+00:00"
    _adjust(app, date(2026, 12, 29), "closure", "Office closed between Christmas and New Year")
    due_at, skipped = _due(app, "2026-12-21T10:00:00+00:00", 5)
    assert due_at == "2026-12-31T17:00:00+00:00"
    assert ("2026-12-29", "Office closed between Christmas and New Year") in skipped
    _adjust(app, date(2026, 12, 28), "opening", "Substitute Boxing Day worked locally")
    assert _due(app, "2026-12-21T10:00:00+00:00", 5)[0] == "2026-12-30T17:00:00+00:00"


def test_a_closure_moves_timers_armed_after_it(app: Flask) -> None:
    deploy_test(app, "tf_deadline")
    before = start(app, "tf_deadline")
    _adjust(app, date(2026, 12, 29), "closure", "Office closure")
    after = start(app, "tf_deadline")
    due = {r.element_id: r.due_at.isoformat() for r in timer_rows(app, before)}
    assert due["stage1_deadline"] == "2026-12-30T17:00:00+00:00"
    due = {r.element_id: r.due_at.isoformat() for r in timer_rows(app, after)}
    assert due["stage1_deadline"] == "2026-12-31T17:00:00+00:00"


def test_only_a_listed_bank_holiday_can_be_corrected(app: Flask) -> None:
    with pytest.raises(errors.ValidationFailedError):
        _adjust(app, date(2026, 12, 22), "opening", "Not a holiday")
    with pytest.raises(errors.ValidationFailedError):
        _adjust(app, date(2026, 12, 26), "opening", "A Saturday")
    _adjust(app, date(2026, 12, 22), "closure", "Staff training")
    with pytest.raises(errors.ConflictError):
        _adjust(app, date(2026, 12, 22), "closure", "Twice")


def test_holidays_for_a_year(app: Flask) -> None:
    from api.common.extensions import db
    from domain.calendar import service

    _adjust(app, date(2027, 3, 29), "opening", "Easter Monday worked (test)")
    _adjust(app, date(2027, 7, 1), "closure", "Office move")
    with app.app_context():
        year = service.holidays_for_year(db.session(), 2027)
        db.session.remove()
    days = {d.isoformat(): (reason, source) for d, reason, source in year.days}
    assert days["2027-03-26"] == ("Good Friday", "bank_holiday")
    assert "2027-03-29" not in days
    assert days["2027-07-01"] == ("Office move", "closure")
    assert [d.isoformat() for d, _ in year.corrections] == ["2027-03-29"]
    assert "2027-12-27" in days
    assert "2027-12-28" in days
    assert year.reviewed is False
    with pytest.raises(errors.ValidationFailedError), app.app_context():
        service.holidays_for_year(db.session(), 1800)


def test_coverage_needs_confirmed_years_twelve_months_ahead(app: Flask, clock: FakeClock) -> None:
    from api.common.extensions import db
    from domain.calendar import service

    now = clock()
    warning = _warning(app, now)
    assert warning is not None
    assert "No year" in warning
    _confirm(app, 2026)
    warning = _warning(app, now)
    assert warning is not None
    assert "2026-12-31" in warning
    assert "2027" in warning
    _confirm(app, 2027)
    assert _warning(app, now) is None
    with app.app_context():
        assert service.coverage_end(db.session()) == date(2027, 12, 31)
        [first, second] = service.reviewed_years(db.session())
        assert first.reason == "Reviewed by system"
        assert second.day == date(2027, 1, 1)
        db.session.remove()
    assert _warning(app, now + timedelta(days=15)) is not None  # 5 January 2027
    _confirm(app, 2027)  # idempotent
    with app.app_context():
        assert len(service.reviewed_years(db.session())) == 2
        db.session.remove()


def test_the_engine_sees_closures_added_in_the_same_unit_of_work(app: Flask) -> None:
    from api.common.context import base_context, services
    from domain.calendar import service

    with app.app_context():
        ctx = base_context(None)
        engine_functions = services()["engine"].functions
        assert engine_functions["working_days"](5) == "2026-12-30T17:00:00+00:00"
        service.add_adjustment(ctx, day=date(2026, 12, 30), kind="closure", reason="Closed")
        assert engine_functions["working_days"](5) == "2026-12-31T17:00:00+00:00"
        assert ctx.calendar.add_working_days(ctx.now(), 5).day == 31
        ctx.session.rollback()
