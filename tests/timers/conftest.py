"""Helpers for timer tests: deploy the test diagrams, start instances, build workers, count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from tests.conftest import FakeClock

BPMN_DIR = Path(__file__).resolve().parent / "bpmn"


def deploy_test(app: Flask, *keys: str) -> None:
    """Deploy test diagrams from tests/timers/bpmn."""
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import definitions

    with app.app_context():
        ctx = base_context(None)
        for key in keys:
            path = BPMN_DIR / f"{key}.bpmn"
            with unit_of_work(ctx.session):
                definitions.deploy(
                    ctx, key=key, bpmn_files={path.name: path.read_bytes()}, forms={}
                )


def start(app: Flask, key: str, data: dict[str, Any] | None = None) -> int:
    """Start an instance as the system and return its id."""
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import runtime

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            instance = runtime.start_process(ctx, process_key=key, data=data or {})
            return instance.id


def worker(app: Flask, **settings: Any) -> Any:
    """A timer worker on the app (and so on the app's injected clock)."""
    from api.worker import build_worker
    from domain.timers.worker import WorkerSettings

    return build_worker(app, WorkerSettings(**settings))


def instance_row(app: Flask, instance_id: int) -> Any:
    """Load an instance (detached, attributes loaded)."""
    from api.common.extensions import db
    from domain.processes.models import ProcessInstance

    with app.app_context():
        row = db.session.get(ProcessInstance, instance_id)
        assert row is not None
        db.session.expunge(row)
        db.session.remove()
        return row


def tasks(app: Flask, instance_id: int, status: str | None = "ready") -> list[str]:
    """Element ids of an instance's task rows (sorted), optionally by status."""
    from api.common.extensions import db
    from domain.processes.models import HumanTask

    with app.app_context():
        query = select(HumanTask.element_id).where(HumanTask.instance_id == instance_id)
        if status is not None:
            query = query.where(HumanTask.status == status)
        result = sorted(db.session.scalars(query))
        db.session.remove()
        return result


def timer_rows(app: Flask, instance_id: int) -> list[Any]:
    """The instance's timer rows, detached."""
    from api.common.extensions import db
    from domain.processes.models import TimerRow

    with app.app_context():
        rows = list(
            db.session.scalars(
                select(TimerRow).where(TimerRow.instance_id == instance_id).order_by(TimerRow.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
        return rows


def audit_count(app: Flask, action: str, instance_id: int | None = None) -> int:
    """Count audit events of one action (for one instance)."""
    from api.common.extensions import db
    from domain.audit.models import AuditEvent

    with app.app_context():
        query = select(func.count(AuditEvent.id)).where(AuditEvent.action == action)
        if instance_id is not None:
            query = query.where(AuditEvent.instance_id == instance_id)
        count = int(db.session.scalar(query) or 0)
        db.session.remove()
        return count


def fired_per_instance(app: Flask) -> dict[int, int]:
    """Map instance id to its number of `timers.fired` audit events."""
    from api.common.extensions import db
    from domain.audit.models import AuditEvent

    with app.app_context():
        query = (
            select(AuditEvent.instance_id, func.count(AuditEvent.id))
            .where(AuditEvent.action == "timers.fired")
            .group_by(AuditEvent.instance_id)
        )
        result = {int(i): int(n) for i, n in db.session.execute(query).all() if i is not None}
        db.session.remove()
        return result


def tasks_per_instance(app: Flask, element_id: str) -> dict[int, int]:
    """Map instance id to its number of task rows for one element."""
    from api.common.extensions import db
    from domain.processes.models import HumanTask

    with app.app_context():
        query = (
            select(HumanTask.instance_id, func.count(HumanTask.id))
            .where(HumanTask.element_id == element_id)
            .group_by(HumanTask.instance_id)
        )
        result = {int(i): int(n) for i, n in db.session.execute(query).all()}
        db.session.remove()
        return result


def clone_instances(app: Flask, source_id: int, count: int, *, prefix: str = "CLN") -> list[int]:
    """Copy a started instance `count` times with bulk inserts (state, task and timer rows)."""
    from api.common.extensions import db
    from domain.processes.models import HumanTask, ProcessInstance, TimerRow

    with app.app_context():
        session = db.session()
        source = session.get(ProcessInstance, source_id)
        assert source is not None
        columns = [
            c.key
            for c in ProcessInstance.__table__.columns
            if c.key not in ("id", "reference", "lock_version")
        ]
        base = {c: getattr(source, c) for c in columns}
        source_tasks = list(
            session.scalars(select(HumanTask).where(HumanTask.instance_id == source_id))
        )
        source_timers = list(
            session.scalars(select(TimerRow).where(TimerRow.instance_id == source_id))
        )
        ids: list[int] = []
        for offset in range(0, count, 1000):
            chunk = range(offset, min(offset + 1000, count))
            rows = [{**base, "reference": f"{prefix}-{n:07d}", "lock_version": 1} for n in chunk]
            new_ids = list(
                session.scalars(insert(ProcessInstance).returning(ProcessInstance.id), rows)
            )
            ids.extend(new_ids)
            _copy_children(session, HumanTask, source_tasks, new_ids)
            _copy_children(session, TimerRow, source_timers, new_ids)
        session.commit()
        db.session.remove()
        return ids


def _copy_children(session: Any, model: Any, sources: Sequence[Any], ids: Sequence[int]) -> None:
    if not sources:
        return
    columns = [c.key for c in model.__table__.columns if c.key not in ("id", "instance_id")]
    rows = [{**{c: getattr(s, c) for c in columns}, "instance_id": i} for i in ids for s in sources]
    session.execute(insert(model), rows)


@pytest.fixture
def past_clock(clock: FakeClock) -> FakeClock:
    """Move the shared fake clock 30 days before real time (timers due in real time)."""
    clock.now = datetime.now(UTC) - timedelta(days=30)
    return clock
