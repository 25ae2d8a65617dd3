"""REST: /api/v1/incidents — timers stopped after repeated failures, and their retry."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from domain.timers.incidents import RetryPolicy
from tests.conftest import FakeClock, make_user, token_for
from tests.timers.conftest import (
    audit_count,
    deploy_test,
    start,
    tasks,
    timer_rows,
    worker,
)

ROLES = ("practitioner", "team_manager", "process_owner", "admin")


@pytest.fixture
def headers(app: Flask, client: FlaskClient) -> dict[str, dict[str, str]]:
    for role in ROLES:
        make_user(app, role, [role])
    return {role: token_for(client, role) for role in ROLES}


def _make_incident(app: Flask, clock: FakeClock) -> int:
    deploy_test(app, "tf_failing")
    instance_id = start(app, "tf_failing", {"child_name": "Zephyrine Quillfeather"})
    clock.move_to("2026-12-22T17:00:01+00:00")
    the_worker = worker(app, retry=RetryPolicy(max_attempts=2))
    assert the_worker.run_until_idle().failed == 1
    clock.advance(seconds=31)
    assert the_worker.run_until_idle().failed == 1
    return instance_id


@pytest.mark.parametrize(
    ("role", "status"),
    [("practitioner", 403), ("team_manager", 200), ("process_owner", 200), ("admin", 200)],
)
def test_who_may_list_incidents(
    client: FlaskClient, headers: dict[str, dict[str, str]], role: str, status: int
) -> None:
    assert client.get("/api/v1/incidents", headers=headers[role]).status_code == status


def test_incidents_are_listed_without_case_data_and_retried(
    app: Flask, client: FlaskClient, clock: FakeClock, headers: dict[str, dict[str, str]]
) -> None:
    instance_id = _make_incident(app, clock)
    clock.advance(minutes=5)
    headers = {role: token_for(client, role) for role in ROLES}  # the clock moved on a day
    response = client.get("/api/v1/incidents", headers=headers["team_manager"])
    assert response.status_code == 200
    [incident] = response.json  # type: ignore[misc]
    timer_id = timer_rows(app, instance_id)[0].id
    assert incident == {
        "timer_id": timer_id,
        "instance_id": instance_id,
        "reference": f"PRC-{instance_id:06d}",
        "process_key": "tf_failing",
        "element_id": "wait",
        "title": "Wait a working day",
        "due_at": "2026-12-22T17:00:00+00:00",
        "attempts": 2,
        "last_error": "ScriptError: ZeroDivisionError at broken",
    }
    assert "Zephyrine" not in response.get_data(as_text=True)

    url = f"/api/v1/incidents/{timer_id}/retry"
    assert client.post(url, headers=headers["team_manager"]).status_code == 403
    assert client.post(url, headers=headers["practitioner"]).status_code == 403
    assert client.post(url).status_code == 401
    response = client.post(url, headers=headers["process_owner"])
    assert response.status_code == 200
    assert response.json == {
        "timer_id": timer_id,
        "instance_id": instance_id,
        "element_id": "wait",
        "status": "waiting",
        "attempts": 0,
        "due_at": "2026-12-22T17:00:00+00:00",
    }
    assert audit_count(app, "timers.retried", instance_id) == 1
    assert client.get("/api/v1/incidents", headers=headers["admin"]).json == []
    again = client.post(url, headers=headers["admin"])
    assert again.status_code == 409
    assert (
        client.post("/api/v1/incidents/424242/retry", headers=headers["admin"]).status_code == 404
    )

    # still broken: the retry is due at once and fails again, counting from zero
    the_worker = worker(app, retry=RetryPolicy(max_attempts=2))
    assert the_worker.run_until_idle().failed == 1
    assert timer_rows(app, instance_id)[0].attempts == 1
    assert tasks(app, instance_id) == []
