"""The task page: details, the JSON Schema form, server-side validation, completion, 409s."""

from __future__ import annotations

import json
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.test_definitions_api import assert_problem, bundle_files, upload
from tests.conftest import make_agency, make_user, token_for
from tests.web.test_inbox_pages import complete_as, ready_task_ids, start_as
from tests.web.test_session_pages import (
    DASH,
    deploy_web_test,
    family,
    html,
    post,
    sign_in,
    token_of,
)


class FormFiller(HTMLParser):
    """Fill a page's POST form the way a person without JavaScript would: the first option of
    every choice and a plain answer in every box (dates: `day`)."""

    def __init__(self, action: str, day: date) -> None:
        super().__init__()
        self.action = action
        self.day = day
        self.inside = False
        self.select: str | None = None
        self.data: dict[str, list[str]] = {}
        self.chosen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("method") == "post" and a.get("action") == self.action
            return
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "hidden":
                self.data[name] = [a.get("value", "")]
            elif kind in ("radio", "checkbox"):
                if name not in self.chosen:
                    self.chosen.add(name)
                    self.data[name] = [a.get("value", "")]
            else:
                self.data[name] = [self._text(name, a)]
        elif tag == "textarea" and name:
            self.data[name] = ["A test answer"]
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and a.get("value") and self.select not in self.chosen:
            self.chosen.add(self.select)
            self.data[self.select] = [a["value"]]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None

    def _text(self, name: str, attrs: dict[str, str]) -> str:
        parts = {"day": str(self.day.day), "month": str(self.day.month), "year": str(self.day.year)}
        suffix = name.rsplit("-", 1)[-1]
        if suffix in parts:
            return parts[suffix]
        if attrs.get("inputmode") in ("numeric", "decimal"):
            return "1"
        return "A test answer"


def fill(page: str, action: str, day: date = date(2026, 12, 21)) -> dict[str, list[str]]:
    """Return the POST data a person would send from the form posting to `action`."""
    filler = FormFiller(action, day)
    filler.feed(page)
    assert filler.data, f"no form posting to {action}"
    return filler.data


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_agency(app, "police", "police", "Northshire Police")
    make_user(app, "sam", ["practitioner"])
    make_user(app, "alex", ["practitioner"])
    make_user(app, "morgan", ["team_manager"])
    make_user(app, "owner", ["process_owner"])
    make_user(app, "pat", ["practitioner"], agency="police", kind="police")
    deploy_web_test(app)
    family_id, people = family(app, ("Ava", "Jones", date(2022, 5, 1)), ("Ben", "Jones", None))
    instance_id = start_as(app, "sam", family_id, people[:1])
    (task_id,) = ready_task_ids(app, instance_id)
    return {"family_id": family_id, "people": people, "instance": instance_id, "task": task_id}


def test_task_page_shows_the_task_and_form(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    response = client.get(f"/tasks/{world['task']}")
    page = html(response)
    assert response.status_code == 200
    assert f"<title>Record the concern (PRC-000001) {DASH} ThinkFamily</title>" in page
    assert page.count("<h1") == 1
    assert '<h1 class="govuk-heading-l">Record the concern</h1>' in page
    assert 'href="/instances/1">PRC-000001</a>' in page
    assert "Tuesday 22 December 2026" in page
    assert "Due soon" in page
    assert "Referring practitioner, Northshire Children&#39;s Services" in page
    assert "Say what you saw and who was there." in page  # documentation
    assert "Urgency given: urgent" in page  # instructions rendered with the task's data
    assert 'name="csrf_token"' in page
    assert 'name="what_happened"' in page
    assert 'name="seen_on-day"' in page
    # family_members choices come from the family record
    assert "Ava Jones (4 years)" in page
    assert "Ben Jones (age not known)" in page
    assert f'value="{world["people"][0]}"' in page
    assert 'action="/tasks/1/claim"' in page
    assert page.count('data-prevent-double-click="true"') == 2  # complete, and claim
    assert response.headers["Cache-Control"] == "no-store"


def test_invalid_answers_show_the_error_summary(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    path = f"/tasks/{world['task']}"
    response = post(
        client,
        path,
        {"what_happened": "  ", "seen_on-day": "31", "seen_on-month": "2", "seen_on-year": "2026"},
        path,
    )
    page = html(response)
    assert response.status_code == 200
    assert f"<title>Error: Record the concern (PRC-000001) {DASH} ThinkFamily</title>" in page
    assert "There is a problem" in page
    assert 'href="#what_happened"' in page
    assert 'href="#seen_on-day"' in page
    assert 'value="31"' in page  # what was typed is kept
    assert 'class="govuk-error-message"' in page
    # nothing was completed
    assert client.get(path).status_code == 200


def test_unknown_family_member_is_refused(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    path = f"/tasks/{world['task']}"
    page = html(
        post(
            client,
            path,
            {
                "what_happened": "Seen at school",
                "seen_on-day": "20",
                "seen_on-month": "12",
                "seen_on-year": "2026",
                "present": "999",
            },
            path,
        )
    )
    assert 'href="#present"' in page


def test_completing_a_task(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    path = f"/tasks/{world['task']}"
    data = {
        "what_happened": "Seen at school\nwith a bruise",
        "seen_on-day": "20",
        "seen_on-month": "12",
        "seen_on-year": "2026",
        "present": [str(world["people"][0])],
    }
    response = post(client, path, data, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    page = html(client.get("/tasks"))
    assert "Task completed: Record the concern" in page
    assert 'href="/instances/1"' in page
    # the next task is the front door's
    assert "Screen the contact" in page
    # the completed task now shows a clear page
    response = client.get(path)
    assert response.status_code == 409
    assert "This task has already been completed" in html(response)
    response = post(client, path, data, "/tasks")
    assert response.status_code == 409

    from api.common.context import base_context
    from domain.processes import tasks as task_service

    with app.app_context():
        task = task_service.get_task(base_context(None), world["task"])
        assert task.data == {
            "what_happened": "Seen at school\nwith a bruise",
            "seen_on": "2026-12-20",
            "present": [str(world["people"][0])],
        }


def test_task_post_needs_csrf(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    response = client.post(f"/tasks/{world['task']}", data={"what_happened": "x"})
    assert response.status_code == 400
    assert client.get(f"/tasks/{world['task']}").status_code == 200


def test_other_agency_cannot_see_the_task(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "pat")
    assert client.get(f"/tasks/{world['task']}").status_code == 404
    assert client.get("/tasks/999999").status_code == 404


def test_colleague_sees_but_cannot_work_an_assigned_task(
    client: FlaskClient, world: dict[str, Any]
) -> None:
    sign_in(client, "alex")  # same agency, but the task is assigned to sam
    path = f"/tasks/{world['task']}"
    page = html(client.get(path))
    assert "you cannot complete it" in page
    assert 'name="what_happened"' not in page
    response = post(client, path, {"what_happened": "x"}, path)
    assert response.status_code == 403
    assert "You do not have permission" in html(response)


def test_process_owner_sees_tasks_read_only(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "owner")
    page = html(client.get(f"/tasks/{world['task']}"))
    assert "you cannot complete it" in page


def test_task_claimed_by_a_colleague(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    complete_as(app, "sam", world["task"], {"what_happened": "Seen", "seen_on": "2026-12-20"})
    (screen,) = ready_task_ids(app, world["instance"])
    sign_in(client, "alex")
    path = f"/tasks/{screen}"
    page = html(client.get(path))
    assert "What is the decision?" in page
    post(client, f"/tasks/{screen}/claim", {"return_to": path}, path)
    page = html(client.get(path))
    assert "Claimed by" in page
    assert ">You<" in page
    assert 'action="/tasks/2/release"' in page
    post(client, "/sign-out", {}, "/tasks")

    sign_in(client, "sam")
    response = client.get(path)
    assert response.status_code == 409
    page = html(response)
    assert "A colleague is working on this task" in page
    assert "Alex claimed this task at 10am on Monday 21 December 2026" in page
    assert "Release the task" not in page
    response = post(client, path, {"decision": "assessment"}, "/tasks")
    assert response.status_code == 409
    post(client, "/sign-out", {}, "/tasks")

    sign_in(client, "morgan")
    page = html(client.get(path))
    assert "Release the task" in page


def test_no_js_form_filler_completes_the_task(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    path = f"/tasks/{world['task']}"
    data = fill(html(client.get(path)), path)
    assert data["seen_on-year"] == ["2026"]
    response = client.post(path, data=data)
    assert response.status_code == 302, html(response)


def test_task_without_a_form_is_a_confirmation(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    from api.common.extensions import db
    from domain.processes.models import HumanTask

    with app.app_context():
        task = db.session.get(HumanTask, world["task"])
        assert task is not None
        task.form_key = None
        db.session.commit()
    sign_in(client, "sam")
    page = html(client.get(f"/tasks/{world['task']}"))
    assert "Mark as done" in page
    response = post(client, f"/tasks/{world['task']}", {}, f"/tasks/{world['task']}")
    assert response.status_code == 302


def test_dynamic_choice_helpers(app: Flask, world: dict[str, Any]) -> None:
    from api.common.context import base_context
    from domain.processes.choices import dynamic_choices, option_sources
    from web.pages.tasks import pointer_field

    schema = {
        "properties": {
            "a": {"type": "string", "x-options-from": "agencies"},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"p": {"type": "string", "x-options-from": "family_members"}},
                },
            },
            "z": {"type": "string", "x-options-from": "unknown_source"},
        }
    }
    assert option_sources(schema) == {"agencies", "family_members", "unknown_source"}
    with app.app_context():
        choices = dynamic_choices(base_context(None), schema, world["family_id"])
    assert ("police", "Northshire Police") in choices["agencies"]
    assert [label for _, label in choices["family_members"]] == [
        "Ava Jones (4 years)",
        "Ben Jones (age not known)",
    ]
    assert choices["unknown_source"] == []
    assert pointer_field("#/rows/0/p") == "rows-0-p"
    assert pointer_field("#") == ""


def test_csrf_token_is_stable_for_the_session(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    assert token_of(client, "/tasks") == token_of(client, f"/tasks/{world['task']}")


def _valid_answers() -> dict[str, str]:
    return {
        "what_happened": "Seen at school",
        "seen_on-day": "20",
        "seen_on-month": "12",
        "seen_on-year": "2026",
    }


def test_service_conflict_on_completion_is_a_clear_page(
    client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain import errors
    from domain.processes import runtime

    def conflict(*_args: object, **_kwargs: object) -> None:
        raise errors.ConflictError("The process could not move on.")

    monkeypatch.setattr(runtime, "complete_task", conflict)
    sign_in(client, "sam")
    path = f"/tasks/{world['task']}"
    response = post(client, path, _valid_answers(), path)
    assert response.status_code == 409
    page = html(response)
    assert "This task could not be completed" in page
    assert "The process could not move on." in page
    assert "Your answers have not been saved." in page


def test_a_problem_in_the_process_definition_shows_the_form_again_with_the_answers(
    client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain import errors
    from domain.processes import runtime

    message = "The process could not move on because of a problem in the process definition."

    def broken(*_args: object, **_kwargs: object) -> None:
        raise errors.DefinitionProblemError(message)

    monkeypatch.setattr(runtime, "complete_task", broken)
    sign_in(client, "sam")
    path = f"/tasks/{world['task']}"
    response = post(client, path, _valid_answers(), path)
    page = html(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert message in page
    assert "Seen at school</textarea>" in page or 'value="Seen at school"' in page  # not lost


def test_service_validation_errors_are_shown_on_the_form(
    client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain import errors
    from domain.processes import runtime

    def invalid(*_args: object, **_kwargs: object) -> None:
        raise errors.ValidationFailedError(
            "The form is not valid.", [{"pointer": "#/seen_on", "detail": "Enter a past date"}]
        )

    monkeypatch.setattr(runtime, "complete_task", invalid)
    sign_in(client, "sam")
    path = f"/tasks/{world['task']}"
    response = post(client, path, _valid_answers(), path)
    page = html(response)
    assert response.status_code == 200
    assert 'href="#seen_on-day">Enter a past date</a>' in page
    assert 'value="Seen at school"' in page or "Seen at school</textarea>" in page


# --- forms a process owner deploys: refused at deploy, or their pages open ------------------

MALFORMED_HINTS: dict[str, dict[str, Any]] = {
    "options-from-not-a-name": {"type": "string", "title": "X", "x-options-from": 5},
    "reveal-when-not-a-rule": {"type": "string", "title": "X", "x-reveal-when": 5},
    "reveal-when-empty": {"type": "string", "title": "X", "x-reveal-when": None},
    "reveal-when-unknown-question": {
        "type": "string",
        "title": "X",
        "x-reveal-when": {"property": "nowhere", "value": "a"},
    },
    "labels-not-a-list": {"type": "string", "title": "X", "enum": ["a"], "x-enum-labels": 5},
    "labels-one-short": {
        "type": "string",
        "title": "X",
        "enum": ["a", "b"],
        "x-enum-labels": ["A"],
    },
    "rows-not-a-number": {
        "type": "array",
        "title": "X",
        "items": {"type": "object", "title": "Row", "properties": {}},
        "x-rows": "x",
    },
    "array-without-items": {"type": "array", "title": "X"},
    "items-not-an-object": {"type": "array", "title": "X", "items": True},
    "hint-broken-inside-a-row": {
        "type": "array",
        "title": "X",
        "items": {
            "type": "object",
            "title": "Row",
            "properties": {"q": {"type": "string", "title": "Q", "x-options-from": ""}},
        },
    },
}
# Beyond the page subset but well formed: the API takes them, and their pages open.
UNUSUAL_BUT_SOUND: dict[str, dict[str, Any]] = {
    "no-type": {"title": "X"},
    "type-list": {"type": ["string", "null"], "title": "X"},
    "unknown-widget": {"type": "string", "title": "X", "x-widget": "dial"},
    "unknown-option-source": {"type": "string", "title": "X", "x-options-from": "nowhere"},
    "reference": {"$ref": "#/$defs/short"},
}


def _bundle_with_question(question: dict[str, Any]) -> list[tuple[str, bytes]]:
    files = bundle_files("basic")
    form = json.loads(dict(files)["submit_referral.schema.json"])
    form["$defs"] = {"short": {"type": "string", "maxLength": 3}}
    form["properties"]["x"] = question
    changed = json.dumps(form).encode()
    return [(n, changed if n == "submit_referral.schema.json" else d) for n, d in files]


@pytest.mark.parametrize("name", sorted(MALFORMED_HINTS))
def test_a_form_whose_page_hints_are_malformed_is_refused_at_deploy(
    app: Flask, client: FlaskClient, name: str
) -> None:
    """Each of these deployed, and then the task's page was a 500 for every practitioner."""
    make_user(app, "owner1", ["process_owner"])
    response = upload(
        client, token_for(client, "owner1"), _bundle_with_question(MALFORMED_HINTS[name])
    )
    body = assert_problem(response, 422, code="invalid-process")
    (problem,) = body["problems"]
    assert problem["file"] == "submit_referral.schema.json"
    assert problem["message"].startswith(
        "The form submit_referral.schema.json cannot be shown as a page: Question 'x'"
    )


@pytest.mark.parametrize("name", sorted(UNUSUAL_BUT_SOUND))
def test_a_form_beyond_the_page_subset_still_opens_as_a_page(
    app: Flask, client: FlaskClient, name: str
) -> None:
    make_agency(app, "csc-x", "childrens_social_care")
    make_user(app, "owner1", ["process_owner", "practitioner"], agency="csc-x")
    headers = token_for(client, "owner1")
    assert (
        upload(client, headers, _bundle_with_question(UNUSUAL_BUT_SOUND[name])).status_code == 201
    )
    started = client.post(
        "/api/v1/process-instances",
        json={"process_key": "basic", "data": {"child_ref": "C-1"}},
        headers=headers,
    )
    task_id = started.get_json()["ready_tasks"][0]["id"]
    page = app.test_client()
    sign_in(page, "owner1")
    response = page.get(f"/tasks/{task_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "Child" in html(response)
