"""The timer worker loop (framework-free): fire due timers exactly once, one instance per commit.

Each firing is one unit of work: claim one due instance (row lock, SKIP LOCKED on
PostgreSQL), load it, `runtime.fire_timers` (engine steps, task rows, timer rows, audit,
notification outbox, follow-on processes), commit. Nothing is marked "taken" outside that
transaction, so:

- never twice: the row lock keeps other workers off the instance until the commit, and
  the commit moves `next_timer_due_at` past now (the instance's version column turns any
  double firing that slipped through into a rolled-back stale write);
- never lost: a worker that dies before committing leaves the instance exactly as it was,
  still due, for the next claim.

Failures roll back, then a second unit of work records an attempt with exponential backoff
and, after the last attempt, an incident (see `domain.timers.incidents`).

Between passes the worker sleeps until the earliest due instant, but never longer than
`poll` seconds, so timers created by other processes are picked up within `poll`.
Logs carry instance ids and error types only.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from domain.calendar import service as calendar_service
from domain.context import Context
from domain.db import unit_of_work
from domain.processes import runtime
from domain.processes.models import ProcessInstance
from domain.timers import claims, incidents
from engine import Clock

log = logging.getLogger(__name__)

ContextFactory = Callable[[], AbstractContextManager[Context]]
"""Opens a context on a fresh session for one unit of work, and closes the session after."""

_EPSILON = timedelta(milliseconds=2)
"""Wake this long after the due instant: Spiff fires a timer only once `due < now`."""


class TimerNotAdvancedError(RuntimeError):
    """Firing committed nothing new: the instance's earliest timer is still the same, past due."""


class Outcome(enum.Enum):
    """What one attempt to fire the next due instance did."""

    IDLE = "idle"
    """Nothing was due (or every due instance is held by another worker)."""
    FIRED = "fired"
    FAILED = "failed"
    """Firing raised; the attempt was counted (and maybe an incident raised)."""
    BUSY = "busy"
    """A transient database conflict; nothing was counted, the instance stays due."""
    ERROR = "error"
    """The database could not be used at all (for example it is down)."""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Tuning for one worker."""

    batch: int = 100
    """Instances fired per pass before the loop checks for a stop request."""
    poll: float = 0.5
    """Longest sleep between looks at the earliest due instant, in seconds."""
    retry: incidents.RetryPolicy = field(default_factory=incidents.RetryPolicy)
    error_pause: float = 5.0
    """Sleep after the database failed, in seconds."""


@dataclass(slots=True)
class PassResult:
    """Counts for one or more passes."""

    fired: int = 0
    failed: int = 0
    busy: int = 0
    errors: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one outcome."""
        if outcome is Outcome.FIRED:
            self.fired += 1
        elif outcome is Outcome.FAILED:
            self.failed += 1
        elif outcome is Outcome.BUSY:
            self.busy += 1
        elif outcome is Outcome.ERROR:
            self.errors += 1

    def merge(self, other: PassResult) -> None:
        """Add another result's counts."""
        self.fired += other.fired
        self.failed += other.failed
        self.busy += other.busy
        self.errors += other.errors

    @property
    def progressed(self) -> bool:
        """Whether anything was fired or counted."""
        return bool(self.fired or self.failed)


class TimerWorker:
    """Fire due timers. Thread-safe to stop; run one loop per thread or process."""

    def __init__(
        self,
        open_context: ContextFactory,
        clock: Clock,
        settings: WorkerSettings | None = None,
        *,
        name: str = "worker",
    ) -> None:
        self._open = open_context
        self._clock = clock
        self.settings = settings or WorkerSettings()
        self.name = name
        self._stop = threading.Event()
        self._coverage_checked: date | None = None

    # -- control ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to finish the current unit of work and return."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    # -- one firing ------------------------------------------------------------------------

    def fire_next(self, exclude: set[int] | None = None) -> tuple[Outcome, int | None]:
        """Claim, fire and commit the next due instance; return what happened and its id."""
        now = self._clock()
        instance_id: int | None = None
        due_before: datetime | None = None
        try:
            with self._open() as ctx:
                with unit_of_work(ctx.session):
                    ids = claims.claim_due(ctx.session, now, exclude=exclude or ())
                    if not ids:
                        return Outcome.IDLE, None
                    instance_id = ids[0]
                    instance = ctx.session.get(ProcessInstance, instance_id)
                    if instance is None:  # pragma: no cover - deleted under our lock
                        return Outcome.IDLE, None
                    if not claims.still_due(instance, now):
                        # SQLite takes no row lock: a request finished the stage (or another
                        # firing ran) between the claim and this read, so nothing is due
                        log.info("%s: instance %s was moved on meanwhile", self.name, instance_id)
                        return Outcome.BUSY, instance_id
                    due_before = instance.next_timer_due_at
                    runtime.fire_timers(ctx, instance)
                    after = instance.next_timer_due_at
                    if (
                        instance.status == claims.ACTIVE
                        and after is not None
                        and after < now
                        and after == due_before
                    ):
                        raise TimerNotAdvancedError(
                            f"instance {instance_id} is still due at the same instant"
                        )
                self._after_commit(ctx)
        except (StaleDataError, OperationalError) as exc:
            return self._transient(exc, instance_id)
        except DBAPIError as exc:
            if exc.connection_invalidated:
                return self._transient(exc, instance_id)
            return self._failed(instance_id, due_before, exc)
        except Exception as exc:
            return self._failed(instance_id, due_before, exc)
        log.info("%s fired timers of instance %s", self.name, instance_id)
        return Outcome.FIRED, instance_id

    def _after_commit(self, ctx: Context) -> None:
        for callback in ctx.after_commit:
            try:
                callback()
            except Exception as exc:
                log.warning("after-commit callback failed: %s", type(exc).__name__)

    def _transient(self, exc: Exception, instance_id: int | None) -> tuple[Outcome, int | None]:
        if instance_id is None:
            log.error("%s could not reach the database: %s", self.name, type(exc).__name__)
            return Outcome.ERROR, None
        log.info(
            "%s: instance %s changed concurrently (%s); it stays due",
            self.name,
            instance_id,
            type(exc).__name__,
        )
        return Outcome.BUSY, instance_id

    def _failed(
        self, instance_id: int | None, due_before: datetime | None, exc: Exception
    ) -> tuple[Outcome, int | None]:
        if instance_id is None:
            log.error("%s claim failed: %s", self.name, type(exc).__name__)
            return Outcome.ERROR, None
        try:
            with self._open() as ctx, unit_of_work(ctx.session):
                incidents.record_failure(
                    ctx,
                    instance_id=instance_id,
                    due_at=due_before,
                    error=exc,
                    policy=self.settings.retry,
                )
        except Exception as inner:
            log.error(
                "%s could not record the failure of instance %s: %s",
                self.name,
                instance_id,
                type(inner).__name__,
            )
            return Outcome.ERROR, instance_id
        return Outcome.FAILED, instance_id

    # -- passes and the loop ---------------------------------------------------------------

    def run_pass(self) -> PassResult:
        """Fire up to `batch` due instances, each at most once in this pass."""
        result = PassResult()
        seen: set[int] = set()
        for _ in range(self.settings.batch):
            if self.stopping:
                break
            outcome, instance_id = self.fire_next(seen)
            result.add(outcome)
            if instance_id is not None:
                seen.add(instance_id)
            if outcome in (Outcome.IDLE, Outcome.ERROR):
                break
        return result

    def run_until_idle(self, max_passes: int = 10_000) -> PassResult:
        """Fire everything due now (including cycle catch-up over several passes), then stop."""
        total = PassResult()
        for _ in range(max_passes):
            result = self.run_pass()
            total.merge(result)
            if not result.progressed or result.errors or self.stopping:
                break
        return total

    def seconds_until_next(self) -> float:
        """Return how long to sleep: until the earliest due instant, at most `poll` seconds."""
        poll = self.settings.poll
        try:
            with self._open() as ctx:
                due = claims.next_due_at(ctx.session)
                ctx.session.rollback()
        except Exception as exc:
            log.error("%s could not read the next due time: %s", self.name, type(exc).__name__)
            return self.settings.error_pause
        if due is None:
            return poll
        wait = (due + _EPSILON - self._clock()).total_seconds()
        return min(max(wait, 0.0), poll)

    def check_coverage(self) -> str | None:
        """Log the holiday-data coverage warning once per calendar day; return it."""
        today = self._clock().date()
        if self._coverage_checked == today:
            return None
        self._coverage_checked = today
        try:
            with self._open() as ctx:
                warning = calendar_service.coverage_warning(ctx.session, ctx.now())
                ctx.session.rollback()
        except Exception as exc:
            log.error("%s could not check calendar coverage: %s", self.name, type(exc).__name__)
            return None
        if warning:
            log.warning("calendar: %s", warning)
        return warning

    def run_forever(self) -> PassResult:
        """Loop until stopped: fire what is due, then sleep until the next due instant."""
        total = PassResult()
        log.info("%s started", self.name)
        while not self.stopping:
            self.check_coverage()
            result = self.run_pass()
            total.merge(result)
            if self._stop.is_set():
                break
            if result.errors:
                self._stop.wait(self.settings.error_pause)
                continue
            if result.fired + result.failed + result.busy >= self.settings.batch:
                continue  # more may be due: go straight on
            self._stop.wait(self.seconds_until_next())
        log.info("%s stopped", self.name)
        return total
