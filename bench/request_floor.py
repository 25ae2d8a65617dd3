"""The least an API start or completion can cost on this stack, part by part.

Used by `request_cycle.py`. Each part is work every start or completion must do, measured
alone and interleaved with the baseline in the same run:

- the engine run with no database at all (parse nothing, load, complete, step, save);
- the rows the request must write (the case with its state, its task rows, its audit rows,
  its timers) written with SQLAlchemy Core statements on the product's own tables and
  committed in one transaction, as the API does, but with nothing read and no ORM.

With an empty Flask + flask-smorest request they add up to a lower bound on a request that
leaves out the token check, every read, form validation and the response body.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import count
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, create_engine, delete, insert, select, update

from domain.audit.models import AuditEvent
from domain.db import table_of
from domain.processes.models import HumanTask, ProcessInstance, TimerRow

_INSTANCES = table_of(ProcessInstance)
_TASKS = table_of(HumanTask)
_AUDIT = table_of(AuditEvent)
_TIMERS = table_of(TimerRow)


class EngineAlone:
    """Our engine starting and completing the bench process, with no database."""

    def __init__(self, app: Flask, process_key: str, data: Mapping[str, Any]) -> None:
        from api.common.context import base_context
        from domain.processes import definitions

        with app.app_context():
            version = definitions.latest_version(base_context(None), process_key)
            self.process = definitions.compiled_of(version)
        self.engine = app.extensions["thinkfamily"]["engine"]
        self.params = dict(self.process.parameters or {})
        self.data = dict(data)
        first = self.engine.start(self.process, {}, params=self.params)
        self.stored = first.serialized
        self.task_id = first.ready_tasks[0].id

    def start(self) -> None:
        """Start an instance and run it to its first user task."""
        self.engine.start(self.process, {}, params=self.params)

    def complete(self) -> None:
        """Load the waiting instance, complete its task, run on, save."""
        self.engine.complete_task(
            self.process, self.stored, self.task_id, self.data, params=self.params
        )


class TransactionAlone:
    """The rows an API start or completion writes, as Core statements in one transaction.

    The rows are copies of the ones the API wrote for the newest bench case, so they have
    the same size and touch the same indexes.
    """

    def __init__(self, url: str, process_key: str) -> None:
        self.engine = create_engine(url)
        with self.engine.connect() as conn:
            case = (
                conn.execute(
                    select(_INSTANCES)
                    .where(_INSTANCES.c.process_key == process_key)
                    .order_by(_INSTANCES.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .one()
            )
            task = (
                conn.execute(select(_TASKS).where(_TASKS.c.instance_id == case["id"]))
                .mappings()
                .first()
            )
            audit = (
                conn.execute(select(_AUDIT).where(_AUDIT.c.instance_id == case["id"]))
                .mappings()
                .all()
            )
        if task is None or len(audit) < 2:
            raise RuntimeError("run an API start first: its rows are the template")
        self.case = {k: v for k, v in case.items() if k != "id"}
        self.task = {k: v for k, v in task.items() if k not in ("id", "instance_id")}
        self.audit = [{k: v for k, v in row.items() if k != "id"} for row in audit[:2]]
        self.numbers = count(1)
        self.waiting: list[tuple[int, int]] = []

    def start(self) -> None:
        """Insert a case with its state, its first task and two audit rows; commit."""
        n = next(self.numbers)
        with self.engine.begin() as conn:
            case_id = conn.execute(
                _INSERT_CASE,
                {**self.case, "reference": f"FLOOR-{n:06d}"},
            ).scalar_one()
            task_id = conn.execute(
                _INSERT_TASK_ID,
                {**self.task, "instance_id": case_id, "task_uuid": f"floor-{n}"},
            ).scalar_one()
            conn.execute(_INSERT_AUDIT, [{**row, "instance_id": case_id} for row in self.audit])
        self.waiting.append((case_id, task_id))

    def complete(self) -> None:
        """Store a case's new state, complete its task, add the next one, audit; commit."""
        case_id, task_id = self.waiting.pop()
        n = next(self.numbers)
        with self.engine.begin() as conn:
            conn.execute(
                _UPDATE_CASE,
                {
                    "b_id": case_id,
                    "b_lock": self.case["lock_version"],
                    "lock_version": self.case["lock_version"] + 1,
                    "state": self.case["state"],
                    "updated_at": self.case["updated_at"],
                    "active_elements": self.case["active_elements"],
                    "completed_elements": self.case["completed_elements"],
                },
            )
            conn.execute(
                _COMPLETE_TASK,
                {"b_id": task_id, "completed_at": self.case["updated_at"], "data": {"n": n}},
            )
            conn.execute(
                _INSERT_TASK,
                {**self.task, "instance_id": case_id, "task_uuid": f"floor-{n}"},
            )
            conn.execute(_INSERT_AUDIT, [{**row, "instance_id": case_id} for row in self.audit])
            conn.execute(_DELETE_TIMERS, {"b_instance": case_id})

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


# prepared once, as the API's own statements are
_INSERT_CASE = insert(_INSTANCES).returning(_INSTANCES.c.id)
_INSERT_TASK = insert(_TASKS)
_INSERT_TASK_ID = insert(_TASKS).returning(_TASKS.c.id)
_INSERT_AUDIT = insert(_AUDIT)
_DELETE_TIMERS = delete(_TIMERS).where(_TIMERS.c.instance_id == bindparam("b_instance"))
_UPDATE_CASE = (
    update(_INSTANCES)
    .where(_INSTANCES.c.id == bindparam("b_id"), _INSTANCES.c.lock_version == bindparam("b_lock"))
    .values(
        {
            name: bindparam(name)
            for name in (
                "lock_version",
                "state",
                "updated_at",
                "active_elements",
                "completed_elements",
            )
        }
    )
)
_COMPLETE_TASK = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("b_id"), _TASKS.c.status == "ready")
    .values(status="completed", completed_at=bindparam("completed_at"), data=bindparam("data"))
)
