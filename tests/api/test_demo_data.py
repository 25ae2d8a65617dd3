"""`thinkfamily demo-data`: idempotent; creates demo users and families; drives processes."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.common.context import base_context
from domain import demo
from domain.context import Context
from domain.families import service as families
from domain.families import view
from domain.processes import definitions
from domain.processes.models import ProcessInstance
from domain.users.models import User

ROOT = Path(__file__).resolve().parents[2]


def _run(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_data_runs_twice_and_creates_users_families_and_processes(
    app: Flask, client: FlaskClient
) -> None:
    first = _run(app)
    instances_after_first = _instance_count(app)
    second = _run(app)
    assert _instance_count(app) == instances_after_first
    assert "users: 15 created" in first
    assert "users: 0 created, 15 already there" in second
    assert "family DEMO-0001: already there" in second
    assert f"password {demo.DEMO_PASSWORD}" in second

    for username, *_ in demo.USERS:
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": demo.DEMO_PASSWORD}
        )
        assert response.status_code == 200, username

    present = {p.stem for p in (ROOT / "workflows").glob("*.bpmn")} & set(demo.PROCESS_KEYS)
    with app.app_context():
        ctx = base_context(None)
        assert ctx.session.scalar(select(func.count(User.id))) == len(demo.USERS)
        sizes = {}
        for reference in ("DEMO-0001", "DEMO-0002", "DEMO-0003"):
            family = families.find_family_by_reference(ctx, reference)
            assert family is not None
            sizes[reference] = len(families.members_of(ctx, family.id))
        assert sizes == {"DEMO-0001": 9, "DEMO-0002": 5, "DEMO-0003": 3}

        large = view.get_family_view(ctx, _family_id(ctx, "DEMO-0001"))
        children = [m for m in large.members if m.is_child]
        assert len(children) == 7
        assert [m.under_5 for m in large.members[:3]] == [True, True, True]
        assert large.members[0].is_unborn

        blended = view.get_family_view(ctx, _family_id(ctx, "DEMO-0002"))
        statuses = sorted(m.ethnicity_status or "" for m in blended.members)
        assert statuses == ["not_yet_obtained", "recorded", "recorded", "recorded", "refused"]
        assert sum(bool(m.ethnicity and m.ethnicity.observed) for m in blended.members) == 1
        assert len({m.ethnicity.code for m in blended.members if m.ethnicity}) == 5

        disabled = view.get_family_view(ctx, _family_id(ctx, "DEMO-0003"))
        assert ["AUT", "COMM", "LD"] in [m.disabilities for m in disabled.members]

        started = set(ctx.session.scalars(select(ProcessInstance.process_key)))
        assert present <= started

        # every agency a process names is a demo agency, so its notices and tasks reach someone
        codes = {code for code, *_ in demo.AGENCIES}
        named = {}
        for key in present:
            version = definitions.latest_version(ctx, key)
            values = definitions.parameters_for(ctx, version)
            named.update(
                {f"{key}.{n}": values[n] for n in version.parameters if n.endswith("_agency")}
            )
        assert named
        assert {name: code for name, code in named.items() if code not in codes} == {}
    assert "agencies of escalation: partnership_agency=partnership" in first
    assert "agencies of escalation: already set" in second
    for key in set(demo.PROCESS_KEYS) - present:
        assert f"{key}: skipped: {key}.bpmn not found" in first


def _family_id(ctx: Context, reference: str) -> int:
    family = families.find_family_by_reference(ctx, reference)
    assert family is not None
    return family.id


def _instance_count(app: Flask) -> int:
    with app.app_context():
        return base_context(None).session.scalar(select(func.count(ProcessInstance.id))) or 0
