"""Process definitions API: list, deploy (multipart), read versions and BPMN, parameters.

Also home of the helpers the other API test modules share (they import them from here)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from domain.processes.bundles import bundle_from_file
from tests.api.problem_schema import assert_documented_problem
from tests.conftest import make_agency, make_user, token_for

BPMN_DIR = Path(__file__).resolve().parents[1] / "engine" / "bpmn"
DEFINITIONS = "/api/v1/process-definitions"
PERSON = "Zebedee Quartermain"
"""A distinctive fake name: it must never appear in an error body or a log line."""


# -- shared helpers -------------------------------------------------------------------------------


def bundle_files(key: str, replace: tuple[bytes, bytes] | None = None) -> list[tuple[str, bytes]]:
    """The files of a test bundle (BPMN plus the forms it names), optionally edited."""
    bundle = bundle_from_file(BPMN_DIR / f"{key}.bpmn", BPMN_DIR)
    files = [*bundle.bpmn.items(), *bundle.forms.items()]
    if replace is not None:
        old, new = replace
        assert any(old in data for _, data in files)
        files = [(name, data.replace(old, new)) for name, data in files]
    return files


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    files: list[tuple[str, bytes]],
    key: str | None = None,
) -> TestResponse:
    """POST a bundle as multipart/form-data (encoded here: werkzeug's test client spools large
    parts to a temporary file it never closes, which filterwarnings=error turns into a failure)."""
    boundary = "thinkfamily-test-boundary-7d3f"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
        for name, content in files
    ]
    if key is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n{key}\r\n'.encode()
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(
        DEFINITIONS,
        data=body,
        headers=headers,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def deploy(client: FlaskClient, headers: dict[str, str], key: str) -> dict[str, Any]:
    """Deploy a test bundle and return the deploy result."""
    response = upload(client, headers, bundle_files(key))
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    result: dict[str, Any] = json_of(response)
    return result


def json_of(response: TestResponse) -> Any:
    """The JSON body of a response."""
    return json.loads(response.get_data(as_text=True))


def assert_problem(
    response: TestResponse, status: int, *, code: str | None = None, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check an RFC 9457 problem response that leaks nothing; return its body."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(text)
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    assert_documented_problem(body)
    if code is not None:
        assert body["code"] == code
    for leak in ("Traceback", 'File "', '.py"', PERSON, *secrets):
        assert leak not in text
    return body


def pointers(body: dict[str, Any]) -> list[str]:
    """The JSON pointers named in a 422 problem."""
    return sorted(e["pointer"] for e in body.get("errors", []))


class People:
    """Users for API tests (all share the test password), created on first use."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self._specs: dict[str, tuple[list[str], str, str]] = {}
        self._headers: dict[str, dict[str, str]] = {}

    def add(self, username: str, roles: list[str], agency: str = "csc", kind: str = "") -> None:
        """Describe a user; agencies other than csc need their kind."""
        self._specs[username] = (roles, agency, kind or "childrens_social_care")

    def headers(self, username: str) -> dict[str, str]:
        """Bearer headers for a user (created and signed in once)."""
        if username not in self._headers:
            roles, agency, kind = self._specs[username]
            if agency != "csc":
                make_agency(self.app, agency, kind)
            make_user(self.app, username, roles, agency=agency, kind=kind)
            self._headers[username] = token_for(self.client, username)
        return self._headers[username]


@pytest.fixture
def people(app: Flask, client: FlaskClient) -> People:
    """owner (process owner), pat and val (practitioners), manager (team manager) at csc;
    plod (police practitioner); admin."""
    crew = People(app, client)
    crew.add("owner", ["process_owner"])
    crew.add("pat", ["practitioner"])
    crew.add("val", ["practitioner"])
    crew.add("manager", ["team_manager"])
    crew.add("plod", ["practitioner"], agency="met", kind="police")
    crew.add("admin", ["admin"])
    return crew


@pytest.fixture
def no_personal_data_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if the fake person's name reaches any log record."""
    caplog.set_level(logging.DEBUG)
    yield
    assert PERSON not in caplog.text
    for record in caplog.records:
        assert PERSON not in str(record.args)


# -- listing and reading --------------------------------------------------------------------------


def test_deploy_then_list_and_read(client: FlaskClient, people: People) -> None:
    result = deploy(client, people.headers("owner"), "basic")
    assert result == {
        "key": "basic",
        "version": 1,
        "created": True,
        "content_hash": result["content_hash"],
    }

    listing = client.get(DEFINITIONS, headers=people.headers("pat"))
    assert listing.status_code == 200
    (definition,) = json_of(listing)
    assert definition["key"] == "basic"
    assert definition["latest_version"] == 1
    assert [v["number"] for v in definition["versions"]] == [1]

    one = client.get(f"{DEFINITIONS}/basic", headers=people.headers("pat"))
    assert one.status_code == 200
    assert json_of(one)["versions"][0]["start_form"] == "basic_start.schema.json"


def test_version_includes_bpmn_xml_forms_and_tasks(client: FlaskClient, people: People) -> None:
    deploy(client, people.headers("owner"), "basic")

    response = client.get(f"{DEFINITIONS}/basic/versions/1", headers=people.headers("pat"))

    assert response.status_code == 200
    version = json_of(response)
    assert version["key"] == "basic"
    assert version["number"] == 1
    assert version["bpmn"]["basic.bpmn"] == (BPMN_DIR / "basic.bpmn").read_text()
    assert set(version["forms"]) == {
        "basic_start.schema.json",
        "submit_referral.schema.json",
        "decision.schema.json",
    }
    assert version["tasks"]["strategy_discussion"]["lane"] == "team_manager"
    assert version["element_names"]["gw_risk"] == "Risk?"


def test_redeploying_identical_content_is_a_no_op(client: FlaskClient, people: People) -> None:
    first = deploy(client, people.headers("owner"), "basic")

    again = upload(client, people.headers("owner"), bundle_files("basic"))

    assert again.status_code == 200
    second = json_of(again)
    assert second["created"] is False
    assert second["version"] == first["version"] == 1
    assert second["content_hash"] == first["content_hash"]
    versions = json_of(client.get(f"{DEFINITIONS}/basic", headers=people.headers("owner")))
    assert [v["number"] for v in versions["versions"]] == [1]


def test_changed_bundle_makes_version_2(client: FlaskClient, people: People) -> None:
    deploy(client, people.headers("owner"), "basic")
    changed = bundle_files("basic", (b'name="Give advice"', b'name="Give early advice"'))

    response = upload(client, people.headers("owner"), changed)

    assert response.status_code == 201
    assert json_of(response)["version"] == 2
    v2 = json_of(client.get(f"{DEFINITIONS}/basic/versions/2", headers=people.headers("pat")))
    assert v2["tasks"]["give_advice"]["title"] == "Give early advice"
    v1 = json_of(client.get(f"{DEFINITIONS}/basic/versions/1", headers=people.headers("pat")))
    assert v1["tasks"]["give_advice"]["title"] == "Give advice"


def test_deploy_with_explicit_key(client: FlaskClient, people: People) -> None:
    response = upload(client, people.headers("owner"), bundle_files("follow_on"), key="follow_on")
    assert response.status_code == 201
    assert json_of(response)["key"] == "follow_on"

    wrong = upload(client, people.headers("owner"), bundle_files("follow_on"), key="nope")
    body = assert_problem(wrong, 422, code="invalid-process")
    assert "nope" in body["problems"][0]["message"]


def test_admin_may_deploy(client: FlaskClient, people: People) -> None:
    response = upload(client, people.headers("admin"), bundle_files("follow_on"))
    assert response.status_code == 201


# -- refusals -------------------------------------------------------------------------------------


def test_definitions_need_a_token(client: FlaskClient, subtests: pytest.Subtests) -> None:
    for method, path in [
        ("get", DEFINITIONS),
        ("post", DEFINITIONS),
        ("get", f"{DEFINITIONS}/basic"),
        ("get", f"{DEFINITIONS}/basic/versions/1"),
        ("get", f"{DEFINITIONS}/basic/parameters"),
        ("put", f"{DEFINITIONS}/basic/parameters/stage1_days"),
    ]:
        with subtests.test(method=method, path=path):
            response = client.open(path, method=method.upper(), json={"value": 1})
            body = assert_problem(response, 401, code="unauthenticated")
            assert "token" in body["detail"]


def test_practitioner_may_not_deploy(client: FlaskClient, people: People) -> None:
    response = upload(client, people.headers("pat"), bundle_files("basic"))
    assert_problem(response, 403, code="forbidden")
    listing = client.get(DEFINITIONS, headers=people.headers("pat"))
    assert json_of(listing) == []


def test_unknown_definition_or_version_is_404(
    client: FlaskClient, people: People, subtests: pytest.Subtests
) -> None:
    deploy(client, people.headers("owner"), "basic")
    for path in [
        f"{DEFINITIONS}/nope",
        f"{DEFINITIONS}/nope/versions/1",
        f"{DEFINITIONS}/basic/versions/2",
        f"{DEFINITIONS}/basic/versions/0",
        f"{DEFINITIONS}/nope/parameters",
    ]:
        with subtests.test(path=path):
            assert_problem(client.get(path, headers=people.headers("pat")), 404, code="not-found")


def test_upload_without_files_is_422(client: FlaskClient, people: People) -> None:
    response = client.post(
        DEFINITIONS, data={}, headers=people.headers("owner"), content_type="multipart/form-data"
    )
    body = assert_problem(response, 422)
    assert pointers(body) == ["#/files"]


def test_upload_of_unsupported_file_type_is_422(client: FlaskClient, people: People) -> None:
    response = upload(client, people.headers("owner"), [("notes.txt", b"hello")])
    body = assert_problem(response, 422)
    assert pointers(body) == ["#/files"]


def test_two_files_of_one_name_are_refused_not_one_dropped(
    client: FlaskClient, people: People
) -> None:
    files = bundle_files("basic")
    other_decision = (b'{"type": "object", "properties": {}}', "decision.schema.json")
    for duplicate in (other_decision[1], f"drafts/{other_decision[1]}"):
        response = upload(client, people.headers("owner"), [*files, (duplicate, other_decision[0])])
        body = assert_problem(response, 422)
        assert body["errors"] == [
            {"pointer": "#/files", "detail": "More than one file is named decision.schema.json."}
        ]
    assert json_of(client.get(DEFINITIONS, headers=people.headers("owner"))) == []
    shouted = [(name.upper() if name.endswith(".bpmn") else name, data) for name, data in files]
    assert upload(client, people.headers("owner"), shouted).status_code == 201


def test_upload_with_only_forms_is_422(client: FlaskClient, people: People) -> None:
    response = upload(client, people.headers("owner"), [("f.schema.json", b"{}")])
    body = assert_problem(response, 422)
    assert pointers(body) == ["#/files"]


def test_lint_problems_come_back_as_a_list(client: FlaskClient, people: People) -> None:
    broken = bundle_files("basic", (b"risk == 'high'", b"risk = = 'high'"))
    response = upload(client, people.headers("owner"), broken)

    body = assert_problem(response, 422, code="invalid-process")
    (problem,) = body["problems"]
    assert problem["element_id"] == "gw_risk"
    assert problem["file"] == "basic.bpmn"
    assert isinstance(problem["line"], int)
    assert "not valid Python" in problem["message"]
    assert json_of(client.get(DEFINITIONS, headers=people.headers("owner"))) == []


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        (b'{"type": "object", "maximum": NaN}', "NaN is not a JSON number"),
        (b'{"type": "object", "maximum": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"type": "object", "title": "\\ud800"}', "#/title holds a NUL or an unpaired"),
        (b'{"type": "object", "title": "a\\u0000"}', "#/title holds a NUL or an unpaired"),
        (b'{"type": "object", "type": "string"}', 'the name "type" appears twice'),
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 64 levels deep"),
    ],
)
def test_a_form_file_that_would_not_store_as_written_is_refused(
    client: FlaskClient, people: People, form: bytes, reason: str
) -> None:
    """Each is refused on both databases, naming the file, rather than stored changed or a 500."""
    files = [(n, form if n == "decision.schema.json" else d) for n, d in bundle_files("basic")]
    body = assert_problem(upload(client, people.headers("owner"), files), 422)
    (about_file,) = [p for p in body["problems"] if p["element_id"] is None]
    assert about_file["file"] == "decision.schema.json"
    assert reason in about_file["message"]
    assert json_of(client.get(DEFINITIONS, headers=people.headers("owner"))) == []


def test_a_form_whose_reference_cannot_be_followed_is_refused_not_left_to_fail(
    client: FlaskClient, people: People
) -> None:
    """Such a form made every completion of its task a 500: the case could never move on."""
    headers = people.headers("owner")

    def with_answer(answer: dict[str, Any]) -> list[tuple[str, bytes]]:
        form = json.loads(dict(bundle_files("basic"))["submit_referral.schema.json"])
        form["$defs"] = {"short": {"type": "string", "maxLength": 3}}
        form["properties"]["answer"] = answer
        changed = json.dumps(form).encode()
        return [
            (n, changed if n == "submit_referral.schema.json" else d)
            for n, d in bundle_files("basic")
        ]

    for ref in ("#/$defs/missing", "https://example.com/form.json", "#nowhere"):
        body = assert_problem(upload(client, headers, with_answer({"$ref": ref})), 422)
        assert [p["file"] for p in body["problems"] if p["element_id"] is None] == [
            "submit_referral.schema.json"
        ]
    assert upload(client, headers, with_answer({"$ref": "#/$defs/short"})).status_code == 201
    pat = people.headers("pat")
    started = client.post(
        "/api/v1/process-instances",
        json={"process_key": "basic", "data": {"child_ref": "C-1"}},
        headers=pat,
    )
    task = json_of(started)["ready_tasks"][0]["id"]
    answers = {"child_name": "Kit", "concern_level": 3}
    complete = f"/api/v1/tasks/{task}/complete"
    refused = client.post(complete, json={"data": {**answers, "answer": "long"}}, headers=pat)
    assert pointers(assert_problem(refused, 422)) == ["#/data/answer"]
    done = client.post(complete, json={"data": {**answers, "answer": "ok"}}, headers=pat)
    assert done.status_code == 200, done.get_data(as_text=True)


def test_a_param_default_that_would_not_store_as_written_is_refused(
    client: FlaskClient, people: People
) -> None:
    for default in (b"{1, 2}", b"float('inf')", b"1e999", b"b'x'", b"(3, 4)"):
        files = bundle_files(
            "basic",
            (
                b'value="working_days(2)"',
                b'value="working_days(param(&quot;d&quot;, ' + default + b'))"',
            ),
        )
        body = assert_problem(upload(client, people.headers("owner"), files), 422)
        assert [p["element_id"] for p in body["problems"]] == ["strategy_discussion"], default
    files = bundle_files(
        "basic", (b'value="working_days(2)"', b'value="working_days(param(&quot;d&quot;, 2))"')
    )
    assert upload(client, people.headers("owner"), files).status_code == 201


def test_missing_form_is_refused(client: FlaskClient, people: People) -> None:
    files = [f for f in bundle_files("basic") if f[0] != "decision.schema.json"]
    body = assert_problem(upload(client, people.headers("owner"), files), 422)
    assert sorted(p["element_id"] for p in body["problems"]) == [
        "give_advice",
        "strategy_discussion",
    ]


def test_unknown_lane_is_refused(client: FlaskClient, people: People) -> None:
    files = bundle_files("basic", (b'name="team_manager"', b'name="wizards"'))
    body = assert_problem(upload(client, people.headers("owner"), files), 422)
    assert [p["element_id"] for p in body["problems"]] == ["strategy_discussion"]
    assert "'wizards'" in body["problems"][0]["message"]


# -- parameters -----------------------------------------------------------------------------------


def test_parameters_list_defaults_and_values(client: FlaskClient, people: People) -> None:
    deploy(client, people.headers("owner"), "timers")
    path = f"{DEFINITIONS}/timers/parameters"

    listing = client.get(path, headers=people.headers("pat"))
    assert listing.status_code == 200
    assert json_of(listing) == [{"name": "stage1_days", "default": 5, "value": 5}]

    changed = client.put(f"{path}/stage1_days", json={"value": 2}, headers=people.headers("owner"))
    assert changed.status_code == 200
    assert json_of(changed) == {"name": "stage1_days", "default": 5, "value": 2}
    listing = client.get(path, headers=people.headers("pat"))
    assert json_of(listing) == [{"name": "stage1_days", "default": 5, "value": 2}]


def test_parameter_refusals(client: FlaskClient, people: People) -> None:
    deploy(client, people.headers("owner"), "timers")
    path = f"{DEFINITIONS}/timers/parameters"
    owner = people.headers("owner")

    assert_problem(
        client.put(f"{path}/stage1_days", json={"value": 2}, headers=people.headers("pat")), 403
    )
    assert_problem(client.put(f"{path}/nope", json={"value": 2}, headers=owner), 404)
    wrong_type = client.put(f"{path}/stage1_days", json={"value": "ten"}, headers=owner)
    assert pointers(assert_problem(wrong_type, 422)) == ["#/value"]
    unknown = client.put(f"{path}/stage1_days", json={"value": 3, "zzz": 1}, headers=owner)
    assert pointers(assert_problem(unknown, 422)) == ["#/zzz"]
    missing = client.put(f"{path}/stage1_days", json={}, headers=owner)
    assert pointers(assert_problem(missing, 422)) == ["#/value"]
    null = client.put(f"{path}/stage1_days", json={"value": None}, headers=owner)
    assert pointers(assert_problem(null, 422)) == ["#/value"]
    boolean = client.put(f"{path}/stage1_days", json={"value": True}, headers=owner)
    assert pointers(assert_problem(boolean, 422)) == ["#/value"]
    # a count of days: a whole number from 0 to 1,000 (a negative or enormous one would stop
    # every case that reaches it; a fraction would be cut short without a word)
    for impossible in ("-5", "1001", "1e30", "1.5", "-0.5"):
        response = client.put(
            f"{path}/stage1_days",
            data='{"value": ' + impossible + "}",
            headers={**owner, "Content-Type": "application/json"},
        )
        body = assert_problem(response, 422)
        assert pointers(body) == ["#/value"], impossible
        assert body["errors"][0]["detail"] == "Enter a whole number from 0 to 1,000.", impossible
    listing = client.get(path, headers=owner)
    assert json_of(listing) == [{"name": "stage1_days", "default": 5, "value": 5}]
    for possible, held in (("0", 0), ("1000", 1000), ("2.0", 2)):
        response = client.put(
            f"{path}/stage1_days",
            data='{"value": ' + possible + "}",
            headers={**owner, "Content-Type": "application/json"},
        )
        assert response.status_code == 200, possible
        assert json_of(response)["value"] == held
        assert type(json_of(response)["value"]) is int


def test_saving_the_value_in_force_changes_nothing(
    app: Flask, client: FlaskClient, people: People
) -> None:
    from domain.audit.models import AuditEvent
    from domain.processes.models import ProcessParameter

    deploy(client, people.headers("owner"), "timers")
    path = f"{DEFINITIONS}/timers/parameters/stage1_days"
    owner = people.headers("owner")

    def changes() -> tuple[int, int]:
        with app.app_context():
            from api.common.extensions import db

            rows = db.session.query(ProcessParameter).count()
            audited = db.session.query(AuditEvent).filter_by(action="process.parameter_set").count()
            return rows, audited

    assert json_of(client.put(path, json={"value": 5}, headers=owner))["value"] == 5  # default
    assert changes() == (0, 0)
    assert json_of(client.put(path, json={"value": 3}, headers=owner))["value"] == 3
    assert changes() == (1, 1)
    assert json_of(client.put(path, json={"value": 3}, headers=owner))["value"] == 3
    assert changes() == (1, 1)


def test_openapi_document_lists_every_endpoint(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = json_of(response)
    paths = set(spec["paths"])
    assert {
        "/api/v1/auth/token",
        "/api/v1/process-definitions",
        "/api/v1/process-definitions/{key}",
        "/api/v1/process-definitions/{key}/versions/{number}",
        "/api/v1/process-definitions/{key}/parameters",
        "/api/v1/process-definitions/{key}/parameters/{name}",
        "/api/v1/process-instances",
        "/api/v1/process-instances/{instance_id}",
        "/api/v1/process-instances/{instance_id}/terminate",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}",
        "/api/v1/tasks/{task_id}/complete",
        "/api/v1/tasks/{task_id}/claim",
        "/api/v1/tasks/{task_id}/release",
    } <= paths
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
