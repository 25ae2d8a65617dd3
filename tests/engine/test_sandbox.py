"""The restricted script environment: what it blocks, what still works, and that it survives a
serialize/deserialize round trip (the engine is not serialized, so it must be re-attached)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from domain.lanes import KNOWN_LANES
from engine import CompiledProcess, InvalidProcessError, Problem, ScriptError
from engine.scripts import ScriptLimitError
from engine.spiff import SpiffEngine
from tests.engine.conftest import Driver
from tests.engine.test_engine_core import compile_test_bundle

PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="probe_defs"
    targetNamespace="http://thinkfamily.test/probe">
  <bpmn:process id="probe" isExecutable="true">
    <bpmn:laneSet id="probe_lanes">
      <bpmn:lane id="lane_practitioner" name="practitioner">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>begin</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>probe_script</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>gw_probe</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>inspect</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>other</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="begin"/>
    <bpmn:userTask id="begin" name="Begin"/>
    <bpmn:sequenceFlow id="f2" sourceRef="begin" targetRef="probe_script"/>
    <bpmn:scriptTask id="probe_script" name="Probe">
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="probe_script" targetRef="gw_probe"/>
    <bpmn:exclusiveGateway id="gw_probe" default="f_other"/>
    <bpmn:sequenceFlow id="f_yes" sourceRef="gw_probe" targetRef="inspect">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_other" sourceRef="gw_probe" targetRef="other"/>
    <bpmn:userTask id="inspect" name="Inspect"/>
    <bpmn:sequenceFlow id="f4" sourceRef="inspect" targetRef="end"/>
    <bpmn:userTask id="other" name="Other"/>
    <bpmn:sequenceFlow id="f5" sourceRef="other" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def probe_process(engine: SpiffEngine, script: str, condition: str = "True") -> CompiledProcess:
    """Compile the probe diagram with a script task and a gateway condition of our choosing."""
    xml = PROBE.format(script=escape(script), condition=escape(condition))
    return engine.compile("probe", {"probe.bpmn": xml.encode()}, {}, KNOWN_LANES)


def probe_or_problems(engine: SpiffEngine, script: str) -> CompiledProcess | list[Problem]:
    """Compile the probe, or return the problems that refused it."""
    try:
        return probe_process(engine, script)
    except InvalidProcessError as refused:
        return refused.problems


def tampered(process: CompiledProcess, old: str, new: str) -> CompiledProcess:
    """A stored version whose spec was changed behind the lint's back (e.g. an old row)."""
    old_json, new_json = json.dumps(old), json.dumps(new)
    assert old_json in process.spec_json
    return dataclasses.replace(
        process,
        spec_json=process.spec_json.replace(old_json, new_json),
        content_hash=process.content_hash + "-tampered",
    )


# -- the engine survives a reload ---------------------------------------------------------------


def test_loaded_workflow_uses_the_restricted_engine(engine: SpiffEngine) -> None:
    process = compile_test_bundle(engine, "basic")
    state = engine.start(process, {"child_ref": "C-1"})

    workflow = engine._load(process, state.serialized)
    assert workflow.script_engine is engine.script_engine

    # The serializer itself builds workflows with the restricted engine, not Spiff's default.
    joined = json.loads(state.serialized)
    joined.update(json.loads(process.spec_json))
    restored = engine._serializer.deserialize_json(json.dumps(joined))
    assert restored.script_engine is engine.script_engine
    assert type(restored.script_engine.environment).__name__ == "RestrictedEnvironment"


def test_malicious_gateway_stays_blocked_after_reload(engine: SpiffEngine, tmp_path: Path) -> None:
    marker = tmp_path / "gateway-marker"
    # Deploy refuses this condition, so put it in the stored spec directly, as an old or
    # tampered version row would. Without the restricted engine it creates the marker.
    process = tampered(
        probe_process(engine, "x = 1", "x == 1"),
        "x == 1",
        f"__import__('os').system('touch {marker}') == 0",
    )
    driver = Driver(engine, process)
    driver.start({})  # includes a serialize/deserialize round trip

    with pytest.raises(ScriptError) as caught:
        driver.complete("begin")

    assert caught.value.element_id == "gw_probe"
    assert not marker.exists()


def test_gateway_calling_open_is_blocked_at_run_time_after_reload(
    engine: SpiffEngine, tmp_path: Path
) -> None:
    marker = tmp_path / "open-marker"
    process = probe_process(engine, "x = 1", "open(marker, 'w') is not None")
    driver = Driver(engine, process)
    driver.start({"marker": str(marker)})

    with pytest.raises(ScriptError) as caught:
        driver.complete("begin")

    assert caught.value.element_id == "gw_probe"
    assert caught.value.error_type == "NameError"
    assert not marker.exists()


def test_malicious_timer_expression_is_blocked_at_run_time(
    engine: SpiffEngine, tmp_path: Path
) -> None:
    marker = tmp_path / "timer-marker"
    process = tampered(
        compile_test_bundle(engine, "timers"),
        'working_days(param("stage1_days", 5))',
        f"__import__('os').system('touch {marker}') and \"PT1H\"",
    )
    with pytest.raises(ScriptError):
        engine.start(process, {})
    assert not marker.exists()


# -- blocked --------------------------------------------------------------------------------------

BLOCKED = [
    pytest.param("__import__('os').system('touch ' + marker)", id="dunder-import"),
    pytest.param("import os\nos.system('touch ' + marker)", id="import-statement"),
    pytest.param("open(marker, 'w').write('x')", id="open"),
    pytest.param("x = ().__class__.__bases__[0].__subclasses__()", id="class-bases"),
    pytest.param("x = '{0.__class__}'.format(1)", id="str-format"),
    pytest.param("f = getattr(marker, 'upper')", id="getattr"),
    pytest.param("t = type(marker)", id="type"),
    pytest.param("g = globals()", id="globals"),
    pytest.param("v = vars()", id="vars"),
    pytest.param("r = eval(\"__import__('os').system('touch ' + marker)\")", id="eval"),
    pytest.param("exec(\"open(marker, 'w')\")", id="exec"),
    pytest.param("c = compile('1', 'x', 'eval')", id="compile"),
]


@pytest.mark.parametrize("script", BLOCKED)
def test_blocked_script_is_refused_at_deploy_or_contained_at_run_time(
    engine: SpiffEngine, tmp_path: Path, script: str
) -> None:
    marker = tmp_path / "script-marker"
    process = probe_or_problems(engine, script)
    if isinstance(process, list):
        assert [p.element_id for p in process] == ["probe_script"]
        assert all(p.line for p in process)
        return
    driver = Driver(engine, process)
    driver.start({"marker": str(marker)})
    with pytest.raises(ScriptError) as caught:
        driver.complete("begin")
    assert caught.value.element_id == "probe_script"
    assert not marker.exists()


@pytest.mark.parametrize(
    "condition",
    [
        pytest.param("().__class__.__bases__[0] is not None", id="class-bases"),
        pytest.param("__import__('os') is not None", id="dunder-import"),
        pytest.param("[c for c in ().__class__.__mro__]", id="mro"),
    ],
)
def test_blocked_condition_is_refused_at_deploy(engine: SpiffEngine, condition: str) -> None:
    with pytest.raises(InvalidProcessError) as refused:
        probe_process(engine, "x = 1", condition)
    assert [p.element_id for p in refused.value.problems] == ["gw_probe"]


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os')",
        "().__class__.__bases__",
        "'{0.__class__}'.format(1)",
        "getattr(1, 'real')",
        "type(1)",
        "globals()",
        "eval('1')",
        "open('/etc/hostname')",
    ],
)
def test_environment_refuses_dangerous_expressions_directly(
    engine: SpiffEngine, expression: str
) -> None:
    environment = engine.script_engine.environment
    with pytest.raises((SyntaxError, NameError, NotImplementedError)):
        environment.evaluate(expression, {})


# -- still works ----------------------------------------------------------------------------------

ALLOWED = """count += 1
items.append(3)
info['k'] = 'v'
label = f"{count}-{risk}"
squares = [i * i for i in range(4)]
total = sum(x for x in items)
first, second = items[0], items[1]
deadline = working_days(5)
del scratch
"""


def test_ordinary_scripts_and_conditions_still_work(engine: SpiffEngine) -> None:
    process = probe_process(engine, ALLOWED, "risk == 'high' and count > 1 and 'k' in info")
    driver = Driver(engine, process)
    driver.start({"count": 1, "items": [1, 2], "info": {}, "risk": "high", "scratch": 0})

    driver.complete("begin")

    assert driver.ready_names() == ["inspect"]
    assert driver.state is not None
    seen = engine.task_data(process, driver.state.serialized, driver.ready()[0].id)
    assert seen["count"] == 2
    assert seen["items"] == [1, 2, 3]
    assert seen["info"] == {"k": "v"}
    assert seen["label"] == "2-high"
    assert seen["squares"] == [0, 1, 4, 9]
    assert seen["total"] == 6
    assert (seen["first"], seen["second"]) == (1, 2)
    assert seen["deadline"] == "2026-12-30T17:00:00+00:00"
    assert "scratch" not in seen


def test_false_condition_takes_the_default_branch(engine: SpiffEngine) -> None:
    process = probe_process(engine, "count += 1", "count > 5")
    driver = Driver(engine, process)
    driver.start({"count": 1})
    driver.complete("begin")
    assert driver.ready_names() == ["other"]


# -- time and size limits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("n = 0\nwhile True:\n    n += 1", "steps"),
        ("pairs = [(a, b) for a in range(999) for b in range(999)]", "steps"),
        ("x = 'a' * 10**10", "repetition"),
        ("x = [0]\nx *= 10**9", "repetition"),
        ("x = 9**9**9", "power"),
        ("x = 1 << 10**10", "shift"),
    ],
)
def test_runaway_code_is_stopped_with_a_reason(engine: SpiffEngine, code: str, why: str) -> None:
    environment = engine.script_engine.environment
    with pytest.raises(ScriptLimitError, match=why):
        environment.execute(code, {})


def test_the_step_budget_counts_bpmn_code_only_and_leaves_tracing_as_it_was(
    engine: SpiffEngine,
) -> None:
    """Registry functions run many lines of their own; a script calling them is not charged."""
    environment = engine.script_engine.environment
    context: dict[str, object] = {}
    environment.execute(
        "due = [working_days(n) for n in range(300)]\nbig = 2 ** 64 + 3 * 4 + len('ab' * 50000)",
        context,
    )
    assert len(context["due"]) == 300  # type: ignore[arg-type]
    assert context["big"] == 2**64 + 12 + 100_000
    assert environment.evaluate("9 ** 2 * 2 == 162 and 2.5 ** 100 > 1", {}) is True
    assert sys.gettrace() is None


def test_a_limit_reached_in_a_process_is_a_script_error_naming_the_element(
    engine: SpiffEngine,
) -> None:
    process = probe_process(engine, "while True:\n    count += 1", "count > 5")
    driver = Driver(engine, process)
    driver.start({"count": 1})
    with pytest.raises(ScriptError) as caught:
        driver.complete("begin")
    assert (caught.value.error_type, caught.value.element_id) == (
        "ScriptLimitError",
        "probe_script",
    )
