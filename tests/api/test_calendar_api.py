"""REST: /api/v1/calendar — due dates, holidays, closures and corrections, coverage."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FakeClock, make_user, token_for
from tests.timers.conftest import deploy_test, start, timer_rows


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> dict[str, str]:
    make_user(app, "admin", ["admin"])
    return token_for(client, "admin")


@pytest.fixture
def practitioner(app: Flask, client: FlaskClient) -> dict[str, str]:
    make_user(app, "pat", ["practitioner"])
    return token_for(client, "pat")


def _due(client: FlaskClient, headers: dict[str, str], start: str, days: object) -> object:
    return client.get(
        f"/api/v1/calendar/due?from={quote(start)}&working_days={days}", headers=headers
    )


def test_due_over_christmas(client: FlaskClient, practitioner: dict[str, str]) -> None:
    response = _due(client, practitioner, "2026-12-21T10:00:00+00:00", 5)
    assert response.status_code == 200  # type: ignore[attr-defined]
    body = response.json  # type: ignore[attr-defined]
    assert body["from"] == "2026-12-21T10:00:00+00:00"
    assert body["working_days"] == 5
    assert body["due_at"] == "2026-12-30T17:00:00+00:00"
    assert body["due_date"] == "2026-12-30"
    assert body["skipped"] == [
        {"date": "2026-12-25", "reason": "Christmas Day"},
        {"date": "2026-12-26", "reason": "Weekend"},
        {"date": "2026-12-27", "reason": "Weekend"},
        {"date": "2026-12-28", "reason": body["skipped"][3]["reason"]},
    ]
    assert "Boxing Day" in body["skipped"][3]["reason"]
    assert "day 0" in body["convention"]


def test_due_across_easter_and_the_clock_change(
    client: FlaskClient, practitioner: dict[str, str]
) -> None:
    body = _due(client, practitioner, "2027-03-25T10:00:00Z", 2).json  # type: ignore[attr-defined]
    assert body["due_at"] == "2027-03-31T17:00:00+01:00"
    assert [s["date"] for s in body["skipped"]] == [
        "2027-03-26",
        "2027-03-27",
        "2027-03-28",
        "2027-03-29",
    ]
    assert next(s["reason"] for s in body["skipped"]) == "Good Friday"
    assert [s["reason"] for s in body["skipped"]][3] == "Easter Monday"


def test_an_unencoded_plus_in_the_offset_is_accepted(
    client: FlaskClient, practitioner: dict[str, str]
) -> None:
    response = client.get(
        "/api/v1/calendar/due?from=2027-03-25T10:00:00+01:00&working_days=1", headers=practitioner
    )
    assert response.status_code == 200
    assert response.json["from"] == "2027-03-25T10:00:00+01:00"  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ("from=2026-12-21T10:00:00&working_days=5", "#/from"),
        ("from=yesterday&working_days=5", "#/from"),
        ("working_days=5", "#/from"),
        ("from=9999-12-31T23:00:00Z&working_days=5", "#/from"),
        ("from=2026-12-21T10:00:00Z&working_days=-1", "#/working_days"),
        ("from=2026-12-21T10:00:00Z&working_days=100000000000", "#/working_days"),
        ("from=2026-12-21T10:00:00Z&working_days=2.5", "#/working_days"),
        ("from=2026-12-21T10:00:00Z", "#/working_days"),
    ],
)
def test_bad_due_queries_name_the_field(
    client: FlaskClient, practitioner: dict[str, str], query: str, pointer: str
) -> None:
    response = client.get(f"/api/v1/calendar/due?{query}", headers=practitioner)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json["errors"]]  # type: ignore[index]


def test_holidays_of_a_year(client: FlaskClient, practitioner: dict[str, str]) -> None:
    response = client.get("/api/v1/calendar/holidays?year=2027", headers=practitioner)
    assert response.status_code == 200
    body = response.json
    assert body is not None
    days = {d["date"]: d for d in body["days"]}
    assert days["2027-03-26"] == {
        "date": "2027-03-26",
        "reason": "Good Friday",
        "source": "bank_holiday",
    }
    assert "2027-03-29" in days
    assert body["reviewed"] is False
    assert body["corrections"] == []
    this_year = client.get("/api/v1/calendar/holidays", headers=practitioner).json
    assert this_year is not None
    assert this_year["year"] == 2026
    for bad in ("1899", "abc", "20270"):
        response = client.get(f"/api/v1/calendar/holidays?year={bad}", headers=practitioner)
        assert response.status_code == 422, bad


def test_admins_add_and_remove_closures_and_corrections(
    app: Flask, client: FlaskClient, admin: dict[str, str], practitioner: dict[str, str]
) -> None:
    closure = {"date": "2026-12-29", "kind": "closure", "reason": "Office closed"}
    assert (
        client.post("/api/v1/calendar/closures", json=closure, headers=practitioner).status_code
        == 403
    )
    assert client.post("/api/v1/calendar/closures", json=closure).status_code == 401
    response = client.post("/api/v1/calendar/closures", json=closure, headers=admin)
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["date"] == "2026-12-29"
    body = _due(client, practitioner, "2026-12-21T10:00:00+00:00", 5).json  # type: ignore[attr-defined]
    assert body["due_at"] == "2026-12-31T17:00:00+00:00"
    assert {"date": "2026-12-29", "reason": "Office closed"} in body["skipped"]
    assert client.post("/api/v1/calendar/closures", json=closure, headers=admin).status_code == 409

    # timers armed after the change use it too
    deploy_test(app, "tf_deadline")
    instance_id = start(app, "tf_deadline")
    due = {r.element_id: r.due_at.isoformat() for r in timer_rows(app, instance_id)}
    assert due["stage1_deadline"] == "2026-12-31T17:00:00+00:00"

    opening = {"date": "2026-12-28", "kind": "opening", "reason": "Substitute day worked"}
    assert client.post("/api/v1/calendar/closures", json=opening, headers=admin).status_code == 201
    body = _due(client, practitioner, "2026-12-21T10:00:00+00:00", 5).json  # type: ignore[attr-defined]
    assert body["due_at"] == "2026-12-30T17:00:00+00:00"
    listed = client.get("/api/v1/calendar/closures", headers=practitioner).json
    assert [(c["date"], c["kind"]) for c in listed] == [  # type: ignore[union-attr]
        ("2026-12-28", "opening"),
        ("2026-12-29", "closure"),
    ]
    holidays = client.get("/api/v1/calendar/holidays?year=2026", headers=practitioner).json
    assert holidays is not None
    assert holidays["corrections"] == [{"date": "2026-12-28", "reason": "Substitute day worked"}]

    assert (
        client.delete("/api/v1/calendar/closures/2026-12-29", headers=practitioner).status_code
        == 403
    )
    assert client.delete("/api/v1/calendar/closures/2026-12-29", headers=admin).status_code == 204
    assert client.delete("/api/v1/calendar/closures/2026-12-29", headers=admin).status_code == 404
    response = client.delete("/api/v1/calendar/closures/29-12-2026", headers=admin)
    assert response.status_code == 422
    body = _due(client, practitioner, "2026-12-21T10:00:00+00:00", 5).json  # type: ignore[attr-defined]
    assert body["due_at"] == "2026-12-29T17:00:00+00:00"


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"date": "2026-12-22", "kind": "holiday", "reason": "x-mas"}, "#/kind"),
        ({"date": "22/12/2026", "kind": "closure", "reason": "Closed"}, "#/date"),
        ({"date": "2026-12-22", "kind": "closure", "reason": ""}, "#/reason"),
        ({"date": "2026-12-22", "kind": "opening", "reason": "Not a holiday"}, "#/date"),
        ({"date": "2026-12-22", "kind": "closure", "reason": "Closed", "extra": 1}, "#/extra"),
    ],
)
def test_bad_closures_name_the_field(
    client: FlaskClient, admin: dict[str, str], payload: dict[str, object], pointer: str
) -> None:
    response = client.post("/api/v1/calendar/closures", json=payload, headers=admin)
    assert response.status_code == 422
    assert pointer in [e["pointer"] for e in response.json["errors"]]  # type: ignore[index]


def test_coverage_status_and_reviews(
    client: FlaskClient,
    clock: FakeClock,
    admin: dict[str, str],
    practitioner: dict[str, str],
) -> None:
    assert client.get("/api/v1/calendar/status", headers=practitioner).status_code == 403
    status = client.get("/api/v1/calendar/status", headers=admin).json
    assert status is not None
    assert status["coverage_end"] is None
    assert "No year" in status["warning"]
    assert (
        client.post(
            "/api/v1/calendar/reviews", json={"year": 2027}, headers=practitioner
        ).status_code
        == 403
    )
    response = client.post("/api/v1/calendar/reviews", json={"year": 2027}, headers=admin)
    assert response.status_code == 201
    assert response.json == {
        "year": 2027,
        "reviewed": "Reviewed by admin",
        "confirmed_at": "2026-12-21T10:00:00+00:00",
    }
    status = client.get("/api/v1/calendar/status", headers=admin).json
    assert status is not None
    assert status["coverage_end"] == "2027-12-31"
    assert status["warning"] is None
    assert [r["year"] for r in status["reviewed_years"]] == [2027]
    holidays = client.get("/api/v1/calendar/holidays?year=2027", headers=practitioner).json
    assert holidays is not None
    assert holidays["reviewed"] is True
    clock.move_to("2027-01-04T09:00:00+00:00")
    admin = token_for(client, "admin")  # the old token has expired
    status = client.get("/api/v1/calendar/status", headers=admin).json
    assert status is not None
    assert "2027-12-31" in status["warning"]
    for bad in ({"year": 1999}, {"year": "next"}, {}):
        response = client.post("/api/v1/calendar/reviews", json=bad, headers=admin)
        assert response.status_code == 422
        assert "#/year" in [e["pointer"] for e in response.json["errors"]]  # type: ignore[index]


def test_the_coverage_warning_is_logged_at_start(
    settings: dict[str, object], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    from api.app import create_app
    from api.common.extensions import db

    caplog.set_level(logging.WARNING, logger="thinkfamily.calendar")
    app = create_app(settings, clock=clock)
    with app.app_context():
        db.engine.dispose()
    assert "No year of England and Wales bank holidays has been confirmed" in caplog.text
