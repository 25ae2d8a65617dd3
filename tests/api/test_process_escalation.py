"""The shipped escalation process driven end to end through the REST API.

A school teacher raises a disagreement with children's social care; real users of the right
roles and agencies work each stage; stage timers fire through the timer worker on the app's
injected clock. The clock starts on Monday 21 December 2026 at 10:00 UTC; 25 and 28 December
and 1 January are bank holidays, and deadlines close at 17:00 London time (UTC in winter).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.api.test_definitions_api import assert_problem
from tests.api.test_process_mdt_meeting import (
    CSC,
    PARTNERSHIP,
    SCHOOL,
    Api,
    Outbox,
    api,
    family,
    fire_at,
    outbox,
    utc,
    when,
)
from tests.conftest import FakeClock

__all__ = ["api", "family", "outbox"]  # shared fixtures, re-exported

KEY = "escalation"
RAISING = SCHOOL
RESPONDING = CSC
BOTH = [RAISING, RESPONDING]
STAGE_NAMES = {
    1: "Stage 1: practitioners",
    2: "Stage 2: agency managers",
    3: "Stage 3: senior managers",
    4: "Stage 4: safeguarding partnership",
}
STAGE_DUE = {
    1: utc("2026-12-30T17:00:00+00:00"),  # 5 working days: 25 and 28 December skipped
    2: utc("2027-01-07T17:00:00+00:00"),  # 5 more: 1 January skipped
    3: utc("2027-01-14T17:00:00+00:00"),
    4: utc("2027-01-28T17:00:00+00:00"),  # 10 working days
}
STAGE_TASKS = {
    1: ("stage1_response", "stage1_discussion"),
    2: ("stage2_response", "stage2_discussion"),
    3: ("stage3_response", "stage3_discussion"),
}
WORKERS = {
    1: ("social_worker", "teacher"),
    2: ("csc_manager", "head"),
    3: ("csc_manager", "head"),
}
"""Who responds (for the responding agency) and who records the discussion (raising agency)."""
OUTCOME_NOTICES = [
    ("outcome", RAISING, None, None),
    ("outcome", RESPONDING, None, None),
    ("outcome", RAISING, None, "teacher"),
]
RESOLVED = "Resolved: outcome statement shared"

RESPONSE: dict[str, Any] = {
    "position": "The threshold for an assessment was not met on the information we had.",
    "agreements": "The children's presentation is a concern.",
    "bearing_on_risk": "Neglect may be escalating.",
    "risk_increased": False,
}


def start_data(family: tuple[int, list[int]], **overrides: Any) -> dict[str, Any]:
    family_id, children = family
    data: dict[str, Any] = {
        "family_id": family_id,
        "subject_person_ids": children,
        "responding_agency": RESPONDING,
        "disputed_decision": "The referral of 14 December was closed with no further action.",
        "category": "referral_decision",
        "why_it_matters": "The children are still arriving hungry and unkempt most days.",
        "outcome_sought": "A child and family assessment.",
        "immediate_risk": False,
        "conference_dissent": False,
    }
    data.update(overrides)
    return data


def discussion(resolved: bool, **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "agreements": "New information from school changes the picture.",
        "disagreements": "Whether a strategy discussion is needed.",
        "bearing_on_risk": "Cumulative neglect.",
        "consulted_dsl": True,
        "risk_increased": False,
        "resolved": resolved,
    }
    if resolved:
        answer.update(
            decision="CSC will open a child and family assessment.",
            learning_theme="thresholds",
            actions=[
                {
                    "description": "Open an assessment",
                    "owner_agency": RESPONDING,
                    "due_date": "2027-01-08",
                }
            ],
        )
    answer.update(overrides)
    return answer


STAGE4_DECISION: dict[str, Any] = {
    "decision": "An assessment is needed; CSC will start one this week.",
    "reasons": "The school's evidence shows a pattern of neglect.",
    "actions": [
        {
            "description": "Start the assessment",
            "owner_agency": RESPONDING,
            "due_date": "2027-02-05",
        }
    ],
    "learning_theme": "thresholds",
    "risk_increased": False,
}


def raise_concern(api: Api, family: tuple[int, list[int]], **overrides: Any) -> dict[str, Any]:
    """The teacher records a disagreement; return the instance."""
    return api.start(KEY, start_data(family, **overrides), "teacher")


def due_of(api: Api, iid: int, element: str) -> Any:
    (task,) = api.ready(iid, element)
    return when(task["due_at"])


def referrals(api: Api, family_id: int) -> list[dict[str, Any]]:
    return api.instances(family_id=family_id, process_key="referral")


def move_up(api: Api, iid: int, stage: int) -> dict[str, Any]:
    """Work stage 1, 2 or 3 to an unresolved end; return the instance at the next stage."""
    response, discuss = STAGE_TASKS[stage]
    responder, recorder = WORKERS[stage]
    api.work(iid, response, RESPONSE, responder, RESPONDING)
    return api.work(iid, discuss, discussion(resolved=False), recorder, RAISING)


# -- stages and their timers ----------------------------------------------------------------------


def test_stage_timers_move_an_unresolved_disagreement_up_through_all_four_stages(
    app: Flask, api: Api, outbox: Outbox, clock: FakeClock, family: tuple[int, list[int]]
) -> None:
    family_id = family[0]
    instance = raise_concern(api, family)
    iid = instance["id"]

    assert instance["reference"].startswith("ESC-")
    assert instance["current_stage"] == STAGE_NAMES[1]
    assert instance["summary"]["stage_reached"] == 1
    assert outbox.new(iid) == [("escalation_stage", a, "practitioner", None) for a in BOTH]
    (task,) = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"]) == (
        "stage1_response",
        "respondent",
        RESPONDING,
    )
    assert when(task["due_at"]) == STAGE_DUE[1]
    assert when(instance["next_timer_due_at"]) == STAGE_DUE[1]
    listed = api.family_processes(family_id, "teacher")[iid]
    assert (listed["process_key"], listed["current_stage"]) == (KEY, STAGE_NAMES[1])
    assert when(listed["next_due_at"]) == STAGE_DUE[1]

    # The respondent answers; the raiser's discussion runs to the same stage deadline.
    api.work(iid, "stage1_response", RESPONSE, "social_worker", RESPONDING)
    (task,) = api.ready(iid)
    assert (task["element_id"], task["agency_code"], task["assignee"]) == (
        "stage1_discussion",
        RAISING,
        "teacher",
    )
    assert when(task["due_at"]) == STAGE_DUE[1]

    assert fire_at(app, clock, "2026-12-30T16:59:59+00:00") == 0
    assert api.ready_names(iid) == ["stage1_discussion"]

    expected = {
        2: ("stage2_response", "agency_manager", BOTH),
        3: ("stage3_response", "senior_manager", [*BOTH, PARTNERSHIP]),
    }
    for stage, (element, lane, told) in expected.items():
        assert fire_at(app, clock, STAGE_DUE[stage - 1].replace(second=1).isoformat()) == 1
        (task,) = api.ready(iid)
        assert (task["element_id"], task["lane"], task["agency_code"]) == (
            element,
            lane,
            RESPONDING,
        )
        assert when(task["due_at"]) == STAGE_DUE[stage]
        assert outbox.new(iid) == [("escalation_stage", a, "team_manager", None) for a in told]
        detail = api.instance(iid)
        assert detail["current_stage"] == STAGE_NAMES[stage]
        assert detail["summary"]["stage_reached"] == stage
        listed = api.family_processes(family_id, "teacher")[iid]
        assert listed["current_stage"] == STAGE_NAMES[stage]
        assert when(listed["next_due_at"]) == STAGE_DUE[stage]

    assert fire_at(app, clock, "2027-01-14T17:00:01+00:00") == 1
    (task,) = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"]) == (
        "stage4_decision",
        "partnership",
        PARTNERSHIP,  # the partnership_agency parameter
    )
    assert when(task["due_at"]) == STAGE_DUE[4]
    assert outbox.new(iid) == [
        ("escalation_stage", a, "team_manager", None) for a in [*BOTH, PARTNERSHIP]
    ]
    assert api.family_processes(family_id, "teacher")[iid]["current_stage"] == STAGE_NAMES[4]
    assert api.inbox("partnership_manager", iid) == [("stage4_decision", PARTNERSHIP)]
    assert api.inbox("csc_manager", iid) == []

    # An overdue partnership decision is chased every 5 working days until it is made.
    assert fire_at(app, clock, "2027-01-28T17:00:01+00:00") == 1
    assert outbox.new(iid) == [("reminder", PARTNERSHIP, "team_manager", None)]
    assert due_of(api, iid, "stage4_decision") == utc("2027-02-04T17:00:00+00:00")

    final = api.work(iid, "stage4_decision", STAGE4_DECISION, "partnership_manager")
    assert final["status"] == "completed"
    assert final["current_stage"] == RESOLVED
    assert final["summary"]["stage_reached"] == 4
    assert final["summary"]["decision"] == STAGE4_DECISION["decision"]
    assert outbox.new(iid) == OUTCOME_NOTICES
    listed = api.family_processes(family_id, "teacher")[iid]
    assert (listed["open"], listed["status"], listed["current_stage"]) == (False, "completed", None)


def test_a_disagreement_is_with_another_agency(api: Api, family: tuple[int, list[int]]) -> None:
    body = {"process_key": KEY, "data": start_data(family, responding_agency=RAISING)}
    response = api.call("post", "/process-instances", "teacher", body)  # the school, itself
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["responding_agency"]
    assert api.instances(process_key=KEY) == []
    # the start page offers every agency but the practitioner's own
    from tests.web.helpers_reports import sign_in

    sign_in(api.app, api.client, "teacher")
    page = api.client.get(f"/start/{KEY}?family_id={family[0]}").get_data(as_text=True)
    question = page.split('name="responding_agency"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([^"]+)"', question)
    assert RESPONDING in offered
    assert RAISING not in offered


def test_a_process_owner_changes_a_stage_limit_for_new_escalations(
    api: Api, family: tuple[int, list[int]]
) -> None:
    before = raise_concern(api, family)["id"]
    assert due_of(api, before, "stage1_response") == STAGE_DUE[1]

    assert_problem(api.set_parameter(KEY, "stage1_days", 2, "teacher"), 403)
    assert_problem(api.set_parameter(KEY, "stage1_days", "two"), 422)
    assert_problem(api.set_parameter(KEY, "no_such_days", 2), 404)
    # an agency parameter must name an agency: a typo would send the partnership's notices
    # and tasks to nobody
    assert_problem(api.set_parameter(KEY, "partnership_agency", "sscp-typo"), 422)
    assert api.set_parameter(KEY, "partnership_agency", PARTNERSHIP).status_code == 200
    changed = api.set_parameter(KEY, "stage1_days", 2)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["value"] == 2
    listed = api.ok("get", f"/process-definitions/{KEY}/parameters", "owner")
    assert {p["name"]: (p["default"], p["value"]) for p in listed}["stage1_days"] == (5, 2)

    after = raise_concern(api, family)["id"]
    assert due_of(api, after, "stage1_response") == utc("2026-12-23T17:00:00+00:00")
    assert due_of(api, before, "stage1_response") == STAGE_DUE[1]  # running cases keep theirs


# -- resolution at each stage ---------------------------------------------------------------------


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_resolution_at_a_stage_shares_the_outcome_statement(
    api: Api, outbox: Outbox, family: tuple[int, list[int]], stage: int
) -> None:
    iid = raise_concern(api, family)["id"]
    for earlier in range(1, stage):
        after = move_up(api, iid, earlier)
        assert after["current_stage"] == STAGE_NAMES[earlier + 1]
    outbox.new()

    response, discuss = STAGE_TASKS[stage]
    responder, recorder = WORKERS[stage]
    api.work(iid, response, RESPONSE, responder, RESPONDING)
    task = api.task_for(iid, discuss)
    assert api.invalid(task, {**discussion(resolved=False), "resolved": True}, recorder) == [
        "#/data/decision",
        "#/data/learning_theme",
    ]
    final = api.complete(task, discussion(resolved=True), recorder)

    assert final["status"] == "completed"
    assert final["current_stage"] == RESOLVED
    summary = final["summary"]
    assert (summary["outcome"], summary["stage_reached"]) == ("resolved", stage)
    assert summary["decision"] == "CSC will open a child and family assessment."
    assert outbox.new(iid) == OUTCOME_NOTICES
    assert referrals(api, family[0]) == []
    # Both agencies read the outcome on the case; the raiser's agency also reads the record.
    for reader in ("teacher", "social_worker"):
        seen = api.instance(iid, reader)["summary"]
        assert (seen["decision"], seen["stage_reached"]) == (summary["decision"], stage)
    recorded = api.ok("get", f"/tasks/{task}", "teacher")
    assert recorded["status"] == "completed"
    assert recorded["data"]["actions"] == discussion(resolved=True)["actions"]


def test_unresolved_discussion_moves_up_at_once_to_the_managers(
    api: Api, outbox: Outbox, family: tuple[int, list[int]]
) -> None:
    iid = raise_concern(api, family)["id"]
    outbox.new()

    after = move_up(api, iid, 1)

    assert after["current_stage"] == STAGE_NAMES[2]
    assert outbox.new(iid) == [("escalation_stage", a, "team_manager", None) for a in BOTH]
    # Stage 2 starts its own 5 working days from now (Monday 21 December).
    assert due_of(api, iid, "stage2_response") == STAGE_DUE[1]
    assert api.inbox("csc_manager", iid) == [("stage2_response", RESPONDING)]
    assert api.inbox("social_worker", iid) == []
    api.work(iid, "stage2_response", RESPONSE, "csc_manager", RESPONDING)
    assert api.inbox("head", iid) == [("stage2_discussion", RAISING)]
    assert api.inbox("teacher", iid) == []


# -- immediate and increased risk -----------------------------------------------------------------


def test_immediate_risk_starts_at_stage_three_and_refers_in_parallel(
    app: Flask, api: Api, outbox: Outbox, clock: FakeClock, family: tuple[int, list[int]]
) -> None:
    family_id, children = family
    instance = raise_concern(api, family, immediate_risk=True)
    iid = instance["id"]

    assert instance["current_stage"] == STAGE_NAMES[3]
    assert [t["element_id"] for t in instance["ready_tasks"]] == ["stage3_response"]
    assert due_of(api, iid, "stage3_response") == utc("2026-12-22T17:00:00+00:00")  # 1 day
    assert outbox.new(iid) == [
        ("escalation_stage", a, "team_manager", None) for a in [*BOTH, PARTNERSHIP]
    ]
    (referral,) = referrals(api, family_id)
    assert referral["status"] == "active"
    assert (referral["family_id"], referral["subject_person_ids"]) == (family_id, children)
    assert referral["summary"].get("urgent") is True
    listed = api.family_processes(family_id, "teacher")
    assert listed[referral["id"]]["process_key"] == "referral"
    assert listed[iid]["current_stage"] == STAGE_NAMES[3]

    assert fire_at(app, clock, "2026-12-22T17:00:01+00:00") == 1
    assert due_of(api, iid, "stage4_decision") == utc("2027-01-08T17:00:00+00:00")
    assert len(referrals(api, family_id)) == 1


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_risk_increased_during_a_stage_refers_while_the_stage_carries_on(
    api: Api, family: tuple[int, list[int]], stage: int
) -> None:
    family_id = family[0]
    iid = raise_concern(api, family)["id"]
    for earlier in range(1, stage):
        move_up(api, iid, earlier)
    response, discuss = STAGE_TASKS[stage]
    responder, recorder = WORKERS[stage]

    after = api.work(iid, response, {**RESPONSE, "risk_increased": True}, responder, RESPONDING)

    (referral,) = referrals(api, family_id)
    assert referral["status"] == "active"
    assert referral["summary"].get("urgent") is True
    assert after["status"] == "active"
    assert after["current_stage"] == STAGE_NAMES[stage]
    assert [t["element_id"] for t in after["ready_tasks"]] == [discuss]
    assert referral["id"] in api.family_processes(family_id, "teacher")

    # Increased risk in the discussion refers again; an unresolved disagreement still moves up.
    after = api.work(iid, discuss, discussion(resolved=False, risk_increased=True), recorder)
    assert len(referrals(api, family_id)) == 2
    assert after["current_stage"] == STAGE_NAMES[stage + 1]


def test_risk_increased_at_stage_four_refers_with_the_final_decision(
    app: Flask, api: Api, outbox: Outbox, clock: FakeClock, family: tuple[int, list[int]]
) -> None:
    iid = raise_concern(api, family)["id"]
    for stage in (1, 2, 3):
        move_up(api, iid, stage)
    outbox.new()
    task = api.task_for(iid, "stage4_decision")
    assert api.invalid(task, {"decision": "x", "risk_increased": False}, "partnership_manager") == [
        "#/data/learning_theme",
        "#/data/reasons",
    ]
    final = api.complete(task, {**STAGE4_DECISION, "risk_increased": True}, "partnership_manager")
    assert final["status"] == "completed"
    assert final["summary"]["stage_reached"] == 4
    assert outbox.new(iid) == OUTCOME_NOTICES
    assert len(referrals(api, family[0])) == 1


# -- dissent from a child protection conference ---------------------------------------------------


def start_dissent(api: Api, family: tuple[int, list[int]]) -> int:
    # The conference chairs work for the council's children's social care.
    assert api.set_parameter(KEY, "csc_agency", CSC).status_code == 200
    instance = raise_concern(
        api, family, conference_dissent=True, conference_date="2026-12-21", category="threshold"
    )
    return int(instance["id"])


def test_conference_dissent_reviewed_by_the_dsl_then_unresolved_goes_to_stage_three(
    api: Api, outbox: Outbox, family: tuple[int, list[int]]
) -> None:
    iid = start_dissent(api, family)

    assert api.instance(iid)["current_stage"] == "Conference dissent: DSL review"
    assert outbox.new(iid) == [("escalation_stage", a, "team_manager", None) for a in BOTH]
    (task,) = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"]) == (
        "dissent_dsl_review",
        "agency_manager",
        RAISING,
    )
    assert when(task["due_at"]) == utc("2026-12-24T17:00:00+00:00")  # 72 hours
    assert api.inbox("head", iid) == [("dissent_dsl_review", RAISING)]
    assert_problem(api.submit(task["id"], {}, "csc_manager"), 404)
    assert_problem(api.submit(task["id"], {}, "teacher"), 403)
    support = {"supports_dissent": True, "believes_child_at_risk": True}
    assert api.invalid(task["id"], support, "head") == ["#/data/written_representation"]
    representation = "The conference did not weigh the school's attendance evidence."
    api.complete(task["id"], {**support, "written_representation": representation}, "head")

    assert outbox.new(iid) == [("escalation_stage", a, "team_manager", None) for a in BOTH]
    (task,) = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"]) == (
        "dissent_response",
        "conference_chair",
        CSC,  # the council's children's social care (the csc_agency parameter)
    )
    assert when(task["due_at"]) == utc("2027-01-07T17:00:00+00:00")  # 10 working days
    assert api.instance(iid)["current_stage"] == (
        "Conference dissent: safeguarding manager response"
    )
    assert api.inbox("csc_manager", iid) == [("dissent_response", CSC)]
    assert_problem(api.submit(task["id"], {}, "head"), 404)  # only a CSC manager chairs
    assert api.invalid(task["id"], {"response": "x", "resolved": True}, "csc_manager") == [
        "#/data/decision",
        "#/data/learning_theme",
    ]
    after = api.complete(
        task["id"], {"response": "The decision stands.", "resolved": False}, "csc_manager"
    )

    assert after["current_stage"] == STAGE_NAMES[3]
    assert due_of(api, iid, "stage3_response") == STAGE_DUE[1]  # the normal 5 working days
    assert outbox.new(iid) == [
        ("escalation_stage", a, "team_manager", None) for a in [*BOTH, PARTNERSHIP]
    ]


def test_conference_dissent_resolved_or_not_supported_is_closed_with_an_outcome(
    api: Api, outbox: Outbox, family: tuple[int, list[int]]
) -> None:
    resolved = start_dissent(api, family)
    api.work(
        resolved,
        "dissent_dsl_review",
        {"supports_dissent": True, "believes_child_at_risk": False, "written_representation": "."},
        "head",
    )
    outbox.new()
    final = api.work(
        resolved,
        "dissent_response",
        {
            "response": "An early review is agreed.",
            "resolved": True,
            "decision": "Early review conference within 4 weeks.",
            "learning_theme": "communication",
        },
        "csc_manager",
    )
    assert final["status"] == "completed"
    assert (final["summary"]["decision"], final["summary"]["stage_reached"]) == (
        "Early review conference within 4 weeks.",
        0,
    )
    assert outbox.new(resolved) == OUTCOME_NOTICES

    not_supported = start_dissent(api, family)
    task = api.task_for(not_supported, "dissent_dsl_review")
    refuse = {"supports_dissent": False, "believes_child_at_risk": False}
    assert api.invalid(task, refuse, "head") == ["#/data/decision", "#/data/learning_theme"]
    outbox.new()
    final = api.complete(
        task,
        {**refuse, "decision": "The plan addresses the concern.", "learning_theme": "thresholds"},
        "head",
    )
    assert final["status"] == "completed"
    assert final["summary"]["decision"] == "The plan addresses the concern."
    assert outbox.new(not_supported) == OUTCOME_NOTICES


def test_conference_dissent_lapses_when_not_confirmed_within_72_hours(
    app: Flask, api: Api, outbox: Outbox, clock: FakeClock, family: tuple[int, list[int]]
) -> None:
    iid = start_dissent(api, family)
    outbox.new()

    assert fire_at(app, clock, "2026-12-24T16:59:00+00:00") == 0
    assert api.ready_names(iid) == ["dissent_dsl_review"]

    assert fire_at(app, clock, "2026-12-24T17:00:01+00:00") == 1
    detail = api.instance(iid)
    assert detail["status"] == "completed"
    assert detail["ready_tasks"] == []
    assert detail["summary"]["decision"].startswith("The formal dissent was not confirmed")
    assert outbox.new(iid) == OUTCOME_NOTICES
    assert api.inbox("head", iid) == []


def test_slow_dissent_response_goes_to_stage_three(
    app: Flask, api: Api, clock: FakeClock, family: tuple[int, list[int]]
) -> None:
    iid = start_dissent(api, family)
    api.work(
        iid,
        "dissent_dsl_review",
        {"supports_dissent": True, "believes_child_at_risk": True, "written_representation": "."},
        "head",
    )
    assert fire_at(app, clock, "2027-01-07T17:00:01+00:00") == 1
    assert api.ready_names(iid) == ["stage3_response"]
    assert api.instance(iid)["current_stage"] == STAGE_NAMES[3]
    assert due_of(api, iid, "stage3_response") == STAGE_DUE[3]


# -- who may work which task ----------------------------------------------------------------------


def test_the_respondents_agency_responds_and_only_the_raiser_records_the_discussion(
    api: Api, family: tuple[int, list[int]]
) -> None:
    iid = raise_concern(api, family)["id"]
    response = api.task_for(iid, "stage1_response")

    assert api.inbox("social_worker", iid) == [("stage1_response", RESPONDING)]
    assert api.inbox("teacher", iid) == []
    assert_problem(api.call("get", f"/tasks/{response}", "teacher"), 404)
    assert_problem(api.submit(response, RESPONSE, "teacher"), 404)
    assert_problem(api.submit(response, RESPONSE, "owner"), 403)
    assert api.invalid(response, {"position": "x"}, "social_worker") == [
        "#/data/bearing_on_risk",
        "#/data/risk_increased",
    ]
    api.complete(response, RESPONSE, "social_worker")

    discuss = api.task_for(iid, "stage1_discussion")
    assert api.inbox("teacher", iid) == [("stage1_discussion", RAISING)]
    assert api.inbox("teacher2", iid) == []
    assert api.ok("get", f"/tasks/{discuss}", "teacher2")["assignee"] == "teacher"
    assert_problem(api.submit(discuss, discussion(resolved=True), "teacher2"), 403)
    assert_problem(api.submit(discuss, discussion(resolved=True), "social_worker"), 404)
    assert api.complete(discuss, discussion(resolved=True), "teacher")["status"] == "completed"


def test_start_form_is_validated_on_the_server(api: Api, family: tuple[int, list[int]]) -> None:
    body = {
        "process_key": KEY,
        "data": start_data(family, conference_dissent=True, category="everything"),
    }
    problem = assert_problem(api.call("post", "/process-instances", "teacher", body), 422)
    assert sorted(e["pointer"] for e in problem["errors"]) == [
        "#/data/category",
        "#/data/conference_date",
    ]
    unknown = {"process_key": KEY, "data": start_data((999999, family[1]))}
    problem = assert_problem(api.call("post", "/process-instances", "teacher", unknown), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["#/data/family_id"]
    assert api.instances(process_key=KEY) == []
