"""The shipped mdt_meeting process: invitations, the meeting record, actions and follow-on routes.

The clock starts on Monday 21 December 2026 at 10:00 UTC; 25 and 28 December and 1 January are
bank holidays. Deadlines close at 17:00 London time (UTC in winter).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
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

KEY = "mdt_meeting"
FORMS = ROOT / "forms"
AGENCIES = ["police", "health", "school"]
CONVENOR = "s.ahmed"
CONVENING_AGENCY = "shropshire_csc"
SYSTEM_KEYS = ("started_by", "started_by_agency", "parent_reference")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


# -- helpers ----------------------------------------------------------------------------------


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def start_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "family_id": 41,
        "subject_person_ids": [101, 102, 103],
        "meeting_reason": "stalled_progress",
        "purpose": "Agree how agencies support the children's attendance and home conditions.",
        "questions": "Why has attendance fallen since October? Who is best placed to visit?",
        "urgency": "routine",
        "invited_agencies": list(AGENCIES),
        "meeting_date": "2027-01-06",
        "family_invited": True,
        "family_preferred_format": "Phone call to mum, then a letter",
        "started_by": CONVENOR,
        "started_by_agency": CONVENING_AGENCY,
    }
    data.update(overrides)
    return data


def meeting_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "meeting_held_on": "2027-01-06",
        "attendance": [
            {
                "name": "Sara Ahmed",
                "role": "Social worker",
                "organisation": "Children's social care",
            },
            {"name": "PC Jo Lane", "role": "Police officer", "organisation": "West Mercia Police"},
            {"name": "Ann Pryce", "role": "School nurse", "organisation": "NHS Shropshire"},
        ],
        "apologies": [{"name": "Mr Bell", "role": "Head teacher", "organisation": "Oak Primary"}],
        "family_participation": "attended",
        "information_shared": [
            {
                "agency": "police",
                "observed": "Two call-outs for noise since November.",
                "verified": "Checked against the incident log.",
                "uncertain": "Who else is living at the address.",
            },
            {"agency": "health", "observed": "Missed two health appointments."},
        ],
        "child_lived_experience": "The eldest says mornings are chaotic; she gets others ready.",
        "analysis": "Neglect is emerging; the eldest is taking on a caring role.",
        "decisions": [
            {
                "decision": "Offer a young carers assessment.",
                "reasons": "The eldest is a young carer.",
            },
        ],
        "dissent": False,
        "actions": [
            {
                "description": "Young carers assessment",
                "owner_agency": "health",
                "due_date": "2027-01-13",
            },
            {
                "description": "Share incident history",
                "owner_agency": "police",
                "due_date": "2027-01-14",
            },
        ],
        "outcome": "close",
    }
    record.update(overrides)
    return record


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


def data_of(driver: Driver, name: str, index: int = 0) -> dict[str, Any]:
    """The data a ready task sees (the instance's current variables on that branch)."""
    assert driver.state is not None
    task = driver.ready(name)[index]
    return driver.engine.task_data(driver.process, driver.state.serialized, task.id)


def fire_at(driver: Driver, clock: FakeClock, iso: str) -> ProcessState:
    clock.move_to(iso)
    return driver.fire()


def answer_invitations(driver: Driver) -> None:
    """Police accept, health send a substitute, school decline with a reason."""
    replies = {
        "police": {"response": "accepted"},
        "health": {"response": "substitute", "substitute_role": "Health visitor"},
        "school": {"response": "declined", "decline_reason": "Inset day; we will send a report."},
    }
    for agency, reply in replies.items():
        index = [t.agency for t in driver.ready("respond_to_invitation")].index(agency)
        driver.complete("respond_to_invitation", reply, index)


def load_form(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((FORMS / name).read_text(encoding="utf-8"))
    return schema


@pytest.fixture
def process(engine: SpiffEngine) -> CompiledProcess:
    return compile_shipped(engine, KEY)


@pytest.fixture
def mdt(engine: SpiffEngine, process: CompiledProcess) -> Driver:
    return Driver(engine, process)


# -- the deployed definition ------------------------------------------------------------------


def test_compiles_with_known_lanes_forms_and_parameters(process: CompiledProcess) -> None:
    assert process.key == KEY
    assert process.start_form == "mdt_meeting_start.schema.json"
    assert set(process.lanes) == {"convenor", "agency_manager", "invitee", "action_owner"}
    assert process.parameters == {
        "dsl_endorsement_required": False,
        "endorsement_days": 1,
        "response_days": 2,
        "manager_notice_days": 1,
        "notes_days": 1,
        "action_manager_notice_days": 1,
        "action_chair_notice_days": 1,
    }
    forms = {name: info.form_key for name, info in process.tasks.items()}
    assert forms == {
        "endorse_request": "mdt_endorse_request.schema.json",
        "respond_to_invitation": "mdt_respond_to_invitation.schema.json",
        "record_meeting": "mdt_record_meeting.schema.json",
        "complete_action": "mdt_complete_action.schema.json",
    }
    lanes = {name: info.lane for name, info in process.tasks.items()}
    assert lanes == {
        "endorse_request": "agency_manager",
        "respond_to_invitation": "invitee",
        "record_meeting": "convenor",
        "complete_action": "action_owner",
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


# -- invitations ------------------------------------------------------------------------------


def test_every_agency_is_invited_in_parallel(mdt: Driver) -> None:
    state = mdt.start(start_data())

    assert notices(state) == [("mdt_invitation", a, "practitioner", None) for a in AGENCIES]
    invitations = mdt.ready("respond_to_invitation")
    assert [t.agency for t in invitations] == AGENCIES
    assert {t.lane for t in invitations} == {"invitee"}
    assert {t.due_at for t in invitations} == {utc("2026-12-23T17:00:00+00:00")}  # 2 working days
    record = mdt.ready("record_meeting")[0]
    assert (record.lane, record.agency, record.assignee) == ("convenor", CONVENING_AGENCY, CONVENOR)
    assert record.due_at == utc("2027-01-07T17:00:00+00:00")  # 1 working day after the meeting
    assert data_of(mdt, "record_meeting")["stage"] == "Invitations sent"
    assert state.data["stage"] == "Invitations sent"
    assert not state.completed


def test_replies_are_recorded_per_agency(mdt: Driver, clock: FakeClock) -> None:
    mdt.start(start_data(invited_agencies=[*AGENCIES, "housing"]))
    answer_invitations(mdt)
    assert [t.agency for t in mdt.ready("respond_to_invitation")] == ["housing"]

    fire_at(
        mdt, clock, "2027-01-06T17:00:01+00:00"
    )  # the meeting day is over: housing never replied
    mdt.complete("record_meeting", meeting_record(actions=[]))
    state = mdt.state
    assert state is not None
    assert state.completed

    assert state.data["responses"] == {
        "police": {"response": "accepted", "reason": None, "substitute_role": None},
        "health": {"response": "substitute", "reason": None, "substitute_role": "Health visitor"},
        "school": {
            "response": "declined",
            "reason": "Inset day; we will send a report.",
            "substitute_role": None,
        },
        "housing": {"response": "no_response", "reason": None, "substitute_role": None},
    }
    assert state.data["not_attending"] == ["housing", "school"]


def test_no_reply_reminds_then_tells_that_agencys_manager_only(
    mdt: Driver, clock: FakeClock
) -> None:
    state = mdt.start(start_data())
    state = mdt.complete("respond_to_invitation", {"response": "accepted"}, 0)  # police

    reminders = [
        (t.element_id, t.due_at) for t in state.waiting_timers if "invitation" in t.element_id
    ]
    assert ("invitation_reminder_due", utc("2026-12-23T17:00:00+00:00")) in reminders
    assert ("invitation_manager_due", utc("2026-12-24T17:00:00+00:00")) in reminders

    state = fire_at(mdt, clock, "2026-12-23T16:59:00+00:00")
    assert notices(state) == []
    state = fire_at(mdt, clock, "2026-12-23T17:00:01+00:00")
    assert notices(state) == [
        ("reminder", "health", "practitioner", None),
        ("reminder", "school", "practitioner", None),
    ]
    state = mdt.complete("respond_to_invitation", {"response": "accepted"}, 0)  # health
    state = fire_at(mdt, clock, "2026-12-24T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "school", "team_manager", None)]
    assert [t.agency for t in mdt.ready("respond_to_invitation")] == ["school"]
    assert not state.completed


def test_invitation_timescales_are_process_owner_parameters(
    engine: SpiffEngine, process: CompiledProcess, clock: FakeClock
) -> None:
    mdt = Driver(
        engine, process, params={"response_days": 1, "manager_notice_days": 2, "notes_days": 2}
    )
    state = mdt.start(start_data())

    due = {t.element_id: t.due_at for t in state.waiting_timers}
    assert due["invitation_reminder_due"] == utc("2026-12-22T17:00:00+00:00")
    assert due["invitation_manager_due"] == utc("2026-12-24T17:00:00+00:00")
    assert {t.due_at for t in mdt.ready("respond_to_invitation")} == {
        utc("2026-12-22T17:00:00+00:00")
    }
    assert mdt.ready("record_meeting")[0].due_at == utc("2027-01-08T17:00:00+00:00")


def test_invitations_close_at_the_end_of_the_meeting_day(mdt: Driver, clock: FakeClock) -> None:
    mdt.start(start_data())
    state = fire_at(mdt, clock, "2027-01-06T16:59:59+00:00")
    assert len(mdt.ready("respond_to_invitation")) == 3

    state = fire_at(mdt, clock, "2027-01-06T17:00:01+00:00")
    assert mdt.ready_names() == ["record_meeting"]
    assert not state.completed


# -- the meeting record and notes -------------------------------------------------------------


def test_late_notes_remind_the_convenor_then_their_manager(mdt: Driver, clock: FakeClock) -> None:
    mdt.start(start_data())
    answer_invitations(mdt)

    state = fire_at(mdt, clock, "2027-01-07T17:00:01+00:00")
    assert notices(state) == [("reminder", CONVENING_AGENCY, None, CONVENOR)]
    state = fire_at(mdt, clock, "2027-01-08T17:00:01+00:00")
    assert notices(state) == [("manager_notice", CONVENING_AGENCY, "team_manager", None)]
    assert mdt.ready_names() == ["record_meeting"]
    assert not state.completed


def test_notes_are_circulated_to_every_agency(mdt: Driver) -> None:
    mdt.start(start_data())
    answer_invitations(mdt)
    state = mdt.complete("record_meeting", meeting_record(actions=[]))

    circulated = [n for n in notices(state) if n[0] == "outcome"]
    assert circulated == [("outcome", a, None, None) for a in sorted([*AGENCIES, CONVENING_AGENCY])]
    assert state.completed
    assert state.data["outcome"] == "close"
    assert state.data["stage"] == "Closed"
    assert process_starts(state) == []


@pytest.mark.parametrize(
    ("outcome", "key", "extra"),
    [
        ("referral", "referral", {"origin": "mdt_meeting"}),
        ("early_help", "early_help", {"route": "early_help", "origin": "mdt_meeting"}),
    ],
)
def test_outcome_starts_referral_or_early_help(
    mdt: Driver, outcome: str, key: str, extra: dict[str, Any]
) -> None:
    mdt.start(start_data())
    answer_invitations(mdt)
    state = mdt.complete("record_meeting", meeting_record(outcome=outcome, actions=[]))

    assert process_starts(state) == [
        (key, {"family_id": 41, "subject_person_ids": [101, 102, 103], **extra})
    ]
    assert state.data["outcome"] == outcome
    assert state.completed
    [(_key, data)] = process_starts(state)
    assert validate_form(load_form(f"{key}_start.schema.json"), data) == []


def test_disagreement_starts_an_escalation_the_escalation_form_accepts(mdt: Driver) -> None:
    mdt.start(start_data())
    answer_invitations(mdt)
    record = meeting_record(
        outcome="escalation",
        dissent=True,
        dissent_details="Police disagree that a section 47 enquiry is not needed.",
        dissent_resolution="Not resolved; to be escalated.",
        escalation_responding_agency="police",
        escalation_category="threshold",
        escalation_disputed_decision="The decision not to share the full incident history.",
        escalation_why_it_matters="The children's safety plan depends on it.",
        escalation_outcome_sought="The history is shared before the next review.",
        actions=[],
    )
    state = mdt.complete("record_meeting", record)

    [(key, data)] = process_starts(state)
    assert key == "escalation"
    assert data == {
        "family_id": 41,
        "subject_person_ids": [101, 102, 103],
        "raising_agency": CONVENING_AGENCY,
        "responding_agency": "police",
        "category": "threshold",
        "disputed_decision": "The decision not to share the full incident history.",
        "why_it_matters": "The children's safety plan depends on it.",
        "outcome_sought": "The history is shared before the next review.",
        "immediate_risk": False,
        "conference_dissent": False,
    }
    assert validate_form(load_form("escalation_start.schema.json"), data) == []


def test_next_meeting_starts_another_mdt_meeting_the_start_form_accepts(mdt: Driver) -> None:
    mdt.start(start_data())
    answer_invitations(mdt)
    record = meeting_record(
        outcome="next_meeting",
        next_meeting_date="2027-02-03",
        next_meeting_purpose="Review the young carers assessment and attendance.",
        actions=[],
    )
    state = mdt.complete("record_meeting", record)

    [(key, data)] = process_starts(state)
    assert key == KEY
    assert data["meeting_date"] == "2027-02-03"
    assert data["purpose"] == "Review the young carers assessment and attendance."
    assert data["invited_agencies"] == AGENCIES
    assert validate_form(load_form("mdt_meeting_start.schema.json"), data) == []
    assert state.completed


# -- actions ----------------------------------------------------------------------------------


def test_each_action_is_a_task_for_its_owners_agency(mdt: Driver) -> None:
    mdt.start(start_data())
    answer_invitations(mdt)
    state = mdt.complete("record_meeting", meeting_record())

    assert ("task_assigned", "health", "practitioner", None) in notices(state)
    assert ("task_assigned", "police", "practitioner", None) in notices(state)
    actions = mdt.ready("complete_action")
    assert [(t.lane, t.agency, t.due_at) for t in actions] == [
        ("action_owner", "health", utc("2027-01-13T17:00:00+00:00")),
        ("action_owner", "police", utc("2027-01-14T17:00:00+00:00")),
    ]
    assert data_of(mdt, "complete_action")["stage"] == "Notes circulated: actions in progress"
    assert state.data["stage"] == "Notes circulated: actions in progress"

    state = mdt.complete(
        "complete_action", {"completed_on": "2027-01-12", "what_was_done": "Assessed."}
    )
    assert not state.completed
    state = mdt.complete(
        "complete_action", {"completed_on": "2027-01-14", "what_was_done": "Shared."}
    )
    assert state.completed
    assert [r["owner_agency"] for r in state.data["action_results"]] == ["health", "police"]


def test_overdue_action_reminds_owner_then_manager_then_chair(
    mdt: Driver, clock: FakeClock
) -> None:
    mdt.start(start_data())
    answer_invitations(mdt)
    actions = [{"description": "Home visit", "owner_agency": "health", "due_date": "2027-01-13"}]
    mdt.complete("record_meeting", meeting_record(actions=actions))

    state = fire_at(mdt, clock, "2027-01-13T17:00:01+00:00")
    assert notices(state) == [("reminder", "health", "practitioner", None)]
    state = fire_at(mdt, clock, "2027-01-14T17:00:01+00:00")
    assert notices(state) == [("manager_notice", "health", "team_manager", None)]
    state = fire_at(mdt, clock, "2027-01-15T17:00:01+00:00")
    assert notices(state) == [("manager_notice", CONVENING_AGENCY, None, CONVENOR)]
    assert mdt.ready_names() == ["complete_action"]
    assert not state.completed

    state = mdt.complete(
        "complete_action", {"completed_on": "2027-01-18", "what_was_done": "Visited."}
    )
    assert state.completed
    assert state.data["action_results"][0]["completed_late"] is True


def test_process_waits_for_open_invitations_before_closing(mdt: Driver, clock: FakeClock) -> None:
    mdt.start(start_data(meeting_date="2027-01-08"))
    mdt.complete("respond_to_invitation", {"response": "accepted"}, 0)
    state = mdt.complete("record_meeting", meeting_record(meeting_held_on="2027-01-08", actions=[]))
    assert not state.completed
    assert len(mdt.ready("respond_to_invitation")) == 2
    assert state.data["stage"] == "Notes circulated: actions in progress"

    state = fire_at(mdt, clock, "2027-01-08T17:00:01+00:00")
    assert state.completed
    assert state.data["responses"]["health"]["response"] == "no_response"


def test_stage_does_not_go_back_when_invitations_close_after_the_record(
    mdt: Driver, clock: FakeClock
) -> None:
    mdt.start(start_data(invited_agencies=[*AGENCIES, "housing"]))
    answer_invitations(mdt)  # housing never replies
    state = mdt.complete("record_meeting", meeting_record())
    assert state.data["stage"] == "Notes circulated: actions in progress"

    state = fire_at(mdt, clock, "2027-01-06T17:00:01+00:00")  # the invitation side finishes now
    assert "complete_action" in mdt.ready_names()
    # The application keeps the last stage it saw; the invitation side never reports an older one.
    assert state.data.get("stage", "unchanged") in (
        "unchanged",
        "Notes circulated: actions in progress",
    )


# -- optional DSL endorsement -----------------------------------------------------------------


def test_endorsement_is_asked_for_only_when_switched_on(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    mdt = Driver(engine, process, params={"dsl_endorsement_required": True})
    state = mdt.start(start_data())

    assert mdt.ready_names() == ["endorse_request"]
    task = mdt.ready("endorse_request")[0]
    assert (task.lane, task.agency) == ("agency_manager", CONVENING_AGENCY)
    assert task.due_at == utc("2026-12-22T17:00:00+00:00")
    assert data_of(mdt, "endorse_request")["stage"] == "Awaiting DSL endorsement"
    assert notices(state) == []

    state = mdt.complete("endorse_request", {"endorsed": True})
    assert [n[0] for n in notices(state)] == ["mdt_invitation"] * 3
    assert sorted(set(mdt.ready_names())) == ["record_meeting", "respond_to_invitation"]


def test_request_not_endorsed_is_closed_and_the_convenor_told(
    engine: SpiffEngine, process: CompiledProcess
) -> None:
    mdt = Driver(engine, process, params={"dsl_endorsement_required": True})
    mdt.start(start_data())
    state = mdt.complete(
        "endorse_request",
        {"endorsed": False, "not_endorsed_reason": "Use the existing core group instead."},
    )

    assert notices(state) == [("outcome", CONVENING_AGENCY, None, CONVENOR)]
    assert state.completed
    assert state.data["outcome"] == "not_endorsed"
    assert state.data["stage"] == "Closed: request not endorsed"


def test_endorsement_is_skipped_by_default(mdt: Driver) -> None:
    mdt.start(start_data())
    assert "endorse_request" not in mdt.ready_names()


# -- the longest realistic repetition: many actions --------------------------------------------


def test_twenty_actions_keep_the_tree_shallow_and_the_state_bounded(mdt: Driver) -> None:
    """A large meeting: every action is its own parallel instance, tracked to completion."""
    mdt.start(start_data())
    answer_invitations(mdt)
    actions = [
        {
            "description": f"Action {n}",
            "owner_agency": AGENCIES[n % 3],
            "due_date": f"2027-02-{1 + n:02d}",
        }
        for n in range(20)
    ]
    mdt.complete("record_meeting", meeting_record(actions=actions))
    sizes: list[int] = []
    for n in range(20):
        assert mdt.state is not None
        assert not mdt.state.completed
        assert len(mdt.ready("complete_action")) == 20 - n
        state = mdt.complete(
            "complete_action", {"completed_on": "2027-01-20", "what_was_done": "Done."}
        )
        sizes.append(len(state.serialized))
        assert state.tree_depth < 40

    assert mdt.state is not None
    assert mdt.state.completed
    assert len(mdt.state.data["action_results"]) == 20
    assert sizes[-1] <= 1.5 * sizes[4]


# -- forms ------------------------------------------------------------------------------------

EXAMPLES: dict[str, dict[str, Any]] = {
    "mdt_meeting_start.schema.json": start_data(),
    "mdt_endorse_request.schema.json": {
        "endorsed": False,
        "not_endorsed_reason": "The core group meets next week and can cover this.",
    },
    "mdt_respond_to_invitation.schema.json": {
        "response": "declined",
        "decline_reason": "Our officer is in court; we will send a written summary.",
        "observed": "Two call-outs for noise since November.",
        "verified": "Incident log checked.",
        "uncertain": "Who else lives at the address.",
        "sharing_basis": "risk_of_harm",
    },
    "mdt_record_meeting.schema.json": meeting_record(
        outcome="next_meeting",
        next_meeting_date="2027-02-03",
        next_meeting_purpose="Review progress.",
        dissent=True,
        dissent_details="Health disagreed about the timescale.",
        dissent_resolution="Agreed to review in four weeks.",
    ),
    "mdt_complete_action.schema.json": {
        "completed_on": "2027-01-12",
        "what_was_done": "Young carers assessment completed with the eldest child.",
        "difference_for_child": "She now has a young carers worker.",
    },
}


def test_every_form_the_process_uses_ships_with_an_example(process: CompiledProcess) -> None:
    assert set(process.forms) == set(EXAMPLES)
    assert sorted(p.name for p in FORMS.glob("mdt_*.schema.json")) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_form_is_valid_and_a_realistic_answer_validates(name: str) -> None:
    schema = load_form(name)
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(EXAMPLES[name])
    assert validate_form(schema, EXAMPLES[name]) == []
    if name == "mdt_meeting_start.schema.json":
        # The start page fills the family and system keys itself and renders the rest.
        hidden = {"family_id", "subject_person_ids", *SYSTEM_KEYS}
        schema = {
            **schema,
            "properties": {k: v for k, v in schema["properties"].items() if k not in hidden},
            "required": [k for k in schema["required"] if k not in hidden],
        }
    assert check_form_schema(schema) == []


def test_start_form_declares_the_keys_the_api_adds() -> None:
    properties = load_form("mdt_meeting_start.schema.json")["properties"]
    assert set(SYSTEM_KEYS) <= set(properties)


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"response": "declined"}, "decline_reason"),
        ({"response": "substitute"}, "substitute_role"),
    ],
)
def test_invitation_reply_needs_a_reason_or_substitute(answer: dict[str, Any], field: str) -> None:
    errors = validate_form(load_form("mdt_respond_to_invitation.schema.json"), answer)
    assert [e.field for e in errors] == [field]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"dissent": True}, ["dissent_details", "dissent_resolution"]),
        ({"outcome": "next_meeting"}, ["next_meeting_date", "next_meeting_purpose"]),
        (
            {"outcome": "escalation"},
            [
                "escalation_responding_agency",
                "escalation_category",
                "escalation_disputed_decision",
                "escalation_why_it_matters",
                "escalation_outcome_sought",
            ],
        ),
    ],
)
def test_meeting_record_requires_what_its_answers_reveal(
    overrides: dict[str, Any], fields: list[str]
) -> None:
    errors = validate_form(load_form("mdt_record_meeting.schema.json"), meeting_record(**overrides))
    assert sorted(e.field for e in errors) == sorted(fields)


def test_forms_are_shipped_only_under_the_mdt_prefix() -> None:
    for name in EXAMPLES:
        assert name.startswith("mdt_")
        assert Path(FORMS / name).is_file()
