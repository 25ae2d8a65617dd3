"""Process pages: versions, open cases, and the parameters process owners change without a new
diagram, each change checked, audited and in force from then on."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import deploy_shipped, make_agency, make_user
from tests.web.helpers_reports import context, post, sign_in, text

ESCALATION = "/processes/escalation"


@pytest.fixture(autouse=True)
def _setup(app: Flask) -> None:
    make_agency(app, "csc", "childrens_social_care", "Northshire Children's Services")
    make_agency(app, "hub", "partnership", "Northshire Partnership")
    make_user(app, "owen", ["process_owner"], agency="hub", kind="partnership")
    make_user(app, "tess", ["team_manager"])
    make_user(app, "pat", ["practitioner"])
    deploy_shipped(app, "escalation", "mdt_meeting")


def value_of(app: Flask, key: str, name: str) -> object:
    from domain.processes import definitions

    with context(app) as ctx:
        return definitions.parameters_for(ctx, definitions.latest_version(ctx, key))[name]


def changes(app: Flask) -> list[tuple[str | None, object]]:
    from domain.audit.models import AuditEvent

    with context(app) as ctx:
        rows = ctx.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "process.parameter_set")
        ).all()
        return [(e.details.get("name"), e.actor_id is not None) for e in rows]


def test_managers_and_owners_see_each_process_its_versions_and_parameters(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(app, client, "tess")

    listed = text(client.get("/processes"))
    assert "Escalation of a professional disagreement" in listed
    assert "Multi-agency meeting" in listed
    assert "Version 1, deployed" in listed

    page = text(client.get(ESCALATION))
    assert "Working days for stage 1 (practitioners)" in page  # its meaning, not its code
    assert "stage1_days" in page
    assert "Version 1" in page
    assert "Latest" in page
    assert f'href="{ESCALATION}/parameters/' not in page  # a manager reads, never changes
    assert client.get(f"{ESCALATION}/parameters/stage1_days").status_code == 403

    sign_in(app, client, "pat")
    assert client.get("/processes").status_code == 403
    assert client.get(ESCALATION).status_code == 403
    assert client.get("/processes/no_such_process").status_code == 403


def test_an_owner_changes_a_timescale_and_it_is_in_force_and_audited(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(app, client, "owen")
    page = text(client.get(ESCALATION))
    assert f'href="{ESCALATION}/parameters/stage1_days"' in page

    form = text(client.get(f"{ESCALATION}/parameters/stage1_days"))
    assert "Change: Working days for stage 1 (practitioners)" in form
    assert "The diagram&#39;s default is 5." in form

    response = post(client, f"{ESCALATION}/parameters/stage1_days", {"value": "3"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{ESCALATION}#parameters")
    assert value_of(app, "escalation", "stage1_days") == 3
    assert changes(app) == [("stage1_days", True)]
    after = text(client.get(ESCALATION))
    assert "Working days for stage 1 (practitioners) is now 3" in after
    assert "by owen" in after.lower() or "by Owen" in after

    # saving the value in force again changes nothing, and says so
    response = post(client, f"{ESCALATION}/parameters/stage1_days", {"value": "3"})
    assert response.status_code == 302
    assert changes(app) == [("stage1_days", True)]
    assert "stage 1 (practitioners) was already 3: nothing changed" in text(client.get(ESCALATION))


@pytest.mark.parametrize(
    ("name", "sent", "message"),
    [
        ("stage1_days", "three", "whole number"),
        ("stage1_days", "", "Enter"),
        ("stage1_days", "2.5", "whole number"),
        ("stage1_days", "-5", "0 or more"),
        ("stage1_days", "100000", "1000 or less"),
        ("dsl_endorsement_required", "maybe", "Select"),
        ("partnership_agency", "nowhere", "Select"),
    ],
)
def test_a_value_that_does_not_fit_is_asked_again_naming_the_question(
    app: Flask, client: FlaskClient, name: str, sent: str, message: str
) -> None:
    key = "mdt_meeting" if name == "dsl_endorsement_required" else "escalation"
    before = value_of(app, key, name)
    sign_in(app, client, "owen")

    response = post(client, f"/processes/{key}/parameters/{name}", {"value": sent})

    body = text(response)
    assert response.status_code == 200
    assert "There is a problem" in body
    assert 'href="#value' in body
    assert message in body
    assert value_of(app, key, name) == before
    assert changes(app) == []


def test_unknown_processes_and_parameters_are_not_found(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "owen")
    assert client.get("/processes/no_such_process").status_code == 404
    assert client.get(f"{ESCALATION}/parameters/no_such_days").status_code == 404
    assert post(client, f"{ESCALATION}/parameters/no_such_days", {"value": "1"}).status_code == 404
    assert client.get("/processes/" + "x" * 3000).status_code == 404


def test_an_agency_parameter_names_an_agency_and_one_that_names_none_is_flagged(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(app, client, "owen")
    page = text(client.get(ESCALATION))
    assert "No agency has this code" in page  # the diagram's default, sscp, is no agency here

    form = text(client.get(f"{ESCALATION}/parameters/partnership_agency"))
    assert '<option value="hub"' in form
    assert "Northshire Partnership" in form

    response = post(client, f"{ESCALATION}/parameters/partnership_agency", {"value": "hub"})

    assert response.status_code == 302
    assert value_of(app, "escalation", "partnership_agency") == "hub"
    page = text(client.get(ESCALATION))
    assert "hub (Northshire Partnership)" in page
    assert "No agency has this code" not in page


def test_a_switch_is_asked_as_yes_or_no(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "owen")
    form = text(client.get("/processes/mdt_meeting/parameters/dsl_endorsement_required"))
    assert 'type="radio"' in form

    post(client, "/processes/mdt_meeting/parameters/dsl_endorsement_required", {"value": "yes"})

    assert value_of(app, "mdt_meeting", "dsl_endorsement_required") is True


def test_every_parameter_of_the_shipped_diagrams_has_a_title(app: Flask) -> None:
    from domain.processes import definitions
    from domain.processes.parameter_titles import PARAMETER_TITLES

    deploy_shipped(app, "referral", "early_help")
    read: set[str] = set()
    with context(app) as ctx:
        for key in ("referral", "mdt_meeting", "escalation", "early_help"):
            read |= set(definitions.latest_version(ctx, key).parameters or {})
    assert read - set(PARAMETER_TITLES) == set()  # a new one needs its meaning written
    assert set(PARAMETER_TITLES) - read == set()  # and none is left over
