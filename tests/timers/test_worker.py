"""The timer worker on the injected clock: boundary timers, catch-up, cycles, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from domain.timers.worker import Outcome
from tests.conftest import FakeClock
from tests.timers.conftest import (
    audit_count,
    deploy_test,
    instance_row,
    start,
    tasks,
    timer_rows,
    worker,
)


def _utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def test_boundary_timers_fire_through_the_worker(app: Flask, clock: FakeClock) -> None:
    deploy_test(app, "tf_deadline")
    instance_id = start(app, "tf_deadline")  # Monday 21 December 2026, 10:00
    assert tasks(app, instance_id) == ["stage1"]
    due = {r.element_id: r.due_at for r in timer_rows(app, instance_id)}
    assert due == {
        "stage1_chase": _utc("2026-12-24T17:00:00+00:00"),
        "stage1_deadline": _utc("2026-12-30T17:00:00+00:00"),
    }
    assert instance_row(app, instance_id).next_timer_due_at == _utc("2026-12-24T17:00:00+00:00")
    the_worker = worker(app)

    clock.move_to("2026-12-24T17:00:00+00:00")  # due, but not yet past: Spiff fires once due < now
    assert the_worker.run_until_idle().fired == 0

    clock.move_to("2026-12-24T17:00:01+00:00")  # the non-interrupting chase
    assert the_worker.run_until_idle().fired == 1
    assert tasks(app, instance_id) == ["chase", "stage1"]
    assert instance_row(app, instance_id).next_timer_due_at == _utc("2026-12-30T17:00:00+00:00")
    assert [r.element_id for r in timer_rows(app, instance_id)] == ["stage1_deadline"]

    clock.move_to("2026-12-29T16:59:59+00:00")
    assert the_worker.run_until_idle().fired == 0

    clock.move_to("2026-12-30T17:00:01+00:00")  # the interrupting deadline
    assert the_worker.run_until_idle().fired == 1
    assert tasks(app, instance_id) == ["chase", "stage2"]
    assert tasks(app, instance_id, "cancelled") == ["stage1"]
    row = instance_row(app, instance_id)
    assert row.next_timer_due_at is None
    assert row.status == "active"
    assert timer_rows(app, instance_id) == []
    assert audit_count(app, "timers.fired", instance_id) == 2

    clock.advance(days=30)
    assert the_worker.run_until_idle().fired == 0
    assert audit_count(app, "timers.fired", instance_id) == 2


def test_timers_missed_while_the_worker_was_down_fire_on_one_pass(
    app: Flask, clock: FakeClock
) -> None:
    deploy_test(app, "tf_deadline")
    instance_id = start(app, "tf_deadline")
    clock.move_to("2027-01-05T09:00:00+00:00")  # both timers long past
    result = worker(app).run_until_idle()
    assert result.fired == 1
    assert tasks(app, instance_id) == ["chase", "stage2"]
    assert audit_count(app, "timers.fired", instance_id) == 1


def test_a_cycle_fires_each_period_and_catches_up_missed_cycles(
    app: Flask, clock: FakeClock
) -> None:
    deploy_test(app, "tf_cycle")
    on_time = start(app, "tf_cycle")  # 10:00; "R4/PT1H": 11:00, 12:00, 13:00, 14:00
    assert instance_row(app, on_time).next_timer_due_at == _utc("2026-12-21T11:00:00+00:00")
    the_worker = worker(app)
    clock.move_to("2026-12-21T11:00:01+00:00")
    assert the_worker.run_until_idle().fired == 1
    assert tasks(app, on_time) == ["reminder", "watch"]
    assert instance_row(app, on_time).next_timer_due_at == _utc("2026-12-21T12:00:00+00:00")

    clock.move_to("2026-12-21T10:00:00+00:00")
    missed = start(app, "tf_cycle")
    clock.move_to("2026-12-21T13:30:00+00:00")  # the worker was down at 11, 12 and 13
    result = the_worker.run_until_idle()
    assert result.failed == 0
    # Spiff runs one cycle per timer refresh; a cycle whose branch stops at a user task
    # needs another firing for the next missed cycle, so the worker keeps passing over the
    # instance while its earliest timer moves forward.
    assert tasks(app, missed) == ["reminder", "reminder", "reminder", "watch"]
    assert tasks(app, on_time) == ["reminder", "reminder", "reminder", "watch"]
    assert instance_row(app, missed).next_timer_due_at == _utc("2026-12-21T14:00:00+00:00")
    assert the_worker.run_until_idle().fired == 0


def test_a_finite_cycle_ends_after_its_last_firing(app: Flask, clock: FakeClock) -> None:
    deploy_test(app, "tf_cycle")
    instance_id = start(app, "tf_cycle")
    clock.move_to("2026-12-21T18:00:00+00:00")
    result = worker(app).run_until_idle()
    assert result.failed == 0
    assert tasks(app, instance_id) == ["reminder"] * 4 + ["watch"]
    assert instance_row(app, instance_id).next_timer_due_at is None


def test_each_instance_fires_once_per_due_time(app: Flask, clock: FakeClock) -> None:
    deploy_test(app, "tf_deadline")
    ids = [start(app, "tf_deadline") for _ in range(5)]
    clock.move_to("2026-12-24T17:00:01+00:00")
    result = worker(app, batch=2).run_until_idle()
    assert result.fired == 5
    for instance_id in ids:
        assert tasks(app, instance_id) == ["chase", "stage1"]
        assert audit_count(app, "timers.fired", instance_id) == 1


def test_a_stop_request_ends_the_loop(app: Flask, clock: FakeClock) -> None:
    deploy_test(app, "tf_deadline")
    start(app, "tf_deadline")
    clock.move_to("2026-12-24T17:00:01+00:00")
    the_worker = worker(app)
    the_worker.stop()
    assert the_worker.run_forever().fired == 0
    assert the_worker.run_pass().fired == 0


def test_the_sleep_is_capped_by_the_poll_interval(app: Flask, clock: FakeClock) -> None:
    deploy_test(app, "tf_deadline")
    the_worker = worker(app, poll=0.5)
    assert the_worker.seconds_until_next() == 0.5  # nothing waiting
    start(app, "tf_deadline")
    assert the_worker.seconds_until_next() == 0.5  # due in three days
    clock.move_to("2026-12-24T16:59:59.900000+00:00")
    assert 0.1 < the_worker.seconds_until_next() < 0.11
    clock.move_to("2026-12-24T17:00:05+00:00")
    assert the_worker.seconds_until_next() == 0.0


def test_a_concurrent_change_is_not_counted_as_a_failure(
    app: Flask, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    from domain.processes import runtime

    deploy_test(app, "tf_deadline")
    instance_id = start(app, "tf_deadline")
    clock.move_to("2026-12-24T17:00:01+00:00")

    def stale(ctx: Any, instance: Any) -> Any:
        raise StaleDataError("changed meanwhile")

    monkeypatch.setattr(runtime, "fire_timers", stale)
    outcome, claimed = worker(app).fire_next()
    assert (outcome, claimed) == (Outcome.BUSY, instance_id)
    assert [r.attempts for r in timer_rows(app, instance_id)] == [0, 0]
    assert instance_row(app, instance_id).next_timer_due_at == _utc("2026-12-24T17:00:00+00:00")
    monkeypatch.undo()
    assert worker(app).run_until_idle().fired == 1


def test_a_firing_that_changes_nothing_is_a_failure_not_a_busy_loop(
    app: Flask, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.processes import runtime

    deploy_test(app, "tf_deadline")
    instance_id = start(app, "tf_deadline")
    clock.move_to("2026-12-24T17:00:01+00:00")
    monkeypatch.setattr(runtime, "fire_timers", lambda ctx, instance: None)
    result = worker(app).run_until_idle()
    assert (result.fired, result.failed) == (0, 1)
    rows = timer_rows(app, instance_id)
    chase = next(r for r in rows if r.element_id == "stage1_chase")
    assert (chase.attempts, chase.last_error) == (1, "TimerNotAdvancedError")
    assert instance_row(app, instance_id).next_timer_due_at == clock() + timedelta(seconds=30)


def test_a_claim_read_before_the_stage_was_completed_fires_and_audits_nothing(
    app: Flask, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite takes no row lock: a request may finish the stage between claim and read."""
    from api.common.context import base_context
    from api.common.extensions import db
    from domain.db import unit_of_work
    from domain.processes import runtime
    from domain.processes.models import HumanTask
    from domain.timers import claims

    deploy_test(app, "tf_deadline")
    case = start(app, "tf_deadline")
    clock.move_to("2026-12-30T17:00:01+00:00")
    with app.app_context():
        task_id = db.session.scalar(select(HumanTask.id).filter_by(instance_id=case))
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            runtime.complete_task(ctx, task_id=int(task_id or 0), data={})
        db.session.remove()
    before = instance_row(app, case)
    monkeypatch.setattr(claims, "claim_due", lambda *_args, **_kwargs: [case])  # read earlier

    assert worker(app).fire_next() == (Outcome.BUSY, case)

    after = instance_row(app, case)
    assert (after.status, after.lock_version) == ("completed", before.lock_version)
    assert audit_count(app, "timers.fired", case) == 0
    assert tasks(app, case, None) == ["stage1"]


def test_a_deadline_firing_as_its_task_is_completed_takes_one_path_only(
    app: Flask, clock: FakeClock
) -> None:
    """A stage completed at the moment its deadline fires: done or moved on, never both."""
    import threading

    from api.common.extensions import db
    from domain.processes.models import HumanTask
    from tests.conftest import make_user, token_for

    make_user(app, "pat", ["practitioner"])
    deploy_test(app, "tf_deadline")
    statuses: dict[int, int] = {}

    def complete(case: int, task_id: int, barrier: Any = None) -> None:
        client = app.test_client()
        headers = token_for(client, "pat")
        if barrier is not None:
            barrier.wait(timeout=30)
        url = f"/api/v1/tasks/{task_id}/complete"
        statuses[case] = client.post(url, json={"data": {}}, headers=headers).status_code

    def fire(barrier: Any = None) -> None:
        if barrier is not None:
            barrier.wait(timeout=30)
        worker(app).run_until_idle()

    cases = []
    for turn in range(8):  # one case at a time, so the worker has only this one's timers due
        clock.move_to("2026-12-21T10:00:00+00:00")
        case = start(app, "tf_deadline")
        cases.append(case)
        with app.app_context():
            task_id = int(
                db.session.scalars(select(HumanTask.id).filter_by(instance_id=case)).one()
            )
            db.session.remove()
        clock.move_to("2026-12-30T17:00:01+00:00")  # the chase and the deadline are both due
        if turn == 0:  # one each way round in turn, so both outcomes are always checked
            complete(case, task_id)
            fire()
        elif turn == 1:
            fire()
            complete(case, task_id)
        else:  # then at the same moment
            barrier = threading.Barrier(2)
            threads = [
                threading.Thread(target=complete, args=(case, task_id, barrier)),
                threading.Thread(target=fire, args=(barrier,)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads)
            fire()  # whatever a busy worker left due
    assert (statuses[cases[0]], statuses[cases[1]]) == (200, 409)

    for case in cases:
        done = tasks(app, case, "completed")
        row = instance_row(app, case)
        if statuses[case] == 200:  # the practitioner first: the timers went with the stage
            assert (done, row.status) == (["stage1"], "completed"), case
            assert tasks(app, case, None) == ["stage1"]
            assert audit_count(app, "timers.fired", case) == 0
        else:  # the deadline first: the stage was moved on, and the completion refused
            assert statuses[case] == 409, case
            assert done == []
            assert tasks(app, case) == ["chase", "stage2"]
            assert tasks(app, case, "cancelled") == ["stage1"]
        assert timer_rows(app, case) == []
