"""What a start and a task completion read and write: everything read up front in a few
queries, each changed row written once, the response built without reading back.

These count statements, not time (speed is measured in `bench/`): they catch a query that
creeps back into the request path, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, inspect, select, text

from api.common.context import base_context
from api.common.extensions import db
from domain.calendar import service as calendar_service
from domain.context import Actor
from domain.db import unit_of_work
from domain.processes import instances as instance_queries
from domain.processes import runtime
from domain.processes.models import HumanTask
from domain.users import service as users
from domain.users.models import User
from tests.api.test_definitions_api import People, people
from tests.api.test_instances_api import start
from tests.api.test_tasks_api import basic

__all__ = ["basic", "people"]  # shared fixtures, re-exported for pytest
TASKS = "/api/v1/tasks"
FORM = {"child_name": "Test Child", "concern_level": 9}


Statement = tuple[str, str]
"""(verb, table) of one SQL statement, e.g. ("SELECT", "human_tasks")."""


def _classify(sql: str) -> Statement:
    text = " ".join(sql.split())
    verb = text.split(" ", 1)[0].upper()
    pattern = {
        "SELECT": r"\bFROM \"?(\w+)",
        "INSERT": r"^INSERT INTO \"?(\w+)",
        "UPDATE": r"^UPDATE \"?(\w+)",
        "DELETE": r"^DELETE FROM \"?(\w+)",
    }.get(verb)
    found = re.search(pattern, text, re.IGNORECASE) if pattern else None
    return verb, found.group(1) if found else ""


@contextmanager
def statements(app: Flask) -> Iterator[list[Statement]]:
    """Record the statements the app's engine sends meanwhile."""
    with app.app_context():
        engine = db.engine
    sent: list[Statement] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        sent.append(_classify(sql))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_before_writes(sent: list[Statement]) -> bool:
    """Whether every SELECT came before the first write."""
    first_write = next((i for i, (verb, _) in enumerate(sent) if verb != "SELECT"), len(sent))
    return all(verb != "SELECT" for verb, _ in sent[first_write:])


def test_starting_reads_once_and_writes_each_row_once(
    app: Flask, client: FlaskClient, basic: People
) -> None:
    headers = basic.headers("pat")
    start(client, headers)  # versions, forms and validators are now cached
    with statements(app) as sent:
        instance = start(client, headers)
    assert instance["reference"].startswith("PRC-")
    assert [t["element_id"] for t in instance["ready_tasks"]] == ["submit_referral"]
    assert sent.count(("SELECT", "process_versions")) == 1
    assert ("SELECT", "process_parameters") not in sent  # the diagram reads no param(...)
    assert sent.count(("INSERT", "process_instances")) == 1
    assert sent.count(("INSERT", "human_tasks")) == 1
    assert sent.count(("INSERT", "audit_events")) == 1  # every audit row in one batch
    assert ("DELETE", "timers") not in sent  # a new case has no timers to replace
    assert ("SELECT", "human_tasks") not in sent  # the response comes from what was written
    assert len(sent) <= 8, sent


def test_completing_reads_up_front_and_writes_each_row_once(
    app: Flask, client: FlaskClient, basic: People
) -> None:
    headers = basic.headers("pat")
    start(client, headers)
    instance = start(client, headers)
    (task,) = instance["ready_tasks"]
    with statements(app) as sent:
        response = client.post(
            f"{TASKS}/{task['id']}/complete", json={"data": FORM}, headers=headers
        )
    assert response.status_code == 200, response.get_data(as_text=True)
    after = response.get_json()
    assert after["lock_version"] == instance["lock_version"] + 1
    assert [t["element_id"] for t in after["ready_tasks"]] == ["strategy_discussion"]
    assert reads_before_writes(sent), sent
    assert sent.count(("SELECT", "human_tasks")) == 1  # the task, its case and ready tasks
    assert ("SELECT", "process_versions") not in sent
    assert ("SELECT", "process_instances") not in sent
    assert sent.count(("UPDATE", "process_instances")) == 1
    assert sent.count(("UPDATE", "human_tasks")) == 1
    assert sent.count(("INSERT", "audit_events")) == 1
    assert len(sent) <= 10, sent


def test_a_stale_case_is_refused_without_writing(
    app: Flask, client: FlaskClient, basic: People
) -> None:
    headers = basic.headers("pat")
    instance = start(client, headers)
    (task,) = instance["ready_tasks"]
    first = client.post(f"{TASKS}/{task['id']}/complete", json={"data": FORM}, headers=headers)
    assert first.status_code == 200
    with statements(app) as sent:
        again = client.post(f"{TASKS}/{task['id']}/complete", json={"data": FORM}, headers=headers)
    assert again.status_code == 409
    assert all(verb == "SELECT" for verb, _ in sent), sent


def test_ready_rows_are_forgotten_when_the_unit_of_work_rolls_back(
    app: Flask, basic: People
) -> None:
    with app.app_context():
        ctx = base_context(basic_actor(app, basic))
        started: list[int] = []

        def start_then_fail() -> None:
            with unit_of_work(ctx.session):
                instance = runtime.start_process(
                    ctx, process_key="basic", data={"child_ref": "C-1"}
                )
                started.append(instance.id)
                ready = instance_queries.ready_tasks(ctx, instance.id)
                assert [t.element_id for t in ready] == ["submit_referral"]
                raise RuntimeError("the request failed after the start")

        with pytest.raises(RuntimeError):
            start_then_fail()
        assert instance_queries.ready_tasks(ctx, started[0]) == []
        assert ctx.session.scalars(select(HumanTask)).all() == []


def basic_actor(app: Flask, crew: People) -> Actor:
    """The actor of the practitioner `pat` (signed in through the API once)."""
    crew.headers("pat")
    with app.app_context():
        ctx = base_context(None)
        user = ctx.session.scalar(select(User).where(User.username == "pat"))
        assert user is not None
        return users.actor_of(user)


def test_the_calendar_is_never_read_through_a_finished_request(
    app: Flask, client: FlaskClient, basic: People
) -> None:
    headers = basic.headers("pat")
    response = client.get(TASKS, headers=headers)  # a request that never needed the calendar
    assert response.status_code == 200
    with statements(app) as sent:
        calendar = calendar_service.latest_calendar()
    assert sent == []  # no transaction reopened on the finished request's session
    assert calendar.is_working_day(date(2026, 12, 21))
    assert not calendar.is_working_day(date(2026, 12, 25))


def test_migration_indexes_ready_tasks_by_instance_and_downgrades(tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    from api.app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite'}", "TESTING": True})

    def task_indexes() -> set[str]:
        return {i["name"] for i in inspect(db.engine).get_indexes("human_tasks") if i["name"]}

    with app.app_context():
        upgrade(revision="0002_families")
        assert "ix_human_tasks_instance_id" in task_indexes()
        upgrade(revision="0003_task_instance_status")
        indexes = task_indexes()
        assert "ix_human_tasks_instance_status" in indexes
        assert "ix_human_tasks_instance_id" not in indexes
        with db.engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT id FROM human_tasks"
                        " WHERE instance_id = 1 AND status = 'ready'"
                    )
                )
            )
        assert "ix_human_tasks_instance_status" in plan
        downgrade(revision="0002_families")
        assert "ix_human_tasks_instance_status" not in task_indexes()
        upgrade()
        db.engine.dispose()


def test_a_start_form_is_trimmed_once_so_its_validator_is_reused() -> None:
    schema = {
        "type": "object",
        "properties": {"child_ref": {"type": "string"}, "started_by": {"type": "string"}},
        "required": ["child_ref", "started_by"],
    }
    trimmed = runtime._without_system_keys(schema)
    assert trimmed is not None
    assert list(trimmed["properties"]) == ["child_ref"]
    assert trimmed["required"] == ["child_ref"]
    assert runtime._without_system_keys(schema) is trimmed
    assert runtime._without_system_keys(dict(schema)) is not trimmed  # another form object
    assert list(schema["properties"]) == ["child_ref", "started_by"]  # the form is untouched


def test_starts_and_completions_reuse_their_forms_validators(
    client: FlaskClient, basic: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.forms import validation

    built: list[object] = []
    build = validation._effective_schema

    def counted(schema: Any, dynamic: Any) -> dict[str, Any]:
        built.append(schema)
        return build(schema, dynamic)

    monkeypatch.setattr(validation, "_effective_schema", counted)
    monkeypatch.setattr(validation, "_VALIDATORS", OrderedDict())
    headers = basic.headers("pat")
    first, second = start(client, headers), start(client, headers)
    assert len(built) == 1  # the start form: built for the first start only
    built.clear()
    for instance in (first, second):
        (task,) = instance["ready_tasks"]
        done = client.post(f"{TASKS}/{task['id']}/complete", json={"data": FORM}, headers=headers)
        assert done.status_code == 200, done.get_data(as_text=True)
    assert len(built) == 1  # the task's form: built for the first completion only
