"""Tasks API: inbox filters, reading a task with its form, complete, claim and release."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.test_definitions_api import (
    BPMN_DIR,
    PERSON,
    People,
    assert_problem,
    deploy,
    json_of,
    no_personal_data_in_logs,
    people,
    pointers,
)
from tests.api.test_instances_api import start

pytestmark = [pytest.mark.usefixtures("no_personal_data_in_logs")]
TASKS = "/api/v1/tasks"
__all__ = ["no_personal_data_in_logs", "people"]  # shared fixtures, re-exported for pytest


@pytest.fixture
def basic(client: FlaskClient, people: People) -> People:
    deploy(client, people.headers("owner"), "basic")
    deploy(client, people.headers("owner"), "follow_on")
    return people


def first_task(instance: dict[str, Any]) -> int:
    (task,) = instance["ready_tasks"]
    task_id: int = task["id"]
    return task_id


def complete(
    client: FlaskClient, headers: dict[str, str], task_id: int, body: dict[str, Any]
) -> Any:
    return client.post(f"{TASKS}/{task_id}/complete", json=body, headers=headers)


def inbox(client: FlaskClient, headers: dict[str, str], **query: Any) -> list[str]:
    response = client.get(TASKS, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [f"{t['instance_id']}:{t['element_id']}" for t in json_of(response)]


def at_strategy(client: FlaskClient, people: People) -> tuple[dict[str, Any], int]:
    """An instance waiting for the manager's strategy discussion."""
    instance = start(client, people.headers("pat"))
    response = complete(
        client,
        people.headers("pat"),
        first_task(instance),
        {"data": {"child_name": PERSON, "concern_level": 9}},
    )
    assert response.status_code == 200
    after = json_of(response)
    return after, first_task(after)


# -- read -----------------------------------------------------------------------------------------


def test_task_detail_includes_its_form_schema(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = first_task(instance)

    response = client.get(f"{TASKS}/{task_id}", headers=basic.headers("pat"))

    assert response.status_code == 200
    task = json_of(response)
    assert task["element_id"] == "submit_referral"
    assert task["title"] == "Submit referral"
    assert task["instance_id"] == instance["id"]
    assert task["process_key"] == "basic"
    assert task["reference"] == instance["reference"]
    assert task["instance_lock_version"] == instance["lock_version"]
    assert task["data"] is None
    expected = json.loads((BPMN_DIR / "submit_referral.schema.json").read_text())
    assert task["form_schema"] == expected


def test_unknown_or_invisible_task_is_404(client: FlaskClient, basic: People) -> None:
    _, strategy = at_strategy(client, basic)
    assert_problem(client.get(f"{TASKS}/999999", headers=basic.headers("pat")), 404)
    # The strategy discussion belongs to the csc agency: the police officer may not see it.
    assert_problem(client.get(f"{TASKS}/{strategy}", headers=basic.headers("plod")), 404)
    for action in ("complete", "claim", "release"):
        response = client.post(
            f"{TASKS}/{strategy}/{action}", json={"data": {}}, headers=basic.headers("plod")
        )
        assert_problem(response, 404)


# -- inbox ----------------------------------------------------------------------------------------


def test_inbox_filters(client: FlaskClient, basic: People) -> None:
    at_manager, strategy = at_strategy(client, basic)
    waiting = start(client, basic.headers("pat"))
    iid, wid = at_manager["id"], waiting["id"]
    pat, manager, owner = basic.headers("pat"), basic.headers("manager"), basic.headers("owner")

    assert inbox(client, pat) == [f"{wid}:submit_referral"]
    assert inbox(client, manager) == [f"{iid}:strategy_discussion", f"{wid}:submit_referral"]
    assert inbox(client, manager, lane="team_manager") == [f"{iid}:strategy_discussion"]
    assert inbox(client, manager, role="practitioner") == [f"{wid}:submit_referral"]
    assert inbox(client, manager, instance=wid) == [f"{wid}:submit_referral"]
    assert inbox(client, pat, state="completed") == [f"{iid}:submit_referral"]
    assert inbox(client, pat, state="completed", instance=wid) == []
    assert sorted(inbox(client, pat, state="any", instance=iid)) == [f"{iid}:submit_referral"]
    assert inbox(client, owner) == []  # a process owner works no lane
    assert inbox(client, owner, scope="all") == [
        f"{iid}:strategy_discussion",
        f"{wid}:submit_referral",
    ]
    assert inbox(client, pat, scope="all") == [f"{wid}:submit_referral"]  # owners only
    assert inbox(client, pat, scope="agency") == [
        f"{iid}:strategy_discussion",
        f"{wid}:submit_referral",
    ]
    assert inbox(client, basic.headers("plod"), scope="agency") == [f"{wid}:submit_referral"]
    assert strategy


BAD_FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"state": "sleeping"}, "#/state"),
    ({"scope": "world"}, "#/scope"),
    ({"instance": "x"}, "#/instance"),
    ({"limit": 501}, "#/limit"),
    ({"offset": "x"}, "#/offset"),
    ({"assignee": "pat"}, "#/assignee"),
]


def test_inbox_rejects_bad_filters(
    client: FlaskClient, basic: People, subtests: pytest.Subtests
) -> None:
    for query, pointer in BAD_FILTERS:
        with subtests.test(query=query):
            response = client.get(TASKS, query_string=query, headers=basic.headers("pat"))
            assert pointers(assert_problem(response, 422)) == [pointer]


# -- complete -------------------------------------------------------------------------------------


def test_complete_moves_the_instance_on(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = first_task(instance)

    response = complete(
        client,
        basic.headers("pat"),
        task_id,
        {
            "data": {"child_name": PERSON, "concern_level": 9},
            "instance_lock_version": instance["lock_version"],
        },
    )

    assert response.status_code == 200
    after = json_of(response)
    assert after["id"] == instance["id"]
    assert after["lock_version"] > instance["lock_version"]
    (strategy,) = after["ready_tasks"]
    assert strategy["element_id"] == "strategy_discussion"
    assert strategy["agency_code"] == "csc"
    assert strategy["assignee"] == "manager"
    assert strategy["due_at"].startswith("2026-12-23T17:00:00")
    done = json_of(client.get(f"{TASKS}/{task_id}", headers=basic.headers("pat")))
    assert done["status"] == "completed"
    assert done["data"] == {"child_name": PERSON, "concern_level": 9}
    assert done["completed_by"] is not None


BAD_COMPLETIONS: list[tuple[dict[str, Any], list[str]]] = [
    ({"data": {"child_name": PERSON}}, ["#/data/concern_level"]),
    ({"data": {"child_name": PERSON, "concern_level": "high"}}, ["#/data/concern_level"]),
    ({"data": {"child_name": PERSON, "concern_level": 11}}, ["#/data/concern_level"]),
    ({"data": {"child_name": 5, "concern_level": 3}}, ["#/data/child_name"]),
    ({"data": {"child_name": "A", "concern_level": 3, "nickname": PERSON}}, ["#/data/nickname"]),
    ({"data": {}}, ["#/data/child_name", "#/data/concern_level"]),
    ({"data": PERSON}, ["#/data"]),
    ({"data": {"child_name": "A", "concern_level": 3}, "note": PERSON}, ["#/note"]),
    (
        {"data": {"child_name": "A", "concern_level": 3}, "instance_lock_version": "x"},
        ["#/instance_lock_version"],
    ),
]


def test_complete_names_each_invalid_field(
    client: FlaskClient, basic: People, subtests: pytest.Subtests
) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = first_task(instance)

    for body, expected in BAD_COMPLETIONS:
        with subtests.test(body=body):
            response = complete(client, basic.headers("pat"), task_id, body)
            problem = assert_problem(response, 422, code="invalid-body")
            assert pointers(problem) == expected
            for error in problem["errors"]:
                assert error["detail"]

    still = json_of(client.get(f"{TASKS}/{task_id}", headers=basic.headers("pat")))
    assert still["status"] == "ready"
    assert still["instance_lock_version"] == instance["lock_version"]


def test_completing_a_completed_task_is_409(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = first_task(instance)
    body = {"data": {"child_name": PERSON, "concern_level": 2}}
    assert complete(client, basic.headers("pat"), task_id, body).status_code == 200

    again = complete(client, basic.headers("pat"), task_id, body)

    assert_problem(again, 409, code="conflict")


def test_stale_instance_lock_version_is_409(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = first_task(instance)
    body = {
        "data": {"child_name": PERSON, "concern_level": 2},
        "instance_lock_version": instance["lock_version"] - 1,
    }

    response = complete(client, basic.headers("pat"), task_id, body)

    assert_problem(response, 409, code="conflict")
    assert json_of(client.get(f"{TASKS}/{task_id}", headers=basic.headers("pat")))["status"] == (
        "ready"
    )


def test_wrong_role_is_403(client: FlaskClient, basic: People) -> None:
    _, strategy = at_strategy(client, basic)
    body = {"data": {"outcome": "early_help"}}
    # A practitioner in the same agency sees the manager's task but may not do it.
    assert_problem(complete(client, basic.headers("pat"), strategy, body), 403, code="forbidden")
    # A process owner sees every task but works none.
    assert_problem(complete(client, basic.headers("owner"), strategy, body), 403)
    assert complete(client, basic.headers("manager"), strategy, body).status_code == 200


def test_task_endpoints_need_a_token(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = first_task(instance)
    bad = {"Authorization": "Bearer not-a-token"}
    for headers in ({}, bad, {"Authorization": "Basic cGF0OnB3"}):
        assert_problem(client.get(TASKS, headers=headers), 401)
        assert_problem(client.get(f"{TASKS}/{task_id}", headers=headers), 401)
        for action in ("complete", "claim", "release"):
            response = client.post(
                f"{TASKS}/{task_id}/{action}",
                json={"data": {"child_name": PERSON, "concern_level": 2}},
                headers=headers,
            )
            assert_problem(response, 401)


# -- claim and release ----------------------------------------------------------------------------


def test_claim_keeps_colleagues_off_until_released(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = first_task(instance)
    pat, val, manager = basic.headers("pat"), basic.headers("val"), basic.headers("manager")

    claimed = client.post(f"{TASKS}/{task_id}/claim", headers=pat)
    assert claimed.status_code == 200
    assert json_of(claimed)["claimed_by"] is not None

    assert inbox(client, val) == []
    assert inbox(client, pat) == [f"{instance['id']}:submit_referral"]
    body = {"data": {"child_name": PERSON, "concern_level": 2}}
    assert_problem(complete(client, val, task_id, body), 409)
    assert_problem(client.post(f"{TASKS}/{task_id}/claim", headers=val), 409)
    assert_problem(client.post(f"{TASKS}/{task_id}/release", headers=val), 403)

    released = client.post(f"{TASKS}/{task_id}/release", headers=manager)
    assert released.status_code == 200
    assert json_of(released)["claimed_by"] is None
    assert inbox(client, val) == [f"{instance['id']}:submit_referral"]
    assert complete(client, val, task_id, body).status_code == 200
    assert_problem(client.post(f"{TASKS}/{task_id}/claim", headers=val), 409)


def test_release_of_an_unclaimed_task_is_harmless(client: FlaskClient, basic: People) -> None:
    instance = start(client, basic.headers("pat"))
    task_id = first_task(instance)
    response = client.post(f"{TASKS}/{task_id}/release", headers=basic.headers("val"))
    assert response.status_code == 200
    assert json_of(response)["claimed_by"] is None


def test_claim_by_the_wrong_role_is_403(client: FlaskClient, basic: People) -> None:
    _, strategy = at_strategy(client, basic)
    assert_problem(client.post(f"{TASKS}/{strategy}/claim", headers=basic.headers("pat")), 403)
    ok = client.post(f"{TASKS}/{strategy}/claim", headers=basic.headers("manager"))
    assert ok.status_code == 200
