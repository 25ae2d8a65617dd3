"""Deploy-time lint: each mistake yields a problem naming the element and its line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from domain.lanes import KNOWN_LANES
from engine import InvalidProcessError, Problem
from engine.spiff import SpiffEngine

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="lint_defs"
    targetNamespace="http://thinkfamily.test/lint">
  <bpmn:process id="lint" isExecutable="true">
"""
TAIL = """  </bpmn:process>
</bpmn:definitions>
"""
OK_FORM = json.dumps(
    {"type": "object", "properties": {"answer": {"type": "string", "title": "Answer"}}}
).encode()


def lanes(*lane_refs: tuple[str, list[str]]) -> str:
    parts = ['    <bpmn:laneSet id="lint_lanes">']
    for index, (name, refs) in enumerate(lane_refs):
        parts.append(f'      <bpmn:lane id="lane_{index}" name="{name}">')
        parts.extend(f"        <bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs)
        parts.append("      </bpmn:lane>")
    parts.append("    </bpmn:laneSet>")
    return "\n".join(parts) + "\n"


def chain(middle: str, first: str, last: str, *, lane_xml: str | None = None) -> str:
    """start -> first ... last -> end, with every user task in the practitioner lane."""
    refs = ["start", "end", first, last]
    lane_xml = lane_xml if lane_xml is not None else lanes(("practitioner", refs))
    return (
        HEAD
        + lane_xml
        + '    <bpmn:startEvent id="start"/>\n'
        + f'    <bpmn:sequenceFlow id="f_in" sourceRef="start" targetRef="{first}"/>\n'
        + middle
        + f'    <bpmn:sequenceFlow id="f_out" sourceRef="{last}" targetRef="end"/>\n'
        + '    <bpmn:endEvent id="end"/>\n'
        + TAIL
    )


def timer(expression: str, kind: str = "timeDuration") -> str:
    return chain(
        '    <bpmn:intermediateCatchEvent id="wait">\n'
        "      <bpmn:timerEventDefinition>\n"
        f"        <bpmn:{kind}>{expression}</bpmn:{kind}>\n"
        "      </bpmn:timerEventDefinition>\n"
        "    </bpmn:intermediateCatchEvent>\n",
        "wait",
        "wait",
    )


def script(source: str) -> str:
    return chain(
        f'    <bpmn:scriptTask id="calc"><bpmn:script>{source}</bpmn:script></bpmn:scriptTask>\n',
        "calc",
        "calc",
    )


def user_task(extensions: str = "", *, lane_xml: str | None = None) -> str:
    return chain(
        '    <bpmn:userTask id="ask" name="Ask">\n'
        f"      <bpmn:extensionElements>{extensions}</bpmn:extensionElements>\n"
        "    </bpmn:userTask>\n",
        "ask",
        "ask",
        lane_xml=lane_xml,
    )


def form(name: str) -> str:
    return (
        "<spiffworkflow:properties>"
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="{name}"/>'
        "</spiffworkflow:properties>"
    )


def prop(name: str, value: str) -> str:
    return (
        "<spiffworkflow:properties>"
        f'<spiffworkflow:property name="{name}" value="{value}"/>'
        "</spiffworkflow:properties>"
    )


def gateway(condition: str) -> str:
    return chain(
        '    <bpmn:exclusiveGateway id="gw" default="f_no"/>\n'
        '    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="join">\n'
        f"      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>\n"
        "    </bpmn:sequenceFlow>\n"
        '    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="join"/>\n'
        '    <bpmn:exclusiveGateway id="join"/>\n',
        "gw",
        "join",
    )


def service(operator: str, value: str = "'x'") -> str:
    return chain(
        '    <bpmn:serviceTask id="call">\n'
        "      <bpmn:extensionElements>\n"
        f'        <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="r">\n'
        "          <spiffworkflow:parameters>\n"
        f'            <spiffworkflow:parameter id="event" type="str" value="{value}"/>\n'
        "          </spiffworkflow:parameters>\n"
        "        </spiffworkflow:serviceTaskOperator>\n"
        "      </bpmn:extensionElements>\n"
        "    </bpmn:serviceTask>\n",
        "call",
        "call",
    )


@dataclass(frozen=True)
class Case:
    xml: str
    element_id: str
    message: str
    forms: dict[str, bytes] = field(default_factory=dict)


CASES = {
    "unquoted-iso-duration": Case(timer("PT2H"), "wait", "must be quoted"),
    "unquoted-iso-date": Case(
        timer("2027-01-04T09:00:00+00:00", "timeDate"), "wait", "must be quoted"
    ),
    "invalid-iso-duration": Case(timer('"P5X"'), "wait", "not valid ISO 8601"),
    "invalid-iso-date": Case(timer('"2027-13-45T09:00"', "timeDate"), "wait", "not valid ISO"),
    "invalid-iso-cycle": Case(timer('"R3/P5X"', "timeCycle"), "wait", "not valid ISO 8601"),
    "unknown-timer-function": Case(timer("fortnights(2)"), "wait", "fortnights(), which is not"),
    "timer-syntax-error": Case(timer("working_days(5"), "wait", "not valid Python"),
    "timer-arbitrary-expression": Case(timer('"PT1H" if x else "PT2H"'), "wait", "A timer must"),
    "script-syntax-error": Case(script("risk = = 'high'"), "calc", "script is not valid Python"),
    "script-not-allowed": Case(script("x = _secret"), "calc", "not allowed"),
    "condition-syntax-error": Case(
        gateway("risk = = 'high'"), "gw", "gateway condition is not valid Python"
    ),
    "pre-script-syntax-error": Case(
        user_task("<spiffworkflow:preScript>x = (</spiffworkflow:preScript>"),
        "ask",
        "pre-script is not valid Python",
    ),
    "post-script-syntax-error": Case(
        user_task("<spiffworkflow:postScript>if x</spiffworkflow:postScript>"),
        "ask",
        "post-script is not valid Python",
    ),
    "missing-form": Case(user_task(form("missing.schema.json")), "ask", "missing.schema.json"),
    "form-not-json": Case(
        user_task(form("broken.schema.json")),
        "ask",
        "broken.schema.json",
        {"broken.schema.json": b"{not json"},
    ),
    "form-invalid-json-schema": Case(
        user_task(form("bad.schema.json")),
        "ask",
        "bad.schema.json",
        {"bad.schema.json": b'{"type": "object", "properties": {"a": {"type": "banana"}}}'},
    ),
    "form-not-an-object": Case(
        user_task(form("flat.schema.json")),
        "ask",
        "flat.schema.json",
        {"flat.schema.json": b'{"type": "string"}'},
    ),
    "form-with-nan": Case(
        user_task(form("nan.schema.json")),
        "ask",
        "nan.schema.json",
        {"nan.schema.json": b'{"type": "object", "properties": {"a": {"maximum": NaN}}}'},
    ),
    "form-naming-a-keyword-twice": Case(
        user_task(form("twice.schema.json")),
        "ask",
        "twice.schema.json",
        {"twice.schema.json": b'{"type": "object", "required": ["a"], "required": []}'},
    ),
    "form-nested-too-deeply": Case(
        user_task(form("deep.schema.json")),
        "ask",
        "deep.schema.json",
        {"deep.schema.json": b"[" * 100_000 + b"]" * 100_000},
    ),
    "form-with-unstorable-text": Case(
        user_task(form("nul.schema.json")),
        "ask",
        "nul.schema.json",
        {"nul.schema.json": b'{"type": "object", "title": "a\\u0000b"}'},
    ),
    "form-not-utf8": Case(
        user_task(form("latin.schema.json")),
        "ask",
        "latin.schema.json",
        {"latin.schema.json": '{"type": "object", "title": "Café"}'.encode("latin-1")},
    ),
    **{
        f"form-{name}": Case(
            user_task(form("refs.schema.json")),
            "ask",
            "refs.schema.json",
            {"refs.schema.json": json.dumps({"type": "object", "properties": {"a": ref}}).encode()},
        )
        for name, ref in (
            ("ref-to-a-missing-part", {"$ref": "#/$defs/missing"}),
            ("ref-outside-the-form", {"$ref": "https://example.com/form.json"}),
            ("ref-to-a-file", {"$ref": "file:///etc/hostname"}),
            ("ref-to-an-unknown-anchor", {"$dynamicRef": "#nowhere"}),
        )
    },
    "unknown-lane": Case(
        user_task(lane_xml=lanes(("wizards", ["start", "ask", "end"]))), "ask", "'wizards'"
    ),
    "user-task-outside-any-lane": Case(
        user_task(lane_xml=lanes(("practitioner", ["start", "end"]))), "ask", "not in a lane"
    ),
    "user-task-without-lanes": Case(user_task(lane_xml=""), "ask", "not in a lane"),
    "unknown-service-operator": Case(service("send_fax"), "call", "'send_fax' is unknown"),
    "service-parameter-syntax-error": Case(
        service("notify", "'a' +"), "call", "service parameter is not valid Python"
    ),
    "param-name-not-quoted": Case(
        timer("working_days(param(limit))", "timeDate"), "wait", "quoted parameter name"
    ),
    "param-default-not-plain": Case(
        timer('working_days(param("limit", days))', "timeDate"), "wait", "plain value"
    ),
    "param-without-arguments": Case(script("x = param()"), "calc", "quoted parameter name"),
    "param-default-unhashable-key": Case(script('x = param("p", {[1]: 2})'), "calc", "plain value"),
    **{
        f"param-default-{name}": Case(script(f'x = param("p", {default})'), "calc", "plain JSON")
        for name, default in (
            ("set", "{1, 2}"),
            ("tuple", "(1, 2)"),
            ("bytes", "b'x'"),
            ("complex", "1j"),
            ("infinite", "1e999"),
            ("number-keys", "{1: 'a'}"),
            ("nul", "'a\\x00b'"),
            ("nested-set", "{'a': [{1}]}"),
        )
    },
    "due-at-property-syntax-error": Case(
        user_task(prop("dueAt", "working_days(")), "ask", "dueAt property is not valid Python"
    ),
    "assignee-property-not-allowed": Case(
        user_task(prop("assignee", "__name__")), "ask", "assignee property uses"
    ),
}


def line_of(xml: str, element_id: str) -> int:
    """The line where the element with this id starts."""
    for number, text in enumerate(xml.splitlines(), start=1):
        if f'id="{element_id}"' in text:
            return number
    raise AssertionError(element_id)


def problems_for(engine: SpiffEngine, case: Case) -> list[Problem]:
    with pytest.raises(InvalidProcessError) as refused:
        engine.compile("lint", {"lint.bpmn": case.xml.encode()}, case.forms, KNOWN_LANES)
    return refused.value.problems


@pytest.mark.parametrize("name", sorted(CASES))
def test_lint_names_element_line_and_problem(engine: SpiffEngine, name: str) -> None:
    case = CASES[name]
    problems = problems_for(engine, case)

    matching = [p for p in problems if p.element_id == case.element_id]
    assert matching, problems
    assert any(case.message in p.message for p in matching), matching
    for problem in matching:
        assert problem.line == line_of(case.xml, case.element_id)
        assert problem.file == "lint.bpmn"
    unrelated = [p for p in problems if p.element_id not in (None, case.element_id)]
    assert unrelated == []


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("form-not-json", "not valid JSON"),
        ("form-invalid-json-schema", "banana"),
        ("form-not-an-object", "object schema"),
        ("form-with-nan", "not valid JSON: NaN is not a JSON number"),
        ("form-naming-a-keyword-twice", 'the name "required" appears twice'),
        ("form-nested-too-deeply", "nested more than 64 levels"),
        ("form-with-unstorable-text", "#/title holds a NUL"),
        ("form-not-utf8", "not UTF-8"),
        ("form-ref-to-a-missing-part", 'refers to "#/$defs/missing", which is not in the form'),
        ("form-ref-outside-the-form", "outside the form; refer only to its own parts"),
        ("form-ref-to-a-file", 'refers to "file:///etc/hostname", outside the form'),
        ("form-ref-to-an-unknown-anchor", "no part of the form has that anchor"),
    ],
)
def test_invalid_form_is_also_reported_against_its_file(
    engine: SpiffEngine, name: str, detail: str
) -> None:
    case = CASES[name]
    (form_name,) = case.forms
    problems = problems_for(engine, case)
    file_problems = [p for p in problems if p.element_id is None]
    assert [p.file for p in file_problems] == [form_name]
    assert detail in file_problems[0].message


def test_a_form_may_refer_to_its_own_parts(engine: SpiffEngine) -> None:
    refs = {
        "type": "object",
        "$defs": {"name": {"type": "string"}, "age": {"$anchor": "age", "type": "integer"}},
        "properties": {
            "a": {"$ref": "#/$defs/name"},
            "b": {"$ref": "#age"},
            "c": {"type": "array", "items": {"$ref": "#/properties/a"}},
            "d~/e": {"type": "string"},
            "f": {"$ref": "#/properties/d~0~1e"},
        },
    }
    process = engine.compile(
        "lint",
        {"lint.bpmn": user_task(form("refs.schema.json")).encode()},
        {"refs.schema.json": json.dumps(refs).encode()},
        KNOWN_LANES,
    )
    assert process.forms["refs.schema.json"] == refs


def test_lanes_are_not_checked_when_roles_are_unknown(engine: SpiffEngine) -> None:
    xml = user_task(lane_xml=lanes(("wizards", ["start", "ask", "end"])))
    process = engine.compile("lint", {"lint.bpmn": xml.encode()}, {}, None)
    assert process.lanes == ("wizards",)


def test_every_problem_is_reported_at_once(engine: SpiffEngine) -> None:
    xml = chain(
        '    <bpmn:scriptTask id="calc"><bpmn:script>x = = 1</bpmn:script></bpmn:scriptTask>\n'
        '    <bpmn:sequenceFlow id="f_mid" sourceRef="calc" targetRef="wait"/>\n'
        '    <bpmn:intermediateCatchEvent id="wait">\n'
        "      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition>\n"
        "    </bpmn:intermediateCatchEvent>\n",
        "calc",
        "wait",
    )
    problems = problems_for(engine, Case(xml, "calc", ""))
    assert sorted(p.element_id or "" for p in problems) == ["calc", "wait"]


@pytest.mark.parametrize(
    "xml",
    [
        timer('"PT2H"'),
        timer('"2027-01-04T09:00:00+00:00"', "timeDate"),
        timer('"R3/PT1H"', "timeCycle"),
        timer("working_days(5)", "timeDate"),
        timer('working_days(param("limit", 5))', "timeDate"),
        script('x = param("p", {"a": [1, 2.5, None, True, "b"]}) or param("q", -3)'),
        timer("deadline", "timeDate"),
        script("count = 1\nlabel = f'{count}'"),
        gateway("risk == 'high'"),
        user_task(form("ok.schema.json")),
        user_task(prop("dueAt", "working_days(2)")),
        service("notify"),
        service("start_process"),
    ],
)
def test_clean_diagrams_pass_the_lint(engine: SpiffEngine, xml: str) -> None:
    process = engine.compile(
        "lint", {"lint.bpmn": xml.encode()}, {"ok.schema.json": OK_FORM}, KNOWN_LANES
    )
    assert process.key == "lint"
