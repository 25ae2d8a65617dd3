"""The shipped early_help process: Team Around the Family, and support for a disabled child.

The clock starts on Monday 21 December 2026 at 10:00 UTC; 25 and 28 December and 1 January are
bank holidays. Deadlines close at 17:00 London time (UTC in winter, 16:00 UTC in summer).
"""

from __future__ import annotations

import importlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.forms import check_form_schema, validate_form
from domain.lanes import KNOWN_LANES
from engine import CompiledProcess, ProcessState
from engine.spiff import SpiffEngine
from tests.engine.conftest import ROOT, Driver, FakeClock, compile_shipped

# jsonschema ships no type stubs; reach it through importlib so strict mypy sees a plain module.
JSONSCHEMA = importlib.import_module("jsonschema")
KEY = "early_help"
FORMS = ROOT / "forms"
REQUESTER = "k.patel"
REQUESTER_AGENCY = "oak_primary"
LEAD = "h.evans"
LEAD_AGENCY = "shropshire_health_visiting"
SYSTEM_KEYS = ("started_by", "started_by_agency", "parent_reference")
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


# -- realistic answers ----------------------------------------------------------------------------


def start_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "family_id": 23,
        "subject_person_ids": [301, 302],
        "started_by": REQUESTER,
        "started_by_agency": REQUESTER_AGENCY,
    }
    data.update(overrides)
    return data


def needs(level: str | None = "level_3", **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "asked_by": "family",
        "needs": "Mum is struggling with the children's sleep and school mornings since dad left; "
        "Leo (9) is often late and tired.",
        "family_views": "Mum wants help with routines and with Leo's anger.",
        "child_views": "Leo says mornings are 'shouty'.",
        "safeguarding_concern": level is None,
    }
    if level is not None:
        answer["level"] = level
        answer["level_rationale"] = "Several needs across school, health and home."
    answer.update(overrides)
    return answer


def triage(level: str | None = "level_3", **overrides: Any) -> dict[str, Any]:
    answer = needs(level, **overrides)
    del answer["asked_by"]
    if level in ("level_2", "level_3"):
        answer["allocated_agency"] = LEAD_AGENCY
        answer["allocated_username"] = LEAD
    return answer


def consent(given: bool = True, **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "consent_status": "given" if given else "refused",
        "consents": [
            {
                "person": "303",
                "decision": "given" if given else "refused",
                "scope": ["share", "taf"] if given else [],
                "consent_date": "2026-12-21",
                "method": "in_person",
            }
        ],
    }
    if not given:
        answer["refusal_details"] = "Mum says the family can manage on their own."
        answer["refusal_raises_risk"] = False
    answer.update(overrides)
    return answer


LEAD_PRACTITIONER = {
    "lp_agency": LEAD_AGENCY,
    "lp_name": "Helen Evans",
    "lp_username": LEAD,
    "family_choice": "Mum chose the health visitor; Leo wanted someone from school.",
    "taf_agencies": [LEAD_AGENCY, "oak_primary", "shropshire_housing"],
}
FAMILY_ASSESSMENT = {
    "family_members": [
        {
            "person": "302",
            "strengths": "Loves nursery.",
            "needs": "Sleep routine.",
            "views": "Too young to say; seems settled at nursery.",
        },
        {"person": "301", "strengths": "Good at football.", "needs": "Anger; lateness."},
        {"person": "303", "strengths": "Committed mum.", "needs": "Low mood; debt."},
    ],
    "observed": "The home was warm and tidy; Leo was anxious about being late.",
    "verified": "Attendance confirmed with the school office.",
    "uncertain": "How much contact the children have with dad.",
    "family_goals": "Calmer mornings and Leo on time for school.",
}
ATTENDANCE = [
    {"agency": LEAD_AGENCY, "role": "Health visitor", "attended": True},
    {"agency": "oak_primary", "role": "Family support worker", "attended": True},
    {"agency": "shropshire_housing", "role": "Housing officer", "attended": False},
]


def actions(first_due: str = "2027-02-05", second_due: str = "2027-02-12") -> list[dict[str, Any]]:
    return [
        {
            "description": "Sleep routine sessions with mum.",
            "owner_agency": LEAD_AGENCY,
            "due_date": first_due,
        },
        {
            "description": "Breakfast club place for Leo.",
            "owner_agency": "oak_primary",
            "due_date": second_due,
        },
    ]


def first_taf(**overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "meeting_date": "2027-01-25",
        "attendance": ATTENDANCE,
        "plan_summary": "Leo on time for school 4 days in 5 by March; a bedtime routine.",
        "actions": actions(),
        "family_views": "Mum is happy with the plan.",
    }
    answer.update(overrides)
    return answer


DONE = {"action_result": "done", "action_notes": "Four sessions held."}


def taf_review(date: str, choice: str = "continue", **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "review_date": date,
        "attendance": ATTENDANCE,
        "progress": "positive_change",
        "family_views": "Mornings are calmer.",
        "child_views": "Leo likes breakfast club.",
        "review_decision": choice,
        "decision_reasons": "Good progress against the plan.",
    }
    if choice == "continue":
        day = datetime.fromisoformat(date)
        answer["actions"] = actions(
            (day + timedelta(days=14)).date().isoformat(),
            (day + timedelta(days=21)).date().isoformat(),
        )
    answer.update(overrides)
    return answer


SINGLE_AGENCY_PLAN = {
    "assessment_summary": "Leo's lateness is linked to sleep; mum needs routines support.",
    "observed": "Leo arrives tired most days.",
    "verified": "Attendance records checked.",
    "uncertain": "Whether there is an underlying sleep problem.",
    "meeting_date": "2027-01-15",
    "actions": actions(),
    "family_views": "Mum agrees the plan.",
}
SUPPORT_REQUEST = {
    "support_sought": "Short breaks so mum can rest and spend time with her other child.",
    "child_needs": "Amir (12) has cerebral palsy and needs help with personal care and eating.",
    "what_matters": "Amir loves swimming; mum needs a break at weekends.",
    "worry_about_harm": False,
}


def support_consent(route: str | None = "short_breaks") -> dict[str, Any]:
    answer: dict[str, Any] = {
        "consent_status": "given" if route else "not_given",
        "consents": [
            {
                "person": "403",
                "decision": "given" if route else "refused",
                "scope": ["share", "refer"] if route else [],
                "consent_date": "2026-12-21",
                "method": "in_person",
            }
        ],
    }
    if route:
        answer["support_route"] = route
        if route != "local_offer":
            answer["support_lead_agency"] = "shropshire_disabled_children"
            answer["support_lead_username"] = "d.morris"
    return answer


SUPPORT_ASSESSMENT = {
    "support_route": "short_breaks",
    "needs_summary": "Personal care and a safe space to swim with support.",
    "carer_needs": "Mum needs one weekend break a month.",
    "family_views": "The family would like a holiday club place too.",
    "agreed_support": "A monthly weekend short break and a holiday club place.",
    "support_start_date": "2027-02-01",
}


def support_review(date: str, choice: str = "continue", **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "support_review_date": date,
        "how_it_is_going": "working_well",
        "changes": "None needed.",
        "worry_about_harm": False,
        "support_decision": choice,
    }
    if choice == "end":
        answer["end_reason"] = "family_asked"
        answer["family_agrees_to_end"] = True
    answer.update(overrides)
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


def timers(state: ProcessState) -> list[tuple[str, datetime]]:
    return sorted((t.element_id, t.due_at) for t in state.waiting_timers)


def fire_at(driver: Driver, clock: FakeClock, iso: str) -> ProcessState:
    clock.move_to(iso)
    return driver.fire()


def load_form(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((FORMS / name).read_text(encoding="utf-8"))
    return schema


def start_form_accepts(name: str, data: Mapping[str, Any]) -> bool:
    """Validate start data as the API does: without the keys the API adds itself."""
    payload = {k: v for k, v in data.items() if k not in SYSTEM_KEYS}
    return validate_form(load_form(name), payload) == []


REFERRAL_DATA = {
    "family_id": 23,
    "subject_person_ids": [301, 302],
    "referral_source": "5D",
    "origin": "early_help",
}


def to_consent(driver: Driver, level: str = "level_3") -> ProcessState:
    driver.start(start_data())
    return driver.complete("early_help_identify_needs", needs(level))


def to_lead_practitioner(driver: Driver) -> ProcessState:
    to_consent(driver)
    return driver.complete("early_help_consent", consent())


def to_plan(driver: Driver) -> ProcessState:
    to_lead_practitioner(driver)
    driver.complete("early_help_agree_lead_practitioner", LEAD_PRACTITIONER)
    driver.complete("early_help_family_assessment", FAMILY_ASSESSMENT)
    return driver.complete("early_help_first_taf", first_taf())


def finish_actions(driver: Driver) -> ProcessState:
    state = driver.state
    while driver.ready("early_help_action"):
        state = driver.complete("early_help_action", DONE)
    assert state is not None
    return state


def to_support(driver: Driver, route: str | None = "short_breaks") -> ProcessState:
    driver.start(start_data(route="disabled_child_support"))
    driver.complete("early_help_support_request", SUPPORT_REQUEST)
    return driver.complete("early_help_support_consent", support_consent(route))


@pytest.fixture(scope="module")
def process() -> CompiledProcess:
    """Compiled once per module: a CompiledProcess is plain data any engine can run."""
    return compile_shipped(SpiffEngine(), KEY)


@pytest.fixture
def eh(engine: SpiffEngine, process: CompiledProcess) -> Driver:
    return Driver(engine, process)


# -- the deployed definition ----------------------------------------------------------------------

TASK_LANES = {
    "early_help_identify_needs": "practitioner",
    "early_help_triage_request": "early_help",
    "early_help_consent": "practitioner",
    "early_help_consult_front_door": "front_door",
    "early_help_single_agency_plan": "lead_practitioner",
    "early_help_agree_lead_practitioner": "lead_practitioner",
    "early_help_family_assessment": "lead_practitioner",
    "early_help_first_taf": "lead_practitioner",
    "early_help_action": "action_owner",
    "early_help_taf_review": "lead_practitioner",
    "early_help_support_request": "practitioner",
    "early_help_support_consent": "practitioner",
    "early_help_support_assessment": "lead_practitioner",
    "early_help_support_review": "lead_practitioner",
}
DISABLED_ROUTE_TASKS = (
    "early_help_support_request",
    "early_help_support_consent",
    "early_help_support_assessment",
    "early_help_support_review",
)


def test_compiles_with_known_lanes_forms_and_parameters(process: CompiledProcess) -> None:
    assert process.key == KEY
    assert process.start_form == "early_help_start.schema.json"
    assert {name: info.lane for name, info in process.tasks.items()} == TASK_LANES
    assert {name: info.form_key for name, info in process.tasks.items()} == {
        name: f"{name}.schema.json" for name in TASK_LANES
    }
    assert set(process.lanes) <= KNOWN_LANES
    assert process.parameters == {
        "request_days": 5,
        "consent_days": 5,
        "first_taf_weeks": 6,
        "early_help_agency": "early_help",
        "csc_agency": "csc",
        "lead_practitioner_days": 5,
        "review_weeks": 8,
        "review_preparation_days": 7,
        "action_chase_days": 5,
        "support_assessment_days": 45,
        "support_review_weeks": 26,
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


# -- the request ----------------------------------------------------------------------------------


def test_practitioners_request_goes_back_to_them_to_judge_the_level(eh: Driver) -> None:
    state = eh.start(start_data())

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee, task.due_working_days) == (
        "early_help_identify_needs",
        "practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
        5,
    )
    seen = data_of(eh, "early_help_identify_needs")
    assert (seen["stage"], seen["route"], seen["origin"]) == (
        "Request for early help",
        "early_help",
        "practitioner",
    )
    assert not state.completed


@pytest.mark.parametrize("origin", ["front_door", "social_care", "mdt_meeting"])
def test_request_from_another_service_is_triaged_and_allocated_by_early_help(
    eh: Driver, origin: str
) -> None:
    data = {"family_id": 23, "subject_person_ids": [301], "route": "early_help", "origin": origin}
    assert start_form_accepts("early_help_start.schema.json", data)
    eh.start(data)

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee) == (
        "early_help_triage_request",
        "early_help",
        "early_help",
        None,
    )
    eh.complete("early_help_triage_request", triage())
    consent_task = eh.ready("early_help_consent")[0]
    assert (consent_task.lane, consent_task.agency, consent_task.assignee) == (
        "practitioner",
        LEAD_AGENCY,
        LEAD,
    )


def test_request_started_by_another_process_without_a_route_is_early_help(eh: Driver) -> None:
    data = {"family_id": 23, "subject_person_ids": [301]}
    assert start_form_accepts("early_help_start.schema.json", data)
    eh.start(data)
    task = eh.ready("early_help_identify_needs")[0]
    assert (task.agency, task.assignee) == (None, None)


def test_safeguarding_concern_starts_a_referral_the_referral_form_accepts(eh: Driver) -> None:
    eh.start(start_data())
    state = eh.complete("early_help_identify_needs", needs(None))

    [(key, data)] = process_starts(state)
    assert (key, data) == ("referral", REFERRAL_DATA)
    assert start_form_accepts("referral_start.schema.json", data)
    assert state.completed
    assert (state.data["outcome"], state.data["stage"]) == (
        "referred_to_front_door",
        "Referred to the front door",
    )


def test_level_one_is_advice_and_ends(eh: Driver) -> None:
    state = to_consent(eh, "level_1")
    assert process_starts(state) == []
    assert state.completed
    assert state.data["outcome"] == "advice"
    assert state.data["level"] == "level_1"
    assert state.data["level_judged_at"] == "2026-12-21T10:00:00+00:00"


def test_levels_two_and_three_ask_the_family_for_consent(eh: Driver) -> None:
    to_consent(eh)
    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee, task.due_working_days) == (
        "early_help_consent",
        "practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
        5,
    )
    assert data_of(eh, "early_help_consent")["stage"] == "Consent to early help"


# -- consent --------------------------------------------------------------------------------------


def test_refusal_that_does_not_raise_the_risk_is_recorded_and_closes(eh: Driver) -> None:
    to_consent(eh)
    state = eh.complete("early_help_consent", consent(given=False))
    assert process_starts(state) == []
    assert state.completed
    assert (state.data["outcome"], state.data["consent_status"]) == ("consent_refused", "refused")


def test_refusal_that_raises_the_risk_consults_the_front_door_who_may_refer(eh: Driver) -> None:
    to_consent(eh)
    eh.complete("early_help_consent", consent(given=False, refusal_raises_risk=True))

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.due_working_days) == (
        "early_help_consult_front_door",
        "front_door",
        1,
    )
    state = eh.complete(
        "early_help_consult_front_door",
        {"front_door_advice": "refer", "advice_details": "Refusal leaves the baby unseen."},
    )
    assert process_starts(state) == [("referral", REFERRAL_DATA)]
    assert state.completed


def test_front_door_may_advise_to_keep_offering_help(eh: Driver) -> None:
    to_consent(eh)
    eh.complete("early_help_consent", consent(given=False, refusal_raises_risk=True))
    state = eh.complete(
        "early_help_consult_front_door",
        {"front_door_advice": "keep_offering", "advice_details": "No significant harm."},
    )
    assert process_starts(state) == []
    assert state.completed
    assert state.data["outcome"] == "consent_refused"


# -- assessment and the first Team Around the Family meeting --------------------------------------


def test_level_three_agrees_a_lead_practitioner_then_assesses_the_whole_family(eh: Driver) -> None:
    state = to_lead_practitioner(eh)

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee, task.due_working_days) == (
        "early_help_agree_lead_practitioner",
        "lead_practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
        5,
    )
    assert timers(state) == [("early_help_first_taf_overdue", utc("2027-02-01T17:00:00+00:00"))]
    assert data_of(eh, "early_help_agree_lead_practitioner")["consent_at"] == (
        "2026-12-21T10:00:00+00:00"
    )

    eh.complete("early_help_agree_lead_practitioner", LEAD_PRACTITIONER)
    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee, task.due_at) == (
        "early_help_family_assessment",
        "lead_practitioner",
        LEAD_AGENCY,
        LEAD,
        utc("2027-02-01T17:00:00+00:00"),
    )
    assert data_of(eh, "early_help_family_assessment")["stage"] == "Whole-family assessment"
    eh.complete("early_help_family_assessment", FAMILY_ASSESSMENT)
    [task] = eh.ready()
    assert (task.element_id, task.assignee, task.due_at) == (
        "early_help_first_taf",
        LEAD,
        utc("2027-02-01T17:00:00+00:00"),
    )


def test_lead_practitioner_without_a_user_name_is_anyone_in_their_agency(eh: Driver) -> None:
    to_lead_practitioner(eh)
    answer = {k: v for k, v in LEAD_PRACTITIONER.items() if k != "lp_username"}
    eh.complete("early_help_agree_lead_practitioner", answer)
    task = eh.ready("early_help_family_assessment")[0]
    assert (task.agency, task.assignee) == (LEAD_AGENCY, None)


def test_late_first_meeting_tells_the_early_help_manager(eh: Driver, clock: FakeClock) -> None:
    to_lead_practitioner(eh)
    eh.complete("early_help_agree_lead_practitioner", LEAD_PRACTITIONER)

    assert notices(fire_at(eh, clock, "2027-02-01T16:59:00+00:00")) == []
    state = fire_at(eh, clock, "2027-02-01T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "early_help", "team_manager", None)]
    assert eh.ready_names() == ["early_help_family_assessment"]
    assert not state.completed


def test_first_meeting_timescale_and_manager_agency_are_process_owner_parameters(
    engine: SpiffEngine, process: CompiledProcess, clock: FakeClock
) -> None:
    eh = Driver(engine, process, params={"first_taf_weeks": 4, "early_help_agency": "eh_hub"})
    state = to_lead_practitioner(eh)
    assert timers(state) == [("early_help_first_taf_overdue", utc("2027-01-18T17:00:00+00:00"))]
    state = fire_at(eh, clock, "2027-01-18T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "eh_hub", "team_manager", None)]


def test_level_two_is_a_single_agency_plan_with_the_same_reviews(eh: Driver) -> None:
    to_consent(eh, "level_2")
    state = eh.complete("early_help_consent", consent())

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee, task.due_at) == (
        "early_help_single_agency_plan",
        "lead_practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
        utc("2027-02-01T17:00:00+00:00"),
    )
    assert timers(state) == [("early_help_first_taf_overdue", utc("2027-02-01T17:00:00+00:00"))]
    eh.complete("early_help_single_agency_plan", SINGLE_AGENCY_PLAN)
    assert eh.ready_names() == ["early_help_action", "early_help_action"]


# -- actions --------------------------------------------------------------------------------------


def test_each_action_is_a_task_for_its_owners_agency(eh: Driver) -> None:
    state = to_plan(eh)

    assert notices(state) == [
        ("task_assigned", LEAD_AGENCY, "practitioner", None),
        ("task_assigned", "oak_primary", "practitioner", None),
    ]
    tasks = eh.ready("early_help_action")
    assert [(t.lane, t.agency, t.due_at) for t in tasks] == [
        ("action_owner", LEAD_AGENCY, utc("2027-02-05T17:00:00+00:00")),
        ("action_owner", "oak_primary", utc("2027-02-12T17:00:00+00:00")),
    ]
    assert data_of(eh, "early_help_action")["stage"] == "Plan and review"
    assert not state.completed


def test_overdue_action_reminds_the_owner_then_the_lead_practitioner_then_the_manager(
    eh: Driver, clock: FakeClock
) -> None:
    to_plan(eh)
    eh.complete("early_help_action", DONE, 1)  # the school's action is done

    assert notices(fire_at(eh, clock, "2027-02-05T17:00:01+00:00")) == [
        ("reminder", LEAD_AGENCY, "practitioner", None)
    ]
    assert notices(fire_at(eh, clock, "2027-02-12T17:00:01+00:00")) == [
        ("reminder", LEAD_AGENCY, "practitioner", LEAD)
    ]
    state = fire_at(eh, clock, "2027-02-19T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "early_help", "team_manager", None)]
    assert eh.ready_names() == ["early_help_action"]
    assert not state.completed


def test_action_chase_interval_is_a_process_owner_parameter(
    engine: SpiffEngine, process: CompiledProcess, clock: FakeClock
) -> None:
    eh = Driver(engine, process, params={"action_chase_days": 2})
    to_plan(eh)
    state = fire_at(eh, clock, "2027-02-09T17:00:01+00:00")
    assert ("reminder", LEAD_AGENCY, "practitioner", LEAD) in notices(state)


# -- reviews --------------------------------------------------------------------------------------


def test_review_is_due_eight_weeks_after_the_meeting_and_opens_a_week_before(
    eh: Driver, clock: FakeClock
) -> None:
    to_plan(eh)
    state = finish_actions(eh)

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee, task.due_at) == (
        "early_help_taf_review",
        "lead_practitioner",
        LEAD_AGENCY,
        LEAD,
        utc("2027-03-22T17:00:00+00:00"),
    )
    assert timers(state) == [("early_help_review_overdue", utc("2027-03-22T17:00:00+00:00"))]
    state = fire_at(eh, clock, "2027-03-22T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "early_help", "team_manager", None)]
    assert eh.ready_names() == ["early_help_taf_review"]


def test_open_actions_are_carried_into_the_review_when_it_opens(
    eh: Driver, clock: FakeClock
) -> None:
    to_plan(eh)
    eh.complete("early_help_action", DONE)

    state = fire_at(eh, clock, "2027-03-15T16:59:00+00:00")
    assert eh.ready_names() == ["early_help_action"]
    state = fire_at(eh, clock, "2027-03-15T17:00:01+00:00")
    assert eh.ready_names() == ["early_help_taf_review"]
    seen = data_of(eh, "early_help_taf_review")
    assert seen["stage"] == "Plan review"
    assert seen["actions"] == actions()  # the current plan, for the review to revise
    assert "action" not in seen
    assert not state.completed


def test_review_continues_with_a_revised_plan(eh: Driver) -> None:
    to_plan(eh)
    finish_actions(eh)
    state = eh.complete("early_help_taf_review", taf_review("2027-03-18"))

    tasks = eh.ready("early_help_action")
    assert [(t.agency, t.due_at) for t in tasks] == [
        (LEAD_AGENCY, utc("2027-04-01T16:00:00+00:00")),
        ("oak_primary", utc("2027-04-08T16:00:00+00:00")),
    ]
    assert len(notices(state)) == 2
    seen = data_of(eh, "early_help_action")
    assert (seen["reviews_held"], seen["last_progress"]) == (1, "positive_change")
    assert seen["review_due_at"] == "2027-05-13T17:00:00+01:00"


def test_review_interval_is_a_process_owner_parameter(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    eh = Driver(engine, process, params={"review_weeks": 12})
    to_plan(eh)
    finish_actions(eh)
    assert eh.ready("early_help_taf_review")[0].due_at == utc("2027-04-19T16:00:00+00:00")


@pytest.mark.parametrize(
    ("choice", "outcome", "start"),
    [
        ("step_up", "stepped_up", "referral"),
        ("step_down", "stepped_down", None),
        ("close", "closed", None),
    ],
)
def test_review_ends_in_step_up_step_down_or_close(
    eh: Driver, choice: str, outcome: str, start: str | None
) -> None:
    to_plan(eh)
    finish_actions(eh)
    state = eh.complete(
        "early_help_taf_review", taf_review("2027-03-18", choice, progress="worsening")
    )

    starts = process_starts(state)
    assert [key for key, _ in starts] == ([start] if start else [])
    if start:
        assert starts[0][1] == REFERRAL_DATA
    assert state.completed
    assert (state.data["outcome"], state.data["reviews_held"]) == (outcome, 1)


def test_forty_reviews_keep_the_tree_shallow_and_the_state_bounded(
    eh: Driver, clock: FakeClock
) -> None:
    to_plan(eh)
    sizes: list[int] = []
    day = datetime(2027, 3, 18, tzinfo=UTC)
    for _ in range(40):
        state = eh.state
        assert state is not None
        assert not state.completed
        opens = next(
            t.due_at
            for t in state.waiting_timers
            if t.element_id == "early_help_action_review_date"
        )
        state = fire_at(eh, clock, (opens + timedelta(seconds=1)).isoformat())
        assert eh.ready_names() == ["early_help_taf_review"]
        state = eh.complete("early_help_taf_review", taf_review(day.date().isoformat()))
        sizes.append(len(state.serialized))
        assert state.tree_depth < 40
        day += timedelta(days=56)
    assert data_of(eh, "early_help_action")["reviews_held"] == 40
    assert len(eh.ready("early_help_action")) == 2
    assert sizes[-1] <= 1.5 * sizes[4]


# -- support for a disabled child -----------------------------------------------------------------


def test_support_for_a_disabled_child_takes_its_own_route(eh: Driver) -> None:
    eh.start(start_data(route="disabled_child_support"))

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee, task.due_working_days) == (
        "early_help_support_request",
        "practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
        5,
    )
    assert data_of(eh, "early_help_support_request")["stage"] == (
        "Support for a disabled child: request"
    )
    eh.complete("early_help_support_request", SUPPORT_REQUEST)
    [task] = eh.ready()
    assert (task.element_id, task.lane, task.assignee) == (
        "early_help_support_consent",
        "practitioner",
        REQUESTER,
    )


SAFEGUARDING_WORDS = re.compile(
    r"safeguard|abuse|neglect|significant harm|child protection|threshold|concern|level of need",
    re.IGNORECASE,
)


def test_the_disabled_child_route_uses_neutral_wording(process: CompiledProcess) -> None:
    for name in DISABLED_ROUTE_TASKS:
        text = (FORMS / f"{name}.schema.json").read_text(encoding="utf-8")
        assert not SAFEGUARDING_WORDS.search(text), name
        assert not SAFEGUARDING_WORDS.search(process.tasks[name].title), name
        assert not SAFEGUARDING_WORDS.search(process.tasks[name].documentation or ""), name
    route = [
        "early_help_which_route",
        "early_help_record_support_request",
        "early_help_any_worry",
        "early_help_support_consented",
        "early_help_which_support",
        "early_help_support_worry",
        "early_help_support_reviews",
    ]
    for element in route:
        assert not SAFEGUARDING_WORDS.search(process.element_names[element]), element


def test_a_worry_about_harm_is_referred_to_the_front_door(eh: Driver) -> None:
    eh.start(start_data(route="disabled_child_support"))
    state = eh.complete("early_help_support_request", {**SUPPORT_REQUEST, "worry_about_harm": True})
    assert process_starts(state) == [("referral", REFERRAL_DATA)]
    assert state.completed


@pytest.mark.parametrize(
    ("route", "outcome"), [(None, "not_proceeding"), ("local_offer", "local_offer")]
)
def test_family_may_not_go_ahead_or_may_use_the_local_offer(
    eh: Driver, route: str | None, outcome: str
) -> None:
    state = to_support(eh, route)
    assert process_starts(state) == []
    assert state.completed
    assert state.data["outcome"] == outcome


def test_early_help_assessment_route_joins_the_team_around_the_family(eh: Driver) -> None:
    state = to_support(eh, "early_help_assessment")

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee) == (
        "early_help_agree_lead_practitioner",
        "lead_practitioner",
        "shropshire_disabled_children",
        "d.morris",
    )
    assert timers(state) == [("early_help_first_taf_overdue", utc("2027-02-01T17:00:00+00:00"))]
    assert data_of(eh, "early_help_agree_lead_practitioner")["level"] == "level_3"


@pytest.mark.parametrize(
    "route", ["short_breaks", "parent_carer_assessment", "overnight_breaks_assessment"]
)
def test_short_breaks_and_assessments_are_planned_and_reviewed(eh: Driver, route: str) -> None:
    to_support(eh, route)

    [task] = eh.ready()
    assert (task.element_id, task.lane, task.agency, task.assignee, task.due_working_days) == (
        "early_help_support_assessment",
        "lead_practitioner",
        "shropshire_disabled_children",
        "d.morris",
        45,
    )
    state = eh.complete(
        "early_help_support_assessment", {**SUPPORT_ASSESSMENT, "support_route": route}
    )
    [task] = eh.ready()
    assert (task.element_id, task.due_at) == (
        "early_help_support_review",
        utc("2027-08-02T16:00:00+00:00"),  # 26 weeks after the support starts
    )
    assert timers(state) == [
        ("early_help_support_review_overdue", utc("2027-08-02T16:00:00+00:00"))
    ]
    assert not state.completed


def test_overdue_support_review_tells_the_lead_workers_manager(
    eh: Driver, clock: FakeClock
) -> None:
    to_support(eh)
    eh.complete("early_help_support_assessment", SUPPORT_ASSESSMENT)
    state = fire_at(eh, clock, "2027-08-02T16:00:01+00:00")
    assert notices(state) == [
        ("manager_notice", "shropshire_disabled_children", "team_manager", None)
    ]


def test_worry_at_a_review_refers_while_the_support_carries_on(eh: Driver) -> None:
    to_support(eh)
    eh.complete("early_help_support_assessment", SUPPORT_ASSESSMENT)
    state = eh.complete(
        "early_help_support_review", support_review("2027-07-26", worry_about_harm=True)
    )

    assert process_starts(state) == [("referral", REFERRAL_DATA)]
    [task] = eh.ready()
    assert (task.element_id, task.due_at) == (
        "early_help_support_review",
        utc("2028-01-24T17:00:00+00:00"),
    )
    assert not state.completed


def test_support_ends_only_when_the_family_agree(eh: Driver) -> None:
    errors = validate_form(
        load_form("early_help_support_review.schema.json"),
        support_review("2027-07-26", "end", family_agrees_to_end=False),
    )
    assert [(e.field, e.message) for e in errors] == [
        ("family_agrees_to_end", "Support for a disabled child ends only when the family agree")
    ]
    to_support(eh)
    eh.complete("early_help_support_assessment", SUPPORT_ASSESSMENT)
    state = eh.complete("early_help_support_review", support_review("2027-07-26", "end"))
    assert state.completed
    assert (state.data["outcome"], state.data["stage"]) == ("support_ended", "Support ended")


def test_support_review_frequency_is_a_process_owner_parameter(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    eh = Driver(engine, process, params={"support_review_weeks": 13})
    to_support(eh)
    eh.complete("early_help_support_assessment", SUPPORT_ASSESSMENT)
    # 13 weeks on is Monday 3 May 2027, the early May bank holiday: due the Friday before
    assert eh.ready("early_help_support_review")[0].due_at == utc("2027-04-30T16:00:00+00:00")


def test_thirty_support_reviews_keep_the_state_bounded(eh: Driver) -> None:
    to_support(eh)
    eh.complete("early_help_support_assessment", SUPPORT_ASSESSMENT)
    sizes: list[int] = []
    day = datetime(2027, 7, 26, tzinfo=UTC)
    for _ in range(30):
        state = eh.complete("early_help_support_review", support_review(day.date().isoformat()))
        sizes.append(len(state.serialized))
        assert state.tree_depth < 40
        assert not state.completed
        day += timedelta(days=182)
    assert data_of(eh, "early_help_support_review")["support_reviews_held"] == 30
    assert sizes[-1] <= 1.5 * sizes[4]


# -- forms ----------------------------------------------------------------------------------------

EXAMPLES: dict[str, dict[str, Any]] = {
    "early_help_start.schema.json": start_data(route="early_help", origin="family_request"),
    "early_help_identify_needs.schema.json": needs(),
    "early_help_triage_request.schema.json": triage("level_2"),
    "early_help_consent.schema.json": consent(given=False, refusal_raises_risk=True),
    "early_help_consult_front_door.schema.json": {
        "front_door_advice": "refer",
        "advice_details": "The baby has not been seen by any professional since birth.",
    },
    "early_help_single_agency_plan.schema.json": SINGLE_AGENCY_PLAN,
    "early_help_agree_lead_practitioner.schema.json": LEAD_PRACTITIONER,
    "early_help_family_assessment.schema.json": FAMILY_ASSESSMENT,
    "early_help_first_taf.schema.json": first_taf(),
    "early_help_action.schema.json": {
        "action_result": "cannot_be_done",
        "action_notes": "Breakfast club is full until March; Leo is on the waiting list.",
    },
    "early_help_taf_review.schema.json": taf_review("2027-03-18"),
    "early_help_support_request.schema.json": SUPPORT_REQUEST,
    "early_help_support_consent.schema.json": support_consent("overnight_breaks_assessment"),
    "early_help_support_assessment.schema.json": SUPPORT_ASSESSMENT,
    "early_help_support_review.schema.json": support_review("2027-07-26", "end"),
}


def test_every_form_the_process_uses_ships_with_an_example(process: CompiledProcess) -> None:
    assert set(process.forms) == set(EXAMPLES)
    assert sorted(p.name for p in FORMS.glob("early_help_*.schema.json")) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_form_is_valid_and_a_realistic_answer_validates(name: str) -> None:
    schema = load_form(name)
    JSONSCHEMA.Draft202012Validator.check_schema(schema)
    checker = JSONSCHEMA.FormatChecker()
    JSONSCHEMA.Draft202012Validator(schema, format_checker=checker).validate(EXAMPLES[name])
    assert validate_form(schema, EXAMPLES[name]) == []
    problems = check_form_schema(schema)
    if name == "early_help_start.schema.json":
        # Start data, not a rendered task form: the children are integer person ids.
        assert problems == [
            "Question 'subject_person_ids': 'items' must be a string enum (checkboxes) or an "
            "object (repeated rows)"
        ]
    else:
        assert problems == []


def test_start_form_declares_the_keys_the_api_adds() -> None:
    properties = load_form("early_help_start.schema.json")["properties"]
    assert set(SYSTEM_KEYS) <= set(properties)


def test_forms_never_ask_for_ethnicity() -> None:
    for name in EXAMPLES:
        assert "ethnic" not in (FORMS / name).read_text(encoding="utf-8").lower()


@pytest.mark.parametrize(
    ("form", "answer", "fields"),
    [
        (
            "early_help_identify_needs.schema.json",
            {**needs(), "level": None, "level_rationale": ""},
            ["level", "level_rationale"],
        ),
        (
            "early_help_triage_request.schema.json",
            {**triage(), "allocated_agency": None},
            ["allocated_agency"],
        ),
        (
            "early_help_consent.schema.json",
            {**consent(given=False), "refusal_raises_risk": None},
            ["refusal_raises_risk"],
        ),
        (
            "early_help_taf_review.schema.json",
            {**taf_review("2027-03-18"), "actions": None},
            ["actions"],
        ),
        (
            "early_help_support_consent.schema.json",
            {**support_consent(), "support_route": None},
            ["support_route"],
        ),
        ("early_help_action.schema.json", {"action_result": "cannot_be_done"}, ["action_notes"]),
    ],
)
def test_forms_require_what_their_answers_reveal(
    form: str, answer: dict[str, Any], fields: list[str]
) -> None:
    errors = validate_form(load_form(form), answer)
    assert sorted(e.field for e in errors) == fields
