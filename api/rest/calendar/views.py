"""The working-day calendar: due dates, holidays, closures and corrections, coverage."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any, cast

from flask import Flask
from flask.blueprints import BlueprintSetupState
from marshmallow import Schema, fields, pre_load, validate
from sqlalchemy.exc import SQLAlchemyError

from api.common.auth import requires_role
from api.common.context import command_context, services
from api.common.extensions import db
from api.rest.common import Blueprint, StrictSchema
from domain import errors
from domain.calendar import service as calendar_service
from domain.calendar.models import CalendarDay
from domain.db import unit_of_work
from domain.lanes import ADMIN

log = logging.getLogger("thinkfamily.calendar")

bp = Blueprint("calendar", __name__, url_prefix="/calendar", description="Working-day calendar")

_YEAR = validate.Range(min=calendar_service.MIN_YEAR, max=calendar_service.MAX_YEAR)
_SPACE_OFFSET = re.compile(r"^(\S+T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


@bp.record_once
def _log_coverage_at_start(state: BlueprintSetupState) -> None:
    """Log the holiday-data coverage warning once when the app starts (dates only)."""
    app = cast(Flask, state.app)
    with app.app_context():
        try:
            clock = services()["clock"]
            warning = calendar_service.coverage_warning(db.session(), clock())
        except SQLAlchemyError as exc:  # e.g. before the first migration
            log.debug("calendar coverage not checked: %s", type(exc).__name__)
            return
        finally:
            db.session.remove()
    if warning:
        log.warning("calendar: %s", warning)


# -- schemas --------------------------------------------------------------------------------


class DueQuerySchema(StrictSchema):
    """When do N working days from an instant end?"""

    start = fields.AwareDateTime(required=True, data_key="from")
    working_days = fields.Integer(
        required=True, validate=validate.Range(min=0, max=calendar_service.MAX_WORKING_DAYS)
    )

    @pre_load
    def repair_offset(self, data: Any, **_: Any) -> Any:
        """An unencoded `+` in a query string arrives as a space: put it back."""
        if hasattr(data, "get") and isinstance(data.get("from"), str):
            match = _SPACE_OFFSET.match(data["from"])
            if match:
                data = dict(data)
                data["from"] = f"{match.group(1)}+{match.group(2)}"
        return data


class SkippedSchema(Schema):
    """A non-working day passed over."""

    date = fields.Function(lambda s: s.day.isoformat())
    reason = fields.String()


class DueSchema(Schema):
    """A due date under the counting convention."""

    start = fields.Function(lambda d: d.start.isoformat(), data_key="from")
    working_days = fields.Integer()
    due_at = fields.Function(lambda d: d.due_at.isoformat())
    due_date = fields.Function(lambda d: d.due_date.isoformat())
    skipped = fields.List(fields.Nested(SkippedSchema))
    convention = fields.String()


class YearQuerySchema(StrictSchema):
    """Which year."""

    year = fields.Integer(validate=_YEAR)


class HolidaysSchema(Schema):
    """A year's non-working weekdays."""

    year = fields.Integer()
    reviewed = fields.Boolean()
    days = fields.Function(
        lambda y: [
            {"date": d.isoformat(), "reason": reason, "source": source}
            for d, reason, source in y.days
        ]
    )
    corrections = fields.Function(
        lambda y: [{"date": d.isoformat(), "reason": reason} for d, reason in y.corrections]
    )


class AdjustmentCreateSchema(StrictSchema):
    """A closure day, or a correction making a listed bank holiday a working day."""

    date = fields.Date(required=True)
    kind = fields.String(
        required=True, validate=validate.OneOf(sorted(calendar_service.ADJUSTMENT_KINDS))
    )
    reason = fields.String(required=True, validate=validate.Length(min=3, max=200))


class AdjustmentSchema(Schema):
    """A closure or correction row."""

    date = fields.Function(lambda r: r.day.isoformat())
    kind = fields.String()
    reason = fields.String()
    created_at = fields.DateTime()


class ReviewCreateSchema(StrictSchema):
    """Confirm a year's bank holidays were checked against gov.uk."""

    year = fields.Integer(required=True, validate=_YEAR)


class ReviewSchema(Schema):
    """A confirmed year."""

    year = fields.Function(lambda r: r.day.year)
    reviewed = fields.String(attribute="reason")
    confirmed_at = fields.DateTime(attribute="created_at")


class StatusSchema(Schema):
    """Holiday-data coverage."""

    coverage_end = fields.Date(allow_none=True)
    warning = fields.String(allow_none=True)
    reviewed_years = fields.List(fields.Nested(ReviewSchema))
    convention = fields.String()


# -- views ----------------------------------------------------------------------------------


@bp.get("/due")
@bp.arguments(DueQuerySchema, location="query")
@bp.response(200, DueSchema)
@requires_role()
def get_due(query: dict[str, Any]) -> calendar_service.DueDate:
    """Return the due instant of N working days from an instant, and the days skipped."""
    return calendar_service.due(command_context().session, query["start"], query["working_days"])


@bp.get("/holidays")
@bp.arguments(YearQuerySchema, location="query")
@bp.response(200, HolidaysSchema)
@requires_role()
def get_holidays(query: dict[str, Any]) -> calendar_service.YearHolidays:
    """List a year's bank holidays plus closures minus corrections (this year by default)."""
    ctx = command_context()
    year = query.get("year") or ctx.calendar.local_date(ctx.now()).year
    return calendar_service.holidays_for_year(ctx.session, year)


@bp.get("/closures")
@bp.response(200, AdjustmentSchema(many=True))
@requires_role()
def list_closures() -> list[CalendarDay]:
    """List every closure and correction."""
    return calendar_service.list_adjustments(command_context().session)


@bp.post("/closures")
@bp.arguments(AdjustmentCreateSchema)
@bp.response(201, AdjustmentSchema)
@requires_role(ADMIN)
def add_closure(payload: dict[str, Any]) -> CalendarDay:
    """Add a closure day or a correction (admins)."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        row = calendar_service.add_adjustment(
            ctx, day=payload["date"], kind=payload["kind"], reason=payload["reason"]
        )
    return row


@bp.delete("/closures/<string:day>")
@bp.response(204)
@requires_role(ADMIN)
def remove_closure(day: str) -> None:
    """Remove the closure or correction on a day (admins)."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError as exc:
        raise errors.ValidationFailedError(
            "The date is not valid.", [{"pointer": "#/date", "detail": "Use YYYY-MM-DD."}]
        ) from exc
    ctx = command_context()
    with unit_of_work(ctx.session):
        calendar_service.remove_adjustment(ctx, day=parsed)


@bp.post("/reviews")
@bp.arguments(ReviewCreateSchema)
@bp.response(201, ReviewSchema)
@requires_role(ADMIN)
def confirm_year(payload: dict[str, Any]) -> CalendarDay:
    """Confirm that a year's bank holidays were checked against gov.uk (admins)."""
    ctx = command_context()
    with unit_of_work(ctx.session):
        row = calendar_service.confirm_year(ctx, year=payload["year"])
    return row


@bp.get("/status")
@bp.response(200, StatusSchema)
@requires_role(ADMIN)
def get_status() -> dict[str, Any]:
    """Holiday-data coverage: the end of the confirmed years and any warning (admins)."""
    ctx = command_context()
    return {
        "coverage_end": calendar_service.coverage_end(ctx.session),
        "warning": calendar_service.coverage_warning(ctx.session, ctx.now()),
        "reviewed_years": calendar_service.reviewed_years(ctx.session),
        "convention": calendar_service.CONVENTION,
    }
