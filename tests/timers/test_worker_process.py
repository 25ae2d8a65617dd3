"""Real `thinkfamily worker` processes on the real clock: killed mid-batch, stopped with
SIGTERM, and four at once on PostgreSQL. Instances are started on a clock 30 days in the
past, so their timers are already due in real time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import ROOT, FakeClock
from tests.timers.conftest import (
    clone_instances,
    deploy_test,
    fired_per_instance,
    start,
    tasks_per_instance,
)

THINKFAMILY = Path(sys.executable).parent / "thinkfamily"


def _spawn(database_url: str, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "THINKFAMILY_DATABASE_URL": database_url,
            "THINKFAMILY_LOG_LEVEL": "WARNING",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(THINKFAMILY), "worker", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def _due_instances(app: Flask, count: int) -> list[int]:
    deploy_test(app, "tf_deadline")
    source = start(app, "tf_deadline")
    return [source, *clone_instances(app, source, count - 1)]


def _count_due(app: Flask) -> int:
    from datetime import UTC, datetime

    from api.common.extensions import db
    from domain.timers import claims

    with app.app_context():
        count = claims.count_due(db.session(), datetime.now(UTC))
        db.session.remove()
    return count


def _assert_exactly_once(app: Flask, ids: list[int]) -> None:
    expected = dict.fromkeys(ids, 1)
    assert fired_per_instance(app) == expected
    assert tasks_per_instance(app, "stage2") == expected
    assert tasks_per_instance(app, "chase") == expected
    assert _count_due(app) == 0


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(
    app: Flask, past_clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    ids = _due_instances(app, 400)
    log = tmp_path / "worker.log"
    worker = _spawn(database_url, log, "--batch", "50")
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            if len(fired_per_instance(app)) >= 40:
                break
            assert worker.poll() is None, log.read_text()
            time.sleep(0.02)
        else:
            pytest.fail("the worker fired nothing within 60 s:\n" + log.read_text())
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert worker.returncode == -signal.SIGKILL

    fired = fired_per_instance(app)
    assert 0 < len(fired) < len(ids), "kill the worker earlier: it had finished"
    assert set(fired.values()) == {1}
    assert tasks_per_instance(app, "stage2") == fired
    assert tasks_per_instance(app, "chase") == fired
    assert _count_due(app) == len(ids) - len(fired)

    finisher = _spawn(database_url, log, "--once")
    try:
        assert finisher.wait(timeout=120) == 0, log.read_text()
    finally:
        _kill(finisher)
    _assert_exactly_once(app, ids)
    assert "fired " in log.read_text()


def test_sigterm_stops_the_worker_gracefully(
    app: Flask, past_clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    ids = _due_instances(app, 3)
    log = tmp_path / "worker.log"
    worker = _spawn(database_url, log, "--poll", "0.2")
    try:
        deadline = time.monotonic() + 180
        while len(fired_per_instance(app)) < len(ids) and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log.read_text()
    finally:
        _kill(worker)
    _assert_exactly_once(app, ids)
    assert "fired 3, failed 0" in log.read_text()


@pytest.mark.slow
def test_four_workers_on_postgresql_fire_two_thousand_timers_exactly_once(
    app: Flask, past_clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "several workers share the queue only on PostgreSQL (FOR UPDATE SKIP LOCKED); "
            "set TEST_DATABASE_URL to a PostgreSQL database to run this test"
        )
    ids = _due_instances(app, 2000)
    started = time.monotonic()
    workers = [
        _spawn(database_url, tmp_path / f"worker{n}.log", "--once", "--batch", "25")
        for n in range(4)
    ]
    try:
        deadline = started + 300  # a guard against a hung worker, not a speed check
        for n, worker in enumerate(workers):
            timeout = max(deadline - time.monotonic(), 1)
            assert worker.wait(timeout=timeout) == 0, (tmp_path / f"worker{n}.log").read_text()
    finally:
        for worker in workers:
            _kill(worker)
    elapsed = time.monotonic() - started
    _assert_exactly_once(app, ids)
    shares = [
        int((tmp_path / f"worker{n}.log").read_text().split("fired ")[-1].split(",")[0])
        for n in range(4)
    ]
    assert sum(shares) == len(ids)
    assert sum(1 for share in shares if share > 0) >= 2, shares
    print(f"4 workers fired {len(ids)} timers in {elapsed:.1f} s; shares {shares}")
