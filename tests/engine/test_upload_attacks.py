"""Hostile uploads at the engine level: each is refused at deploy with a readable problem list,
or contained when it runs, and never has a side effect. The API tests reuse `attack_payload`."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from domain.lanes import KNOWN_LANES
from engine import InvalidProcessError, ScriptError
from engine.spiff import SpiffEngine
from engine.xmlsafe import MAX_BPMN_BYTES

HOSTNAME = Path("/etc/hostname")

ATTACK = """<?xml version="1.0" encoding="UTF-8"?>{doctype}
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="attack_defs"
    targetNamespace="http://thinkfamily.test/attack">
  <bpmn:process id="attack" isExecutable="true">
    <bpmn:laneSet id="attack_lanes">
      <bpmn:lane id="lane_practitioner" name="practitioner">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>attack_script</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>attack_gateway</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>after</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>other</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>attack_timer</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="attack_script"/>
    <bpmn:scriptTask id="attack_script" name="Script">
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="attack_script" targetRef="attack_gateway"/>
    <bpmn:exclusiveGateway id="attack_gateway" default="f_other"/>
    <bpmn:sequenceFlow id="f_after" sourceRef="attack_gateway" targetRef="after">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_other" sourceRef="attack_gateway" targetRef="other"/>
    <bpmn:userTask id="after" name="After">
      <bpmn:documentation>{documentation}</bpmn:documentation>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="attack_timer" attachedToRef="after">
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration>{timer}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="attack_timer" targetRef="end"/>
    <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="end"/>
    <bpmn:userTask id="other" name="Other"/>
    <bpmn:sequenceFlow id="f5" sourceRef="other" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

LAUGHS = """
<!DOCTYPE bpmn:definitions [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""

# name -> (what is expected, the problem's element id when refused by the lint)
REFUSED = "refused"
CONTAINED = "refused-or-contained"
ATTACKS: dict[str, tuple[str, str | None]] = {
    "xxe-file": (REFUSED, None),
    "xxe-parameter-entity": (REFUSED, None),
    "external-dtd": (REFUSED, None),
    "billion-laughs": (REFUSED, None),
    "script-imports-os": (REFUSED, "attack_script"),
    "script-dunder-import": (REFUSED, "attack_script"),
    "gateway-class-bases": (REFUSED, "attack_gateway"),
    "timer-side-effect": (REFUSED, "attack_timer"),
    "oversize": (REFUSED, None),
    "malformed": (REFUSED, None),
    "non-utf8-garbage": (REFUSED, None),
    # no time or memory limit in RestrictedPython: stopped by the step budget or by `_arith_`
    "script-endless-loop": (CONTAINED, "attack_script"),
    "script-huge-repetition": (CONTAINED, "attack_script"),
    "gateway-huge-power": (CONTAINED, "attack_gateway"),
    "timer-huge-shift": (CONTAINED, "attack_timer"),
}


def attack_bpmn(
    *,
    doctype: str = "",
    script: str = "x = 1",
    condition: str = "x == 1",
    timer: str = '"P1D"',
    documentation: str = "Nothing to see.",
) -> bytes:
    """Build the attack diagram; everything but `documentation` is escaped as element text."""
    return ATTACK.format(
        doctype=doctype,
        script=escape(script),
        condition=escape(condition),
        timer=escape(timer),
        documentation=documentation,
    ).encode()


def attack_payload(name: str, marker: Path) -> bytes:
    """Return the BPMN bytes of one named attack; side effects would create `marker`."""
    touch = f"__import__('os').system('touch {marker}')"
    if name == "xxe-file":
        doctype = '\n<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
        return attack_bpmn(doctype=doctype, documentation="&xxe;")
    if name == "xxe-parameter-entity":
        doctype = (
            '\n<!DOCTYPE bpmn:definitions [<!ENTITY % remote SYSTEM "file:///etc/hostname">'
            " %remote;]>"
        )
        return attack_bpmn(doctype=doctype)
    if name == "external-dtd":
        doctype = '\n<!DOCTYPE bpmn:definitions SYSTEM "http://127.0.0.1:9/evil.dtd">'
        return attack_bpmn(doctype=doctype)
    if name == "billion-laughs":
        return attack_bpmn(doctype=LAUGHS, documentation="&lol9;")
    if name == "script-imports-os":
        return attack_bpmn(script=f"import os\nos.system('touch {marker}')")
    if name == "script-dunder-import":
        return attack_bpmn(script=touch)
    if name == "gateway-class-bases":
        return attack_bpmn(condition="().__class__.__bases__[0].__subclasses__() != []")
    if name == "timer-side-effect":
        return attack_bpmn(timer=f'{touch} and "PT1H"')
    if name == "oversize":
        padding = "x" * (MAX_BPMN_BYTES + 1024)
        return attack_bpmn(documentation=padding)
    if name == "malformed":
        return attack_bpmn()[:-40]
    if name == "non-utf8-garbage":
        return bytes(range(128, 256)) * 64
    if name == "script-endless-loop":
        return attack_bpmn(script="n = 0\nwhile True:\n    n += 1")
    if name == "script-huge-repetition":
        return attack_bpmn(script="x = 'a' * 10**10")
    if name == "gateway-huge-power":
        return attack_bpmn(condition="9**9**9 > 1")
    if name == "timer-huge-shift":
        return attack_bpmn(timer='(1 << 10**10) and "P1D"')
    raise ValueError(name)


def secret_text() -> str:
    """Text an XXE would leak: the host name, if the file exists."""
    return HOSTNAME.read_text().strip() if HOSTNAME.exists() else "no-hostname-file"


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_hostile_upload_is_refused_or_contained(
    engine: SpiffEngine, tmp_path: Path, name: str
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    marker = markers / f"{name}.marker"
    expected, element_id = ATTACKS[name]
    payload = attack_payload(name, marker)
    try:
        process = engine.compile(None, {"attack.bpmn": payload}, {}, KNOWN_LANES)
    except InvalidProcessError as refused:
        problems = refused.problems
        assert problems
        for problem in problems:
            assert problem.message.strip()
            assert secret_text() not in problem.message
            assert problem.element_id or problem.line or problem.file
        if element_id is not None:
            assert element_id in [p.element_id for p in problems]
            assert all(p.line for p in problems if p.element_id == element_id)
    else:
        assert expected == CONTAINED, f"{name} was deployed"
        assert secret_text() not in process.spec_json
        with pytest.raises(ScriptError) as caught:
            engine.start(process, {})
        assert caught.value.element_id == element_id
    assert not marker.exists()
    assert list(markers.iterdir()) == []


def test_xxe_problem_says_why(engine: SpiffEngine, tmp_path: Path) -> None:
    payload = attack_payload("xxe-file", tmp_path / "m")
    with pytest.raises(InvalidProcessError) as refused:
        engine.compile(None, {"attack.bpmn": payload}, {}, KNOWN_LANES)
    assert [p.file for p in refused.value.problems] == ["attack.bpmn"]
    assert "DOCTYPE" in refused.value.problems[0].message


def test_malformed_xml_problem_names_the_line(engine: SpiffEngine, tmp_path: Path) -> None:
    payload = attack_payload("malformed", tmp_path / "m")
    with pytest.raises(InvalidProcessError) as refused:
        engine.compile(None, {"attack.bpmn": payload}, {}, KNOWN_LANES)
    (problem,) = refused.value.problems
    assert problem.line is not None
    assert problem.line > 1
    assert "well-formed" in problem.message


def test_oversize_problem_names_the_limit(engine: SpiffEngine, tmp_path: Path) -> None:
    payload = attack_payload("oversize", tmp_path / "m")
    assert len(payload) > 5 * 1024 * 1024
    with pytest.raises(InvalidProcessError) as refused:
        engine.compile(None, {"attack.bpmn": payload}, {}, KNOWN_LANES)
    assert "5 MB" in refused.value.problems[0].message


def test_the_attack_template_itself_deploys_and_runs(engine: SpiffEngine) -> None:
    """Guard: without a payload the diagram is valid, so each refusal above is the payload's."""
    process = engine.compile(None, {"attack.bpmn": attack_bpmn()}, {}, KNOWN_LANES)
    state = engine.start(process, {})
    assert [t.element_id for t in state.ready_tasks] == ["after"]
