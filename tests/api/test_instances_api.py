"""Process instances API: start, list with filters, read, terminate; versions stay pinned."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.test_definitions_api import (
    PERSON,
    People,
    assert_problem,
    bundle_files,
    deploy,
    json_of,
    no_personal_data_in_logs,
    people,
    pointers,
    upload,
)

pytestmark = [pytest.mark.usefixtures("no_personal_data_in_logs")]
INSTANCES = "/api/v1/process-instances"
__all__ = ["no_personal_data_in_logs", "people"]  # shared fixtures, re-exported for pytest


def start(
    client: FlaskClient, headers: dict[str, str], key: str = "basic", **data: Any
) -> dict[str, Any]:
    """Start an instance and return it."""
    body = {"process_key": key, "data": data or {"child_ref": "C-1"}}
    response = client.post(INSTANCES, json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    instance: dict[str, Any] = json_of(response)
    return instance


def complete(
    client: FlaskClient, headers: dict[str, str], task_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Complete a task and return the instance."""
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    instance: dict[str, Any] = json_of(response)
    return instance


@pytest.fixture
def basic(client: FlaskClient, people: People) -> People:
    deploy(client, people.headers("owner"), "basic")
    deploy(client, people.headers("owner"), "follow_on")
    return people


# -- start and read -------------------------------------------------------------------------------


def test_start_runs_to_the_first_task(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"), child_ref="C-1")

    assert instance["process_key"] == "basic"
    assert instance["version"] == 1
    assert instance["status"] == "active"
    assert instance["reference"] == f"PRC-{instance['id']:06d}"
    assert isinstance(instance["lock_version"], int)
    (task,) = instance["ready_tasks"]
    assert task["element_id"] == "submit_referral"
    assert task["lane"] == "practitioner"
    assert task["form_key"] == "submit_referral.schema.json"
    assert task["status"] == "ready"
    # dueWorkingDays=3 from Monday 21 December 2026: Thursday 24 December at 17:00 UK time.
    assert task["due_at"].startswith("2026-12-24T17:00:00")


def test_read_instance_with_history_and_timers(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = instance["ready_tasks"][0]["id"]
    complete(client, basic.headers("pat"), task_id, {"child_name": PERSON, "concern_level": 2})

    response = client.get(f"{INSTANCES}/{instance['id']}", headers=basic.headers("pat"))

    assert response.status_code == 200
    detail = json_of(response)
    assert [t["element_id"] for t in detail["history"]] == ["submit_referral"]
    assert [t["element_id"] for t in detail["ready_tasks"]] == ["give_advice"]
    assert detail["timers"] == []
    assert "triage" in detail["completed_elements"]
    assert "give_advice" in detail["active_elements"]
    assert detail["summary"] == {"stage": "triaged"}


def test_instance_shows_waiting_timers(client: FlaskClient, basic: People) -> None:
    deploy(client, basic.headers("owner"), "timers")
    instance = start(client, basic.headers("pat"), "timers", note="x")
    detail = json_of(client.get(f"{INSTANCES}/{instance['id']}", headers=basic.headers("pat")))
    (timer,) = detail["timers"]
    assert timer["element_id"] == "stage1_deadline"
    assert timer["due_at"].startswith("2026-12-30T17:00:00")
    assert detail["next_timer_due_at"].startswith("2026-12-30T17:00:00")


def test_start_process_service_task_starts_a_follow_on_instance(
    client: FlaskClient, basic: People
) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = instance["ready_tasks"][0]["id"]
    after = complete(client, basic.headers("pat"), task_id, {"child_name": "A", "concern_level": 9})
    (strategy,) = after["ready_tasks"]

    done = complete(client, basic.headers("manager"), strategy["id"], {"outcome": "early_help"})

    assert done["status"] == "completed"
    listing = json_of(
        client.get(
            INSTANCES, query_string={"process_key": "follow_on"}, headers=basic.headers("pat")
        )
    )
    (child,) = listing
    assert child["status"] == "active"
    assert [t["element_id"] for t in child["ready_tasks"]] == ["plan_support"]


# -- list and filters -----------------------------------------------------------------------------


def test_list_filters_by_status_and_process_key(client: FlaskClient, basic: People) -> None:
    deploy(client, basic.headers("owner"), "timers")
    first = start(client, basic.headers("pat"))
    second = start(client, basic.headers("pat"))
    timers = start(client, basic.headers("pat"), "timers", note="x")
    terminated = client.post(
        f"{INSTANCES}/{second['id']}/terminate",
        json={"reason": "Opened in error"},
        headers=basic.headers("manager"),
    )
    assert terminated.status_code == 200

    def ids(**query: Any) -> list[int]:
        response = client.get(INSTANCES, query_string=query, headers=basic.headers("pat"))
        assert response.status_code == 200
        return [i["id"] for i in json_of(response)]

    assert ids() == [timers["id"], second["id"], first["id"]]
    assert ids(status="active") == [timers["id"], first["id"]]
    assert ids(status="terminated") == [second["id"]]
    assert ids(status="completed") == []
    assert ids(process_key="basic") == [second["id"], first["id"]]
    assert ids(process_key="basic", status="active") == [first["id"]]
    assert ids(process_key="nope") == []
    assert ids(limit=1) == [timers["id"]]
    assert ids(limit=1, offset=1) == [second["id"]]


BAD_FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"status": "sleeping"}, "#/status"),
    ({"limit": "many"}, "#/limit"),
    ({"limit": 0}, "#/limit"),
    ({"offset": -1}, "#/offset"),
    ({"family_id": "x"}, "#/family_id"),
    ({"colour": "red"}, "#/colour"),
]


def test_list_rejects_bad_filters(
    client: FlaskClient, basic: People, subtests: pytest.Subtests
) -> None:
    for query, pointer in BAD_FILTERS:
        with subtests.test(query=query):
            response = client.get(INSTANCES, query_string=query, headers=basic.headers("pat"))
            assert pointers(assert_problem(response, 422)) == [pointer]


# -- versions stay pinned -------------------------------------------------------------------------


def test_running_instances_stay_pinned_to_their_version(client: FlaskClient, basic: People) -> None:
    old = start(client, basic.headers("pat"))
    # Version 2 sends every referral to the manager, whatever the concern level.
    changed = bundle_files("basic", (b"risk == 'high'", b"risk in ('high', 'low')"))
    response = upload(client, basic.headers("owner"), changed)
    assert response.status_code == 201
    assert json_of(response)["version"] == 2
    new = start(client, basic.headers("pat"))
    assert (old["version"], new["version"]) == (1, 2)

    low = {"child_name": "A", "concern_level": 2}
    old_after = complete(client, basic.headers("pat"), old["ready_tasks"][0]["id"], low)
    new_after = complete(client, basic.headers("pat"), new["ready_tasks"][0]["id"], low)

    assert [t["element_id"] for t in old_after["ready_tasks"]] == ["give_advice"]
    assert [t["element_id"] for t in new_after["ready_tasks"]] == ["strategy_discussion"]
    assert old_after["version"] == 1


# -- terminate ------------------------------------------------------------------------------------


def test_terminate_withdraws_tasks(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = instance["ready_tasks"][0]["id"]

    response = client.post(
        f"{INSTANCES}/{instance['id']}/terminate",
        json={"reason": "Duplicate referral"},
        headers=basic.headers("manager"),
    )

    assert response.status_code == 200
    ended = json_of(response)
    assert ended["status"] == "terminated"
    assert ended["end_reason"] == "Duplicate referral"
    assert ended["ready_tasks"] == []
    task = json_of(client.get(f"/api/v1/tasks/{task_id}", headers=basic.headers("pat")))
    assert task["status"] == "cancelled"
    again = client.post(
        f"{INSTANCES}/{instance['id']}/terminate",
        json={"reason": "Duplicate referral"},
        headers=basic.headers("manager"),
    )
    assert_problem(again, 409, code="invalid-transition")
    late = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"data": {"child_name": PERSON, "concern_level": 2}},
        headers=basic.headers("pat"),
    )
    assert_problem(late, 409)


BAD_TERMINATIONS: list[tuple[dict[str, Any], str]] = [
    ({}, "#/reason"),
    ({"reason": "x"}, "#/reason"),
    ({"reason": 5}, "#/reason"),
    ({"reason": "Duplicate", "why": PERSON}, "#/why"),
]


def test_terminate_rejects_bad_bodies(
    client: FlaskClient, basic: People, subtests: pytest.Subtests
) -> None:
    instance = start(client, basic.headers("pat"))
    path = f"{INSTANCES}/{instance['id']}/terminate"
    for body, pointer in BAD_TERMINATIONS:
        with subtests.test(body=body):
            response = client.post(path, json=body, headers=basic.headers("manager"))
            assert pointers(assert_problem(response, 422)) == [pointer]
    still = json_of(client.get(f"{INSTANCES}/{instance['id']}", headers=basic.headers("pat")))
    assert still["status"] == "active"


def test_terminate_needs_a_manager_or_owner(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    path = f"{INSTANCES}/{instance['id']}/terminate"
    body = {"reason": "Opened in error"}
    assert_problem(client.post(path, json=body, headers=basic.headers("pat")), 403)
    assert_problem(client.post(path, json=body), 401)
    assert_problem(
        client.post(f"{INSTANCES}/999999/terminate", json=body, headers=basic.headers("owner")),
        404,
    )
    assert client.post(path, json=body, headers=basic.headers("owner")).status_code == 200


# -- refusals on start ----------------------------------------------------------------------------


BAD_STARTS: list[tuple[dict[str, Any], list[str]]] = [
    ({"data": {"child_ref": "C-1"}}, ["#/process_key"]),
    ({"process_key": 5, "data": {"child_ref": "C-1"}}, ["#/process_key"]),
    ({"process_key": "", "data": {}}, ["#/process_key"]),
    ({"process_key": "basic", "data": "C-1"}, ["#/data"]),
    ({"process_key": "basic", "data": {}, "extra": PERSON}, ["#/extra"]),
    ({"process_key": "basic", "data": {}}, ["#/data/child_ref"]),
    ({"process_key": "basic", "data": {"child_ref": 7}}, ["#/data/child_ref"]),
    ({"process_key": "basic", "data": {"child_ref": "C-1", "name": PERSON}}, ["#/data/name"]),
]


def test_start_rejects_invalid_bodies(
    client: FlaskClient, basic: People, subtests: pytest.Subtests
) -> None:
    for body, expected in BAD_STARTS:
        with subtests.test(body=body):
            response = client.post(INSTANCES, json=body, headers=basic.headers("pat"))
            assert pointers(assert_problem(response, 422)) == expected
    assert json_of(client.get(INSTANCES, headers=basic.headers("pat"))) == []


def test_start_of_an_unknown_process_is_404(client: FlaskClient, basic: People) -> None:
    response = client.post(
        INSTANCES, json={"process_key": "nope", "data": {}}, headers=basic.headers("pat")
    )
    assert_problem(response, 404, code="not-found")


def test_start_needs_a_practitioner_or_manager(client: FlaskClient, basic: People) -> None:
    body = {"process_key": "basic", "data": {"child_ref": "C-1"}}
    assert_problem(client.post(INSTANCES, json=body), 401)
    assert_problem(client.post(INSTANCES, json=body, headers=basic.headers("owner")), 403)
    assert_problem(client.post(INSTANCES, json=body, headers=basic.headers("admin")), 403)
    assert client.post(INSTANCES, json=body, headers=basic.headers("manager")).status_code == 201


@pytest.mark.parametrize("path", [INSTANCES, f"{INSTANCES}/1"])
def test_reading_instances_needs_a_token(client: FlaskClient, path: str) -> None:
    assert_problem(client.get(path), 401)
    assert_problem(client.get(path, headers={"Authorization": "Bearer nonsense"}), 401)


def test_unknown_instance_is_404(client: FlaskClient, basic: People) -> None:
    assert_problem(client.get(f"{INSTANCES}/424242", headers=basic.headers("pat")), 404)


UNAUTHENTICATED_INVALID: list[tuple[str, str, dict[str, Any] | str | None]] = [
    ("post", INSTANCES, {"process_key": 5, "zzz": PERSON}),
    ("get", f"{INSTANCES}?status=sleeping", None),
    ("post", f"{INSTANCES}/1/terminate", {"reason": ""}),
    ("get", "/api/v1/tasks?state=sleeping", None),
    ("post", "/api/v1/tasks/1/complete", {"data": PERSON}),
    ("put", "/api/v1/process-definitions/basic/parameters/x", {"zzz": 1}),
]


def test_authentication_comes_before_validation(
    client: FlaskClient, basic: People, subtests: pytest.Subtests
) -> None:
    for method, path, body in UNAUTHENTICATED_INVALID:
        with subtests.test(method=method, path=path):
            response = client.open(path, method=method.upper(), json=body)
            assert_problem(response, 401, code="unauthenticated")


def test_role_check_comes_before_validation(
    client: FlaskClient, basic: People, subtests: pytest.Subtests
) -> None:
    cases = [
        ("post", INSTANCES, {"process_key": 5}, "owner"),
        ("post", f"{INSTANCES}/1/terminate", {"reason": ""}, "pat"),
        ("put", "/api/v1/process-definitions/basic/parameters/x", {"zzz": 1}, "pat"),
    ]
    for method, path, body, who in cases:
        with subtests.test(method=method, path=path):
            response = client.open(
                path, method=method.upper(), json=body, headers=basic.headers(who)
            )
            assert_problem(response, 403, code="forbidden")


# -- Idempotency-Key ---------------------------------------------------------------------------


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_a_start_resent_with_its_key_starts_one_case(
    client: FlaskClient, basic: People, clock: Any
) -> None:
    body = {"process_key": "basic", "data": {"child_ref": "C-1"}}
    pat = basic.headers("pat")

    first = client.post(INSTANCES, json=body, headers=keyed(pat, "start-7f3a-C-1"))
    again = client.post(INSTANCES, json=body, headers=keyed(pat, "start-7f3a-C-1"))

    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert json_of(again)["id"] == json_of(first)["id"]
    assert json_of(again)["ready_tasks"] == json_of(first)["ready_tasks"]
    listed = client.get(INSTANCES, headers=pat)
    assert [i["id"] for i in json_of(listed)] == [json_of(first)["id"]]

    # another person's key is theirs; a new key is a new case; a day later the key is free
    val = client.post(INSTANCES, json=body, headers=keyed(basic.headers("val"), "start-7f3a-C-1"))
    fresh = client.post(INSTANCES, json=body, headers=keyed(pat, "start-other"))
    assert len({json_of(r)["id"] for r in (first, val, fresh)}) == 3
    clock.advance(days=1, seconds=1)
    later = client.post(INSTANCES, json=body, headers=keyed(token_again(client), "start-7f3a-C-1"))
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers


def token_again(client: FlaskClient) -> dict[str, str]:
    """pat signs in again (tokens last 12 hours on the app's clock)."""
    from tests.conftest import token_for

    return token_for(client, "pat")


def test_a_key_reused_for_another_start_or_malformed_is_refused(
    client: FlaskClient, basic: People
) -> None:
    pat = basic.headers("pat")
    body = {"process_key": "basic", "data": {"child_ref": "C-1"}}
    assert client.post(INSTANCES, json=body, headers=keyed(pat, "k-1")).status_code == 201

    other = {"process_key": "basic", "data": {"child_ref": "C-2"}}
    reused = client.post(INSTANCES, json=other, headers=keyed(pat, "k-1"))
    assert pointers(assert_problem(reused, 422)) == ["#/Idempotency-Key"]
    for bad in ("has space", "x" * 256, ""):
        refused = client.post(INSTANCES, json=other, headers=keyed(pat, bad))
        assert pointers(assert_problem(refused, 422)) == ["#/Idempotency-Key"]
    assert len(json_of(client.get(INSTANCES, headers=pat))) == 1


def test_ten_starts_with_one_key_at_once_start_one_case(app: Any, basic: People) -> None:
    from tests.api.test_races import at_once

    pat = keyed(basic.headers("pat"), "same-moment")
    body = {"process_key": "basic", "data": {"child_ref": "C-1"}}

    responses = at_once(app, lambda c, _n: c.post(INSTANCES, json=body, headers=pat), 10)

    assert [r.status_code for r in responses] == [201] * 10
    assert len({json_of(r)["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
