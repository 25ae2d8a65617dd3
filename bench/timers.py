"""Timer worker benchmark. Prints figures only; asserts nothing.

Set-up: 100,000 waiting timers (instances of a one-stage process with an interrupting
boundary timer), of which 1,000 are due. One real instance is started per kind and its
rows (state, task row, timer row) are cloned with bulk inserts.

Prints:
(a) set-up time;
(b) the cost of finding due timers (the worker's claim query, `FOR UPDATE SKIP LOCKED` on
    PostgreSQL, and its next-due lookup) with 1,000 and with 100,000 waiting, and the ratio;
(c) the time to fire all 1,000 due instances with one in-process worker;
(d) fire latency after due (median, p95) with the worker loop running in a thread on the
    real clock, for timers set to fall due a little in the future.

Run: .venv/bin/python bench/timers.py
Database: a temporary SQLite file, or BENCH_DATABASE_URL (a throwaway PostgreSQL
database: the benchmark drops and recreates its public schema).
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

WAITING = 100_000
DUE = 1_000
SMALL = 1_000
SMALL_DUE = 10
LATENCY_TIMERS = 100
LATENCY_SPACING = timedelta(milliseconds=100)
LATENCY_LEAD = timedelta(seconds=15)
QUERY_RUNS = 500
CHUNK = 2_000

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="bench_defs" targetNamespace="http://thinkfamily.bench/timers">
  <bpmn:process id="bench_timer" name="Bench stage deadline" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_practitioner" name="practitioner">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>stage1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>deadline</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>stage2</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end2</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="stage1" />
    <bpmn:userTask id="stage1" name="Stage 1">
      <bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="stage1" targetRef="end1" />
    <bpmn:endEvent id="end1"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:boundaryEvent id="deadline" name="Deadline" attachedToRef="stage1">
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="deadline_def">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">due</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="deadline" targetRef="stage2" />
    <bpmn:userTask id="stage2" name="Stage 2">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="stage2" targetRef="end2" />
    <bpmn:endEvent id="end2"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


class BenchClock:
    """The real clock, or a fixed instant while `fixed` is set."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)


def prepare_database() -> tuple[str, str, str | None]:
    """Return (url, description, temporary folder) of an empty, migrated database."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        label = f"PostgreSQL ({engine.url.database})"
        folder = None
    else:
        folder = tempfile.mkdtemp(prefix="tf-bench-timers-")
        url = f"sqlite:///{folder}/bench.sqlite"
        label = "SQLite (temporary file, WAL)"
    from flask_migrate import upgrade

    from api.app import create_app
    from api.common.extensions import db

    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
    with app.app_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        upgrade()
        db.engine.dispose()
    return url, label, folder


def deploy(app: Flask) -> None:
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import definitions

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            definitions.deploy(ctx, key="bench_timer", bpmn_files={"b.bpmn": BPMN}, forms={})


def start(app: Flask, due: datetime) -> int:
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import runtime

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            instance = runtime.start_process(
                ctx, process_key="bench_timer", data={"due": due.isoformat()}
            )
            return instance.id


def clone(app: Flask, source_id: int, count: int, prefix: str) -> None:
    """Copy an instance with its task and timer rows `count` times (bulk inserts)."""
    from api.common.extensions import db
    from domain.processes.models import HumanTask, ProcessInstance, TimerRow

    with app.app_context():
        session = db.session()
        source = session.get(ProcessInstance, source_id)
        assert source is not None
        skip = ("id", "reference", "lock_version")
        base = {
            c.key: getattr(source, c.key)
            for c in ProcessInstance.__table__.columns
            if c.key not in skip
        }
        children: list[tuple[Any, list[dict[str, Any]]]] = []
        for model in (HumanTask, TimerRow):
            found = session.scalars(select(model).where(model.instance_id == source_id)).all()
            columns = [c.key for c in model.__table__.columns if c.key not in ("id", "instance_id")]
            children.append((model, [{c: getattr(r, c) for c in columns} for r in found]))
        for offset in range(0, count, CHUNK):
            numbers = range(offset, min(offset + CHUNK, count))
            rows = [{**base, "reference": f"{prefix}{n:07d}", "lock_version": 1} for n in numbers]
            ids = list(session.scalars(insert(ProcessInstance).returning(ProcessInstance.id), rows))
            for model, templates in children:
                session.execute(
                    insert(model), [{**t, "instance_id": i} for i in ids for t in templates]
                )
            session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))  # as autovacuum would after a bulk load
            session.commit()
        db.session.remove()


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000


def query_costs(app: Flask, now: datetime) -> tuple[float, float]:
    """Median ms of the claim query (in its own transaction) and of the next-due lookup."""
    from api.common.extensions import db
    from domain.timers import claims

    def repeat(fn: Callable[[Any], object]) -> list[float]:
        samples = []
        with app.app_context():
            session = db.session()
            for _ in range(QUERY_RUNS):
                t0 = time.perf_counter()
                fn(session)
                session.rollback()
                samples.append(time.perf_counter() - t0)
            db.session.remove()
        return samples

    for _ in range(2):  # warm caches and the connection pool
        repeat(lambda s: claims.claim_due(s, now))
    claim = repeat(lambda s: claims.claim_due(s, now))
    lookup = repeat(claims.next_due_at)
    return median_ms(claim), median_ms(lookup)


def count_waiting(app: Flask) -> tuple[int, int]:
    from api.common.extensions import db
    from domain.processes.models import TimerRow
    from domain.timers import claims

    with app.app_context():
        session = db.session()
        waiting = int(session.scalar(select(func.count(TimerRow.id))) or 0)
        due = claims.count_due(session, datetime.now(UTC))
        db.session.remove()
    return waiting, due


def fire_latencies(app: Flask, ids: Sequence[int], due: dict[int, datetime]) -> list[float]:
    from api.common.extensions import db
    from domain.audit.models import AuditEvent

    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.instance_id, AuditEvent.at).where(
                AuditEvent.action == "timers.fired", AuditEvent.instance_id.in_(list(ids))
            )
        ).all()
        db.session.remove()
    return [(at - due[int(i)]).total_seconds() for i, at in rows if i is not None]


def main() -> None:
    logging.basicConfig(level=logging.ERROR)

    url, label, folder = prepare_database()
    try:
        run(url, label)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def run(url: str, label: str) -> None:
    from api.app import create_app
    from api.worker import build_worker
    from domain.timers.worker import WorkerSettings

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    clock = BenchClock()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"}, clock=clock)
    print(f"Timer worker benchmark on {label}; {os.cpu_count()} CPUs, load average {load:.1f}")

    t0 = time.perf_counter()
    real_now = datetime.now(UTC)
    clock.fixed = real_now - timedelta(days=2)
    deploy(app)
    later = start(app, real_now + timedelta(days=3650))
    past = start(app, real_now - timedelta(days=1))
    clone(app, later, SMALL - SMALL_DUE - 1, "W")
    clone(app, past, SMALL_DUE - 1, "D")
    clock.fixed = None
    waiting, due = count_waiting(app)
    small_claim, small_lookup = query_costs(app, datetime.now(UTC))
    print(f"  finding due timers with {waiting:,} waiting ({due:,} due):")
    print(f"    claim query  median {small_claim:.3f} ms")
    print(f"    next-due     median {small_lookup:.3f} ms")

    t1 = time.perf_counter()
    clone(app, later, WAITING - DUE - (SMALL - SMALL_DUE), "X")
    clone(app, past, DUE - SMALL_DUE, "E")
    setup = time.perf_counter() - t0
    clone_time = time.perf_counter() - t1
    waiting, due = count_waiting(app)
    big_claim, big_lookup = query_costs(app, datetime.now(UTC))
    print(f"  finding due timers with {waiting:,} waiting ({due:,} due):")
    print(f"    claim query  median {big_claim:.3f} ms")
    print(f"    next-due     median {big_lookup:.3f} ms")
    print(
        f"    ratio 100,000 / 1,000 waiting: claim {big_claim / small_claim:.2f}x, "
        f"next-due {big_lookup / small_lookup:.2f}x"
    )
    print(f"  set-up: {setup:.1f} s ({clone_time:.1f} s to clone {WAITING - SMALL:,} instances)")

    worker = build_worker(app, WorkerSettings(batch=100, poll=0.5), name="bench")
    t2, cpu = time.perf_counter(), time.process_time()
    result = worker.run_until_idle()
    elapsed, cpu = time.perf_counter() - t2, time.process_time() - cpu
    fired = max(result.fired, 1)
    print(
        f"  fire all due: {result.fired:,} instances in {elapsed:.2f} s "
        f"({result.fired / elapsed:.0f}/s; {elapsed / fired * 1000:.1f} ms wall, "
        f"{cpu / fired * 1000:.1f} ms worker CPU each; failed {result.failed})"
    )

    # Latency: timers falling due from 15 s ahead, 100 ms apart (10 per second, well within
    # the worker's throughput), fired by the loop in a thread on the real clock. The delay
    # is measured to the `timers.fired` audit row, written inside the firing transaction.
    base = datetime.now(UTC) + LATENCY_LEAD
    due_at = {}
    for n in range(LATENCY_TIMERS):
        when = base + LATENCY_SPACING * n
        due_at[start(app, when)] = when
    if datetime.now(UTC) > base:
        print("  (creating the latency timers took longer than the lead; figures are inflated)")
    loop = build_worker(app, WorkerSettings(batch=100, poll=0.5), name="bench-loop")
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    end = base + LATENCY_SPACING * LATENCY_TIMERS + timedelta(seconds=30)
    samples: list[float] = []
    while datetime.now(UTC) < end:
        time.sleep(1.0)
        samples = fire_latencies(app, list(due_at), due_at)
        if len(samples) == len(due_at):
            break
    loop.stop()
    thread.join(timeout=10)
    if samples:
        print(
            f"  fire latency after due ({len(samples)}/{len(due_at)} timers, poll 0.5 s): "
            f"median {median_ms(samples):.0f} ms, p95 {p95_ms(samples):.0f} ms, "
            f"max {max(samples) * 1000:.0f} ms"
        )
    else:
        print("  fire latency: no timer fired")
    with app.app_context():
        from api.common.extensions import db

        db.engine.dispose()


if __name__ == "__main__":
    main()
