"""Start pages: the list, the family picker, the start form, and no-JS end-to-end flows."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import deploy_shipped, make_agency, make_user
from tests.web.test_session_pages import DASH, deploy_web_test, family, html, post, sign_in
from tests.web.test_task_pages import fill


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_agency(app, "police", "police", "Northshire Police")
    make_user(app, "sam", ["practitioner"])
    make_user(app, "alex", ["practitioner"])
    make_user(app, "owner", ["process_owner"])
    deploy_web_test(app)
    family_id, people = family(app, ("Ava", "Jones", date(2022, 5, 1)), ("Dan", "Jones", None))
    return {"family_id": family_id, "people": people}


def _family_reference(app: Flask, family_id: int) -> str:
    from api.common.context import base_context
    from domain.families import service as families

    with app.app_context():
        reference = families.get_family(base_context(None), family_id).reference
        assert reference is not None
        return reference


def test_start_list(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    response = client.get(f"/start?family_id={world['family_id']}")
    page = html(response)
    assert response.status_code == 200
    assert f"<title>Start something new {DASH} ThinkFamily</title>" in page
    assert page.count("<h1") == 1
    assert "For family FAM-000001" in page
    # only deployed processes are offered; uploaded ones appear under their key in words
    assert "Make a referral" not in page
    assert f'href="/start/web_test?family_id={world["family_id"]}">Web test</a>' in page


def test_start_list_offers_the_shipped_processes(app: Flask, client: FlaskClient) -> None:
    make_user(app, "sam", ["practitioner"])
    deploy_shipped(app, "referral", "mdt_meeting", "escalation", "early_help")
    sign_in(client, "sam")
    page = html(client.get("/start"))
    for text, href in (
        ("Make a referral", "/start/referral"),
        ("Request a multi-agency (MDT) meeting", "/start/mdt_meeting"),
        ("Raise an escalation", "/start/escalation"),
        ("Start early help", "/start/early_help"),
        ("Support for a disabled child", "/start/early_help?route=disabled_child_support"),
    ):
        assert f'href="{href}">{text}</a>' in page


def test_only_practitioners_and_managers_start(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "owner")
    assert client.get("/start").status_code == 403
    assert client.get("/start/web_test").status_code == 403


def test_unknown_process_is_404(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    response = client.get("/start/no_such_process")
    assert response.status_code == 404
    assert "Page not found" in html(response)


def test_family_picker(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    page = html(client.get("/start/web_test"))
    assert "Which family is this about?" in page
    assert 'name="q"' in page
    # exact reference: straight through
    reference = _family_reference(app, world["family_id"])
    response = client.get(f"/start/web_test?q={reference.lower()}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/start/web_test?family_id={world['family_id']}"
    # a member's name: a list to choose from
    page = html(client.get("/start/web_test?q=ava"))
    assert f'href="/start/web_test?family_id={world["family_id"]}"' in page
    assert "Test household" in page
    # nothing found
    page = html(client.get("/start/web_test?q=zzz"))
    assert "No family matches that reference or name" in page
    assert "<title>Error:" in page
    # an unknown family id
    assert "No family was found" in html(client.get("/start/web_test?family_id=999"))


def test_start_form(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    response = client.get(f"/start/web_test?family_id={world['family_id']}&route=disabled_child")
    page = html(response)
    assert response.status_code == 200
    assert f"<title>Raise a concern {DASH} ThinkFamily</title>" in page
    assert "Tell the front door about a child." in page
    assert "FAM-000001" in page
    assert f'name="family_id" value="{world["family_id"]}"' in page
    # the children are chosen from the family, with ages; adults are not children concerned
    assert "Ava Jones" in page
    assert "4 years" in page
    assert 'value="' + str(world["people"][0]) + '"' in page
    assert "Dan Jones" not in page.split('name="subject_person_ids"', 1)[1].split("</fieldset>")[0]
    # agency choices come from the agency list
    assert 'name="other_agency" type="radio" value="police"' in page
    assert "Northshire Police" in page
    # prefilled from the query string
    assert re.search(r'value="disabled_child" checked', page)
    # system fields are never shown
    for hidden in ("started_by", "started_by_agency", "parent_reference"):
        assert f'name="{hidden}"' not in page


def test_start_form_errors(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    path = f"/start/web_test?family_id={world['family_id']}"
    response = post(client, "/start/web_test", {"family_id": world["family_id"]}, path)
    page = html(response)
    assert response.status_code == 200
    assert f"<title>Error: Raise a concern {DASH} ThinkFamily</title>" in page
    assert 'href="#subject_person_ids"' in page
    assert 'href="#urgency"' in page
    # a person from another family is refused
    page = html(
        post(
            client,
            "/start/web_test",
            {"family_id": world["family_id"], "subject_person_ids": "999", "urgency": "routine"},
            path,
        )
    )
    assert "Select people from this family" in page


def test_start_needs_csrf(client: FlaskClient, world: dict[str, Any]) -> None:
    sign_in(client, "sam")
    response = client.post(
        "/start/web_test",
        data={
            "family_id": world["family_id"],
            "subject_person_ids": str(world["people"][0]),
            "urgency": "routine",
        },
    )
    assert response.status_code == 400


def test_start_then_go_to_my_first_task(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    sign_in(client, "sam")
    path = f"/start/web_test?family_id={world['family_id']}"
    response = post(
        client,
        "/start/web_test",
        {
            "family_id": world["family_id"],
            "subject_person_ids": str(world["people"][0]),
            "urgency": "routine",
            "other_agency": "police",
        },
        path,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks/1"
    page = html(client.get("/tasks/1"))
    assert "Web test started: PRC-000001" in page
    assert "Urgency given: routine" in page

    from api.common.context import base_context
    from domain.processes import runtime

    with app.app_context():
        instance = runtime.get_instance(base_context(None), 1)
        assert instance.family_id == world["family_id"]
        assert instance.subject_person_ids == [world["people"][0]]


def test_a_problem_in_the_process_definition_shows_the_start_form_again(
    app: Flask, client: FlaskClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain import errors
    from domain.processes import runtime

    message = "The process could not move on: it starts another process that is not deployed."

    def broken(*_args: object, **_kwargs: object) -> None:
        raise errors.DefinitionProblemError(message)

    monkeypatch.setattr(runtime, "start_process", broken)
    sign_in(client, "sam")
    path = f"/start/web_test?family_id={world['family_id']}"
    answers = {
        "family_id": world["family_id"],
        "subject_person_ids": str(world["people"][0]),
        "urgency": "urgent",
        "other_agency": "police",
    }
    response = post(client, "/start/web_test", answers, path)
    page = html(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert message in page
    assert re.search(r'value="urgent"[^>]*checked', page)  # the answers are kept


def test_start_from_a_parent_case(app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    from tests.web.test_inbox_pages import start_as

    parent_id = start_as(app, "alex", world["family_id"], world["people"][:1])
    sign_in(client, "sam")
    page = html(client.get(f"/start/web_test?parent={parent_id}"))
    assert "Started from" in page  # the family comes from the parent case
    assert f'name="parent" value="{parent_id}"' in page
    response = client.post(
        "/start/web_test", data=fill(page, "/start/web_test") | {"urgency": ["urgent"]}
    )
    assert response.status_code == 302

    from api.common.context import base_context
    from domain.processes import runtime

    with app.app_context():
        child = runtime.get_instance(base_context(None), parent_id + 1)
        assert child.parent_instance_id == parent_id


def test_end_to_end_without_javascript(app: Flask, client: FlaskClient) -> None:
    """Sign in, find the family, start, complete both tasks through the pages, see it finish."""
    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_user(app, "sam", ["practitioner"])
    make_user(app, "alex", ["practitioner"])
    deploy_web_test(app)
    family_id, people = family(app, ("Ava", "Jones", date(2022, 5, 1)))
    reference = _family_reference(app, family_id)

    assert sign_in(client, "sam").headers["Location"] == "/tasks"
    page = html(client.get("/start"))
    assert 'href="/start/web_test">Web test</a>' in page
    picker = client.get(f"/start/web_test?q={reference}")
    page = html(client.get(picker.headers["Location"]))
    assert page.count('data-prevent-double-click="true"') == 1  # a second click starts nothing
    data = fill(page, "/start/web_test")
    data["urgency"] = ["urgent"]
    started = client.post("/start/web_test", data=data)
    task_path = started.headers["Location"]
    assert task_path.startswith("/tasks/")

    page = html(client.get(task_path))
    done = client.post(task_path, data=fill(page, task_path))
    assert done.headers["Location"] == "/tasks"
    assert "Task completed: Record the concern" in html(client.get("/tasks"))
    post(client, "/sign-out", {}, "/tasks")

    sign_in(client, "alex")
    inbox = html(client.get("/tasks"))
    (screen_path,) = re.findall(r'href="(/tasks/\d+)">Screen the contact</a>', inbox)
    post(client, f"{screen_path}/claim", {"return_to": screen_path}, "/tasks")
    page = html(client.get(screen_path))
    response = client.post(screen_path, data=fill(page, screen_path))
    assert response.headers["Location"] == "/tasks"
    assert "You have no tasks waiting" in html(client.get("/tasks"))

    from api.common.context import base_context
    from domain.processes import runtime

    with app.app_context():
        instance = runtime.get_instance(base_context(None), 1)
        assert instance.status == "completed"
        assert instance.family_id == family_id
        assert instance.subject_person_ids == people


def test_shipped_referral_through_the_pages(app: Flask, client: FlaskClient) -> None:
    """Start the shipped referral on a family, do the referrer's tasks through the pages, and
    see the contact reach the front door's inbox."""
    make_agency(app, "school", "education", "Northshire Primary School")
    make_user(app, "teacher", ["practitioner"], agency="school", kind="education")
    make_user(app, "frontdoor", ["practitioner"])
    make_user(app, "fdmanager", ["team_manager"])
    deploy_shipped(app, "referral")
    family_id, _people = family(app, ("Ava", "Jones", date(2022, 5, 1)))

    sign_in(client, "teacher")
    page = html(client.get(f"/start/referral?family_id={family_id}"))
    assert "Ava Jones" in page
    started = client.post("/start/referral", data=fill(page, "/start/referral"))
    assert started.status_code == 302, html(started)
    location = started.headers["Location"]
    assert location.startswith("/tasks/")  # the referrer records the concern first
    page = html(client.get(location))
    assert "Referral and child protection" in page
    response = client.post(location, data=fill(page, location))
    assert response.status_code == 302, html(response)
    inbox = html(client.get("/tasks"))
    assert "Task completed" in inbox
    completed = 1
    while paths := re.findall(r'href="(/tasks/\d+)">', inbox):
        assert completed < 8, "the referrer's tasks never end"
        page = html(client.get(paths[0]))
        response = client.post(paths[0], data=fill(page, paths[0]))
        assert response.status_code == 302, html(response)
        completed += 1
        inbox = html(client.get("/tasks"))
    post(client, "/sign-out", {}, "/tasks")

    sign_in(client, "frontdoor")
    inbox = html(client.get("/tasks"))
    assert "REF-000001" in inbox
    (screening,) = re.findall(r'href="(/tasks/\d+)">Screen the contact', inbox)
    page = html(client.get(screening))
    response = client.post(screening, data=fill(page, screening))
    assert response.status_code == 302, html(response)
    post(client, "/sign-out", {}, "/tasks")

    sign_in(client, "fdmanager")
    inbox = html(client.get("/tasks"))
    assert re.findall(r'href="/tasks/\d+">([^<]+)</a>', inbox) == ["Decide the response"]


@pytest.mark.parametrize("key", ["referral", "mdt_meeting", "escalation", "early_help"])
def test_every_shipped_start_form_works_without_javascript(
    app: Flask, client: FlaskClient, key: str
) -> None:
    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_agency(app, "police", "police", "Northshire Police")
    make_user(app, "sam", ["practitioner"])
    deploy_shipped(app)  # processes start each other (an escalation with immediate risk refers)
    family_id, _people = family(app, ("Ava", "Jones", date(2022, 5, 1)))
    sign_in(client, "sam")
    response = client.get(f"/start/{key}?family_id={family_id}")
    page = html(response)
    assert response.status_code == 200
    assert page.count("<h1") == 1
    for hidden in ("started_by", "started_by_agency", "parent_reference"):
        assert f'name="{hidden}"' not in page
    data = fill(page, f"/start/{key}", day=date(2027, 1, 6))
    response = client.post(f"/start/{key}", data=data)
    assert response.status_code == 302, html(response)
    location = response.headers["Location"]
    follow = client.get(location)
    assert follow.status_code in (200, 404)  # /instances/<id> belongs to the instance pages


def test_a_start_form_sent_twice_starts_one_case(app: Flask, client: FlaskClient) -> None:
    """Clicked again on a slow day, or resent after a timeout: the second sending is shown
    the case the first started, and nothing is recorded twice."""
    from sqlalchemy import func, select

    from api.common.extensions import db
    from domain.processes.models import ProcessInstance

    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_user(app, "sam", ["practitioner"])
    deploy_web_test(app)
    family_id, _people = family(app, ("Ava", "Jones", date(2022, 5, 1)))
    sign_in(client, "sam")
    page = html(client.get(f"/start/web_test?family_id={family_id}"))
    data = fill(page, "/start/web_test")
    data["urgency"] = ["urgent"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", data["form_token"][0])

    first = client.post("/start/web_test", data=data)
    again = client.post("/start/web_test", data=data)

    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert "This form had been sent already" in html(client.get(again.headers["Location"]))
    with app.app_context():
        assert db.session.scalar(select(func.count(ProcessInstance.id))) == 1
        db.session.remove()
    fresh = fill(html(client.get(f"/start/web_test?family_id={family_id}")), "/start/web_test")
    assert fresh["form_token"] != data["form_token"]  # a new form starts a new case
    fresh["urgency"] = ["urgent"]
    assert (
        client.post("/start/web_test", data=fresh).headers["Location"] != first.headers["Location"]
    )
