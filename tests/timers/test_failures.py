"""A timer whose expression raises at run time: retries with backoff, then an incident that
blocks only its own instance, then a manual retry after the process owner's fix."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from domain.timers.incidents import RetryPolicy, error_label
from domain.timers.worker import Outcome
from engine import ScriptError
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


def _set_divisor(app: Flask, value: int) -> None:
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.processes import definitions

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            definitions.set_parameter(ctx, key="tf_failing", name="divisor", value=value)


def _retry(app: Flask, timer_id: int) -> None:
    from api.common.context import base_context
    from domain.db import unit_of_work
    from domain.timers import incidents

    with app.app_context():
        ctx = base_context(None)
        with unit_of_work(ctx.session):
            incidents.retry(ctx, timer_id=timer_id)


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=timedelta(seconds=30), max_delay=timedelta(minutes=5))
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_error_labels_name_types_and_elements_only() -> None:
    outer = RuntimeError("Zephyrine's case could not move on")
    outer.__cause__ = ScriptError("broken", "ZeroDivisionError")
    assert error_label(outer) == "ScriptError: ZeroDivisionError at broken"
    assert error_label(ValueError("Zephyrine")) == "ValueError"


def test_failing_timer_retries_then_becomes_an_incident_and_others_carry_on(
    app: Flask, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    deploy_test(app, "tf_failing", "tf_deadline")
    failing = start(app, "tf_failing", {"child_name": "Zephyrine"})
    healthy = start(app, "tf_deadline")
    assert instance_row(app, failing).next_timer_due_at == datetime(2026, 12, 22, 17, tzinfo=UTC)
    the_worker = worker(app)
    clock.move_to("2026-12-22T17:00:01+00:00")

    delays = []
    for attempt in range(1, 5):
        outcome, instance_id = the_worker.fire_next()
        assert (outcome, instance_id) == (Outcome.FAILED, failing)
        [row] = timer_rows(app, failing)
        assert row.element_id == "wait"
        assert (row.status, row.attempts) == ("waiting", attempt)
        assert row.last_error == "ScriptError: ZeroDivisionError at broken"
        assert row.retry_at is not None
        delays.append((row.retry_at - clock()).total_seconds())
        assert instance_row(app, failing).next_timer_due_at == row.retry_at
        assert the_worker.fire_next() == (Outcome.IDLE, None)  # not before the retry time
        clock.now = row.retry_at + timedelta(seconds=1)
    assert delays == [30, 60, 120, 240]
    # nothing of the failed firings was kept
    assert audit_count(app, "timers.fired", failing) == 0
    assert instance_row(app, failing).active_elements == ["wait"]

    outcome, _ = the_worker.fire_next()
    assert outcome is Outcome.FAILED
    [row] = timer_rows(app, failing)
    assert (row.status, row.attempts, row.retry_at) == ("incident", 5, None)
    instance = instance_row(app, failing)
    assert (instance.status, instance.next_timer_due_at) == ("active", None)
    assert audit_count(app, "timers.failed", failing) == 4
    assert audit_count(app, "timers.incident", failing) == 1

    # the other instance is not held up
    clock.move_to("2026-12-24T17:00:01+00:00")
    assert the_worker.run_until_idle().fired == 1
    assert tasks(app, healthy) == ["chase", "stage1"]
    assert timer_rows(app, failing)[0].attempts == 5

    # the process owner fixes the parameter and retries the incident
    _set_divisor(app, 1)
    _retry(app, row.id)
    [row] = timer_rows(app, failing)
    assert (row.status, row.attempts, row.last_error) == ("waiting", 0, None)
    assert instance_row(app, failing).next_timer_due_at == datetime(2026, 12, 22, 17, tzinfo=UTC)
    assert the_worker.fire_next() == (Outcome.FIRED, failing)
    assert audit_count(app, "timers.fired", failing) == 1
    [row] = timer_rows(app, failing)
    assert row.element_id == "broken"
    assert row.due_at == datetime(2026, 12, 29, 17, tzinfo=UTC)  # 1 working day after the 24th
    clock.move_to("2026-12-29T17:00:01+00:00")
    the_worker.run_until_idle()
    assert tasks(app, failing) == ["done"]

    assert "Zephyrine" not in caplog.text
    assert f"instance {failing}" in caplog.text


def test_retrying_a_timer_that_is_not_in_incident_is_refused(app: Flask, clock: FakeClock) -> None:
    from domain import errors

    deploy_test(app, "tf_deadline")
    instance_id = start(app, "tf_deadline")
    timer_id = timer_rows(app, instance_id)[0].id
    with pytest.raises(errors.InvalidTransitionError):
        _retry(app, timer_id)
    with pytest.raises(errors.NotFoundError):
        _retry(app, 999_999)


def test_an_incident_waits_until_it_is_retried(app: Flask, clock: FakeClock) -> None:
    deploy_test(app, "tf_failing")
    failing = start(app, "tf_failing")
    clock.move_to("2026-12-22T17:00:01+00:00")
    the_worker = worker(app, retry=RetryPolicy(max_attempts=1))
    assert the_worker.fire_next()[0] is Outcome.FAILED
    assert timer_rows(app, failing)[0].status == "incident"
    assert the_worker.run_until_idle().fired == 0
    assert instance_row(app, failing).next_timer_due_at is None
