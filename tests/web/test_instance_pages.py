"""The instance page: summary, stages as text and JSON, tasks, timers, timeline, audit, ending."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FakeClock, make_user
from tests.web.helpers_reports import (
    context,
    deploy_test_bundle,
    h1_count,
    post,
    sign_in,
    start_basic,
    text,
    title,
)


@pytest.fixture(autouse=True)
def _setup(app: Flask) -> None:
    make_user(app, "pat", ["practitioner"])
    make_user(app, "tess", ["team_manager"])
    make_user(app, "owen", ["process_owner"])
    make_user(app, "pc", ["practitioner"], agency="police", kind="police")
    deploy_test_bundle(app, "basic")


def complete_first_task(app: Flask, instance_id: int, username: str = "pat") -> None:
    from domain.db import unit_of_work
    from domain.processes import instances, runtime

    with context(app, username) as ctx, unit_of_work(ctx.session):
        (task,) = instances.ready_tasks(ctx, instance_id)
        runtime.complete_task(
            ctx, task_id=task.id, data={"child_name": "Amy Private", "concern_level": 3}
        )


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    instance_id = start_basic(app, "pat")
    for url in (f"/instances/{instance_id}", f"/instances/{instance_id}/status.json"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in")


def test_instance_page_shows_summary_stage_and_open_task(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    instance_id = start_basic(app, "pat")  # Monday 21 December 2026: due Thursday 24th
    clock.advance(days=1)  # Tuesday: Thursday is within two working days
    sign_in(app, client, "pat")

    response = client.get(f"/instances/{instance_id}")

    assert response.status_code == 200
    body = text(response)
    reference = f"PRC-{instance_id:06d}"
    assert title(response) == f"{reference}: basic \N{EN DASH} ThinkFamily"
    assert h1_count(response) == 1
    assert f">{reference}</h1>" in body
    assert "version 1" in body
    assert "In progress" in body  # the status tag
    # the open task, with its due date written out and linked to its page
    assert "Submit referral" in body
    assert "Thursday 24 December 2026" in body
    assert "Due soon" in body
    # the diagram and the same information as text
    assert 'data-bpmn-url="/processes/basic/versions/1/diagram.bpmn"' in body
    assert f'data-status-url="/instances/{instance_id}/status.json"' in body
    assert 'id="stage-list"' in body
    # the timeline and the audit trail name people, not ids
    assert "Process started" in body
    assert "Task opened: Submit referral" in body
    assert "Task opened: Submit referral</strong> by" not in body  # the process opened it
    assert "Pat" in body
    assert "process.started" in body
    # a practitioner cannot end the process
    assert "End this process early" not in body


def test_status_json_lists_completed_and_active_elements(app: Flask, client: FlaskClient) -> None:
    instance_id = start_basic(app, "pat")
    complete_first_task(app, instance_id)
    sign_in(app, client, "pc")  # any signed-in user may see the diagram status

    response = client.get(f"/instances/{instance_id}/status.json")

    assert response.status_code == 200
    status = json.loads(response.get_data(as_text=True))
    assert set(status) == {"completed", "active", "counts"}
    assert "give_advice" in status["active"]
    assert "submit_referral" in status["completed"]
    assert "start" in status["completed"]
    page = text(client.get(f"/instances/{instance_id}"))
    assert "Give advice" in page
    assert "Task completed: Submit referral" in page
    recorded, rest = page.split("Where the process is", 1)
    assert "Amy Private" in recorded  # what was recorded is read in its own section
    assert "Amy Private" not in rest  # and never shows in the timeline or the audit


def test_diagram_xml_is_served_to_signed_in_users(app: Flask, client: FlaskClient) -> None:
    assert client.get("/processes/basic/versions/1/diagram.bpmn").status_code == 302
    sign_in(app, client, "pat")

    response = client.get("/processes/basic/versions/1/diagram.bpmn")

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert '<bpmn:process id="basic"' in text(response)
    assert client.get("/processes/basic/versions/9/diagram.bpmn").status_code == 404


def test_unknown_instance_is_a_404_page(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "pat")
    response = client.get("/instances/999")
    assert response.status_code == 404
    assert "Page not found" in text(response)


def test_team_manager_ends_a_process_with_a_reason(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    instance_id = start_basic(app, "pat")
    sign_in(app, client, "tess")
    page = text(client.get(f"/instances/{instance_id}"))
    assert "End this process early" in page
    assert 'name="csrf_token"' in page

    response = post(
        client,
        f"/instances/{instance_id}/terminate",
        {"reason": "Opened in error", "confirm": "yes"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/instances/{instance_id}"
    page = text(client.get(f"/instances/{instance_id}"))
    assert "Ended early" in page
    assert "Opened in error" in page
    assert "No tasks are open." in page
    assert "End this process early" not in page
    assert "was ended" in page  # the success banner
    assert "process.terminated" in page


def test_ending_needs_a_reason_and_a_confirmation(app: Flask, client: FlaskClient) -> None:
    instance_id = start_basic(app, "pat")
    sign_in(app, client, "owen")

    response = post(client, f"/instances/{instance_id}/terminate", {"reason": " "})

    assert response.status_code == 200  # shown again with its errors, as every form page is
    body = text(response)
    assert title(response).startswith("Error: ")
    assert "There is a problem" in body
    assert 'href="#reason"' in body
    assert "Enter why the process is being ended" in body
    assert 'href="#confirm"' in body
    response = post(client, f"/instances/{instance_id}/terminate", {"reason": "Duplicate case"})
    assert title(response).startswith("Error: ")
    assert "Duplicate case" in text(response)  # kept for the second try
    assert "In progress" in text(client.get(f"/instances/{instance_id}"))


def test_practitioners_cannot_end_a_process(app: Flask, client: FlaskClient) -> None:
    instance_id = start_basic(app, "pat")
    sign_in(app, client, "pat")
    response = post(
        client, f"/instances/{instance_id}/terminate", {"reason": "No", "confirm": "yes"}
    )
    assert response.status_code == 403
    assert "In progress" in text(client.get(f"/instances/{instance_id}"))


def test_ending_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    instance_id = start_basic(app, "pat")
    sign_in(app, client, "tess")
    response = client.post(
        f"/instances/{instance_id}/terminate", data={"reason": "Opened in error", "confirm": "yes"}
    )
    assert response.status_code == 400
    assert "In progress" in text(client.get(f"/instances/{instance_id}"))


def test_an_ended_process_cannot_be_ended_again(app: Flask, client: FlaskClient) -> None:
    instance_id = start_basic(app, "pat")
    sign_in(app, client, "tess")
    data = {"reason": "Opened in error", "confirm": "yes"}
    assert post(client, f"/instances/{instance_id}/terminate", data).status_code == 302
    response = post(client, f"/instances/{instance_id}/terminate", data)
    assert response.status_code == 409


def test_open_timers_are_listed_with_their_dates(app: Flask, client: FlaskClient) -> None:
    from domain.db import unit_of_work
    from domain.processes import runtime
    from web.dates import uk_datetime

    deploy_test_bundle(app, "timers")
    with context(app, "pat") as ctx, unit_of_work(ctx.session):
        instance_id = runtime.start_process(ctx, process_key="timers", data={}).id
        expected = uk_datetime(ctx.calendar.add_working_days(ctx.now(), 5))
    sign_in(app, client, "pat")

    body = text(client.get(f"/instances/{instance_id}"))

    timers = body.split('id="timers"', 1)[1].split('id="timeline"', 1)[0]
    assert "Stage 1 deadline" in timers
    assert expected in timers
    assert "Waiting" in timers
    assert "Stage 1 discussion" in body.split('id="tasks"', 1)[1]
