"""The shipped referral process: contact, screening, decision, assessment, child protection, plans.

The clock starts on Monday 21 December 2026 at 10:00 UTC; 25 and 28 December and 1 January are
bank holidays. Deadlines close at 17:00 London time (UTC in winter, 16:00 UTC in summer).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.forms import check_form_schema, validate_form
from domain.lanes import KNOWN_LANES
from engine import CompiledProcess, ProcessState
from engine.spiff import SpiffEngine
from tests.engine.conftest import ROOT, Driver, FakeClock, compile_shipped

# jsonschema ships no type stubs; reach it through importlib so strict mypy sees a plain module.
JSONSCHEMA = importlib.import_module("jsonschema")
KEY = "referral"
FORMS = ROOT / "forms"
REFERRER = "r.jones"
REFERRER_AGENCY = "oak_primary"
SYSTEM_KEYS = ("started_by", "started_by_agency", "parent_reference")
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


# -- realistic answers ----------------------------------------------------------------------------


def start_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "family_id": 17,
        "subject_person_ids": [201, 202],
        "started_by": REFERRER,
        "started_by_agency": REFERRER_AGENCY,
    }
    data.update(overrides)
    return data


def concern(**overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "concern": "Jay (7) came to school with a bruise on his cheek and said his mum's "
        "boyfriend 'got angry'. His sister (4) has missed nursery all week.",
        "verified": "Attendance register checked; the bruise was seen by two staff.",
        "uncertain": "Who the boyfriend is and whether he lives there.",
        "child_voice": "Jay said he does not want to go home tonight.",
        "immediate_danger": False,
        "dsl_consulted": True,
        "threshold_checked": True,
        "referral_source": "2A",
    }
    answer.update(overrides)
    return answer


EMERGENCY = {
    "actions_taken": ["called_999", "safe_adult"],
    "action_details": "Called 999 at 10:20; Jay stayed with the deputy head until police came.",
    "police_reference": "WMP-26-118822",
    "child_safe_now": True,
}
CONSENT = {
    "consent_status": "given",
    "consent_given_by": ["203"],
    "consent_date": "2026-12-21",
    "child_views_sought": True,
}
THINK_FAMILY = {
    "household": [
        {
            "person": "202",
            "relationship": "child_under_5",
            "lives_in_household": True,
            "what_is_known": "Missed nursery all week; no health visitor contact since October.",
            "any_concerns": True,
        },
        {
            "person": "201",
            "relationship": "child",
            "lives_in_household": True,
            "what_is_known": "Bruise to cheek; attendance 82%.",
            "any_concerns": True,
        },
        {
            "person": "203",
            "relationship": "parent_or_carer",
            "lives_in_household": True,
            "what_is_known": "Mum; works nights at a care home.",
            "any_concerns": False,
        },
        {
            "person": "204",
            "relationship": "other_adult",
            "lives_in_household": False,
            "what_is_known": "Mum's boyfriend; stays most nights. Not on the family record yet.",
            "any_concerns": True,
        },
    ],
    "everyone_considered": True,
    "siblings_learning": "Jay describes shouting at night, so his sister is likely to hear it too.",
    "people_missing": "Mum's boyfriend is not on the family record.",
}
SCREENING = {
    "agency_information": [
        {
            "agency": "west_mercia_police",
            "information": "Two domestic incidents at the address since October.",
            "checked_on": "2026-12-21",
        },
        {"agency": "nhs_shropshire", "information": "Sister missed her 3-year review."},
    ],
    "observed": "A 3 cm bruise on the left cheek, seen by the class teacher at 09:00.",
    "verified": "Police incident log checked by the police liaison officer.",
    "uncertain": "Whether the boyfriend lives at the address and how the bruise happened.",
    "child_voice": "Jay says home is 'shouty' and he worries about his sister.",
    "shared_without_consent": False,
    "recommendation": "strategy_discussion",
}


def decision(choice: str, **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "decision": choice,
        "accepted_as_referral": choice != "early_help",
        "rationale": "Based on the bruise, the child's account and the police history.",
    }
    if choice == "nfa":
        answer["nfa_type"] = "advice"
    if choice == "strategy_discussion":
        answer["immediate_protection"] = False
    answer.update(overrides)
    return answer


FEEDBACK = {
    "feedback_date": "2026-12-22",
    "feedback_method": "phone",
    "reasons_explained": True,
    "feedback_notes": "Spoke to the DSL; she agreed the plan.",
}
FOLLOW_UP = {
    "follow_up_date": "2026-12-23",
    "follow_up_method": "phone",
    "decision_known": True,
    "follow_up_notes": "The duty manager told me the outcome on the phone.",
}
AGREE = {"referrer_agrees": True}
DISAGREE: dict[str, Any] = {
    "referrer_agrees": False,
    "disagreement_reason": "The bruise and Jay's account meet the threshold for an assessment.",
    "start_escalation": True,
    "why_it_matters": "Jay and his sister remain in a home with domestic abuse.",
    "outcome_sought": "A child and family assessment.",
}
CONVENE_STRATEGY = {
    "planned_date": "2026-12-23",
    "discussion_format": "video",
    "invited_agencies": ["west_mercia_police", "nhs_shropshire", "oak_primary"],
    "purpose": "Decide whether to start a section 47 enquiry.",
}
ATTENDANCE = [
    {"agency": "shropshire_csc", "role": "Social worker", "attended": True},
    {"agency": "west_mercia_police", "role": "Detective sergeant", "attended": True},
    {"agency": "nhs_shropshire", "role": "Named nurse", "attended": True},
]


def strategy(choice: str = "s47_joint", **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "strategy_date": "2026-12-23",
        "attendance": ATTENDANCE,
        "police_took_part": True,
        "health_took_part": True,
        "information_shared": "Police: two incidents. Health: missed reviews. School: bruise.",
        "observed": "Bruise to the cheek.",
        "verified": "Incident log and health record checked.",
        "uncertain": "Who caused the bruise.",
        "strategy_decision": choice,
        "rationale": "Reasonable cause to suspect significant harm.",
    }
    if choice == "no_s47":
        answer["no_s47_next"] = "assessment"
    if choice == "immediate_protection":
        answer["protection_actions"] = "Mum agreed the boyfriend will not stay at the house."
    answer.update(overrides)
    return answer


ASSESSMENT = {
    "child_seen_date": "2027-01-05",
    "child_seen_alone": True,
    "agency_checks": [{"agency": "oak_primary", "information": "Attendance 82%; no new marks."}],
    "observed": "A warm relationship between mum and both children during the home visit.",
    "verified": "Nursery attendance confirmed with the nursery manager.",
    "uncertain": "How often the boyfriend stays.",
    "child_voice": "Jay wants his mum's boyfriend to stop shouting.",
    "assessment_factors": ["3B", "4B"],
    "child_disabled": False,
    "primary_need": "N1",
    "analysis": "Domestic abuse is affecting both children; mum is engaging.",
    "recommendation": "cin_plan",
}


def sign_off(outcome: str) -> dict[str, Any]:
    return {"assessment_outcome": outcome, "outcome_reasons": "Agreed with the analysis."}


OVERRUN = {
    "overrun_reason": "agency_information",
    "overrun_details": "The health records took five weeks to arrive.",
}


def s47(outcome: str = "icpc", **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "children_seen": ["201", "202"],
        "joint_with_police": True,
        "observed": "Jay repeated his account to the police officer.",
        "verified": "The bruise was photographed by the paediatrician.",
        "uncertain": "Whether the sister has been hurt.",
        "s47_outcome": outcome,
        "rationale": "The account is consistent and the bruise is non-accidental.",
    }
    if outcome == "not_substantiated":
        answer["not_substantiated_next"] = "nfa"
    answer.update(overrides)
    return answer


CONVENE_ICPC = {
    "icpc_planned_date": "2027-01-11",
    "children_considered": ["201", "202"],
    "icpc_invited_agencies": ["west_mercia_police", "nhs_shropshire"],
    "family_invited": True,
}


def icpc(date: str = "2027-01-11", plan: bool = True, **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "icpc_date": date,
        "attendance": ATTENDANCE,
        "child_voice": "Jay's views were shared by his advocate.",
        "plan_decision": "cp_plan" if plan else "no_plan",
        "decision_reasons": "Likely to suffer significant harm from domestic abuse.",
    }
    if plan:
        answer["cp_initial_category"] = "EMO"
    else:
        answer["no_plan_next"] = "cin_plan"
    answer.update(overrides)
    return answer


def review(date: str, end: str | None = None, **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "review_date": date,
        "attendance": ATTENDANCE,
        "progress": "improved",
        "review_decision": "end" if end else "continue",
        "latest_category": "EMO",
        "decision_reasons": "The safety plan is working.",
    }
    if end:
        answer["cp_end_route"] = end
    if end == "close":
        answer["cp_closure_reason"] = "RC5"
    answer.update(overrides)
    return answer


ACTIONS = [
    {
        "description": "Refer mum to the domestic abuse service.",
        "owner_agency": "shropshire_csc",
        "due_date": "2027-01-29",
    },
    {
        "description": "Weekly check-in with Jay.",
        "owner_agency": "oak_primary",
        "due_date": "2027-02-05",
    },
]
CIN_MEETING = {
    "cin_meeting_date": "2027-01-15",
    "attendance": ATTENDANCE,
    "plan_outcomes": "Mum and the children are safe from domestic abuse.",
    "actions": ACTIONS,
    "family_views": "Mum wants support and does not want the boyfriend back.",
}


def cin_review(date: str, choice: str = "continue") -> dict[str, Any]:
    held = dt.date.fromisoformat(date)
    answer: dict[str, Any] = {
        "cin_review_date": date,
        "attendance": ATTENDANCE,
        "progress": "improved",
        # actions agreed at the review fall due after it
        "actions": [
            {**action, "due_date": (held + dt.timedelta(days=14 * n)).isoformat()}
            for n, action in enumerate(ACTIONS, start=1)
        ],
        "cin_review_decision": choice,
        "decision_reasons": "Progress is sustained.",
    }
    if choice != "continue":
        answer["cin_closure_reason"] = "RC7"
    return answer


# -- helpers --------------------------------------------------------------------------------------


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def notices(state: ProcessState) -> list[tuple[str, Any, Any, Any]]:
    """(event, agency, role, user) of every notification requested in the last step."""
    return [
        (str(c.params["event"]), c.params.get("agency"), c.params.get("role"), c.params.get("user"))
        for c in state.service_calls
        if c.operator == "notify"
    ]


def process_starts(state: ProcessState) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (str(c.params["process_key"]), c.params["data"])
        for c in state.service_calls
        if c.operator == "start_process"
    ]


def data_of(driver: Driver, name: str, index: int = 0) -> dict[str, Any]:
    """The variables a ready task sees: the instance's current data on that branch."""
    assert driver.state is not None
    task = driver.ready(name)[index]
    return driver.engine.task_data(driver.process, driver.state.serialized, task.id)


def timers(state: ProcessState) -> dict[str, datetime]:
    return {t.element_id: t.due_at for t in state.waiting_timers}


def fire_at(driver: Driver, clock: FakeClock, iso: str) -> ProcessState:
    clock.move_to(iso)
    return driver.fire()


def load_form(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((FORMS / name).read_text(encoding="utf-8"))
    return schema


def start_form_accepts(name: str, data: Mapping[str, Any]) -> bool:
    """Validate start data as the API does: without the keys the API adds itself."""
    schema = load_form(name)
    payload = {k: v for k, v in data.items() if k not in SYSTEM_KEYS}
    return validate_form(schema, payload) == []


def make_contact(driver: Driver, **concern_overrides: Any) -> ProcessState:
    """The referrer records the concern, consent and the household."""
    driver.start(start_data())
    driver.complete("referral_record_concern", concern(**concern_overrides))
    if concern_overrides.get("immediate_danger"):
        driver.complete("referral_emergency_action", EMERGENCY)
    driver.complete("referral_consent", CONSENT)
    return driver.complete("referral_think_family", THINK_FAMILY)


def decide(driver: Driver, choice: str, **overrides: Any) -> ProcessState:
    make_contact(driver)
    driver.complete("referral_screening", SCREENING)
    return driver.complete("referral_decision", decision(choice, **overrides))


def give_feedback(driver: Driver, response: Mapping[str, Any] = AGREE) -> ProcessState:
    driver.complete("referral_feedback", FEEDBACK)
    return driver.complete("referral_referrer_response", response)


def to_s47(driver: Driver) -> ProcessState:
    decide(driver, "strategy_discussion")
    give_feedback(driver)
    driver.complete("referral_convene_strategy_discussion", CONVENE_STRATEGY)
    return driver.complete("referral_strategy_discussion", strategy())


def to_cp_plan(driver: Driver) -> ProcessState:
    to_s47(driver)
    driver.complete("referral_s47_enquiry", s47())
    driver.complete("referral_convene_icpc", CONVENE_ICPC)
    return driver.complete("referral_icpc", icpc())


@pytest.fixture(scope="module")
def process() -> CompiledProcess:
    """Compiled once per module: a CompiledProcess is plain data any engine can run."""
    return compile_shipped(SpiffEngine(), KEY)


@pytest.fixture
def ref(engine: SpiffEngine, process: CompiledProcess) -> Driver:
    return Driver(engine, process)


# -- the deployed definition ----------------------------------------------------------------------

TASK_LANES = {
    "referral_record_concern": "referrer",
    "referral_emergency_action": "referrer",
    "referral_consent": "referrer",
    "referral_think_family": "referrer",
    "referral_screening": "front_door",
    "referral_decision": "front_door_manager",
    "referral_feedback": "front_door",
    "referral_feedback_follow_up": "referrer",
    "referral_referrer_response": "referrer",
    "referral_convene_strategy_discussion": "social_worker",
    "referral_strategy_discussion": "social_worker",
    "referral_assessment": "social_worker",
    "referral_assessment_sign_off": "csc_manager",
    "referral_assessment_overrun": "csc_manager",
    "referral_s47_enquiry": "social_worker",
    "referral_convene_icpc": "conference_chair",
    "referral_icpc": "conference_chair",
    "referral_review_conference": "conference_chair",
    "referral_cin_planning_meeting": "social_worker",
    "referral_cin_review": "social_worker",
}


def test_compiles_with_known_lanes_forms_and_parameters(process: CompiledProcess) -> None:
    assert process.key == KEY
    assert process.start_form == "referral_start.schema.json"
    assert {name: info.lane for name, info in process.tasks.items()} == TASK_LANES
    assert {name: info.form_key for name, info in process.tasks.items()} == {
        name: f"{name}.schema.json" for name in TASK_LANES
    }
    assert set(process.lanes) <= KNOWN_LANES
    assert process.parameters == {
        "csc_agency": "csc",
        "screening_days": 1,
        "feedback_days": 1,
        "referrer_response_days": 5,
        "assessment_days": 45,
        "icpc_days": 15,
        "first_review_days": 89,
        "review_interval_days": 181,
        "cp_direct_step_down_to_early_help": False,
        "cin_plan_meeting_days": 10,
        "cin_review_weeks": 12,
    }


def test_every_user_task_has_a_form_and_a_due_rule() -> None:
    tree = ET.parse(ROOT / "workflows" / f"{KEY}.bpmn")  # noqa: S314 - our own shipped file
    tasks = tree.findall(".//bpmn:userTask", NS)
    assert len(tasks) == len(TASK_LANES)
    for task in tasks:
        properties = {
            p.get("name"): p.get("value") for p in task.findall(".//spiffworkflow:property", NS)
        }
        assert properties["formJsonSchemaFilename"] == f"{task.get('id')}.schema.json"
        assert ("dueWorkingDays" in properties) != ("dueAt" in properties), task.get("id")


def test_diagram_draws_every_element_in_a_lane_of_one_pool() -> None:
    tree = ET.parse(ROOT / "workflows" / f"{KEY}.bpmn")  # noqa: S314 - our own shipped file
    process = tree.find("bpmn:process", NS)
    assert process is not None
    assert process.get("isExecutable") == "true"
    shapes = {s.get("bpmnElement"): s for s in tree.findall(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in tree.findall(".//bpmndi:BPMNEdge", NS)}
    nodes = [
        el
        for el in process.iter()
        if el.get("id")
        and el.tag.split("}")[1] not in ("process", "laneSet", "lane", "sequenceFlow")
        and el.tag.split("}")[1].endswith(("Task", "Event", "Gateway", "subProcess"))
    ]
    for node in nodes:
        assert node.get("id") in shapes, node.get("id")
    for flow in process.iter(f"{{{NS['bpmn']}}}sequenceFlow"):
        edge = edges[flow.get("id")]
        assert len(edge.findall("di:waypoint", NS)) >= 2
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert {lane.get("name") for lane in lanes} == set(TASK_LANES.values())
    assert tree.find(".//bpmn:participant", NS) is not None


# -- contact --------------------------------------------------------------------------------------


def test_referrer_records_the_concern_first(ref: Driver) -> None:
    state = ref.start(start_data())

    [task] = ref.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee) == (
        "referral_record_concern",
        "referrer",
        REFERRER_AGENCY,
        REFERRER,
    )
    assert task.due_working_days == 0
    assert data_of(ref, "referral_record_concern")["stage"] == "Contact"
    assert not state.completed


def test_immediate_danger_takes_emergency_action_and_marks_the_contact_urgent(ref: Driver) -> None:
    ref.start(start_data())
    ref.complete("referral_record_concern", concern(immediate_danger=True))

    [task] = ref.ready()
    assert (task.element_id, task.lane, task.due_working_days) == (
        "referral_emergency_action",
        "referrer",
        0,
    )
    assert data_of(ref, "referral_emergency_action")["stage"] == "Emergency action"
    state = ref.complete("referral_emergency_action", EMERGENCY)
    assert notices(state) == [("manager_notice", "csc", "team_manager", None)]
    assert ref.ready_names() == ["referral_consent", "referral_think_family"]
    assert data_of(ref, "referral_consent")["urgent"] is True


def test_without_immediate_danger_the_referrer_seeks_consent_and_thinks_family(ref: Driver) -> None:
    ref.start(start_data())
    state = ref.complete("referral_record_concern", concern())

    assert notices(state) == []
    assert ref.ready_names() == ["referral_consent", "referral_think_family"]
    assert {t.lane for t in ref.ready()} == {"referrer"}
    assert data_of(ref, "referral_consent")["urgent"] is False
    state = ref.complete("referral_consent", CONSENT)
    assert ref.ready_names() == ["referral_think_family"]
    assert not state.completed


def test_an_urgent_referral_from_another_process_stays_urgent(ref: Driver) -> None:
    data = {"family_id": 17, "subject_person_ids": [201], "origin": "escalation", "urgent": True}
    assert start_form_accepts("referral_start.schema.json", data)
    ref.start(data)
    ref.complete("referral_record_concern", concern())
    assert data_of(ref, "referral_consent")["urgent"] is True
    assert ref.ready("referral_consent")[0].assignee is None


# -- screening and decision -----------------------------------------------------------------------


def test_screening_is_due_within_one_working_day_of_the_contact(ref: Driver) -> None:
    state = make_contact(ref)

    [task] = ref.ready()
    assert (task.element_id, task.lane) == ("referral_screening", "front_door")
    assert task.due_at == utc("2026-12-22T17:00:00+00:00")
    assert timers(state) == {"referral_screening_overdue": utc("2026-12-22T17:00:00+00:00")}
    # the case is at the screening, inside its stage; the waiting timer beside it is a timer
    assert {"referral_screening", "referral_screening_stage"} <= set(state.active_elements)
    assert "referral_screening_overdue" not in state.active_elements
    seen = data_of(ref, "referral_screening")
    assert seen["stage"] == "Front door screening"
    assert seen["referral_at"] == "2026-12-21T10:00:00+00:00"
    ref.complete("referral_screening", SCREENING)
    [task] = ref.ready()
    assert (task.element_id, task.lane) == ("referral_decision", "front_door_manager")
    assert task.due_at == utc("2026-12-22T17:00:00+00:00")


def test_overdue_screening_is_escalated_to_the_front_door_manager(
    ref: Driver, clock: FakeClock
) -> None:
    make_contact(ref)
    ref.complete("referral_screening", SCREENING)

    assert notices(fire_at(ref, clock, "2026-12-22T16:59:00+00:00")) == []
    state = fire_at(ref, clock, "2026-12-22T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "csc", "team_manager", None)]
    assert ref.ready_names() == ["referral_decision"]
    assert not state.completed


def test_screening_timescale_is_a_process_owner_parameter(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    ref = Driver(engine, process, params={"screening_days": 2, "csc_agency": "shropshire_csc"})
    state = make_contact(ref)
    assert ref.ready("referral_screening")[0].due_at == utc("2026-12-23T17:00:00+00:00")
    assert timers(state)["referral_screening_overdue"] == utc("2026-12-23T17:00:00+00:00")


def test_advice_or_nfa_closes_after_feedback_to_the_referrer(ref: Driver) -> None:
    state = decide(ref, "nfa")

    assert process_starts(state) == []
    [task] = ref.ready()
    assert (task.element_id, task.lane) == ("referral_feedback", "front_door")
    assert task.due_at == utc("2026-12-22T17:00:00+00:00")
    seen = data_of(ref, "referral_feedback")
    assert (seen["decision"], seen["referral_nfa"], seen["urgent"]) == ("nfa", True, False)
    assert "stage" not in seen  # the feedback branch never overwrites the main branch's stage

    state = ref.complete("referral_feedback", FEEDBACK)
    assert notices(state) == [("feedback", REFERRER_AGENCY, None, REFERRER)]
    [task] = ref.ready()
    assert (task.element_id, task.lane, task.assignee) == (
        "referral_referrer_response",
        "referrer",
        REFERRER,
    )
    assert task.due_working_days == 5
    assert not state.completed
    state = ref.complete("referral_referrer_response", AGREE)
    assert state.completed
    assert state.data["decision"] == "nfa"
    assert state.data["outcome"] == "nfa"
    assert state.data["closed_at"] == "2026-12-21"


def test_early_help_decision_starts_early_help_the_early_help_form_accepts(ref: Driver) -> None:
    state = decide(ref, "early_help")

    [(key, data)] = process_starts(state)
    assert key == "early_help"
    assert data == {
        "family_id": 17,
        "subject_person_ids": [201, 202],
        "route": "early_help",
        "origin": "front_door",
    }
    assert start_form_accepts("early_help_start.schema.json", data)
    state = give_feedback(ref)
    assert state.completed
    assert (state.data["stage"], state.data["outcome"]) == (
        "Stepped down to early help",
        "early_help",
    )


def test_no_feedback_in_time_reminds_the_front_door_and_asks_the_referrer_to_chase(
    ref: Driver, clock: FakeClock
) -> None:
    decide(ref, "nfa")

    state = fire_at(ref, clock, "2026-12-22T17:00:01+00:00")
    assert notices(state) == [("reminder", "csc", "practitioner", None)]
    chase = ref.ready("referral_feedback_follow_up")[0]
    assert (chase.lane, chase.agency, chase.assignee, chase.due_working_days) == (
        "referrer",
        REFERRER_AGENCY,
        REFERRER,
        1,
    )
    assert ref.ready_names() == ["referral_feedback", "referral_feedback_follow_up"]
    ref.complete("referral_feedback_follow_up", FOLLOW_UP)
    assert ref.ready_names() == ["referral_feedback"]
    state = ref.complete("referral_feedback", FEEDBACK)
    assert ref.ready_names() == ["referral_referrer_response"]
    assert not state.completed


def test_referrer_who_disagrees_starts_an_escalation_the_escalation_form_accepts(
    ref: Driver,
) -> None:
    decide(ref, "nfa")
    state = give_feedback(ref, DISAGREE)

    [(key, data)] = process_starts(state)
    assert key == "escalation"
    assert data == {
        "family_id": 17,
        "subject_person_ids": [201, 202],
        "category": "referral_decision",
        "raising_agency": REFERRER_AGENCY,
        "responding_agency": "csc",
        "disputed_decision": "The front door decided on advice or no further action. "
        + DISAGREE["disagreement_reason"],
        "why_it_matters": DISAGREE["why_it_matters"],
        "outcome_sought": DISAGREE["outcome_sought"],
        "immediate_risk": False,
        "conference_dissent": False,
    }
    assert start_form_accepts("escalation_start.schema.json", data)
    assert state.completed


def test_referrer_who_disagrees_but_does_not_escalate_ends_without_escalation(ref: Driver) -> None:
    decide(ref, "nfa")
    answer = {**DISAGREE, "start_escalation": False}
    state = give_feedback(ref, answer)
    assert process_starts(state) == []
    assert state.completed


def test_silent_referrer_lets_the_decision_stand(ref: Driver, clock: FakeClock) -> None:
    decide(ref, "nfa")
    state = ref.complete("referral_feedback", FEEDBACK)
    assert timers(state) == {"referral_response_timeout": utc("2026-12-30T17:00:00+00:00")}

    state = fire_at(ref, clock, "2026-12-30T17:00:01+00:00")
    assert process_starts(state) == []
    assert state.completed


# -- assessment -----------------------------------------------------------------------------------


def test_assessment_is_due_45_working_days_from_the_referral(ref: Driver) -> None:
    state = decide(ref, "assessment")

    assessment = ref.ready("referral_assessment")[0]
    assert assessment.lane == "social_worker"
    assert assessment.due_at == utc("2027-02-25T17:00:00+00:00")
    assert timers(state)["referral_assessment_overdue"] == utc("2027-02-25T17:00:00+00:00")
    seen = data_of(ref, "referral_assessment")
    assert (seen["stage"], seen["decision"]) == ("Assessment", "assessment")
    assert seen["assessment_start_at"] == "2026-12-21T10:00:00+00:00"
    ref.complete("referral_assessment", ASSESSMENT)
    sign = ref.ready("referral_assessment_sign_off")[0]
    assert (sign.lane, sign.due_at) == ("csc_manager", utc("2027-02-25T17:00:00+00:00"))


def test_assessment_timescale_is_a_process_owner_parameter(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    ref = Driver(engine, process, params={"assessment_days": 20})
    decide(ref, "assessment")
    assert ref.ready("referral_assessment")[0].due_at == utc("2027-01-21T17:00:00+00:00")


def test_overdue_assessment_tells_the_manager_and_needs_an_overrun_reason(
    ref: Driver, clock: FakeClock
) -> None:
    decide(ref, "assessment")
    give_feedback(ref)

    state = fire_at(ref, clock, "2027-02-25T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "csc", "team_manager", None)]
    assert ref.ready_names() == ["referral_assessment"]
    ref.complete("referral_assessment", ASSESSMENT)
    ref.complete("referral_assessment_sign_off", sign_off("nfa"))

    overrun = ref.ready("referral_assessment_overrun")[0]
    assert (overrun.lane, overrun.due_working_days) == ("csc_manager", 1)
    assert not ref.state or not ref.state.completed
    state = ref.complete("referral_assessment_overrun", OVERRUN)
    assert notices(state) == [("outcome", REFERRER_AGENCY, None, REFERRER)]
    assert state.completed
    assert state.data["assessment_overran"] is True
    assert state.data["closure_reason"] == "RC8"


@pytest.mark.parametrize(
    ("outcome", "closure", "start"),
    [
        ("nfa", "RC8", None),
        ("early_help", "RC9", {"route": "early_help", "origin": "social_care"}),
        (
            "disabled_child_support",
            None,
            {"route": "disabled_child_support", "origin": "social_care"},
        ),
    ],
)
def test_assessment_outcome_that_ends_the_referral(
    ref: Driver, clock: FakeClock, outcome: str, closure: str | None, start: dict[str, Any] | None
) -> None:
    decide(ref, "assessment")
    give_feedback(ref)
    clock.move_to("2027-01-20T11:00:00+00:00")
    ref.complete("referral_assessment", ASSESSMENT)
    state = ref.complete("referral_assessment_sign_off", sign_off(outcome))

    assert ref.ready() == []
    assert notices(state) == [("outcome", REFERRER_AGENCY, None, REFERRER)]
    assert state.completed
    assert state.data["outcome"] == outcome
    assert state.data["assessment_overran"] is False
    assert state.data["assessment_authorised_at"] == "2027-01-20T11:00:00+00:00"
    assert state.data.get("closure_reason") == closure
    if start is None:
        assert process_starts(state) == []
    else:
        [(key, data)] = process_starts(state)
        assert (key, data) == (
            "early_help",
            {"family_id": 17, "subject_person_ids": [201, 202], **start},
        )
        assert start_form_accepts("early_help_start.schema.json", data)


def test_the_referrer_answering_last_does_not_overwrite_the_outcome(ref: Driver) -> None:
    decide(ref, "assessment")
    ref.complete("referral_assessment", ASSESSMENT)
    ref.complete("referral_assessment_sign_off", sign_off("nfa"))
    state = give_feedback(ref)

    assert state.completed
    assert (state.data["decision"], state.data["outcome"], state.data["stage"]) == (
        "assessment",
        "nfa",
        "Closed: no further action after assessment",
    )


def test_assessment_can_lead_to_a_child_in_need_plan(ref: Driver) -> None:
    decide(ref, "assessment")
    ref.complete("referral_assessment", ASSESSMENT)
    ref.complete("referral_assessment_sign_off", sign_off("cin_plan"))

    meeting = ref.ready("referral_cin_planning_meeting")[0]
    assert meeting.lane == "social_worker"
    assert meeting.due_at == utc("2027-01-07T17:00:00+00:00")  # 10 working days
    seen = data_of(ref, "referral_cin_planning_meeting")
    assert (seen["stage"], seen["outcome"], seen["cin_plan_start"]) == (
        "Child in need plan",
        "cin_plan",
        "2026-12-21",
    )


def test_assessment_can_lead_to_a_strategy_discussion(ref: Driver) -> None:
    decide(ref, "assessment")
    ref.complete("referral_assessment", ASSESSMENT)
    ref.complete("referral_assessment_sign_off", sign_off("strategy_discussion"))

    convene = ref.ready("referral_convene_strategy_discussion")[0]
    assert (convene.lane, convene.due_working_days) == ("social_worker", 1)
    assert data_of(ref, "referral_convene_strategy_discussion")["stage"] == "Strategy discussion"


# -- strategy discussion and section 47 -----------------------------------------------------------


def test_strategy_discussion_invites_agencies_and_starts_the_icpc_clock(ref: Driver) -> None:
    decide(ref, "strategy_discussion")
    state = ref.complete("referral_convene_strategy_discussion", CONVENE_STRATEGY)

    assert notices(state) == [
        ("mdt_invitation", agency, None, None) for agency in CONVENE_STRATEGY["invited_agencies"]
    ]
    record = ref.ready("referral_strategy_discussion")[0]
    assert (record.lane, record.due_working_days) == ("social_worker", 1)
    state = ref.complete("referral_strategy_discussion", strategy())

    enquiry = ref.ready("referral_s47_enquiry")[0]
    assert enquiry.lane == "social_worker"
    assert enquiry.due_at == utc("2027-01-18T17:00:00+00:00")  # 15 working days from 23 Dec
    assert timers(state)["referral_icpc_overdue"] == utc("2027-01-18T17:00:00+00:00")
    seen = data_of(ref, "referral_s47_enquiry")
    assert (seen["stage"], seen["s47_start_at"], seen["icpc_target"]) == (
        "Section 47 enquiry",
        "2026-12-23",
        "2027-01-18",
    )


def test_icpc_timescale_is_a_process_owner_parameter(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    ref = Driver(engine, process, params={"icpc_days": 10})
    to_s47(ref)
    assert ref.ready("referral_s47_enquiry")[0].due_at == utc("2027-01-11T17:00:00+00:00")


def test_no_section_47_can_lead_to_an_assessment_and_back_to_a_strategy_discussion(
    ref: Driver,
) -> None:
    """Assessment and strategy discussion repeat as a loop, not a gateway back-edge."""
    decide(ref, "strategy_discussion")
    ref.complete("referral_convene_strategy_discussion", CONVENE_STRATEGY)
    ref.complete("referral_strategy_discussion", strategy("no_s47"))
    ref.complete("referral_assessment", ASSESSMENT)
    ref.complete("referral_assessment_sign_off", sign_off("strategy_discussion"))

    state = ref.complete("referral_convene_strategy_discussion", CONVENE_STRATEGY)
    assert len(notices(state)) == 3
    state = ref.complete("referral_strategy_discussion", strategy(strategy_date="2027-01-06"))
    assert ref.ready("referral_s47_enquiry")[0].due_at == utc("2027-01-27T17:00:00+00:00")
    assert state.tree_depth < 40


@pytest.mark.parametrize(
    ("outcome", "next_step", "start"),
    [
        ("nfa", None, None),
        ("early_help", None, "early_help"),
        ("cin_plan", "referral_cin_planning_meeting", None),
    ],
)
def test_no_section_47_outcomes(
    ref: Driver, outcome: str, next_step: str | None, start: str | None
) -> None:
    decide(ref, "strategy_discussion")
    give_feedback(ref)
    ref.complete("referral_convene_strategy_discussion", CONVENE_STRATEGY)
    state = ref.complete("referral_strategy_discussion", strategy("no_s47", no_s47_next=outcome))

    assert [key for key, _ in process_starts(state)] == ([start] if start else [])
    if next_step is None:
        assert state.completed
        assert state.data["closure_reason"] == "RC7"  # no assessment was done
    else:
        assert ref.ready_names() == [next_step]


def test_immediate_protection_is_recorded_and_starts_the_enquiry(ref: Driver) -> None:
    decide(ref, "strategy_discussion", immediate_protection=True)
    ref.complete("referral_convene_strategy_discussion", CONVENE_STRATEGY)
    ref.complete("referral_strategy_discussion", strategy("immediate_protection"))
    assert "referral_s47_enquiry" in ref.ready_names()


@pytest.mark.parametrize(
    ("answer", "next_step", "start"),
    [
        (s47("not_substantiated"), None, None),
        (s47("not_substantiated", not_substantiated_next="early_help"), None, "early_help"),
        (
            s47("not_substantiated", not_substantiated_next="cin_plan"),
            "referral_cin_planning_meeting",
            None,
        ),
        (s47("substantiated_no_icpc"), "referral_cin_planning_meeting", None),
    ],
)
def test_section_47_outcomes_without_a_conference(
    ref: Driver, answer: dict[str, Any], next_step: str | None, start: str | None
) -> None:
    to_s47(ref)
    state = ref.complete("referral_s47_enquiry", answer)

    assert "referral_icpc_overdue" not in timers(state)
    assert [key for key, _ in process_starts(state)] == ([start] if start else [])
    if next_step is None:
        assert state.completed
    else:
        assert ref.ready_names() == [next_step]
    if answer["s47_outcome"] == "substantiated_no_icpc":
        assert data_of(ref, "referral_cin_planning_meeting")["icpc_not_required"] is True


def test_conference_is_arranged_within_15_working_days_and_agencies_invited(ref: Driver) -> None:
    to_s47(ref)
    ref.complete("referral_s47_enquiry", s47())

    arrange = ref.ready("referral_convene_icpc")[0]
    assert (arrange.lane, arrange.due_at) == ("conference_chair", utc("2027-01-18T17:00:00+00:00"))
    state = ref.complete("referral_convene_icpc", CONVENE_ICPC)
    assert notices(state) == [
        ("mdt_invitation", "west_mercia_police", None, None),
        ("mdt_invitation", "nhs_shropshire", None, None),
    ]
    hold = ref.ready("referral_icpc")[0]
    assert (hold.lane, hold.due_at) == ("conference_chair", utc("2027-01-18T17:00:00+00:00"))


def test_overdue_conference_tells_the_manager(ref: Driver, clock: FakeClock) -> None:
    to_s47(ref)
    ref.complete("referral_s47_enquiry", s47())
    state = fire_at(ref, clock, "2027-01-18T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "csc", "team_manager", None)]
    assert ref.ready_names() == ["referral_convene_icpc"]


@pytest.mark.parametrize("weekend_or_holiday", ["2027-01-09", "2027-01-10", "2026-12-28"])
def test_conference_date_must_be_a_working_day(ref: Driver, weekend_or_holiday: str) -> None:
    to_s47(ref)
    ref.complete("referral_s47_enquiry", s47())
    ref.complete("referral_convene_icpc", CONVENE_ICPC)

    state = ref.complete("referral_icpc", icpc(weekend_or_holiday))
    assert ref.ready_names() == ["referral_icpc"]
    seen = data_of(ref, "referral_icpc")
    assert seen["icpc_date_ok"] is False
    assert "not a working day" in seen["icpc_date_problem"]
    assert not state.completed
    ref.complete("referral_icpc", icpc("2027-01-11"))
    assert ref.ready_names() == ["referral_review_conference"]


def test_no_child_protection_plan_leads_to_a_child_in_need_plan(ref: Driver) -> None:
    to_s47(ref)
    ref.complete("referral_s47_enquiry", s47())
    ref.complete("referral_convene_icpc", CONVENE_ICPC)
    ref.complete("referral_icpc", icpc(plan=False))
    assert ref.ready_names() == ["referral_cin_planning_meeting"]
    assert data_of(ref, "referral_cin_planning_meeting")["icpc_at"] == "2027-01-11"


# -- child protection plan and review conferences -------------------------------------------------


def test_plan_starts_on_the_conference_date_and_first_review_is_within_three_months(
    ref: Driver,
) -> None:
    state = to_cp_plan(ref)

    review_task = ref.ready("referral_review_conference")[0]
    assert review_task.lane == "conference_chair"
    # 89 days, British Summer Time: Saturday 10 April, so due the Friday before
    assert review_task.due_at == utc("2027-04-09T16:00:00+00:00")
    assert timers(state) == {"referral_review_overdue": utc("2027-04-09T16:00:00+00:00")}
    seen = data_of(ref, "referral_review_conference")
    assert (seen["stage"], seen["outcome"]) == ("Child protection plan", "cp_plan")
    assert (seen["icpc_at"], seen["cp_plan_start"], seen["cp_category"]) == (
        "2027-01-11",
        "2027-01-11",
        "EMO",
    )

    ref.complete("referral_review_conference", review("2027-04-05"))
    # then at most every 6 months from the last review
    # six months on is Sunday 3 October: due the Friday before
    assert ref.ready("referral_review_conference")[0].due_at == utc("2027-10-01T16:00:00+00:00")


def test_review_intervals_are_process_owner_parameters(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    ref = Driver(engine, process, params={"first_review_days": 60, "review_interval_days": 90})
    to_cp_plan(ref)
    assert ref.ready("referral_review_conference")[0].due_at == utc("2027-03-12T17:00:00+00:00")
    ref.complete("referral_review_conference", review("2027-03-10"))
    assert ref.ready("referral_review_conference")[0].due_at == utc("2027-06-08T16:00:00+00:00")


def test_overdue_review_tells_the_manager(ref: Driver, clock: FakeClock) -> None:
    to_cp_plan(ref)
    state = fire_at(ref, clock, "2027-04-09T16:00:01+00:00")
    assert notices(state) == [("manager_notice", "csc", "team_manager", None)]
    assert ref.ready_names() == ["referral_review_conference"]


def test_plan_ends_with_a_step_down_to_a_child_in_need_plan(ref: Driver) -> None:
    to_cp_plan(ref)
    ref.complete("referral_review_conference", review("2027-04-05"))
    state = ref.complete("referral_review_conference", review("2027-09-20", end="cin_plan"))

    assert process_starts(state) == []
    assert ref.ready_names() == ["referral_cin_planning_meeting"]
    seen = data_of(ref, "referral_cin_planning_meeting")
    assert (seen["cp_plan_end"], seen["cp_review_date"], seen["cp_reviews_held"]) == (
        "2027-09-20",
        "2027-09-20",
        2,
    )


def test_direct_step_down_from_a_plan_to_early_help_goes_through_child_in_need(ref: Driver) -> None:
    to_cp_plan(ref)
    state = ref.complete("referral_review_conference", review("2027-04-05", end="early_help"))
    assert process_starts(state) == []
    assert ref.ready_names() == ["referral_cin_planning_meeting"]


def test_direct_step_down_to_early_help_when_the_partnership_allows_it(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    ref = Driver(engine, process, params={"cp_direct_step_down_to_early_help": True})
    to_cp_plan(ref)
    state = ref.complete("referral_review_conference", review("2027-04-05", end="early_help"))
    [(key, data)] = process_starts(state)
    assert (key, data["origin"]) == ("early_help", "social_care")
    assert start_form_accepts("early_help_start.schema.json", data)
    assert state.completed


def test_plan_ends_with_closure(ref: Driver) -> None:
    to_cp_plan(ref)
    state = ref.complete("referral_review_conference", review("2027-04-05", end="close"))
    assert state.completed
    assert (state.data["outcome"], state.data["closure_reason"], state.data["closed_at"]) == (
        "closed",
        "RC5",
        "2027-04-05",
    )


def test_forty_review_conferences_keep_the_tree_shallow_and_the_state_bounded(ref: Driver) -> None:
    to_cp_plan(ref)
    sizes: list[int] = []
    for n in range(40):
        state = ref.state
        assert state is not None
        assert not state.completed
        date = f"{2027 + (n + 1) // 2:04d}-{'04' if n % 2 == 0 else '10'}-05"
        state = ref.complete("referral_review_conference", review(date))
        sizes.append(len(state.serialized))
        assert state.tree_depth < 40
    assert ref.ready_names() == ["referral_review_conference"]
    assert data_of(ref, "referral_review_conference")["cp_reviews_held"] == 40
    assert sizes[-1] <= 1.5 * sizes[4]
    state = ref.complete("referral_review_conference", review("2047-04-05", end="close"))
    assert state.completed


# -- child in need plan ---------------------------------------------------------------------------


def to_cin_plan(driver: Driver) -> ProcessState:
    decide(driver, "assessment")
    give_feedback(driver)
    driver.complete("referral_assessment", ASSESSMENT)
    driver.complete("referral_assessment_sign_off", sign_off("cin_plan"))
    return driver.complete("referral_cin_planning_meeting", CIN_MEETING)


def test_child_in_need_plan_is_reviewed_at_the_local_frequency(
    ref: Driver, clock: FakeClock
) -> None:
    state = to_cin_plan(ref)

    task = ref.ready("referral_cin_review")[0]
    assert task.lane == "social_worker"
    assert task.due_at == utc("2027-04-09T16:00:00+00:00")  # 12 weeks after 15 January
    assert timers(state) == {"referral_cin_review_overdue": utc("2027-04-09T16:00:00+00:00")}
    state = fire_at(ref, clock, "2027-04-09T16:00:01+00:00")
    assert notices(state) == [("manager_notice", "csc", "team_manager", None)]
    ref.complete("referral_cin_review", cin_review("2027-04-12"))
    assert ref.ready("referral_cin_review")[0].due_at == utc("2027-07-05T16:00:00+00:00")
    assert not (ref.state and ref.state.completed)


def test_child_in_need_review_frequency_is_a_process_owner_parameter(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    ref = Driver(engine, process, params={"cin_review_weeks": 6})
    to_cin_plan(ref)
    assert ref.ready("referral_cin_review")[0].due_at == utc("2027-02-26T17:00:00+00:00")


@pytest.mark.parametrize(("choice", "start"), [("close", None), ("early_help", "early_help")])
def test_child_in_need_plan_ends(ref: Driver, choice: str, start: str | None) -> None:
    to_cin_plan(ref)
    ref.complete("referral_cin_review", cin_review("2027-04-12"))
    state = ref.complete("referral_cin_review", cin_review("2027-07-01", choice))

    assert [key for key, _ in process_starts(state)] == ([start] if start else [])
    assert state.completed
    assert (state.data["cin_plan_start"], state.data["cin_plan_end"]) == (
        "2026-12-21",
        "2027-07-01",
    )
    assert state.data["closure_reason"] == "RC7"
    assert state.data["outcome"] == ("early_help" if start else "closed")


def test_thirty_child_in_need_reviews_keep_the_state_bounded(ref: Driver) -> None:
    to_cin_plan(ref)
    sizes: list[int] = []
    for n in range(30):
        state = ref.complete(
            "referral_cin_review", cin_review(f"{2027 + n // 4}-{3 * (n % 4) + 1:02d}-15")
        )
        sizes.append(len(state.serialized))
        assert state.tree_depth < 40
        assert not state.completed
    assert sizes[-1] <= 1.5 * sizes[4]


# -- the full journey -----------------------------------------------------------------------------


def test_census_dates_are_recorded_along_the_way(ref: Driver) -> None:
    to_cp_plan(ref)
    state = ref.complete("referral_review_conference", review("2027-04-05", end="close"))
    data = state.data
    assert data["referral_at"] == "2026-12-21T10:00:00+00:00"
    assert data["decision"] == "strategy_discussion"
    assert data["strategy_discussion_at"] == "2026-12-23T12:00:00+00:00"
    assert (data["s47_start_at"], data["icpc_target"], data["icpc_at"]) == (
        "2026-12-23",
        "2027-01-18",
        "2027-01-11",
    )
    assert (data["cp_plan_start"], data["cp_category"], data["cp_latest_category"]) == (
        "2027-01-11",
        "EMO",
        "EMO",
    )
    assert (data["cp_plan_end"], data["closure_reason"]) == ("2027-04-05", "RC5")


# -- forms ----------------------------------------------------------------------------------------

EXAMPLES: dict[str, dict[str, Any]] = {
    "referral_start.schema.json": start_data(referral_source="2A", origin="practitioner"),
    "referral_record_concern.schema.json": concern(),
    "referral_emergency_action.schema.json": EMERGENCY,
    "referral_consent.schema.json": CONSENT,
    "referral_think_family.schema.json": THINK_FAMILY,
    "referral_screening.schema.json": {
        **SCREENING,
        "shared_without_consent": True,
        "lawful_basis": "safeguarding",
        "sharing_reason": "Asking the boyfriend's consent could put Jay at risk.",
    },
    "referral_decision.schema.json": decision("strategy_discussion", immediate_protection=True),
    "referral_feedback.schema.json": FEEDBACK,
    "referral_feedback_follow_up.schema.json": FOLLOW_UP,
    "referral_referrer_response.schema.json": DISAGREE,
    "referral_convene_strategy_discussion.schema.json": CONVENE_STRATEGY,
    "referral_strategy_discussion.schema.json": strategy("immediate_protection", dissent="None."),
    "referral_assessment.schema.json": ASSESSMENT,
    "referral_assessment_sign_off.schema.json": sign_off("cin_plan"),
    "referral_assessment_overrun.schema.json": OVERRUN,
    "referral_s47_enquiry.schema.json": s47("not_substantiated"),
    "referral_convene_icpc.schema.json": CONVENE_ICPC,
    "referral_icpc.schema.json": icpc(
        dissent="Health dissented: they consider the category neglect."
    ),
    "referral_review_conference.schema.json": review("2027-04-05", end="close"),
    "referral_cin_planning_meeting.schema.json": CIN_MEETING,
    "referral_cin_review.schema.json": cin_review("2027-04-12", "early_help"),
}


def test_every_form_the_process_uses_ships_with_an_example(process: CompiledProcess) -> None:
    assert set(process.forms) == set(EXAMPLES)
    assert sorted(p.name for p in FORMS.glob("referral_*.schema.json")) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_form_is_valid_and_a_realistic_answer_validates(name: str) -> None:
    schema = load_form(name)
    JSONSCHEMA.Draft202012Validator.check_schema(schema)
    checker = JSONSCHEMA.FormatChecker()
    JSONSCHEMA.Draft202012Validator(schema, format_checker=checker).validate(EXAMPLES[name])
    assert validate_form(schema, EXAMPLES[name]) == []
    problems = check_form_schema(schema)
    if name == "referral_start.schema.json":
        # Start data, not a rendered task form: the children are integer person ids.
        assert problems == [
            "Question 'subject_person_ids': 'items' must be a string enum (checkboxes) or an "
            "object (repeated rows)"
        ]
    else:
        assert problems == []


def test_start_form_declares_the_keys_the_api_adds_and_accepts_other_processes_data() -> None:
    properties = load_form("referral_start.schema.json")["properties"]
    assert set(SYSTEM_KEYS) <= set(properties)
    assert start_form_accepts(
        "referral_start.schema.json", {"family_id": 5, "subject_person_ids": [9]}
    )
    assert start_form_accepts(
        "referral_start.schema.json",
        {
            "family_id": 5,
            "subject_person_ids": [9],
            "referral_source": "5D",
            "origin": "early_help",
        },
    )


def test_forms_never_ask_for_ethnicity() -> None:
    for name in EXAMPLES:
        assert "ethnic" not in (FORMS / name).read_text(encoding="utf-8").lower()


@pytest.mark.parametrize(
    ("form", "answer", "fields"),
    [
        (
            "referral_consent.schema.json",
            {"consent_status": "given", "child_views_sought": True},
            ["consent_date", "consent_given_by"],
        ),
        (
            "referral_consent.schema.json",
            {"consent_status": "not_sought", "child_views_sought": False},
            ["not_sought_details", "not_sought_reason"],
        ),
        ("referral_decision.schema.json", {**decision("nfa"), "nfa_type": None}, ["nfa_type"]),
        (
            "referral_referrer_response.schema.json",
            {"referrer_agrees": False},
            ["disagreement_reason", "start_escalation"],
        ),
        (
            "referral_referrer_response.schema.json",
            {**DISAGREE, "why_it_matters": "", "outcome_sought": ""},
            ["outcome_sought", "why_it_matters"],
        ),
        (
            "referral_strategy_discussion.schema.json",
            {**strategy("no_s47"), "no_s47_next": None},
            ["no_s47_next"],
        ),
        (
            "referral_icpc.schema.json",
            {**icpc(), "cp_initial_category": None},
            ["cp_initial_category"],
        ),
        (
            "referral_review_conference.schema.json",
            {**review("2027-04-05", end="close"), "cp_closure_reason": None},
            ["cp_closure_reason"],
        ),
        (
            "referral_cin_review.schema.json",
            {**cin_review("2027-04-12", "close"), "cin_closure_reason": None},
            ["cin_closure_reason"],
        ),
    ],
)
def test_forms_require_what_their_answers_reveal(
    form: str, answer: dict[str, Any], fields: list[str]
) -> None:
    errors = validate_form(load_form(form), answer)
    assert sorted(e.field for e in errors) == fields
