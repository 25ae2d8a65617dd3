"""The inbox: My tasks / My agency's tasks, filters, due tags, claim and release."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FakeClock, make_agency, make_user
from tests.web.test_session_pages import DASH, deploy_web_test, family, html, post, sign_in


def start_as(app: Flask, username: str, family_id: int, person_ids: list[int]) -> int:
    """Start the web test process as a user (through the domain); return the instance id."""
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import runtime
    from domain.users import service as users
    from domain.users.models import User

    with app.app_context():
        ctx = base_context(None)
        user = ctx.session.scalar(select(User).where(User.username == username))
        assert user is not None
        ctx.actor = users.actor_of(user)
        with unit_of_work(ctx.session):
            instance = runtime.start_process(
                ctx,
                process_key="web_test",
                data={
                    "family_id": family_id,
                    "subject_person_ids": person_ids,
                    "urgency": "urgent",
                },
            )
            return instance.id


def complete_as(app: Flask, username: str, task_id: int, data: dict[str, Any]) -> None:
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import runtime
    from domain.users import service as users
    from domain.users.models import User

    with app.app_context():
        ctx = base_context(None)
        user = ctx.session.scalar(select(User).where(User.username == username))
        assert user is not None
        ctx.actor = users.actor_of(user)
        with unit_of_work(ctx.session):
            runtime.complete_task(ctx, task_id=task_id, data=data)


def ready_task_ids(app: Flask, instance_id: int) -> list[int]:
    from api.common.context import base_context
    from domain.processes import instances

    with app.app_context():
        return [t.id for t in instances.ready_tasks(base_context(None), instance_id)]


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """Two CSC practitioners, a CSC manager and a police officer; a family; the test process."""
    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_agency(app, "police", "police", "Northshire Police")
    make_user(app, "sam", ["practitioner"])
    make_user(app, "alex", ["practitioner"])
    make_user(app, "morgan", ["team_manager"])
    make_user(app, "pat", ["practitioner"], agency="police", kind="police")
    deploy_web_test(app)
    family_id, people = family(app, ("Ava", "Jones", date(2022, 5, 1)), ("Ben", "Jones", None))
    return {"family_id": family_id, "people": people}


def _rows(page: str) -> list[str]:
    """The inbox table's body rows (empty when the page has no table)."""
    if '<tbody class="govuk-table__body">' not in page:
        return []
    body = page.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return body.split('<tr class="govuk-table__row">')[1:]


def test_inbox_needs_sign_in(client: FlaskClient) -> None:
    response = client.get("/tasks")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"


def test_empty_inbox(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    response = client.get("/tasks")
    page = html(response)
    assert response.status_code == 200
    assert f"<title>My tasks {DASH} ThinkFamily</title>" in page
    assert page.count("<h1") == 1
    assert "You have no tasks waiting" in page
    assert 'aria-current="page">My tasks</a>' in page
    assert 'href="/tasks?view=agency"' in page


def test_my_tasks_table(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    instance_id = start_as(app, "sam", world["family_id"], world["people"][:1])
    (task_id,) = ready_task_ids(app, instance_id)
    sign_in(client, "sam")
    page = html(client.get("/tasks"))
    rows = _rows(page)
    assert len(rows) == 1
    row = rows[0]
    assert f'href="/tasks/{task_id}">Record the concern</a>' in row
    assert f'href="/instances/{instance_id}">PRC-{instance_id:06d}</a>' in row
    assert "Web test" in row
    assert "Northshire Children&#39;s Services" in row
    # created Monday 21 December 2026, due in 1 working day: Tuesday 22 December
    assert "Tuesday 22 December 2026" in row
    assert '<strong class="govuk-tag govuk-tag--yellow">Due soon</strong>' in row
    assert "—" in row  # not claimed
    assert f'action="/tasks/{task_id}/claim"' in row
    assert "1 task waiting" in page

    # the task is assigned to sam: alex does not see it, nor does the police officer
    post(client, "/sign-out", {}, "/tasks")
    sign_in(client, "alex")
    assert _rows(html(client.get("/tasks"))) == []
    post(client, "/sign-out", {}, "/tasks")
    sign_in(client, "pat")
    assert _rows(html(client.get("/tasks?view=agency"))) == []


def test_overdue_tag_and_due_filter(
    app: Flask, client: FlaskClient, clock: FakeClock, world: dict[str, Any]
) -> None:
    start_as(app, "sam", world["family_id"], world["people"][:1])
    clock.advance(days=3)
    sign_in(client, "sam")
    page = html(client.get("/tasks"))
    assert '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' in page
    assert len(_rows(html(client.get("/tasks?due=overdue")))) == 1
    filtered = html(client.get("/tasks?due=soon"))
    assert _rows(filtered) == []
    assert "No tasks match these filters" in filtered


def test_process_and_role_filters(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    start_as(app, "sam", world["family_id"], world["people"][:1])
    sign_in(client, "sam")
    assert len(_rows(html(client.get("/tasks?process=web_test")))) == 1
    assert _rows(html(client.get("/tasks?process=referral"))) == []
    assert len(_rows(html(client.get("/tasks?lane=referrer")))) == 1
    assert _rows(html(client.get("/tasks?lane=front_door"))) == []
    page = html(client.get("/tasks?lane=not-a-lane&due=whenever&view=everything"))
    assert len(_rows(page)) == 1  # bad values fall back to the defaults
    assert '<option value="web_test">Web test</option>' in page


def test_claim_and_release(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    instance_id = start_as(app, "sam", world["family_id"], world["people"][:1])
    (first,) = ready_task_ids(app, instance_id)
    complete_as(app, "sam", first, {"what_happened": "Seen", "seen_on": "2026-12-20"})
    (screen,) = ready_task_ids(app, instance_id)

    # both CSC practitioners see the front door task
    sign_in(client, "alex")
    page = html(client.get("/tasks"))
    assert f'href="/tasks/{screen}">Screen the contact</a>' in page
    response = post(client, f"/tasks/{screen}/claim", {"return_to": "/tasks?view=mine"}, "/tasks")
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks?view=mine"
    page = html(client.get("/tasks"))
    assert "You have claimed the task: Screen the contact" in page
    assert re.search(r'<td class="govuk-table__cell">You</td>', page)
    assert f'action="/tasks/{screen}/release"' in page
    post(client, "/sign-out", {}, "/tasks")

    # sam no longer sees it in My tasks; the agency view names the colleague
    sign_in(client, "sam")
    assert _rows(html(client.get("/tasks"))) == []
    agency = html(client.get("/tasks?view=agency"))
    assert "Alex" in agency
    assert f'action="/tasks/{screen}/claim"' not in agency
    assert f'action="/tasks/{screen}/release"' not in agency  # only alex or a manager
    # claiming it anyway is refused with a clear banner
    response = post(client, f"/tasks/{screen}/claim", {}, "/tasks")
    assert response.headers["Location"] == "/tasks"
    assert "You could not claim this task" in html(client.get("/tasks"))
    post(client, "/sign-out", {}, "/tasks")

    # a manager can release it
    sign_in(client, "morgan")
    agency = html(client.get("/tasks?view=agency"))
    assert f'action="/tasks/{screen}/release"' in agency
    post(client, f"/tasks/{screen}/release", {"return_to": "https://evil.example/"}, "/tasks")
    page = html(client.get("/tasks?view=agency"))
    assert "You have released the task: Screen the contact" in page
    # the case's audit trail says whose claim the manager released
    audit = html(client.get(f"/instances/{instance_id}"))
    audit = audit[audit.index('id="audit"') :]
    assert re.search(r"Task released<br>.*?claimed by: Alex", audit, re.S)
    post(client, "/sign-out", {}, "/tasks")
    sign_in(client, "sam")
    assert len(_rows(html(client.get("/tasks")))) == 1


def test_claim_needs_csrf(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    instance_id = start_as(app, "sam", world["family_id"], world["people"][:1])
    (task_id,) = ready_task_ids(app, instance_id)
    sign_in(client, "sam")
    assert client.post(f"/tasks/{task_id}/claim").status_code == 400
    assert client.post(f"/tasks/{task_id}/claim", data={"csrf_token": "x"}).status_code == 400


def test_claim_someone_elses_task_is_hidden(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    instance_id = start_as(app, "sam", world["family_id"], world["people"][:1])
    (task_id,) = ready_task_ids(app, instance_id)
    sign_in(client, "pat")  # police: cannot even see a CSC task
    response = post(client, f"/tasks/{task_id}/claim", {}, "/tasks")
    assert response.status_code == 404
    assert "Page not found" in html(response)
    assert post(client, "/tasks/999999/claim", {}, "/tasks").status_code == 404


def test_due_soon_counts_working_days(
    app: Flask, client: FlaskClient, clock: FakeClock, world: dict[str, Any]
) -> None:
    instance_id = start_as(app, "sam", world["family_id"], world["people"][:1])
    (first,) = ready_task_ids(app, instance_id)
    complete_as(app, "sam", first, {"what_happened": "Seen", "seen_on": "2026-12-20"})
    # the screening task is due in 5 working days (Christmas and Boxing Day skipped)
    sign_in(client, "alex")
    page = html(client.get("/tasks"))
    assert "Wednesday 30 December 2026" in page
    assert "govuk-tag" not in page.split("<tbody", 1)[1]
    clock.advance(days=7)
    assert "Due soon" in html(client.get("/tasks"))
    clock.now += timedelta(days=3)
    assert "Overdue" in html(client.get("/tasks"))
