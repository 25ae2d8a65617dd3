"""`thinkfamily worker`: the timer worker process, wired to the app's database, engine and clock.

Run one next to each server, or several on PostgreSQL (they share the queue through
`FOR UPDATE SKIP LOCKED`). On SQLite run exactly one.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import cast

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from api.common.context import base_context, services
from api.common.extensions import db
from domain.context import Context
from domain.timers import claims
from domain.timers.incidents import RetryPolicy
from domain.timers.worker import ContextFactory, TimerWorker, WorkerSettings

log = logging.getLogger("thinkfamily.worker")


def context_factory(app: Flask) -> ContextFactory:
    """Return a factory of unit-of-work contexts: a fresh app context and session each time."""

    @contextmanager
    def open_context() -> Iterator[Context]:
        with app.app_context():
            try:
                yield base_context(None)
            finally:
                db.session.remove()

    return open_context


def build_worker(
    app: Flask, settings: WorkerSettings | None = None, *, name: str = "worker"
) -> TimerWorker:
    """Build a timer worker on the app's database, engine and clock (tests inject the clock)."""
    with app.app_context():
        clock = services()["clock"]
    return TimerWorker(context_factory(app), clock, settings, name=name)


def _install_signal_handlers(worker: TimerWorker) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: signal %s received, stopping after the current firing", worker.name, signum)
        worker.stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _configure_logging(level: str) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.command("worker")
@click.option("--once", is_flag=True, help="Fire everything that is due now, then exit.")
@click.option(
    "--batch",
    default=100,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Instances fired per pass (one commit each) before checking for a stop request.",
)
@click.option(
    "--poll",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0.05, 60.0),
    help="Longest sleep, in seconds, before looking for newly due timers.",
)
@click.option(
    "--max-attempts",
    default=5,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Failed firings before a timer becomes an incident.",
)
@with_appcontext
def worker_command(once: bool, batch: int, poll: float, max_attempts: int) -> None:
    """Fire due BPMN timers exactly once, one instance per commit, until stopped."""
    app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    _configure_logging(str(services()["settings"].get("LOG_LEVEL", "INFO")))
    if not claims.supports_skip_locked(db.session()):
        log.info("SQLite database: run a single timer worker")
    db.session.remove()
    worker = build_worker(
        app,
        WorkerSettings(batch=batch, poll=poll, retry=RetryPolicy(max_attempts=max_attempts)),
    )
    _install_signal_handlers(worker)
    worker.check_coverage()
    result = worker.run_until_idle() if once else worker.run_forever()
    click.echo(
        f"fired {result.fired}, failed {result.failed}, busy {result.busy}, errors {result.errors}"
    )
