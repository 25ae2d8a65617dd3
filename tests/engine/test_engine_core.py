"""Engine core: drive small test diagrams by task name, with a stored-state round trip per step."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.lanes import KNOWN_LANES
from domain.processes.bundles import bundle_from_file
from engine import CompiledProcess, StateError, TaskNotReadyError
from engine.spiff import SpiffEngine
from tests.engine.conftest import Driver, FakeClock

BPMN_DIR = Path(__file__).resolve().parent / "bpmn"


def compile_test_bundle(engine: SpiffEngine, key: str) -> CompiledProcess:
    """Compile one of the test diagrams in tests/engine/bpmn as deployment does."""
    bundle = bundle_from_file(BPMN_DIR / f"{key}.bpmn", BPMN_DIR)
    return engine.compile(key, bundle.bpmn, bundle.forms, KNOWN_LANES)


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


@pytest.fixture
def basic(engine: SpiffEngine) -> Driver:
    return Driver(engine, compile_test_bundle(engine, "basic"))


@pytest.fixture
def timers(engine: SpiffEngine) -> Driver:
    return Driver(engine, compile_test_bundle(engine, "timers"))


# -- start, complete, gateways, scripts ---------------------------------------------------------


def test_start_runs_to_first_wait_state(basic: Driver) -> None:
    state = basic.start({"child_ref": "C-1", "started_by_agency": "csc"})

    assert basic.ready_names() == ["submit_referral"]
    assert not state.completed
    assert "submit_referral" in state.active_elements
    assert "start" in state.completed_elements
    assert "triage" not in state.completed_elements
    task = basic.ready("submit_referral")[0]
    assert task.lane == "practitioner"
    assert task.form_key == "submit_referral.schema.json"
    assert task.title == "Submit referral"
    assert task.instructions == "Referral for {{ child_ref }}"
    assert state.process_key == "basic"
    assert state.content_hash == basic.process.content_hash


def test_complete_with_data_runs_script_and_takes_high_branch(basic: Driver) -> None:
    basic.start({"child_ref": "C-1", "started_by_agency": "csc"})
    state = basic.complete("submit_referral", {"child_name": "A. Child", "concern_level": 8})

    assert basic.ready_names() == ["strategy_discussion"]
    assert {"triage", "notify_manager", "gw_risk", "submit_referral"} <= set(
        state.completed_elements
    )
    assert "give_advice" not in state.active_elements
    seen = basic.engine.task_data(
        basic.process, state.serialized, basic.ready("strategy_discussion")[0].id
    )
    assert seen["risk"] == "high"
    assert seen["stage"] == "triaged"
    assert seen["concern_level"] == 8
    assert seen["child_ref"] == "C-1"


def test_low_concern_takes_default_branch_to_completion(basic: Driver) -> None:
    basic.start({"child_ref": "C-2", "started_by_agency": "csc"})
    basic.complete("submit_referral", {"child_name": "A. Child", "concern_level": 3})
    assert basic.ready_names() == ["give_advice"]

    state = basic.complete("give_advice", {"outcome": "no_further_action"})

    assert state.completed
    assert state.ready_tasks == ()
    assert "end" in state.completed_elements
    assert "strategy_discussion" not in state.completed_elements


def test_service_calls_are_reported_with_their_element(basic: Driver) -> None:
    state = basic.start({"child_ref": "C-3", "started_by_agency": "csc"})
    assert state.service_calls == ()

    state = basic.complete("submit_referral", {"child_name": "A. Child", "concern_level": 9})
    assert [(c.operator, c.element_id) for c in state.service_calls] == [
        ("notify", "notify_manager")
    ]
    assert dict(state.service_calls[0].params) == {"event": "task_assigned", "role": "team_manager"}

    state = basic.complete("strategy_discussion", {"outcome": "early_help"})
    assert [(c.operator, c.element_id) for c in state.service_calls] == [
        ("start_process", "start_follow_on")
    ]
    params = state.service_calls[0].params
    assert params["process_key"] == "follow_on"
    assert params["data"] == {"route": "early_help"}
    assert state.completed


def test_user_task_properties_surface_on_the_ready_task(basic: Driver) -> None:
    basic.start({"child_ref": "C-4", "started_by_agency": "police"})
    submit = basic.ready("submit_referral")[0]
    assert submit.due_working_days == 3
    assert submit.due_at is None
    assert submit.agency is None
    assert submit.assignee is None

    basic.complete("submit_referral", {"child_name": "A. Child", "concern_level": 7})

    strategy = basic.ready("strategy_discussion")[0]
    # Monday 21 December 2026 10:00Z is day 0; two working days later is Wednesday at 17:00.
    assert strategy.due_at == utc("2026-12-23T17:00:00+00:00")
    assert strategy.agency == "police"
    assert strategy.assignee == "manager"
    assert strategy.lane == "team_manager"


# -- stored state -------------------------------------------------------------------------------


def test_stored_state_excludes_the_spec_and_is_small(basic: Driver) -> None:
    state = basic.start({"child_ref": "C-5", "started_by_agency": "csc"})

    stored = json.loads(state.serialized)
    assert "spec" not in stored
    assert "subprocess_specs" not in stored
    assert "tasks" in stored
    assert "serializer_version" in stored
    assert "cond_task_specs" not in state.serialized  # spec details live in spec_json only
    assert "cond_task_specs" in basic.process.spec_json
    assert len(state.serialized) < 6_000
    assert len(state.serialized) < len(basic.process.spec_json)


def test_completing_a_completed_task_is_refused(basic: Driver) -> None:
    state = basic.start({"child_ref": "C-6", "started_by_agency": "csc"})
    first = basic.ready("submit_referral")[0]
    after = basic.complete("submit_referral", {"child_name": "A. Child", "concern_level": 2})

    with pytest.raises(TaskNotReadyError):
        basic.engine.complete_task(basic.process, after.serialized, first.id, {})
    # The old state still accepts it: the engine is stateless.
    again = basic.engine.complete_task(
        basic.process, state.serialized, first.id, {"child_name": "B", "concern_level": 9}
    )
    assert [t.element_id for t in again.ready_tasks] == ["strategy_discussion"]


@pytest.mark.parametrize("task_id", [str(uuid.UUID(int=1)), "not-a-uuid", ""])
def test_completing_an_unknown_task_is_refused(basic: Driver, task_id: str) -> None:
    state = basic.start({"child_ref": "C-7", "started_by_agency": "csc"})
    with pytest.raises(TaskNotReadyError):
        basic.engine.complete_task(basic.process, state.serialized, task_id, {})
    with pytest.raises(TaskNotReadyError):
        basic.engine.task_data(basic.process, state.serialized, task_id)


def test_a_non_user_task_cannot_be_completed(basic: Driver) -> None:
    state = basic.start({"child_ref": "C-8", "started_by_agency": "csc"})
    stored = json.loads(state.serialized)
    completed_ids = [
        task_id for task_id, task in stored["tasks"].items() if task["task_spec"] == "start"
    ]
    assert completed_ids
    with pytest.raises(TaskNotReadyError):
        basic.engine.complete_task(basic.process, state.serialized, completed_ids[0], {})


@pytest.mark.parametrize(
    "garbage",
    ["", "not json", "[]", "null", "42", "{}", '{"serializer_version": "1.5"}', '{"tasks": 1}'],
)
def test_garbage_state_raises_state_error(basic: Driver, garbage: str) -> None:
    with pytest.raises(StateError):
        basic.engine.snapshot(basic.process, garbage)
    with pytest.raises(StateError):
        basic.engine.fire_timers(basic.process, garbage)


def test_state_of_another_version_is_refused(engine: SpiffEngine, basic: Driver) -> None:
    other = compile_test_bundle(engine, "follow_on")
    state = basic.start({"child_ref": "C-9", "started_by_agency": "csc"})
    with pytest.raises((StateError, TaskNotReadyError)):
        engine.complete_task(other, state.serialized, state.ready_tasks[0].id, {})


# -- timers -------------------------------------------------------------------------------------


def test_interrupting_boundary_timer_fires_on_the_engine_clock(
    timers: Driver, clock: FakeClock
) -> None:
    state = timers.start({})
    assert timers.ready_names() == ["stage1"]
    # Five working days from Monday 21 December 2026, skipping Christmas and the substitute
    # Boxing Day on Monday 28 December.
    assert [(t.element_id, t.due_at) for t in state.waiting_timers] == [
        ("stage1_deadline", utc("2026-12-30T17:00:00+00:00"))
    ]
    assert state.waiting_timers[0].title == "Stage 1 deadline"
    assert state.next_timer_due_at == utc("2026-12-30T17:00:00+00:00")

    clock.move_to("2026-12-30T16:59:59+00:00")
    timers.fire()
    assert timers.ready_names() == ["stage1"]

    clock.move_to("2026-12-30T17:00:01+00:00")
    state = timers.fire()
    assert timers.ready_names() == ["stage1_overdue"]
    assert state.waiting_timers == ()
    assert not state.completed

    state = timers.complete("stage1_overdue")
    assert state.completed
    assert "wait_2h" not in state.completed_elements


def test_param_reaches_the_timer_expression(engine: SpiffEngine, timers: Driver) -> None:
    assert timers.process.parameters == {"stage1_days": 5}
    driver = Driver(engine, timers.process, params={"stage1_days": 2})
    state = driver.start({})
    assert state.next_timer_due_at == utc("2026-12-23T17:00:00+00:00")


def test_intermediate_duration_and_non_interrupting_boundary_timers(
    timers: Driver, clock: FakeClock
) -> None:
    timers.start({})
    clock.move_to("2026-12-22T10:00:00+00:00")
    state = timers.complete("stage1")
    assert timers.ready_names() == []
    assert [(t.element_id, t.due_at) for t in state.waiting_timers] == [
        ("wait_2h", utc("2026-12-22T12:00:00+00:00"))
    ]

    clock.move_to("2026-12-22T11:59:00+00:00")
    timers.fire()
    assert timers.ready_names() == []

    clock.move_to("2026-12-22T12:00:01+00:00")
    state = timers.fire()
    assert timers.ready_names() == ["stage2"]
    assert [t.element_id for t in state.waiting_timers] == ["stage2_reminder"]
    assert state.service_calls == ()

    clock.advance(days=1)  # due exactly now: Spiff fires only once the due instant has passed
    state = timers.fire()
    assert state.service_calls == ()
    clock.advance(seconds=1)
    state = timers.fire()
    assert timers.ready_names() == ["stage2"]  # non-interrupting: the task stays
    assert [(c.operator, c.element_id) for c in state.service_calls] == [
        ("notify", "send_reminder")
    ]
    assert state.service_calls[0].params == {"event": "reminder"}

    state = timers.fire()
    assert state.service_calls == ()  # fires once, not on every poll


def test_intermediate_time_date_timer(timers: Driver, clock: FakeClock) -> None:
    timers.start({})
    timers.complete("stage1")
    clock.advance(hours=3)
    timers.fire()
    state = timers.complete("stage2")
    assert [(t.element_id, t.due_at) for t in state.waiting_timers] == [
        ("wait_until", utc("2027-01-04T09:00:00+00:00"))
    ]

    clock.move_to("2027-01-04T08:59:59+00:00")
    timers.fire()
    assert timers.ready_names() == []

    clock.move_to("2027-01-04T09:00:01+00:00")
    timers.fire()
    assert timers.ready_names() == ["final_review"]
    assert timers.complete("final_review").completed


# -- long loops (the silent max_depth cut-off) ---------------------------------------------------


def test_standard_loop_of_300_iterations_is_not_reported_complete(engine: SpiffEngine) -> None:
    process = compile_test_bundle(engine, "standard_loop")
    driver = Driver(engine, process)

    state = driver.start({"script_iterations": 300, "user_iterations": 3})

    assert not state.completed
    assert driver.ready_names() == ["record_visit"]
    seen = engine.task_data(process, state.serialized, driver.ready()[0].id)
    assert seen["count"] == 300
    for _ in range(2):
        driver.complete("record_visit")
        assert driver.ready_names() == ["record_visit"]
    state = driver.complete("record_visit")
    assert driver.ready_names() == ["after_loop"]
    assert not state.completed
    assert driver.complete("after_loop").completed


def test_gateway_back_edge_loop_past_400_iterations_is_not_silently_completed(
    engine: SpiffEngine,
) -> None:
    process = compile_test_bundle(engine, "gateway_loop")
    driver = Driver(engine, process)

    state = driver.start({"iterations": 401})

    assert state.tree_depth > 1000
    assert not state.completed
    assert driver.ready_names() == ["after_loop"]
    seen = engine.task_data(process, state.serialized, driver.ready()[0].id)
    assert seen["count"] == 401
    assert driver.complete("after_loop").completed


# -- compiled process ---------------------------------------------------------------------------


def test_compiled_process_lists_parameters_and_start_form(
    engine: SpiffEngine, basic: Driver, timers: Driver
) -> None:
    assert basic.process.key == "basic"
    assert basic.process.start_form == "basic_start.schema.json"
    assert basic.process.parameters == {}
    assert set(basic.process.forms) == {
        "basic_start.schema.json",
        "submit_referral.schema.json",
        "decision.schema.json",
    }
    assert set(basic.process.tasks) == {"submit_referral", "strategy_discussion", "give_advice"}
    assert basic.process.tasks["submit_referral"].due_working_days == 3
    assert basic.process.lanes == ("practitioner", "team_manager")
    assert basic.process.element_names["gw_risk"] == "Risk?"
    assert timers.process.start_form is None
    assert timers.process.parameters == {"stage1_days": 5}


def test_identical_bundles_have_the_same_content_hash(engine: SpiffEngine) -> None:
    first = compile_test_bundle(engine, "basic")
    second = compile_test_bundle(engine, "basic")
    bundle = bundle_from_file(BPMN_DIR / "basic.bpmn", BPMN_DIR)
    changed = {k: v.replace(b"Give advice", b"Give some advice") for k, v in bundle.bpmn.items()}
    third = engine.compile("basic", changed, bundle.forms, KNOWN_LANES)
    assert first.content_hash == second.content_hash
    assert third.content_hash != first.content_hash
