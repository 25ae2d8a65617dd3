"""Bad input never causes a 500: every operation in the OpenAPI document is sent hostile path
values, query values, field values and raw bodies, and answers with a 4xx problem (or succeeds).

The operations are read from the served OpenAPI document, so a new endpoint is covered as soon
as it exists; a new JSON-body endpoint must also get a valid example body here (a test says so).
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.problem_schema import schema_errors
from tests.api.test_definitions_api import deploy
from tests.api.test_instances_api import start
from tests.conftest import PASSWORD, deploy_shipped, make_user, token_for

API = "/api/v1"
Headers = dict[str, str]

# Values a client might send in a path segment or query string (already URL-encoded).
BAD_SEGMENTS = (
    "0",
    "-1",
    "abc",
    "1.5",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999999999999",
    "%00",
    "%ff%fe",
    "%ed%a0%80",  # an encoded lone surrogate
    "x" * 3000,
    "%20",
)
# Values a client might put in a JSON field.
BAD_VALUES: tuple[Any, ...] = (
    None,
    True,
    -1,
    0,
    2**31,
    2**63,
    -(2**70),
    1e308,
    0.5,
    "",
    "x" * 100_000,
    "nul\x00byte",
    "lone \ud800 surrogate",
    "2026-02-30",
    [],
    [None, {"a": 1}],
    {},
    {"nested": {"deeper": [1, "two", None]}},
)
# Raw request bodies, sent as application/json.
BAD_BODIES: tuple[bytes, ...] = (
    b"",
    b"null",
    b"[]",
    b"42",
    b'"text"',
    b"{not json",
    b"\xff\xfe{}",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e400}',
    b'{"a": "\\ud800"}',
    b'{"a\\u0000": 1}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
)


class World:
    """Real records for path parameters, a user holding every role, and the API's operations."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        make_user(app, "everyone", ["practitioner", "team_manager", "process_owner", "admin"])
        self.client = client
        self.headers = token_for(client, "everyone")
        deploy(client, self.headers, "basic")
        deploy_shipped(app, "referral")
        family = self.post("/families", {"name": "Household"})
        adult = self.post(
            f"/families/{family['id']}/members",
            {"person": {"given_name": "Ada", "family_name": "Ex", "sex": "F", "is_child": False}},
        )
        child = self.post(
            f"/families/{family['id']}/members",
            {"person": {"given_name": "Kit", "family_name": "Ex", "sex": "M", "is_child": True}},
        )
        consent = self.post(
            f"/families/{family['id']}/consents",
            {
                "scope": "share",
                "status": "given",
                "given_by_person_id": adult["id"],
                "obtained_on": "2026-12-18",
                "method": "verbal",
            },
        )
        instance, spare = start(client, self.headers), start(client, self.headers)
        parameters = client.get(
            f"{API}/process-definitions/referral/parameters", headers=self.headers
        )
        self.ids: dict[str, str] = {
            "key": "referral",
            "number": "1",
            "name": parameters.json[0]["name"],  # type: ignore[index]
            "instance_id": str(instance["id"]),
            "task_id": str(instance["ready_tasks"][0]["id"]),
            "day": "2027-01-04",
            "timer_id": "1",
            "family_id": str(family["id"]),
            "person_id": str(child["id"]),
            "consent_id": str(consent["id"]),
            "related_person_id": str(adult["id"]),
        }
        self.adult_id = adult["id"]
        terminate = "/process-instances/{instance_id}/terminate"
        self.overrides = {terminate: {"instance_id": str(spare["id"])}}
        self.spec: dict[str, Any] = client.get(f"{API}/openapi.json").json  # type: ignore[assignment]

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(API + path, json=body, headers=self.headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json  # type: ignore[return-value]

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for path, operations in self.spec["paths"].items():
            shared = operations.get("parameters", [])  # path parameters live on the path item
            for method, operation in operations.items():
                if method != "parameters":
                    parameters = [*shared, *operation.get("parameters", [])]
                    yield method.upper(), path, {**operation, "parameters": parameters}

    def url(self, path: str, **override: str) -> str:
        values = {**self.ids, **self.overrides.get(path.removeprefix(API), {}), **override}
        return path.format(**values)

    def valid_body(self, method: str, path: str) -> dict[str, Any] | None:
        """A body each JSON operation accepts (or would, but for the state of its records)."""
        bodies: dict[tuple[str, str], dict[str, Any]] = {
            ("POST", "/auth/token"): {"username": "everyone", "password": PASSWORD},
            ("PUT", "/process-definitions/{key}/parameters/{name}"): {"value": 3},
            ("POST", "/process-instances"): {
                "process_key": "referral",
                "data": {
                    "urgent": False,
                    "family_id": int(self.ids["family_id"]),
                    "subject_person_ids": [int(self.ids["person_id"])],
                },
            },
            ("POST", "/process-instances/{instance_id}/terminate"): {"reason": "Duplicate."},
            ("POST", "/tasks/{task_id}/complete"): {
                "data": {"child_name": "Kit", "concern_level": 2},
                "instance_lock_version": 1,
            },
            ("POST", "/calendar/closures"): {
                "date": "2027-01-04",
                "kind": "closure",
                "reason": "Office move",
            },
            ("POST", "/calendar/reviews"): {"year": 2027},
            ("POST", "/agencies"): {"code": "school-z", "name": "School Z", "kind": "education"},
            ("POST", "/families"): {"name": "Another household"},
            ("POST", "/families/{family_id}/members"): {
                "person": {
                    "given_name": "Bo",
                    "family_name": "Ex",
                    "sex": "U",
                    "date_of_birth": "2024-03-01",
                },
                "relationships": [
                    {
                        "person_id": self.adult_id,
                        "relationship": "child",
                        "parental_responsibility": True,
                    }
                ],
            },
            ("POST", "/families/{family_id}/members/{person_id}/left"): {
                "left_on": "2026-12-18",
                "reason": "Moved to live with a grandparent",
            },
            ("POST", "/people/{person_id}/relationships"): {
                "person_id": self.adult_id,
                "relationship": "step_child",
                "parental_responsibility": False,
            },
            ("PATCH", "/people/{person_id}"): {
                "given_name": "Kit",
                "sex": "M",
                "date_of_birth": "2020-01-01",
                "is_child": True,
            },
            ("POST", "/people/{person_id}/ethnicity"): {
                "code": "WBRI",
                "source": "parent_carer",
            },
            ("POST", "/people/{person_id}/disabilities"): {"codes": ["NONE"]},
            ("POST", "/families/{family_id}/consents"): {
                "scope": "refer",
                "status": "given",
                "given_by_person_id": self.adult_id,
                "obtained_on": "2026-12-18",
                "method": "written",
            },
            ("POST", "/consents/{consent_id}/withdraw"): {"withdrawn_on": "2026-12-19"},
            ("POST", "/families/{family_id}/information-sharing"): {
                "shared": True,
                "information": "School attendance",
                "recipients": ["csc"],
                "purpose": "Safeguarding",
                "lawful_basis": "Children Act 1989 s47",
                "consent_status": "not_required_risk_of_harm",
                "instance_id": int(self.ids["instance_id"]),
            },
        }
        return bodies.get((method, path.removeprefix(API)))


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return World(app, client)


def json_body(operation: dict[str, Any]) -> bool:
    return "application/json" in operation.get("requestBody", {}).get("content", {})


def verdict(response: TestResponse) -> str | None:
    """Why a response is wrong for bad input, or None when it is a fine answer."""
    if response.status_code >= 500:
        return f"{response.status_code}"
    if response.status_code >= 400 and response.mimetype != "application/problem+json":
        return f"{response.status_code} as {response.mimetype}"
    if response.status_code >= 400 and (wrong := schema_errors(response.json)):
        return f"{response.status_code} not the documented Problem: {wrong[0]}"
    return None


def send(world: World, method: str, url: str, **kwargs: Any) -> TestResponse:
    headers = {**world.headers, **kwargs.pop("headers", {})}
    return world.client.open(url, method=method, headers=headers, **kwargs)


def leaves(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The paths to every value inside a JSON body, containers included."""
    if at:
        yield at
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from leaves(inner, (*at, index))


def replaced(body: dict[str, Any], at: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target: Any = changed
    for step in at[:-1]:
        target = target[step]
    target[at[-1]] = value
    return changed


def test_every_json_body_operation_has_a_valid_example(world: World) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in world.operations()
        if json_body(operation) and world.valid_body(method, path) is None
    ]
    assert missing == []
    refused = []
    for method, path, _operation in world.operations():
        body = world.valid_body(method, path)
        if body is not None:
            response = send(world, method, world.url(path), json=body)
            if response.status_code >= 300:
                refused.append(f"{method} {path}: {response.get_data(as_text=True)}")
    assert refused == []


def test_bad_path_values_are_problems(world: World) -> None:
    failures = []
    for method, path, operation in world.operations():
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        body = world.valid_body(method, path) if json_body(operation) else None
        for name in names:
            for segment in BAD_SEGMENTS:
                url = world.url(path, **{name: segment})
                why = verdict(send(world, method, url, json=body))
                if why:
                    failures.append(f"{method} {path} {name}={segment[:40]}: {why}")
    assert not failures, "\n".join(failures)


def test_bad_query_values_are_problems(world: World) -> None:
    failures = []
    for method, path, operation in world.operations():
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for name in names:
            for value in (*BAD_SEGMENTS, "%00abc", "2026-13-45"):
                url = f"{world.url(path)}?{name}={value}"
                why = verdict(send(world, method, url))
                if why:
                    failures.append(f"{method} {path} ?{name}={value[:40]}: {why}")
    assert not failures, "\n".join(failures)


def test_a_query_parameter_given_twice_is_refused_not_half_read(world: World) -> None:
    """`?status=active&status=ended` must not quietly list only active cases."""
    checked, failures = [], []
    for method, path, operation in world.operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            name = parameter["name"]
            response = send(world, method, f"{world.url(path)}?{name}=1&{name}=2")
            wanted = parameter["schema"].get("type") != "array"
            if wanted:
                checked.append(f"{path}?{name}")
                body = response.json or {}
                errors = [(e["pointer"], e["detail"]) for e in body.get("errors", [])]
                if response.status_code != 422 or errors != [
                    (f"#/{name}", "Give this parameter once.")
                ]:
                    failures.append(
                        f"{method} {path} ?{name} twice: {response.status_code} {errors}"
                    )
            elif response.status_code >= 400:
                failures.append(f"{method} {path} ?{name} (a list) twice: {response.status_code}")
    assert len(checked) >= 10, checked
    assert not failures, "\n".join(failures)


def test_bad_field_values_are_problems(world: World) -> None:
    failures = []
    for method, path, _operation in world.operations():
        body = world.valid_body(method, path)
        if body is None:
            continue
        for at in leaves(body):
            for value in BAD_VALUES:
                response = send(world, method, world.url(path), json=replaced(body, at, value))
                why = verdict(response)
                if why:
                    failures.append(
                        f"{method} {path} {'/'.join(map(str, at))}={value!r:.40}: {why}"
                    )
    assert not failures, "\n".join(failures)


def test_malformed_bodies_are_problems(world: World) -> None:
    failures = []
    for method, path, operation in world.operations():
        if not json_body(operation):
            continue
        for raw in BAD_BODIES:
            for content_type in ("application/json", "text/plain"):
                response = send(world, method, world.url(path), data=raw, content_type=content_type)
                why = verdict(response)
                if why:
                    failures.append(f"{method} {path} {raw[:30]!r} as {content_type}: {why}")
    assert not failures, "\n".join(failures)


def test_a_body_is_documented_as_required_exactly_when_leaving_it_out_is_refused(
    world: World,
) -> None:
    wrong = []
    for method, path, operation in world.operations():
        if not json_body(operation):
            continue
        response = send(world, method, world.url(path))
        problem = response.get_json() if response.status_code == 422 else {}
        refused = any(
            e["detail"] == "Missing data for required field." for e in problem.get("errors", [])
        )
        if refused != operation["requestBody"]["required"]:
            wrong.append(f"{method} {path}: refused without a body: {refused}")
    assert not wrong, "\n".join(wrong)


def test_bad_bundle_uploads_are_problems(world: World) -> None:
    path = f"{API}/process-definitions"
    uploads: list[dict[str, Any]] = [
        {},
        {"key": "x" * 5000},
        {"key": "nul\x00"},
        {"files": (b"", "")},
        {"files": (b"\xff\xfe\x00", "a.bpmn")},
        {"files": (b"<definitions/>", "\x00.bpmn")},
        {"files": (b"{}", "form.schema.json")},
        {"files": (b'{"a":' * 20_000, "deep.schema.json")},
        {"files": (b"<a>" * 50_000, "deep.bpmn")},
    ]
    failures = []
    for fields in uploads:
        data = {k: (io.BytesIO(v[0]), v[1]) if k == "files" else v for k, v in fields.items()}
        response = send(world, "POST", path, data=data, content_type="multipart/form-data")
        why = verdict(response)
        if why:
            failures.append(f"{json.dumps(list(fields))}: {why}")
    for raw, content_type in (
        (b"--x\r\nContent-Disposition: form-data\r\n\r\n", "multipart/form-data; boundary=x"),
        (b"junk", "multipart/form-data"),
        (b"key=%00", "application/x-www-form-urlencoded"),
    ):
        why = verdict(send(world, "POST", path, data=raw, content_type=content_type))
        if why:
            failures.append(f"{raw!r}: {why}")
    assert not failures, "\n".join(failures)


def test_a_start_naming_an_impossible_family_or_child_is_refused(world: World) -> None:
    body = world.valid_body("POST", f"{API}/process-instances")
    assert body is not None
    for family_id, subjects, pointer in (
        (2**31, [1], "#/data/family_id"),
        (1e300, [1], "#/data/family_id"),
        (None, ["2147483648"], "#/data/subject_person_ids"),
        (int(world.ids["family_id"]), [2**40], "#/data/subject_person_ids"),
    ):
        data = {**body["data"], "family_id": family_id, "subject_person_ids": subjects}
        if family_id is None:
            del data["family_id"]
        response = send(world, "POST", f"{API}/process-instances", json={**body, "data": data})
        assert response.status_code == 422, response.get_data(as_text=True)
        named = [e["pointer"] for e in response.json["errors"]]  # type: ignore[index]
        assert any(p.startswith(pointer) for p in named), named
