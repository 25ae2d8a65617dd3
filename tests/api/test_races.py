"""Ten people send the same write at the same moment: nobody gets a 500, and a record that may
exist once is created, changed or removed once, with one audit entry.

Every write operation in the OpenAPI document is raced, so a new endpoint is covered as soon as
it exists. Runs on SQLite and (TEST_DATABASE_URL) PostgreSQL, where the unique indexes, not the
checks before them, are what stop the second of two simultaneous inserts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.api.test_bad_input import API, World, json_body, verdict, world
from tests.api.test_definitions_api import (
    assert_problem,
    bundle_files,
    json_of,
    no_personal_data_in_logs,
    upload,
)
from tests.api.test_instances_api import start as start_instance
from tests.conftest import FakeClock, make_user, token_for

pytestmark = [pytest.mark.usefixtures("no_personal_data_in_logs")]
__all__ = ["no_personal_data_in_logs", "world"]  # shared fixtures, re-exported for pytest
THREADS = 10
SIGN_OUT = ("DELETE", f"{API}/auth/token")
DEPLOY = ("POST", f"{API}/process-definitions")
COMPLETE_DATA = {"child_name": "Kit", "concern_level": 2}
TERMINATE = {"reason": "Duplicate."}


def at_once(
    app: Flask, send: Callable[[FlaskClient, int], TestResponse], threads: int = THREADS
) -> list[TestResponse]:
    """Call `send(client, n)` for n in range(threads), each from its own thread with its own
    client, all at the same moment; return the responses in the order of n."""
    barrier = threading.Barrier(threads)
    responses: dict[int, TestResponse] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        own_client = app.test_client()
        try:
            barrier.wait(timeout=30)
            response = send(own_client, n)
        except BaseException as exc:  # report it in the main thread
            with lock:
                failures.append(exc)
            return
        with lock:
            responses[n] = response

    workers = [threading.Thread(target=attempt, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers)
    assert failures == []
    return [responses[n] for n in range(threads)]


def sender(
    method: str, url: str, body: Any, headers: dict[str, str]
) -> Callable[[FlaskClient, int], TestResponse]:
    """One request, to be sent by each thread with its own client."""

    def send(client: FlaskClient, _n: int) -> TestResponse:
        return client.open(url, method=method, json=body, headers=headers)

    return send


def statuses(responses: list[TestResponse]) -> list[int]:
    return sorted(r.status_code for r in responses)


def audited(app: Flask, action: str) -> int:
    """How many audit entries record `action`."""
    from api.common.extensions import db
    from domain.audit.models import AuditEvent

    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )
        db.session.remove()
    return int(count or 0)


def test_no_write_fails_when_ten_people_send_it_at_once(app: Flask, world: World) -> None:
    raced: list[str] = []
    failures: list[str] = []
    for method, path, operation in world.operations():
        if method == "GET" or (method, path) in (SIGN_OUT, DEPLOY):  # both raced below
            continue
        body = world.valid_body(method, path) if json_body(operation) else None
        url = world.url(path)
        responses = at_once(app, sender(method, url, body, world.headers))
        raced.append(f"{method} {path}")
        failures.extend(
            f"{method} {path}: {why}" for r in responses if (why := verdict(r)) is not None
        )
    assert len(raced) >= 20, raced
    assert not failures, "\n".join(failures)


def test_one_of_ten_identical_creations_wins(app: Flask, world: World) -> None:
    """The rest are told, as a later request would be, that the record exists."""
    for path, body, action in (
        ("/agencies", {"code": "school-q", "name": "School Q", "kind": "education"}, None),
        (
            "/calendar/closures",
            {"date": "2027-02-01", "kind": "closure", "reason": "Office move"},
            "calendar.day_added",
        ),
    ):
        before = audited(app, action) if action else 0
        responses = at_once(app, sender("POST", API + path, body, world.headers))
        assert statuses(responses) == [201] + [409] * (THREADS - 1), path
        later = assert_problem(world.client.post(API + path, json=body, headers=world.headers), 409)
        for response in responses:
            if response.status_code == 409:
                detail = assert_problem(response, 409)["detail"]
                assert detail == later["detail"] or "same moment" in detail, detail
        if action:
            assert audited(app, action) == before + 1


def test_one_of_ten_removals_or_withdrawals_is_done_and_audited_once(
    app: Flask, world: World
) -> None:
    closure = {"date": "2027-03-01", "kind": "closure", "reason": "Training day"}
    assert (
        world.client.post(
            f"{API}/calendar/closures", json=closure, headers=world.headers
        ).status_code
        == 201
    )
    removed = at_once(
        app, sender("DELETE", f"{API}/calendar/closures/2027-03-01", None, world.headers)
    )
    assert statuses(removed) == [204] + [404] * (THREADS - 1)
    assert audited(app, "calendar.day_removed") == 1

    withdraw = f"{API}/consents/{world.ids['consent_id']}/withdraw"
    withdrawn = at_once(
        app, sender("POST", withdraw, {"withdrawn_on": "2026-12-19"}, world.headers)
    )
    assert statuses(withdrawn) == [200] + [409] * (THREADS - 1)
    assert audited(app, "family.consent_withdrawn") == 1

    add = world.url(f"{API}/people/{{person_id}}/relationships")
    body = {"person_id": world.adult_id, "relationship": "step_child"}
    recorded = at_once(app, sender("POST", add, body, world.headers))
    assert statuses(recorded) == [201] + [409] * (THREADS - 1)
    between = f"{add}/{world.adult_id}"
    removed = at_once(app, sender("DELETE", between, None, world.headers))
    assert statuses(removed) == [204] + [404] * (THREADS - 1)
    assert audited(app, "person.relationship_removed") == 1

    left = world.url(f"{API}/families/{{family_id}}/members/{{person_id}}/left")
    gone = at_once(app, sender("POST", left, {"left_on": "2026-12-18"}, world.headers))
    assert statuses(gone) == [200] + [409] * (THREADS - 1)
    assert audited(app, "family.member_left") == 1
    back = at_once(app, sender("DELETE", left, None, world.headers))
    assert statuses(back) == [200] + [409] * (THREADS - 1)
    assert audited(app, "family.member_returned") == 1


def test_a_token_signed_out_ten_times_at_once_is_signed_out_once(app: Flask, world: World) -> None:
    headers = token_for(world.client, "everyone")
    responses = at_once(app, sender("DELETE", f"{API}/auth/token", None, headers))
    assert statuses(responses) == [204] + [401] * (THREADS - 1)
    assert audited(app, "user.signed_out") == 1
    assert world.client.get(f"{API}/tasks", headers=headers).status_code == 401


def test_ten_deploys_at_once_never_share_a_version_number(app: Flask, client: FlaskClient) -> None:
    make_user(app, "owner", ["process_owner"])
    headers = token_for(client, "owner")

    def deploy(c: FlaskClient, n: int) -> TestResponse:
        files = bundle_files("basic", (b'name="Submit referral"', f'name="Submit {n}"'.encode()))
        return upload(c, headers, files)

    for _round in range(2):  # a new process key, then new versions of an existing one
        responses = at_once(app, deploy)
        assert set(statuses(responses)) <= {200, 201, 409}, statuses(responses)
        for response in responses:
            if response.status_code == 409:
                assert "deployed at the same moment" in assert_problem(response, 409)["detail"]
    versions = json_of(client.get(f"{API}/process-definitions/basic", headers=headers))
    numbers = [v["number"] for v in versions["versions"]]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert audited(app, "process.deployed") == len(numbers)


def test_a_write_a_database_constraint_refuses_is_a_409_not_a_500(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The safety net under every write: a clash no service foresaw reads as a conflict."""
    from sqlalchemy.exc import IntegrityError

    from domain.families import service as families

    def clash(*_args: Any, **_kwargs: Any) -> None:
        raise IntegrityError("INSERT ...", {"name": "Ada"}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(families, "create_family", clash)
    response = world.client.post(f"{API}/families", json={"name": "Ada"}, headers=world.headers)
    body = assert_problem(response, 409, code="write-conflict", secrets=("Ada", "UNIQUE"))
    assert "same moment" in body["detail"]
    logged = [r.getMessage() for r in caplog.records if "constraint" in r.getMessage()]
    assert logged
    assert "test_races.py" in logged[-1]  # names our code, not only the library's
    assert world.client.get(f"{API}/families", headers=world.headers).status_code == 200


def test_of_ten_edits_of_one_read_of_a_person_one_is_saved(
    app: Flask, world: World, clock: FakeClock
) -> None:
    url = f"{API}/people/{world.ids['person_id']}"
    read = json_of(world.client.get(url, headers=world.headers))
    clock.advance(minutes=1)

    def edit(c: FlaskClient, n: int) -> TestResponse:
        body = {"given_name": f"Kit{'t' * n}", "unchanged_since": read["updated_at"]}
        return c.patch(url, json=body, headers=world.headers)

    responses = at_once(app, edit)
    assert statuses(responses) == [200] + [409] * (THREADS - 1)
    (saved,) = [r.json for r in responses if r.status_code == 200]
    after = json_of(world.client.get(url, headers=world.headers))
    assert after["given_name"] == saved["given_name"]  # type: ignore[index]


def test_a_case_terminated_as_its_task_is_completed_ends_with_nothing_left_open(
    app: Flask, world: World
) -> None:
    """Termination and a completion at once: whichever wins, a terminated case keeps no
    ready task, and a refused request changed nothing."""
    from api.common.extensions import db
    from domain.processes.models import HumanTask

    client, headers = world.client, world.headers
    outcomes = set()
    for _ in range(8):
        case = start_instance(client, headers)
        task_id = case["ready_tasks"][0]["id"]
        complete = ("POST", f"{API}/tasks/{task_id}/complete", {"data": COMPLETE_DATA})
        terminate = ("POST", f"{API}/process-instances/{case['id']}/terminate", TERMINATE)
        requests = (complete, terminate)

        def send(c: FlaskClient, n: int, requests: Any = requests) -> TestResponse:
            method, url, body = requests[n]
            return c.open(url, method=method, json=body, headers=headers)

        completed, terminated = (r.status_code for r in at_once(app, send, 2))
        outcomes.add((completed, terminated))
        after = client.get(f"{API}/process-instances/{case['id']}", headers=headers).json
        with app.app_context():
            open_rows = db.session.scalars(
                select(HumanTask.element_id).filter_by(instance_id=case["id"], status="ready")
            ).all()
            db.session.remove()
        assert {completed, terminated} <= {200, 409}, (completed, terminated)
        if terminated == 200:
            assert after["status"] == "terminated"  # type: ignore[index]
            assert after["ready_tasks"] == [] == open_rows  # type: ignore[index]
        else:
            assert completed == 200  # the termination was refused only for the completion
            assert after["status"] != "terminated"  # type: ignore[index]
    assert outcomes <= {(200, 200), (409, 200), (200, 409)}
