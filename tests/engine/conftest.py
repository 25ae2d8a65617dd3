"""Fixtures for engine tests: an engine with an injectable clock and helpers to drive processes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.lanes import KNOWN_LANES
from domain.processes.bundles import bundle_from_file
from engine import CompiledProcess, ProcessState, UserTask
from engine.spiff import SpiffEngine

ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    """A settable clock; tests move it to fire timers."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, iso: str) -> None:
        """Jump to an ISO instant (with offset)."""
        self.now = datetime.fromisoformat(iso)

    def advance(self, **kwargs: float) -> None:
        """Move forward by a timedelta."""
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 21, 10, 0, tzinfo=UTC))


@pytest.fixture
def engine(clock: FakeClock) -> SpiffEngine:
    return SpiffEngine(clock=clock)


def compile_shipped(engine: SpiffEngine, key: str) -> CompiledProcess:
    """Compile a shipped workflow exactly as deployment does."""
    bundle = bundle_from_file(ROOT / "workflows" / f"{key}.bpmn", ROOT / "forms")
    return engine.compile(key, bundle.bpmn, bundle.forms, KNOWN_LANES)


class Driver:
    """Drive one instance by task name. Every step goes through the stored state."""

    def __init__(
        self, engine: SpiffEngine, process: CompiledProcess, params: Mapping[str, Any] | None = None
    ) -> None:
        self.engine = engine
        self.process = process
        self.params = params
        self.state: ProcessState | None = None

    def start(self, data: Mapping[str, Any]) -> ProcessState:
        self.state = self.engine.start(self.process, data, params=self.params)
        return self._round_trip()

    def _round_trip(self) -> ProcessState:
        assert self.state is not None
        again = self.engine.snapshot(self.process, self.state.serialized)
        assert [t.id for t in again.ready_tasks] == [t.id for t in self.state.ready_tasks]
        assert again.completed == self.state.completed
        return self.state

    def ready(self, name: str | None = None) -> list[UserTask]:
        assert self.state is not None
        return [t for t in self.state.ready_tasks if name is None or t.element_id == name]

    def ready_names(self) -> list[str]:
        return sorted(t.element_id for t in self.ready())

    def complete(
        self, name: str, data: Mapping[str, Any] | None = None, index: int = 0
    ) -> ProcessState:
        assert self.state is not None
        tasks = self.ready(name)
        assert tasks, f"{name} is not ready; ready: {self.ready_names()}"
        self.state = self.engine.complete_task(
            self.process, self.state.serialized, tasks[index].id, data or {}, params=self.params
        )
        return self._round_trip()

    def fire(self) -> ProcessState:
        assert self.state is not None
        self.state = self.engine.fire_timers(
            self.process, self.state.serialized, params=self.params
        )
        return self._round_trip()
