"""Helpers for the family, dashboard and instance page tests: users, sign-in, seeded rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from domain.context import Context

ROOT = Path(__file__).resolve().parents[2]
ENGINE_BPMN = ROOT / "tests" / "engine" / "bpmn"
CSRF = "test-csrf-token"


@contextmanager
def context(app: Flask, username: str | None = None) -> Iterator[Context]:
    """A domain context in an app context, acting as `username` (None: the system)."""
    from api.common.context import base_context
    from domain.users.models import User
    from domain.users.service import actor_of

    with app.app_context():
        ctx = base_context(None)
        if username is not None:
            user = ctx.session.scalars(select(User).where(User.username == username)).one()
            ctx.actor = actor_of(user)
        yield ctx


def sign_in(app: Flask, client: FlaskClient, username: str) -> None:
    """Put a signed-in session (and a known CSRF token) on the test client."""
    from domain.users.models import User

    with app.app_context():
        from api.common.extensions import db

        user = db.session.scalars(select(User).where(User.username == username)).one()
        user_id, version = user.id, user.password_hash[-16:]
    with client.session_transaction() as session:
        session["user_id"] = user_id
        session["auth_version"] = version
        session["csrf_token"] = CSRF


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> TestResponse:
    """POST a page form with the session's CSRF token."""
    return client.post(url, data={"csrf_token": CSRF, **(data or {})})


def text(response: TestResponse) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def title(response: TestResponse) -> str:
    """The page <title>."""
    found = re.search(r"<title[^>]*>(.*?)</title>", text(response), re.S)
    assert found is not None
    return " ".join(found.group(1).split())


def h1_count(response: TestResponse) -> int:
    """How many h1 elements the page has."""
    return len(re.findall(r"<h1[\s>]", text(response)))


def deploy_test_bundle(app: Flask, key: str = "basic") -> None:
    """Deploy one of the engine's test processes (BPMN and its forms from tests/engine/bpmn)."""
    from domain.db import unit_of_work
    from domain.processes import definitions
    from domain.processes.bundles import bundle_from_file

    bundle = bundle_from_file(ENGINE_BPMN / f"{key}.bpmn", ENGINE_BPMN)
    with context(app) as ctx, unit_of_work(ctx.session):
        definitions.deploy(ctx, key=bundle.key, bpmn_files=bundle.bpmn, forms=bundle.forms)


def start_basic(app: Flask, username: str, **extra: Any) -> int:
    """Start the engine's `basic` test process as `username`; return the instance id."""
    from domain.db import unit_of_work
    from domain.processes import runtime

    with context(app, username) as ctx, unit_of_work(ctx.session):
        instance = runtime.start_process(
            ctx, process_key="basic", data={"child_ref": "C-1", **extra}
        )
        return instance.id


def make_family(app: Flask, username: str, name: str = "Smith household") -> int:
    """Open a family record; return its id."""
    from domain.db import unit_of_work
    from domain.families import service as families

    with context(app, username) as ctx, unit_of_work(ctx.session):
        return families.create_family(ctx, name=name).id


def add_person(
    app: Flask,
    username: str,
    family_id: int,
    given: str,
    family: str = "Smith",
    *,
    born: date | None = None,
    due: date | None = None,
    is_child: bool | None = None,
    sex: str = "F",
    relationships: list[tuple[int, str, bool]] | None = None,
) -> int:
    """Add a person to a family; return the person's id."""
    from domain.db import unit_of_work
    from domain.families import service as families

    details = families.PersonDetails(
        given_name=given,
        family_name=family,
        sex=sex,
        date_of_birth=born,
        expected_date_of_birth=due,
        is_child=is_child,
    )
    rels = [families.RelationshipInput(p, k, r) for p, k, r in relationships or []]
    with context(app, username) as ctx, unit_of_work(ctx.session):
        return families.add_member(ctx, family_id=family_id, person=details, relationships=rels).id


def seed_instance(
    app: Flask,
    key: str,
    *,
    stage: str | None,
    status: str = "active",
    started_at: datetime,
    summary: dict[str, Any] | None = None,
    active: list[str] | None = None,
    family_id: int | None = None,
) -> int:
    """Insert a process instance row directly (no engine), for report figures."""
    from domain.db import unit_of_work
    from domain.processes import definitions
    from domain.processes.models import ProcessInstance

    with context(app) as ctx, unit_of_work(ctx.session):
        version = definitions.latest_version(ctx, key)
        instance = ProcessInstance(
            version_id=version.id,
            process_key=key,
            status=status,
            state=b"",
            current_stage=stage,
            started_at=started_at,
            updated_at=started_at,
            summary=summary or {},
            active_elements=active or [],
            completed_elements=[],
            family_id=family_id,
        )
        ctx.session.add(instance)
        ctx.session.flush()
        instance.reference = f"T-{instance.id:06d}"
        return instance.id


def seed_task(
    app: Flask,
    instance_id: int,
    element: str,
    *,
    created_at: datetime,
    due_at: datetime | None,
    completed_at: datetime | None = None,
    lane: str = "front_door",
    agency_code: str | None = None,
    title: str | None = None,
) -> int:
    """Insert a task row directly (ready, or completed when `completed_at` is given)."""
    import uuid

    from domain.db import unit_of_work
    from domain.processes.models import HumanTask

    with context(app) as ctx, unit_of_work(ctx.session):
        task = HumanTask(
            instance_id=instance_id,
            task_uuid=str(uuid.uuid4()),
            element_id=element,
            title=title or element.replace("_", " ").capitalize(),
            lane=lane,
            agency_code=agency_code,
            status="completed" if completed_at else "ready",
            created_at=created_at,
            due_at=due_at,
            completed_at=completed_at,
        )
        ctx.session.add(task)
        ctx.session.flush()
        return task.id
