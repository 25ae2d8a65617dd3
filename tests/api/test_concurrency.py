"""Twenty people complete the same task at the same moment: exactly one succeeds, the rest get a
409, and the instance moves on exactly once. Runs on SQLite and (TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.api.test_definitions_api import (
    PERSON,
    People,
    assert_problem,
    deploy,
    json_of,
    no_personal_data_in_logs,
    people,
)
from tests.api.test_instances_api import start
from tests.api.test_races import at_once, sender

pytestmark = [pytest.mark.usefixtures("no_personal_data_in_logs")]
__all__ = ["no_personal_data_in_logs", "people"]  # shared fixtures, re-exported for pytest
THREADS = 20


def race(app: Flask, path: str, body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    """POST the same request from THREADS threads at once, each with its own test client."""
    return at_once(app, sender("POST", path, body, headers), THREADS)


def counts(app: Flask, instance_id: int) -> dict[str, Any]:
    """What the database says happened to the instance."""
    from api.common.extensions import db
    from domain.audit.models import AuditEvent
    from domain.processes.models import HumanTask, ProcessInstance

    with app.app_context():
        session = db.session()
        events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.instance_id == instance_id)
        ).all()
        tasks = session.execute(
            select(HumanTask.element_id, HumanTask.status).where(
                HumanTask.instance_id == instance_id
            )
        ).all()
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        result = {
            "completed_events": events.count("task.completed"),
            "created_events": events.count("task.created"),
            "tasks": sorted((element, status) for element, status in tasks),
            "lock_version": instance.lock_version,
            "all_tasks": session.scalar(select(func.count()).select_from(HumanTask)),
        }
        db.session.remove()
        return result


def test_twenty_concurrent_completions_of_one_task(
    app: Flask, client: FlaskClient, people: People
) -> None:
    deploy(client, people.headers("owner"), "basic")
    instance = start(client, people.headers("pat"))
    (task,) = instance["ready_tasks"]
    before = counts(app, instance["id"])
    body = {"data": {"child_name": PERSON, "concern_level": 9}}

    responses = race(app, f"/api/v1/tasks/{task['id']}/complete", body, people.headers("pat"))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (THREADS - 1), statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    (winner,) = [json_of(r) for r in responses if r.status_code == 200]
    assert [t["element_id"] for t in winner["ready_tasks"]] == ["strategy_discussion"]

    after = counts(app, instance["id"])
    assert after["completed_events"] == 1
    assert after["created_events"] == before["created_events"] + 1
    assert after["tasks"] == [("strategy_discussion", "ready"), ("submit_referral", "completed")]
    assert after["all_tasks"] == 2
    assert after["lock_version"] == before["lock_version"] + 1

    # The instance still works normally afterwards.
    strategy = winner["ready_tasks"][0]["id"]
    done = client.post(
        f"/api/v1/tasks/{strategy}/complete",
        json={"data": {"outcome": "no_further_action"}},
        headers=people.headers("manager"),
    )
    assert done.status_code == 409  # follow_on is not deployed: the start_process call fails
    deploy(client, people.headers("owner"), "follow_on")
    done = client.post(
        f"/api/v1/tasks/{strategy}/complete",
        json={"data": {"outcome": "no_further_action"}},
        headers=people.headers("manager"),
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    assert json_of(done)["status"] == "completed"


def test_twenty_colleagues_claim_one_task_at_once(
    app: Flask, client: FlaskClient, people: People
) -> None:
    deploy(client, people.headers("owner"), "basic")
    instance = start(client, people.headers("pat"))
    (task,) = instance["ready_tasks"]
    path = f"/api/v1/tasks/{task['id']}/claim"
    colleagues = [f"worker{n:02d}" for n in range(THREADS)]
    for name in colleagues:
        people.add(name, ["practitioner"])
    headers = {name: people.headers(name) for name in colleagues}

    def claim(c: FlaskClient, n: int) -> TestResponse:
        return c.post(path, headers=headers[colleagues[n]])

    responses = at_once(app, claim, THREADS)
    outcomes = {name: r.status_code for name, r in zip(colleagues, responses, strict=True)}

    assert sorted(outcomes.values()) == [200] + [409] * (THREADS - 1), outcomes
    (winner,) = [name for name, status in outcomes.items() if status == 200]
    detail = json_of(client.get(f"/api/v1/tasks/{task['id']}", headers=headers[winner]))
    loser = next(name for name in colleagues if name != winner)
    body = {"data": {"child_name": PERSON, "concern_level": 2}}
    late = client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=headers[loser])
    assert_problem(late, 409)
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=headers[winner])
    assert done.status_code == 200, done.get_data(as_text=True)
    assert detail["claimed_by"] is not None
