"""The shipped escalation process: stages 1 to 4, immediate risk, conference dissent and outcomes.

The clock starts on Monday 21 December 2026 at 10:00 UTC; 25 and 28 December and 1 January are
bank holidays. Deadlines close at 17:00 London time (UTC in winter).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import (  # no stubs installed
    Draft202012Validator,
    FormatChecker,
)

from domain.forms import check_form_schema, validate_form
from engine import CompiledProcess, ProcessState
from engine.spiff import SpiffEngine
from engine.xmlsafe import parse_bpmn_bytes
from tests.engine.conftest import ROOT, Driver, FakeClock, compile_shipped

KEY = "escalation"
FORMS = ROOT / "forms"
RAISER = "j.okafor"
RAISING = "oak_primary"
RESPONDING = "shropshire_csc"
PARTNERSHIP = "sscp"
BOTH = [RAISING, RESPONDING]
STAGE_NAMES = {
    1: "Stage 1: practitioners",
    2: "Stage 2: agency managers",
    3: "Stage 3: senior managers",
    4: "Stage 4: safeguarding partnership",
}
# Close of each stage when every stage runs to its timer (5, 5, 5 and 10 working days).
STAGE_DUE = {
    1: "2026-12-30T17:00:00+00:00",
    2: "2027-01-07T17:00:00+00:00",
    3: "2027-01-14T17:00:00+00:00",
    4: "2027-01-28T17:00:00+00:00",
}
SYSTEM_KEYS = ("started_by", "started_by_agency", "parent_reference")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


# -- helpers ----------------------------------------------------------------------------------


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def start_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "family_id": 41,
        "subject_person_ids": [101, 102],
        "responding_agency": RESPONDING,
        "disputed_decision": "The referral of 14 December was closed with no further action.",
        "category": "referral_decision",
        "why_it_matters": "The children are still arriving hungry and unkempt most days.",
        "outcome_sought": "A child and family assessment.",
        "immediate_risk": False,
        "conference_dissent": False,
        "started_by": RAISER,
        "started_by_agency": RAISING,
    }
    data.update(overrides)
    return data


RESPONSE: dict[str, Any] = {
    "position": "The threshold for an assessment was not met on the information we had.",
    "agreements": "The children's presentation is a concern.",
    "bearing_on_risk": "Neglect may be escalating.",
    "risk_increased": False,
}


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
                },
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


def notices(state: ProcessState) -> list[tuple[str, str | None, str | None, str | None]]:
    """(event, agency, role, user) of every notification requested in the last step."""
    return [
        (
            str(c.params["event"]),
            c.params.get("agency"),
            c.params.get("role"),
            c.params.get("user"),
        )
        for c in state.service_calls
        if c.operator == "notify"
    ]


def process_starts(state: ProcessState) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (str(c.params["process_key"]), c.params["data"])
        for c in state.service_calls
        if c.operator == "start_process"
    ]


URGENT_REFERRAL = (
    "referral",
    {"family_id": 41, "subject_person_ids": [101, 102], "origin": "escalation", "urgent": True},
)


def data_of(driver: Driver, name: str) -> dict[str, Any]:
    assert driver.state is not None
    task = driver.ready(name)[0]
    return driver.engine.task_data(driver.process, driver.state.serialized, task.id)


def fire_at(driver: Driver, clock: FakeClock, iso: str) -> ProcessState:
    clock.move_to(iso)
    return driver.fire()


def after(iso: str) -> str:
    """One second after an ISO instant."""
    return (datetime.fromisoformat(iso).replace(second=1)).isoformat()


def run_to_stage(driver: Driver, clock: FakeClock, stage: int) -> ProcessState:
    """Start and let the timers move the disagreement up until `stage` is open."""
    state = driver.start(start_data())
    for n in range(1, stage):
        state = fire_at(driver, clock, after(STAGE_DUE[n]))
    return state


def load_form(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((FORMS / name).read_text(encoding="utf-8"))
    return schema


@pytest.fixture
def process(engine: SpiffEngine) -> CompiledProcess:
    return compile_shipped(engine, KEY)


@pytest.fixture
def esc(engine: SpiffEngine, process: CompiledProcess) -> Driver:
    return Driver(engine, process)


# -- the deployed definition ------------------------------------------------------------------


def test_compiles_with_known_lanes_forms_and_parameters(process: CompiledProcess) -> None:
    assert process.key == KEY
    assert process.start_form == "escalation_start.schema.json"
    assert set(process.lanes) == {
        "raiser",
        "respondent",
        "agency_manager",
        "conference_chair",
        "senior_manager",
        "partnership",
    }
    assert process.parameters == {
        "csc_agency": "csc",
        "partnership_agency": "sscp",
        "stage1_days": 5,
        "stage2_days": 5,
        "stage3_days": 5,
        "stage4_days": 10,
        "stage4_chase_days": 5,
        "immediate_risk_days": 1,
        "dissent_raise_hours": 72,
        "dissent_response_days": 10,
    }
    tasks = {name: (info.lane, info.form_key) for name, info in process.tasks.items()}
    assert tasks == {
        "stage1_response": ("respondent", "escalation_stage_response.schema.json"),
        "stage1_discussion": ("raiser", "escalation_stage_discussion.schema.json"),
        "stage2_response": ("agency_manager", "escalation_stage_response.schema.json"),
        "stage2_discussion": ("agency_manager", "escalation_stage_discussion.schema.json"),
        "stage3_response": ("senior_manager", "escalation_stage_response.schema.json"),
        "stage3_discussion": ("senior_manager", "escalation_stage_discussion.schema.json"),
        "stage4_decision": ("partnership", "escalation_stage4_decision.schema.json"),
        "dissent_dsl_review": ("agency_manager", "escalation_dissent_dsl_review.schema.json"),
        "dissent_response": ("conference_chair", "escalation_dissent_response.schema.json"),
    }


def test_every_user_task_has_a_form_and_a_due_date(process: CompiledProcess) -> None:
    root = parse_bpmn_bytes(process.bpmn[f"{KEY}.bpmn"].encode(), f"{KEY}.bpmn").getroot()
    ns = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
    tasks = root.findall(".//bpmn:userTask", ns)
    assert {t.get("id") for t in tasks} == set(process.tasks)
    for task in tasks:
        names = {p.get("name") for p in task.findall(".//spiffworkflow:property", ns)}
        assert "formJsonSchemaFilename" in names, task.get("id")
        assert names & {"dueAt", "dueWorkingDays"}, task.get("id")


# -- stage 1 ----------------------------------------------------------------------------------


def test_recording_opens_stage_one_and_tells_both_agencies(esc: Driver) -> None:
    state = esc.start(start_data())

    assert notices(state) == [("escalation_stage", a, "practitioner", None) for a in BOTH]
    task = esc.ready("stage1_response")[0]
    assert (task.lane, task.agency, task.due_at) == ("respondent", RESPONDING, utc(STAGE_DUE[1]))
    seen = data_of(esc, "stage1_response")
    assert seen["stage"] == STAGE_NAMES[1]
    assert (seen["raising_agency"], seen["raiser"], seen["stage_reached"]) == (RAISING, RAISER, 1)
    assert state.next_timer_due_at == utc(STAGE_DUE[1])
    assert state.data["stage"] == STAGE_NAMES[1]
    assert not state.completed


def test_stage_one_resolution_is_shared_as_a_written_outcome(esc: Driver) -> None:
    esc.start(start_data())
    esc.complete("stage1_response", RESPONSE)
    task = esc.ready("stage1_discussion")[0]
    assert (task.lane, task.agency, task.assignee, task.due_at) == (
        "raiser", RAISING, RAISER, utc(STAGE_DUE[1]),
    )  # fmt: skip

    state = esc.complete("stage1_discussion", discussion(resolved=True))

    assert notices(state) == [
        ("outcome", RAISING, None, None),
        ("outcome", RESPONDING, None, None),
        ("outcome", RAISING, None, RAISER),
    ]
    assert process_starts(state) == []
    assert state.completed
    assert state.data["stage_reached"] == 1
    assert state.data["resolved_at_stage"] == STAGE_NAMES[1]
    assert state.data["theme"] == "thresholds"
    assert state.data["outcome"] == "resolved"
    assert state.data["outcome_statement"] == {
        "decision": "CSC will open a child and family assessment.",
        "actions": [
            {
                "description": "Open an assessment",
                "owner_agency": RESPONDING,
                "due_date": "2027-01-08",
            },
        ],
        "stage_reached": 1,
        "resolved_at_stage": STAGE_NAMES[1],
        "category": "referral_decision",
    }


def test_unresolved_stage_moves_up_straight_away(esc: Driver) -> None:
    esc.start(start_data())
    esc.complete("stage1_response", RESPONSE)
    state = esc.complete("stage1_discussion", discussion(resolved=False))

    assert notices(state) == [("escalation_stage", a, "team_manager", None) for a in BOTH]
    task = esc.ready("stage2_response")[0]
    assert (task.lane, task.agency) == ("agency_manager", RESPONDING)
    assert task.due_at == utc("2026-12-30T17:00:00+00:00")  # 5 working days from Monday 21 December
    assert data_of(esc, "stage2_response")["stage"] == STAGE_NAMES[2]
    assert not state.completed


def test_timer_on_the_discussion_moves_the_disagreement_up(esc: Driver, clock: FakeClock) -> None:
    esc.start(start_data())
    esc.complete("stage1_response", RESPONSE)

    state = fire_at(esc, clock, "2026-12-30T16:59:59+00:00")
    assert esc.ready_names() == ["stage1_discussion"]
    state = fire_at(esc, clock, after(STAGE_DUE[1]))
    assert esc.ready_names() == ["stage2_response"]
    assert [n[0] for n in notices(state)] == ["escalation_stage"] * 2


def test_each_stage_timer_moves_an_unresolved_disagreement_up(
    esc: Driver, clock: FakeClock
) -> None:
    state = esc.start(start_data())
    expected = {
        2: ("stage2_response", "agency_manager", "team_manager", BOTH),
        3: ("stage3_response", "senior_manager", "team_manager", [*BOTH, PARTNERSHIP]),
    }
    for n, (task_name, lane, role, recipients) in expected.items():
        state = fire_at(esc, clock, after(STAGE_DUE[n - 1]))
        assert notices(state) == [("escalation_stage", a, role, None) for a in recipients]
        task = esc.ready(task_name)[0]
        assert (task.lane, task.agency, task.due_at) == (lane, RESPONDING, utc(STAGE_DUE[n]))
        assert data_of(esc, task_name)["stage"] == STAGE_NAMES[n]
        assert state.data["stage"] == STAGE_NAMES[n]
        assert data_of(esc, task_name)["stage_reached"] == n

    state = fire_at(esc, clock, after(STAGE_DUE[3]))
    assert notices(state) == [
        ("escalation_stage", a, "team_manager", None) for a in [*BOTH, PARTNERSHIP]
    ]
    task = esc.ready("stage4_decision")[0]
    assert (task.lane, task.due_at) == ("partnership", utc(STAGE_DUE[4]))
    assert data_of(esc, "stage4_decision")["stage"] == STAGE_NAMES[4]
    assert not state.completed


def test_stage_timescales_are_process_owner_parameters(
    engine: SpiffEngine, process: CompiledProcess, clock: FakeClock
) -> None:
    esc = Driver(engine, process, params={"stage1_days": 2, "stage2_days": 1})
    esc.start(start_data())
    assert esc.ready("stage1_response")[0].due_at == utc("2026-12-23T17:00:00+00:00")

    fire_at(esc, clock, "2026-12-23T17:00:01+00:00")
    assert esc.ready("stage2_response")[0].due_at == utc("2026-12-24T17:00:00+00:00")


def test_later_stages_resolve_with_the_stage_reached(esc: Driver, clock: FakeClock) -> None:
    run_to_stage(esc, clock, 3)
    esc.complete("stage3_response", RESPONSE)
    task = esc.ready("stage3_discussion")[0]
    assert (task.lane, task.agency, task.assignee) == ("senior_manager", RAISING, None)

    state = esc.complete("stage3_discussion", discussion(resolved=True, learning_theme="roles"))

    assert state.completed
    assert state.data["stage_reached"] == 3
    assert state.data["resolved_at_stage"] == STAGE_NAMES[3]
    assert state.data["theme"] == "roles"


# -- immediate risk and increased risk ---------------------------------------------------------


def test_immediate_risk_refers_now_and_starts_at_stage_three(esc: Driver, clock: FakeClock) -> None:
    state = esc.start(start_data(immediate_risk=True))

    assert process_starts(state) == [URGENT_REFERRAL]
    assert validate_form(load_form("referral_start.schema.json"), URGENT_REFERRAL[1]) == []
    assert notices(state) == [
        ("escalation_stage", a, "team_manager", None) for a in [*BOTH, PARTNERSHIP]
    ]
    task = esc.ready("stage3_response")[0]
    assert task.lane == "senior_manager"
    assert task.due_at == utc("2026-12-22T17:00:00+00:00")  # 1 working day
    assert data_of(esc, "stage3_response")["stage"] == STAGE_NAMES[3]

    state = fire_at(esc, clock, "2026-12-22T17:00:01+00:00")
    task = esc.ready("stage4_decision")[0]
    assert task.due_at == utc("2027-01-08T17:00:00+00:00")  # 10 working days
    assert not state.completed


def test_risk_increased_refers_without_stopping_the_stage(esc: Driver) -> None:
    esc.start(start_data())
    state = esc.complete("stage1_response", {**RESPONSE, "risk_increased": True})

    assert process_starts(state) == [URGENT_REFERRAL]
    assert esc.ready_names() == ["stage1_discussion"]

    state = esc.complete("stage1_discussion", discussion(resolved=False, risk_increased=True))
    assert process_starts(state) == [URGENT_REFERRAL]
    assert esc.ready_names() == ["stage2_response"]

    esc.complete("stage2_response", RESPONSE)
    state = esc.complete("stage2_discussion", discussion(resolved=True, risk_increased=True))
    assert process_starts(state) == [URGENT_REFERRAL]
    assert state.completed
    assert state.data["resolved_at_stage"] == STAGE_NAMES[2]


# -- stage 4 ----------------------------------------------------------------------------------


def test_stage_four_decision_is_final(esc: Driver, clock: FakeClock) -> None:
    run_to_stage(esc, clock, 4)
    state = esc.complete("stage4_decision", {**STAGE4_DECISION, "risk_increased": True})

    assert process_starts(state) == [URGENT_REFERRAL]
    assert state.completed
    assert state.data["stage_reached"] == 4
    assert state.data["resolved_at_stage"] == STAGE_NAMES[4]
    assert state.data["outcome_statement"]["decision"] == STAGE4_DECISION["decision"]
    assert state.data["outcome_statement"]["actions"] == STAGE4_DECISION["actions"]
    assert ("outcome", RAISING, None, RAISER) in notices(state)


def test_overdue_partnership_decision_is_chased(esc: Driver, clock: FakeClock) -> None:
    run_to_stage(esc, clock, 4)
    first = esc.ready("stage4_decision")[0]

    state = fire_at(esc, clock, after(STAGE_DUE[4]))
    assert notices(state) == [("reminder", PARTNERSHIP, "team_manager", None)]
    again = esc.ready("stage4_decision")[0]
    assert again.id != first.id
    assert again.due_at == utc("2027-02-04T17:00:00+00:00")  # then every 5 working days
    assert not state.completed

    state = esc.complete("stage4_decision", STAGE4_DECISION)
    assert state.completed


def test_thirty_chases_keep_the_tree_shallow_and_the_state_bounded(
    esc: Driver, clock: FakeClock
) -> None:
    """The longest realistic repetition: the partnership's decision chased 30 times."""
    run_to_stage(esc, clock, 4)
    sizes: list[int] = []
    for _ in range(30):
        state = esc.state
        assert state is not None
        assert not state.completed
        due = esc.ready("stage4_decision")[0].due_at
        assert due is not None
        assert state.next_timer_due_at == due
        clock.now = due
        clock.advance(seconds=1)
        state = esc.fire()
        assert notices(state) == [("reminder", PARTNERSHIP, "team_manager", None)]
        assert state.tree_depth < 30
        sizes.append(len(state.serialized))

    assert sizes[-1] <= 1.5 * sizes[4]
    assert esc.ready_names() == ["stage4_decision"]
    state = esc.complete("stage4_decision", STAGE4_DECISION)
    assert state.completed
    assert state.data["outcome_statement"]["stage_reached"] == 4


# -- dissent from a child protection conference ------------------------------------------------


def start_dissent(esc: Driver) -> ProcessState:
    return esc.start(
        start_data(conference_dissent=True, conference_date="2026-12-21", category="threshold")
    )


def test_dissent_goes_to_the_dsl_within_72_hours(esc: Driver) -> None:
    state = start_dissent(esc)

    assert notices(state) == [("escalation_stage", a, "team_manager", None) for a in BOTH]
    task = esc.ready("dissent_dsl_review")[0]
    assert (task.lane, task.agency) == ("agency_manager", RAISING)
    assert task.due_at == utc("2026-12-24T17:00:00+00:00")
    assert data_of(esc, "dissent_dsl_review")["stage"] == "Conference dissent: DSL review"
    assert "stage1_response" not in esc.ready_names()


def test_supported_dissent_resolved_by_the_safeguarding_manager(esc: Driver) -> None:
    start_dissent(esc)
    state = esc.complete(
        "dissent_dsl_review",
        {"supports_dissent": True, "believes_child_at_risk": True, "written_representation": "..."},
    )
    assert notices(state) == [("escalation_stage", a, "team_manager", None) for a in BOTH]
    task = esc.ready("dissent_response")[0]
    assert task.lane == "conference_chair"
    assert task.due_at == utc("2027-01-07T17:00:00+00:00")  # 10 working days
    assert data_of(esc, "dissent_response")["stage"] == (
        "Conference dissent: safeguarding manager response"
    )

    state = esc.complete(
        "dissent_response",
        {
            "response": "The plan will be reviewed at an early review conference.",
            "resolved": True,
            "decision": "Early review conference within 4 weeks.",
            "learning_theme": "communication",
        },
    )
    assert state.completed
    assert state.data["stage_reached"] == 0
    assert state.data["resolved_at_stage"] == "Conference dissent: safeguarding manager response"
    assert state.data["theme"] == "communication"
    assert state.data["outcome_statement"]["actions"] == []


def test_unresolved_dissent_goes_to_stage_three(esc: Driver) -> None:
    start_dissent(esc)
    esc.complete(
        "dissent_dsl_review",
        {"supports_dissent": True, "believes_child_at_risk": True, "written_representation": "..."},
    )
    state = esc.complete(
        "dissent_response", {"response": "The decision stands.", "resolved": False}
    )

    task = esc.ready("stage3_response")[0]
    assert task.due_at == utc("2026-12-30T17:00:00+00:00")  # the normal 5 working days
    assert notices(state) == [
        ("escalation_stage", a, "team_manager", None) for a in [*BOTH, PARTNERSHIP]
    ]
    assert not state.completed


def test_slow_dissent_response_goes_to_stage_three(esc: Driver, clock: FakeClock) -> None:
    start_dissent(esc)
    esc.complete(
        "dissent_dsl_review",
        {
            "supports_dissent": True,
            "believes_child_at_risk": False,
            "written_representation": "...",
        },
    )
    fire_at(esc, clock, "2027-01-07T17:00:01+00:00")
    assert esc.ready_names() == ["stage3_response"]
    assert data_of(esc, "stage3_response")["stage"] == STAGE_NAMES[3]


def test_dissent_not_supported_by_the_dsl_is_closed_with_reasons(esc: Driver) -> None:
    start_dissent(esc)
    state = esc.complete(
        "dissent_dsl_review",
        {
            "supports_dissent": False,
            "believes_child_at_risk": False,
            "decision": "The plan addresses the concern; the dissent is minuted.",
            "learning_theme": "thresholds",
        },
    )
    assert state.completed
    assert state.data["outcome_statement"]["decision"] == (
        "The plan addresses the concern; the dissent is minuted."
    )
    assert state.data["resolved_at_stage"] == "Conference dissent: DSL review"
    assert ("outcome", RAISING, None, RAISER) in notices(state)


def test_dissent_lapses_when_not_confirmed_within_72_hours(esc: Driver, clock: FakeClock) -> None:
    start_dissent(esc)
    state = fire_at(esc, clock, "2026-12-24T16:59:00+00:00")
    assert esc.ready_names() == ["dissent_dsl_review"]

    state = fire_at(esc, clock, "2026-12-24T17:00:01+00:00")
    assert state.completed
    assert state.data["outcome_statement"]["decision"].startswith(
        "The formal dissent was not confirmed"
    )
    assert state.data["theme"] == "threshold"
    assert [n[0] for n in notices(state)] == ["outcome"] * 3


def test_dissent_window_is_a_process_owner_parameter(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    esc = Driver(engine, process, params={"dissent_raise_hours": 48})
    start_dissent(esc)
    assert esc.ready("dissent_dsl_review")[0].due_at == utc("2026-12-23T17:00:00+00:00")


# -- who raised it ----------------------------------------------------------------------------


def test_raising_agency_can_be_given_by_the_starting_process(esc: Driver) -> None:
    """An MDT outcome starts an escalation on behalf of the convening agency."""
    data = start_data(raising_agency="west_mercia_police")
    del data["started_by_agency"]
    state = esc.start(data)
    assert notices(state) == [
        ("escalation_stage", a, "practitioner", None) for a in ["west_mercia_police", RESPONDING]
    ]
    assert esc.ready("stage1_discussion") == []
    esc.complete("stage1_response", RESPONSE)
    assert esc.ready("stage1_discussion")[0].agency == "west_mercia_police"


def test_no_starter_still_runs_and_tells_both_agencies(esc: Driver) -> None:
    data = start_data(raising_agency=RAISING)
    del data["started_by"], data["started_by_agency"]
    esc.start(data)
    esc.complete("stage1_response", RESPONSE)
    assert esc.ready("stage1_discussion")[0].assignee is None
    state = esc.complete("stage1_discussion", discussion(resolved=True))
    assert notices(state)[-1] == ("outcome", RAISING, None, None)


# -- forms ------------------------------------------------------------------------------------

EXAMPLES: dict[str, dict[str, Any]] = {
    "escalation_start.schema.json": start_data(
        conference_dissent=True, conference_date="2026-12-18"
    ),
    "escalation_stage_response.schema.json": RESPONSE,
    "escalation_stage_discussion.schema.json": discussion(resolved=True),
    "escalation_stage4_decision.schema.json": STAGE4_DECISION,
    "escalation_dissent_dsl_review.schema.json": {
        "supports_dissent": True,
        "believes_child_at_risk": True,
        "written_representation": "The conference did not weigh the school's attendance evidence.",
    },
    "escalation_dissent_response.schema.json": {
        "response": "The evidence was considered; an early review is agreed.",
        "resolved": True,
        "decision": "Early review conference within 4 weeks.",
        "learning_theme": "communication",
        "actions": [
            {"description": "Book the review", "owner_agency": RESPONDING, "due_date": "2027-01-15"}
        ],
    },
}


def test_every_form_the_process_uses_ships_with_an_example(process: CompiledProcess) -> None:
    assert set(process.forms) == set(EXAMPLES)
    assert sorted(p.name for p in FORMS.glob("escalation_*.schema.json")) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_form_is_valid_and_a_realistic_answer_validates(name: str) -> None:
    schema = load_form(name)
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(EXAMPLES[name])
    assert validate_form(schema, EXAMPLES[name]) == []
    if name == "escalation_start.schema.json":
        # The start page fills the family and system keys itself and renders the rest.
        hidden = {"family_id", "subject_person_ids", *SYSTEM_KEYS}
        schema = {
            **schema,
            "properties": {k: v for k, v in schema["properties"].items() if k not in hidden},
            "required": [k for k in schema["required"] if k not in hidden],
        }
    assert check_form_schema(schema) == []


def test_start_form_declares_the_keys_the_api_adds() -> None:
    properties = load_form("escalation_start.schema.json")["properties"]
    assert set(SYSTEM_KEYS) <= set(properties)


@pytest.mark.parametrize(
    ("form", "answer", "fields"),
    [
        ("escalation_start.schema.json", start_data(conference_dissent=True), ["conference_date"]),
        (
            "escalation_stage_discussion.schema.json",
            {**discussion(resolved=False), "resolved": True},
            ["decision", "learning_theme"],
        ),
        (
            "escalation_dissent_dsl_review.schema.json",
            {"supports_dissent": True, "believes_child_at_risk": False},
            ["written_representation"],
        ),
        (
            "escalation_dissent_dsl_review.schema.json",
            {"supports_dissent": False, "believes_child_at_risk": False},
            ["decision", "learning_theme"],
        ),
        (
            "escalation_dissent_response.schema.json",
            {"response": "x", "resolved": True},
            ["decision", "learning_theme"],
        ),
    ],
)
def test_forms_require_what_their_answers_reveal(
    form: str, answer: dict[str, Any], fields: list[str]
) -> None:
    answer = {k: v for k, v in answer.items() if k not in SYSTEM_KEYS}
    errors = validate_form(load_form(form), answer)
    assert sorted(e.field for e in errors) == sorted(fields)
