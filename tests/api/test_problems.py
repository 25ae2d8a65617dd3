"""Every error is an RFC 9457 problem: the right status and shape, and no stack trace, submitted
value or personal data in the body or the log."""

from __future__ import annotations

import gzip
import json
import logging

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from api.common.inputs import InvalidJsonError, InvalidTextError, parse_json
from api.common.problems import PROBLEM_MIMETYPE as PROBLEM
from tests.api.problem_schema import problem_components
from tests.api.test_definitions_api import (
    DEFINITIONS,
    PERSON,
    People,
    assert_problem,
    deploy,
    json_of,
    no_personal_data_in_logs,
    people,
    pointers,
)
from tests.api.test_instances_api import INSTANCES, start

pytestmark = [pytest.mark.usefixtures("no_personal_data_in_logs")]
__all__ = ["no_personal_data_in_logs", "people"]  # shared fixtures, re-exported for pytest


def test_unknown_api_path_is_a_404_problem(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404, code="not-found")
    assert body["title"] == "Not Found"


def test_wrong_method_is_a_405_problem_naming_the_allowed_methods(client: FlaskClient) -> None:
    response = client.delete(DEFINITIONS)
    assert_problem(response, 405, code="method-not-allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    response = client.put("/api/v1/auth/token", json={})
    assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"DELETE", "OPTIONS", "POST"}
    page = client.open("/sign-in", method="TRACE")  # a page keeps its HTML error page
    assert (page.status_code, page.mimetype) == (405, "text/html")
    assert set(page.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_401_says_to_send_a_bearer_token(client: FlaskClient) -> None:
    response = client.get(DEFINITIONS)
    assert_problem(response, 401, code="unauthenticated")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="ThinkFamily"'
    response = client.get(DEFINITIONS, headers={"Authorization": "Bearer not-a-token"})
    assert_problem(response, 401, code="unauthenticated")
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="ThinkFamily", error="invalid_token"'
    )


def test_every_error_is_documented_as_a_problem(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name, schema in problem_components()["schemas"].items():
        assert schemas[name] == schema, name  # the schema error bodies are checked against
    documented = {"$ref": "#/components/schemas/Problem"}
    errors = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    while "$ref" in response:
                        response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
                    where = f"{method} {path} {status}"
                    assert response["content"] == {PROBLEM: {"schema": documented}}, where
                    errors += 1
    assert errors > 40  # every operation documents at least its default error


def test_a_body_that_is_not_json_is_refused_not_dropped(
    client: FlaskClient, people: People
) -> None:
    families = "/api/v1/families"
    before = json_of(client.get(families, headers=people.headers("pat")))
    for content_type, data in (
        ("application/x-www-form-urlencoded", "name=Smith+household"),
        ("multipart/form-data", {"name": "Smith household"}),
        ("text/plain", '{"name": "Smith household"}'),
    ):
        response = client.post(
            families, data=data, content_type=content_type, headers=people.headers("pat")
        )
        assert_problem(response, 415, code="unsupported-media-type")
    assert json_of(client.get(families, headers=people.headers("pat"))) == before
    empty = client.post(families, headers=people.headers("pat"))  # no body: an empty object
    assert empty.status_code == 201, empty.get_data(as_text=True)


def test_a_body_in_a_content_coding_is_refused_not_misread(
    client: FlaskClient, people: People
) -> None:
    families = "/api/v1/families"
    before = json_of(client.get(families, headers=people.headers("pat")))
    body = json.dumps({"name": "Smith household"}).encode()
    for coding, data in (("gzip", gzip.compress(body)), ("br", body), ("GZIP ", body)):
        response = client.post(
            families,
            data=data,
            content_type="application/json",
            headers={**people.headers("pat"), "Content-Encoding": coding},
        )
        assert_problem(response, 415, code="unsupported-media-type")
        assert response.headers["Accept-Encoding"] == "identity"
    assert json_of(client.get(families, headers=people.headers("pat"))) == before
    plain = client.post(
        families,
        data=body,
        content_type="application/json",
        headers={**people.headers("pat"), "Content-Encoding": "identity"},
    )
    assert plain.status_code == 201, plain.get_data(as_text=True)


def test_a_name_given_twice_in_one_object_is_refused_not_half_kept(
    client: FlaskClient, people: People
) -> None:
    families = "/api/v1/families"
    before = json_of(client.get(families, headers=people.headers("pat")))
    for path, raw, name in (
        (families, '{"name": "Smith household", "name": "Jones household"}', "name"),
        (INSTANCES, '{"process_key": "basic", "data": {"a": 1, "b": 2, "a": 3}}', "a"),
    ):
        response = client.post(
            path, data=raw, content_type="application/json", headers=people.headers("pat")
        )
        body = assert_problem(response, 400, code="invalid-json", secrets=("Smith", "Jones"))
        assert body["detail"] == (
            f'The request body is not valid JSON: the name "{name}" appears twice in one object.'
        )
    assert json_of(client.get(families, headers=people.headers("pat"))) == before
    assert json_of(client.get(INSTANCES, headers=people.headers("pat"))) == []


def test_body_over_the_upload_limit_is_a_413_problem(client: FlaskClient, people: People) -> None:
    huge = b"x" * (13 * 1024 * 1024)
    response = client.post(
        DEFINITIONS,
        data=huge,
        headers=people.headers("owner"),
        content_type="application/octet-stream",
    )
    assert_problem(response, 413)


def test_unexpected_error_is_a_500_problem_without_details(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/api/v1/test-explode")
    def explode() -> str:
        raise RuntimeError(f"database row for {PERSON} is broken")

    caplog.set_level(logging.DEBUG)
    response = client.get("/api/v1/test-explode")

    body = assert_problem(response, 500, code="internal-error")
    assert body["detail"] == "An unexpected error occurred."
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert "unhandled RuntimeError" in caplog.text  # the log says what and where, not the data


def test_malformed_json_body_is_a_client_error(client: FlaskClient, people: People) -> None:
    response = client.post(
        INSTANCES,
        data='{"process_key": "basic", "data": {"name": "' + PERSON,
        headers=people.headers("pat"),
        content_type="application/json",
    )
    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)


def test_validation_errors_do_not_echo_values(client: FlaskClient, people: People) -> None:
    deploy(client, people.headers("owner"), "basic")
    response = client.post(
        INSTANCES,
        json={"process_key": ["basic", PERSON], "data": {"child_ref": PERSON * 3}},
        headers=people.headers("pat"),
    )
    body = assert_problem(response, 422)
    assert body["errors"]


def test_form_errors_do_not_echo_values(client: FlaskClient, people: People) -> None:
    deploy(client, people.headers("owner"), "basic")
    instance = start(client, people.headers("pat"))
    task_id = instance["ready_tasks"][0]["id"]
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"data": {"child_name": PERSON * 6, "concern_level": PERSON}},
        headers=people.headers("pat"),
    )
    body = assert_problem(response, 422)
    assert {e["pointer"] for e in body["errors"]} == {"#/data/child_name", "#/data/concern_level"}


def test_conflicts_do_not_echo_values(client: FlaskClient, people: People) -> None:
    deploy(client, people.headers("owner"), "basic")
    instance = start(client, people.headers("pat"))
    task_id = instance["ready_tasks"][0]["id"]
    body = {"data": {"child_name": PERSON, "concern_level": 3}}
    path = f"/api/v1/tasks/{task_id}/complete"
    assert client.post(path, json=body, headers=people.headers("pat")).status_code == 200
    assert_problem(client.post(path, json=body, headers=people.headers("pat")), 409)


def test_successful_reads_are_plain_json(client: FlaskClient, people: People) -> None:
    response = client.get(DEFINITIONS, headers=people.headers("pat"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json_of(response) == []


def test_json_nested_too_deeply_is_a_400_problem(client: FlaskClient, people: People) -> None:
    for raw in ("[" * 65 + "]" * 65, '{"a":' * 5000 + "1" + "}" * 5000, "[" * 100_000):
        response = client.post(
            INSTANCES, data=raw, headers=people.headers("pat"), content_type="application/json"
        )
        body = assert_problem(response, 400, code="invalid-json")
        assert body["detail"] == "The request body is nested more than 64 levels deep."
    shallow = {"process_key": "none", "data": {"a": [[[[{"b": 1}]]]]}}
    response = client.post(INSTANCES, json=shallow, headers=people.headers("pat"))
    assert_problem(response, 404)  # parsed and validated; the process does not exist


def test_non_finite_numbers_are_refused(client: FlaskClient, people: People) -> None:
    for number in ("NaN", "Infinity", "-Infinity", "1e400"):
        response = client.post(
            INSTANCES,
            data='{"process_key": "basic", "data": {"score": ' + number + "}}",
            headers=people.headers("pat"),
            content_type="application/json",
        )
        body = assert_problem(response, 400, code="invalid-json")
        assert body["detail"].startswith("The request body is not valid JSON")


def test_unstorable_characters_are_refused_naming_the_field(
    client: FlaskClient, people: People
) -> None:
    body = {"process_key": "basic", "data": {"child_name": f"{PERSON}\x00", "note\ud800": "x"}}
    response = client.post(
        INSTANCES,
        data=json.dumps(body),  # json.dumps writes the lone surrogate as \\ud800
        headers=people.headers("pat"),
        content_type="application/json",
    )
    problem = assert_problem(response, 400, code="invalid-characters")
    assert pointers(problem) == ["#/data", "#/data/child_name"]
    response = client.get(f"{INSTANCES}?process_key=basic%00", headers=people.headers("pat"))
    assert pointers(assert_problem(response, 400, code="invalid-characters")) == ["#/process_key"]


def test_ids_beyond_the_id_columns_are_not_found_or_invalid(
    client: FlaskClient, people: People
) -> None:
    for too_big in (2**31, 2**63, 10**30):
        response = client.get(f"{INSTANCES}/{too_big}", headers=people.headers("pat"))
        assert_problem(response, 404, code="not-found")
        response = client.get(f"{INSTANCES}?family_id={too_big}", headers=people.headers("pat"))
        assert pointers(assert_problem(response, 422)) == ["#/family_id"]
    response = client.get(f"{INSTANCES}/{2**31 - 1}", headers=people.headers("pat"))
    assert_problem(response, 404, code="not-found")  # the largest id is looked up, not refused
    spec = client.get("/api/v1/openapi.json").get_json()
    (parameter,) = spec["paths"]["/api/v1/process-instances/{instance_id}"]["parameters"]
    assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def test_request_get_json_applies_the_guards(app: Flask) -> None:
    with (
        app.test_request_context(
            "/", method="POST", data='{"a": NaN}', content_type="application/json"
        ),
        pytest.raises(InvalidJsonError),
    ):
        request.get_json()
    with app.test_request_context("/", method="POST", json={"a": [1, {"b": "c"}]}):
        assert request.get_json() == {"a": [1, {"b": "c"}]}


def test_json_guards_pass_real_text() -> None:
    emoji = json.dumps({"note": "Kit drew \U0001f600 and wrote \\u0000"})  # a pair; a backslash
    assert parse_json(emoji) == {"note": "Kit drew \U0001f600 and wrote \\u0000"}
    assert parse_json(b"[" * 64 + b"]" * 64) is not None
    assert parse_json(json.dumps({"brackets": "[{" * 100})) == {"brackets": "[{" * 100}
    assert parse_json('[{"a": 1}, {"a": 2}, {"b": {"a": 3}}]') == [  # same names, other objects
        {"a": 1},
        {"a": 2},
        {"b": {"a": 3}},
    ]
    with pytest.raises(InvalidTextError) as raised:
        parse_json('{"a/b": ["ok", "\\u0000"]}')
    (error,) = raised.value.extra["errors"]
    assert error["pointer"] == "#/a~1b/1"
