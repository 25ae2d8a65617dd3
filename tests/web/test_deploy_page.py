"""Deploying a new version from the browser: the same checks as the API, every problem listed
for the process owner, nothing stored unless all is well."""

from __future__ import annotations

import html as html_lib
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import make_user
from tests.web.helpers_reports import CSRF, ENGINE_BPMN, context, sign_in, text

BASIC = ENGINE_BPMN / "basic.bpmn"
FORMS = ["basic_start.schema.json", "submit_referral.schema.json", "decision.schema.json"]


@pytest.fixture(autouse=True)
def _users(app: Flask) -> None:
    make_user(app, "owen", ["process_owner"])
    make_user(app, "tess", ["team_manager"])


def upload(client: FlaskClient, *files: tuple[str, bytes]) -> TestResponse:
    data = {"csrf_token": CSRF, "files": [(io.BytesIO(body), name) for name, body in files]}
    return client.post("/processes/deploy", data=data, content_type="multipart/form-data")


def bundle(bpmn: bytes | None = None) -> list[tuple[str, bytes]]:
    forms = [(name, (ENGINE_BPMN / name).read_bytes()) for name in FORMS]
    return [("basic.bpmn", bpmn if bpmn is not None else BASIC.read_bytes()), *forms]


def versions(app: Flask) -> list[int]:
    from domain.processes.models import ProcessVersion

    with context(app) as ctx:
        return [v.number for v in ctx.session.query(ProcessVersion).all()]


def test_an_owner_deploys_a_bundle_and_the_same_again_changes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(app, client, "owen")
    assert "Deploy a new version" in text(client.get("/processes"))
    form = text(client.get("/processes/deploy"))
    assert 'enctype="multipart/form-data"' in form
    assert "multiple" in form

    response = upload(client, *bundle())

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/processes/basic#versions")
    assert versions(app) == [1]
    page = text(client.get("/processes/basic"))
    assert "Version 1 of basic is deployed" in page

    again = upload(client, *bundle())
    assert again.status_code == 302
    assert versions(app) == [1]
    assert "Nothing changed: version 1 of basic is the same" in text(client.get("/processes/basic"))


def test_every_problem_is_listed_and_nothing_is_stored(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "owen")
    unsafe = BASIC.read_bytes().replace(
        b"risk = 'high' if concern_level &gt;= 7 else 'low'", b"import os\nrisk = 1"
    )
    assert unsafe != BASIC.read_bytes()

    response = upload(client, *bundle(unsafe)[:1])  # the forms it names are missing too

    body = text(response)
    assert response.status_code == 200  # the page again, as every form page with errors
    assert "The process was not deployed" in body
    # the element with the import, by its name in the diagram, then its id
    assert re.search(r"basic\.bpmn, line \d+, “Triage” \(triage\): ", html_lib.unescape(body))
    assert "basic_start.schema.json" in body  # a missing form
    assert body.count('href="#files"') >= 2  # each problem links to the file question
    assert versions(app) == []


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "At least one .bpmn file is required."),
        ([("notes.txt", b"hello")], "Only .bpmn and .json files can be uploaded."),
        ([("a.json", b"{}")], "Add a .bpmn file."),
        ([("x.bpmn", b"<not xml")], "x.bpmn"),
    ],
)
def test_uploads_that_cannot_be_a_bundle_are_refused_saying_why(
    app: Flask, client: FlaskClient, files: list[tuple[str, bytes]], message: str
) -> None:
    sign_in(app, client, "owen")
    response = upload(client, *files)
    assert response.status_code == 200
    assert "The process was not deployed" in text(response)
    assert message in text(response)
    assert versions(app) == []


def test_only_process_owners_deploy(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "tess")
    assert client.get("/processes/deploy").status_code == 403
    assert upload(client, *bundle()).status_code == 403
    assert "Deploy a new version" not in text(client.get("/processes"))
    assert versions(app) == []
