"""The shipped early_help process end to end through the HTTP API.

Every branch the engine tests drive (tests/engine/test_early_help.py) is driven here through
`/api/v1` instead: real families created through the families API, each task completed by a user
of the right role and agency (found in their inbox), each timer fired by the timer worker on the
injected clock, follow-on referrals checked through the instances API and the Think Family view.
Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

The clock starts on Monday 21 December 2026 at 10:00 UTC; 25 and 28 December and 1 January are
bank holidays. Deadlines close at 17:00 London time (UTC in winter, 16:00 UTC in summer).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.process_helpers import (
    INSTANCES,
    Api,
    Crew,
    FamilyRecord,
    Json,
    Notice,
    PersonSpec,
    create_family,
    fire_due_timers,
    notices,
    problem,
)
from tests.conftest import FakeClock
from tests.engine.test_early_help import (
    DISABLED_ROUTE_TASKS,
    DONE,
    LEAD,
    LEAD_AGENCY,
    LEAD_PRACTITIONER,
    SAFEGUARDING_WORDS,
    SINGLE_AGENCY_PLAN,
    SUPPORT_ASSESSMENT,
    SUPPORT_REQUEST,
    first_taf,
    needs,
    support_review,
    taf_review,
    triage,
)

KEY = "early_help"
REQUESTER = "k.patel"
"""A school's family support worker (education practitioner at oak_primary)."""
REQUESTER_AGENCY = "oak_primary"
SUPPORT_LEAD = "d.morris"
SUPPORT_AGENCY = "shropshire_disabled_children"
EH_MANAGER_NOTICE = Notice("manager_notice", "early_help", "team_manager", None)
USER_TASKS = {
    "early_help_identify_needs",
    "early_help_triage_request",
    "early_help_consent",
    "early_help_consult_front_door",
    "early_help_single_agency_plan",
    "early_help_agree_lead_practitioner",
    "early_help_family_assessment",
    "early_help_first_taf",
    "early_help_action",
    "early_help_taf_review",
    "early_help_support_request",
    "early_help_support_consent",
    "early_help_support_assessment",
    "early_help_support_review",
}
QURESHI_FAMILY = (
    PersonSpec("mum", "Sana", "Qureshi", "F", "1985-09-30"),
    PersonSpec("amir", "Amir", "Qureshi", "M", "2014-05-01", child_of=("mum",)),
    PersonSpec("lina", "Lina", "Qureshi", "F", "2023-01-15", child_of=("mum",)),
)
"""Amir (12) has cerebral palsy; his sister Lina is 3."""


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    """Every shipped process deployed (early help steps up to referrals)."""
    driver = Api(app, client, Crew(app, client))
    driver.deploy()
    driver.crew.make_agencies()
    for lead in (LEAD, SUPPORT_LEAD):  # named as leads: they must have an account
        driver.crew.headers(lead)
    return driver


@pytest.fixture
def fam(api: Api) -> FamilyRecord:
    """Mum, her partner, Jay (7), Mia (4) and baby Rae, recorded by the requester."""
    return create_family(api.client, api.crew.headers(REQUESTER))


@pytest.fixture
def qureshis(api: Api) -> FamilyRecord:
    """Sana Qureshi with Amir (12, disabled) and Lina (3)."""
    return create_family(
        api.client, api.crew.headers(REQUESTER), QURESHI_FAMILY, name="Qureshi household"
    )


# -- answers that name family members -------------------------------------------------------------


def start_data(fam: FamilyRecord, *children: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "family_id": fam.id,
        "subject_person_ids": fam.ids(*(children or ("jay", "mia"))),
    }
    data.update(overrides)
    return data


def consent(fam: FamilyRecord, given: bool = True, **overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "consent_status": "given" if given else "refused",
        "consents": [
            {
                "person": str(fam.people["mum"]),
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


def family_assessment(fam: FamilyRecord) -> dict[str, Any]:
    return {
        "family_members": [
            {
                "person": str(fam.people["baby"]),
                "strengths": "Feeding well.",
                "needs": "Health visitor checks are overdue.",
            },
            {
                "person": str(fam.people["mia"]),
                "strengths": "Loves nursery.",
                "needs": "Sleep routine.",
                "views": "Too young to say; seems settled at nursery.",
            },
            {"person": str(fam.people["jay"]), "strengths": "Football.", "needs": "Lateness."},
            {"person": str(fam.people["mum"]), "strengths": "Committed.", "needs": "Low mood."},
        ],
        "observed": "The home was warm and tidy; Jay was anxious about being late.",
        "verified": "Attendance confirmed with the school office.",
        "uncertain": "How much contact the children have with their dad.",
        "family_goals": "Calmer mornings and Jay on time for school.",
    }


def support_consent(fam: FamilyRecord, route: str | None = "short_breaks") -> dict[str, Any]:
    answer: dict[str, Any] = {
        "consent_status": "given" if route else "not_given",
        "consents": [
            {
                "person": str(fam.people["mum"]),
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
            answer["support_lead_agency"] = SUPPORT_AGENCY
            answer["support_lead_username"] = SUPPORT_LEAD
    return answer


# -- journeys -------------------------------------------------------------------------------------


def start(
    api: Api, fam: FamilyRecord, username: str = REQUESTER, *children: str, **data: Any
) -> int:
    """`username` asks for help for the children (Jay and Mia unless named)."""
    return int(api.start(username, KEY, start_data(fam, *children, **data))["id"])


def to_consent(api: Api, fam: FamilyRecord, level: str = "level_3") -> int:
    iid = start(api, fam)
    api.complete(iid, "early_help_identify_needs", needs(level))
    return iid


def to_lead_practitioner(api: Api, fam: FamilyRecord) -> int:
    iid = to_consent(api, fam)
    api.complete(iid, "early_help_consent", consent(fam))
    return iid


def to_plan(api: Api, fam: FamilyRecord) -> int:
    iid = to_lead_practitioner(api, fam)
    api.complete(iid, "early_help_agree_lead_practitioner", LEAD_PRACTITIONER)
    api.complete(iid, "early_help_family_assessment", family_assessment(fam))
    api.complete(iid, "early_help_first_taf", first_taf())
    return iid


def finish_actions(api: Api, iid: int) -> None:
    api.complete_all(iid, "early_help_action", DONE)


def to_support(api: Api, fam: FamilyRecord, route: str | None = "short_breaks") -> int:
    """Support for Amir, who is disabled, asked for by the school's family support worker."""
    iid = start(api, fam, REQUESTER, "amir", route="disabled_child_support")
    api.complete(iid, "early_help_support_request", SUPPORT_REQUEST)
    api.complete(iid, "early_help_support_consent", support_consent(fam, route))
    return iid


def fire_at(api: Api, clock: FakeClock, iso: str) -> int:
    """Move the injected clock and let the timer worker fire what is due."""
    clock.move_to(iso)
    return fire_due_timers(api.app)


def assert_completed(api: Api, iid: int, outcome: str) -> Json:
    detail = api.instance(iid)
    assert detail["status"] == "completed", detail
    assert (detail["ready_tasks"], detail["timers"]) == ([], [])
    assert detail["summary"]["outcome"] == outcome
    return detail


def one_referral(api: Api, iid: int, fam: FamilyRecord, referrer: str) -> Json:
    """The single referral the early help instance started, listed through the API; its first
    task is for the practitioner whose answer made the referral."""
    [referral] = api.follow_ons(iid, "referral")
    assert [i["id"] for i in api.instances(process_key="referral", family_id=fam.id)] == [
        referral["id"]
    ]
    assert referral["status"] == "active"
    assert referral["summary"]["urgent"] is False
    assert (referral["family_id"], referral["subject_person_ids"]) == (
        fam.id,
        api.instance(iid)["subject_person_ids"],
    )
    [task] = referral["ready_tasks"]
    assert (task["element_id"], task["assignee"]) == ("referral_record_concern", referrer)
    assert task["id"] in [t["id"] for t in api.inbox(referrer, referral["id"])]
    return referral


def view_processes(api: Api, fam: FamilyRecord, username: str = REQUESTER) -> dict[int, Json]:
    """The Think Family view's processes by instance id."""
    return {p["instance_id"]: p for p in api.family_view(fam.id, username)["processes"]}


def no_referral(api: Api) -> None:
    assert api.instances(process_key="referral") == []


# -- the request ----------------------------------------------------------------------------------


def test_practitioners_request_goes_back_to_them_to_judge_the_level(
    api: Api, fam: FamilyRecord
) -> None:
    instance = api.start(REQUESTER, KEY, start_data(fam))

    [task] = instance["ready_tasks"]
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "early_help_identify_needs",
        "practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
    )
    assert task["due_at"] == "2026-12-30T17:00:00+00:00"  # 5 working days
    assert instance["current_stage"] == "Request for early help"
    assert instance["summary"]["route"] == "early_help"
    assert [t["id"] for t in api.inbox(REQUESTER)] == [task["id"]]
    assert api.inbox("r.jones") == []  # a colleague at the same school
    assert problem(api.submit(task["id"], needs(), "r.jones"), 403)["code"] == "forbidden"


@pytest.mark.parametrize(
    ("origin", "starter"),
    [("front_door", "fd.worker"), ("social_care", "fd.worker"), ("mdt_meeting", "nurse.ali")],
)
def test_request_from_another_service_is_triaged_and_allocated_by_early_help(
    api: Api, fam: FamilyRecord, origin: str, starter: str
) -> None:
    iid = start(api, fam, starter, origin=origin)

    [task] = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "early_help_triage_request",
        "early_help",
        "early_help",  # the early help hub (the early_help_agency parameter)
        None,
    )
    assert task["id"] in [t["id"] for t in api.inbox("eh.manager", iid)]
    # the police may not triage early help requests: not even disclosed to them
    assert problem(api.submit(task["id"], triage(), "pc.smith"), 404)["code"] == "not-found"
    # the lead must be someone who can sign in, and in the agency chosen: else nobody could
    # ever do the tasks assigned to them
    for who, message in (
        ("nosuchperson", "Select who in that agency will lead"),
        ("eh.worker", "choose someone in shropshire_health_visiting who can do this work"),
    ):
        answer = {**triage(), "allocated_username": who}
        body = problem(api.submit(task["id"], answer, "eh.worker"), 422)
        assert [e["pointer"] for e in body["errors"]] == ["#/data/allocated_username"], who
        assert message in body["errors"][0]["detail"], body
    api.complete(iid, "early_help_triage_request", triage(), username="eh.worker")

    consent_task = api.task(iid, "early_help_consent")
    assert (consent_task["lane"], consent_task["agency_code"], consent_task["assignee"]) == (
        "practitioner",
        LEAD_AGENCY,
        LEAD,
    )
    assert api.inbox(REQUESTER, iid) == []
    # the lead reads who was named by name, not by user name
    from tests.web.helpers_reports import sign_in

    sign_in(api.app, api.client, LEAD)
    page = api.client.get(f"/tasks/{consent_task['id']}").get_data(as_text=True)
    assert re.search(
        r"Who in that agency will lead\?</dt>\s*<dd[^>]*>\s*<span[^>]*>H\.Evans,", page
    )
    api.complete(iid, "early_help_consent", consent(fam))
    assert api.task(iid, "early_help_agree_lead_practitioner")["assignee"] == LEAD


def test_safeguarding_concern_starts_a_referral(api: Api, fam: FamilyRecord) -> None:
    iid = start(api, fam)
    api.complete(iid, "early_help_identify_needs", needs(None))

    detail = assert_completed(api, iid, "referred_to_front_door")
    assert detail["current_stage"] == "Referred to the front door"
    referral = one_referral(api, iid, fam, REQUESTER)
    processes = view_processes(api, fam)
    assert {i: (p["process_key"], p["status"]) for i, p in processes.items()} == {
        iid: ("early_help", "completed"),
        referral["id"]: ("referral", "active"),
    }
    assert processes[referral["id"]]["current_stage"] == "Contact"


def test_level_one_is_advice_and_ends(api: Api, fam: FamilyRecord) -> None:
    iid = to_consent(api, fam, "level_1")
    detail = assert_completed(api, iid, "advice")
    assert detail["current_stage"] == "Closed: advice and information"
    no_referral(api)
    [process] = view_processes(api, fam).values()
    assert (process["status"], process["open"], process["current_stage"]) == (
        "completed",
        False,
        None,
    )


@pytest.mark.parametrize("level", ["level_2", "level_3"])
def test_levels_two_and_three_ask_the_family_for_consent(
    api: Api, fam: FamilyRecord, level: str
) -> None:
    iid = to_consent(api, fam, level)
    [task] = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "early_help_consent",
        "practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
    )
    assert api.instance(iid)["current_stage"] == "Consent to early help"


# -- consent --------------------------------------------------------------------------------------


def test_refusal_that_does_not_raise_the_risk_is_recorded_and_closes(
    api: Api, fam: FamilyRecord
) -> None:
    iid = to_consent(api, fam)
    api.complete(iid, "early_help_consent", consent(fam, given=False))
    detail = assert_completed(api, iid, "consent_refused")
    assert detail["current_stage"] == "Consent refused"
    no_referral(api)


@pytest.mark.parametrize("advice", ["refer", "keep_offering"])
def test_refusal_that_raises_the_risk_consults_the_front_door(
    api: Api, fam: FamilyRecord, advice: str
) -> None:
    iid = to_consent(api, fam)
    api.complete(iid, "early_help_consent", consent(fam, given=False, refusal_raises_risk=True))

    task = api.task(iid, "early_help_consult_front_door")
    assert (task["lane"], task["agency_code"], task["due_at"]) == (
        "front_door",
        "csc",  # the council's front door (the csc_agency parameter)
        "2026-12-22T17:00:00+00:00",
    )
    assert problem(api.submit(task["id"], {}, REQUESTER), 404)["code"] == "not-found"
    answer = {"front_door_advice": advice, "advice_details": "The baby has not been seen."}
    api.complete(iid, "early_help_consult_front_door", answer, username="fd.worker")

    if advice == "refer":
        assert_completed(api, iid, "referred_to_front_door")
        one_referral(api, iid, fam, "fd.worker")
    else:
        detail = assert_completed(api, iid, "consent_refused")
        assert detail["current_stage"] == "Closed: consent refused"
        no_referral(api)


# -- lead practitioner, assessment and the first Team Around the Family meeting -------------------


def test_level_three_agrees_a_lead_practitioner_then_assesses_the_whole_family(
    api: Api, fam: FamilyRecord
) -> None:
    iid = to_lead_practitioner(api, fam)

    [task] = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "early_help_agree_lead_practitioner",
        "lead_practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
    )
    assert api.timers(iid) == {"early_help_first_taf_overdue": "2027-02-01T17:00:00+00:00"}
    api.complete(iid, "early_help_agree_lead_practitioner", LEAD_PRACTITIONER)

    [task] = api.ready(iid)
    assert (task["element_id"], task["agency_code"], task["assignee"], task["due_at"]) == (
        "early_help_family_assessment",
        LEAD_AGENCY,
        LEAD,
        "2027-02-01T17:00:00+00:00",
    )
    assert api.inbox(REQUESTER, iid) == []  # the lead practitioner now holds the case
    assert problem(api.submit(task["id"], family_assessment(fam), REQUESTER), 404)["code"] == (
        "not-found"
    )
    api.complete(iid, "early_help_family_assessment", family_assessment(fam))
    [task] = api.ready(iid)
    assert (task["element_id"], task["assignee"], task["due_at"]) == (
        "early_help_first_taf",
        LEAD,
        "2027-02-01T17:00:00+00:00",
    )


def test_lead_practitioner_without_a_user_name_is_anyone_in_their_agency(
    api: Api, fam: FamilyRecord
) -> None:
    api.crew.add("hv.second", ["practitioner"], LEAD_AGENCY)
    iid = to_lead_practitioner(api, fam)
    answer = {k: v for k, v in LEAD_PRACTITIONER.items() if k != "lp_username"}
    api.complete(iid, "early_help_agree_lead_practitioner", answer)

    task = api.task(iid, "early_help_family_assessment")
    assert (task["agency_code"], task["assignee"]) == (LEAD_AGENCY, None)
    for username in (LEAD, "hv.second"):
        assert task["id"] in [t["id"] for t in api.inbox(username, iid)]
    api.complete(iid, "early_help_family_assessment", family_assessment(fam), username="hv.second")
    assert api.ready_names(iid) == ["early_help_first_taf"]


def test_late_first_meeting_tells_the_early_help_manager(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = to_lead_practitioner(api, fam)
    api.complete(iid, "early_help_agree_lead_practitioner", LEAD_PRACTITIONER)

    assert fire_at(api, clock, "2027-02-01T16:59:00+00:00") == 0
    assert notices(api.app, iid) == []
    assert fire_at(api, clock, "2027-02-01T17:00:01+00:00") == 1
    assert notices(api.app, iid) == [EH_MANAGER_NOTICE]
    assert api.ready_names(iid) == ["early_help_family_assessment"]
    assert api.instance(iid)["status"] == "active"
    assert fire_at(api, clock, "2027-02-08T17:00:01+00:00") == 0  # once only


def test_level_two_is_a_single_agency_plan_with_the_same_reviews(
    api: Api, fam: FamilyRecord
) -> None:
    iid = to_consent(api, fam, "level_2")
    api.complete(iid, "early_help_consent", consent(fam))

    [task] = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "early_help_single_agency_plan",
        "lead_practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
    )
    assert task["due_at"] == "2027-02-01T17:00:00+00:00"
    assert api.timers(iid) == {"early_help_first_taf_overdue": "2027-02-01T17:00:00+00:00"}
    api.complete(iid, "early_help_single_agency_plan", SINGLE_AGENCY_PLAN)
    assert api.ready_names(iid) == ["early_help_action", "early_help_action"]
    finish_actions(api, iid)
    assert api.ready_names(iid) == ["early_help_taf_review"]


# -- actions --------------------------------------------------------------------------------------


def test_each_action_is_a_task_for_its_owners_agency(api: Api, fam: FamilyRecord) -> None:
    iid = to_plan(api, fam)

    assert notices(api.app, iid) == [
        Notice("task_assigned", LEAD_AGENCY, "practitioner", None),
        Notice("task_assigned", "oak_primary", "practitioner", None),
    ]
    tasks = [t for t in api.ready(iid) if t["element_id"] == "early_help_action"]
    assert [(t["lane"], t["agency_code"], t["assignee"], t["due_at"]) for t in tasks] == [
        ("action_owner", LEAD_AGENCY, None, "2027-02-05T17:00:00+00:00"),
        ("action_owner", "oak_primary", None, "2027-02-12T17:00:00+00:00"),
    ]
    assert api.instance(iid)["current_stage"] == "Plan and review"
    health, school = tasks
    assert [t["id"] for t in api.inbox(LEAD, iid)] == [health["id"]]
    assert [t["id"] for t in api.inbox("k.patel", iid)] == [school["id"]]
    assert [t["id"] for t in api.inbox("r.jones", iid)] == [school["id"]]
    # an owner cannot complete another agency's action
    assert problem(api.submit(health["id"], DONE, "k.patel"), 404)["code"] == "not-found"
    api.complete(iid, "early_help_action", DONE, username="r.jones", index=1)
    assert [t["id"] for t in api.ready(iid)] == [health["id"]]

    task = api.task(iid, "early_help_action")
    body = problem(api.submit(task["id"], {"action_result": "cannot_be_done"}, LEAD), 422)
    assert [(e["pointer"], e["field"]) for e in body["errors"]] == [
        ("#/data/action_notes", "action_notes")
    ]


def test_overdue_action_reminds_the_owner_then_the_lead_practitioner_then_the_manager(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = to_plan(api, fam)
    api.complete(iid, "early_help_action", DONE, index=1)  # the school's action is done
    before = len(notices(api.app, iid))

    assert fire_at(api, clock, "2027-02-05T16:59:59+00:00") == 0
    assert fire_at(api, clock, "2027-02-05T17:00:01+00:00") == 1
    assert notices(api.app, iid)[before:] == [Notice("reminder", LEAD_AGENCY, "practitioner", None)]
    assert fire_at(api, clock, "2027-02-12T17:00:01+00:00") == 1
    assert notices(api.app, iid)[before + 1 :] == [
        Notice("reminder", LEAD_AGENCY, "practitioner", LEAD)
    ]
    assert fire_at(api, clock, "2027-02-19T17:00:01+00:00") == 1
    assert notices(api.app, iid)[before + 2 :] == [EH_MANAGER_NOTICE]
    assert api.ready_names(iid) == ["early_help_action"]
    assert api.instance(iid)["status"] == "active"
    api.complete(iid, "early_help_action", DONE)
    assert api.ready_names(iid) == ["early_help_taf_review"]


# -- reviews --------------------------------------------------------------------------------------


def test_review_is_due_eight_weeks_after_the_meeting_and_overdue_tells_the_manager(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = to_plan(api, fam)
    finish_actions(api, iid)

    [task] = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "early_help_taf_review",
        "lead_practitioner",
        LEAD_AGENCY,
        LEAD,
    )
    assert task["due_at"] == "2027-03-22T17:00:00+00:00"
    assert api.timers(iid) == {"early_help_review_overdue": "2027-03-22T17:00:00+00:00"}
    assert fire_at(api, clock, "2027-03-22T17:00:01+00:00") == 1
    assert notices(api.app, iid, "manager_notice") == [EH_MANAGER_NOTICE]
    assert api.ready_names(iid) == ["early_help_taf_review"]


def test_open_actions_are_carried_into_the_review_when_it_opens(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = to_plan(api, fam)
    api.complete(iid, "early_help_action", DONE)  # the health visitor's action is done
    before = len(notices(api.app, iid))

    # the worker was down for a month: the school's overdue reminders catch up at once
    assert fire_at(api, clock, "2027-03-15T16:59:00+00:00") >= 1
    assert notices(api.app, iid)[before:] == [
        Notice("reminder", "oak_primary", "practitioner", None),
        Notice("reminder", LEAD_AGENCY, "practitioner", LEAD),
        EH_MANAGER_NOTICE,
    ]
    assert api.ready_names(iid) == ["early_help_action"]

    assert fire_at(api, clock, "2027-03-15T17:00:01+00:00") == 1
    assert api.ready_names(iid) == ["early_help_taf_review"]
    detail = api.instance(iid)
    history = [t for t in detail["history"] if t["element_id"] == "early_help_action"]
    assert len(history) == 1  # the open action was withdrawn, not completed
    api.complete(iid, "early_help_taf_review", taf_review("2027-03-18"))
    tasks = [t for t in api.ready(iid) if t["element_id"] == "early_help_action"]
    assert [(t["agency_code"], t["due_at"]) for t in tasks] == [
        (LEAD_AGENCY, "2027-04-01T16:00:00+00:00"),
        ("oak_primary", "2027-04-08T16:00:00+00:00"),
    ]


def test_review_continues_with_a_revised_plan(api: Api, fam: FamilyRecord) -> None:
    iid = to_plan(api, fam)
    finish_actions(api, iid)
    task = api.task(iid, "early_help_taf_review")
    answer = {k: v for k, v in taf_review("2027-03-18").items() if k != "actions"}
    body = problem(api.submit(task["id"], answer, LEAD), 422)
    assert [e["field"] for e in body["errors"]] == ["actions"]

    after = api.complete(iid, "early_help_taf_review", taf_review("2027-03-18"))
    tasks = [t for t in after["ready_tasks"] if t["element_id"] == "early_help_action"]
    assert [(t["agency_code"], t["due_at"]) for t in tasks] == [
        (LEAD_AGENCY, "2027-04-01T16:00:00+00:00"),
        ("oak_primary", "2027-04-08T16:00:00+00:00"),
    ]
    assert after["status"] == "active"
    assert after["current_stage"] == "Plan and review"
    assert len(notices(api.app, iid, "task_assigned")) == 4


@pytest.mark.parametrize(
    ("choice", "outcome", "stage"),
    [
        ("step_up", "stepped_up", "Stepped up to the front door"),
        ("step_down", "stepped_down", "Stepped down"),
        ("close", "closed", "Closed"),
    ],
)
def test_review_ends_in_step_up_step_down_or_close(
    api: Api, fam: FamilyRecord, choice: str, outcome: str, stage: str
) -> None:
    iid = to_plan(api, fam)
    finish_actions(api, iid)
    api.complete(
        iid, "early_help_taf_review", taf_review("2027-03-18", choice, progress="worsening")
    )

    detail = assert_completed(api, iid, outcome)
    assert detail["current_stage"] == stage
    if choice == "step_up":
        referral = one_referral(api, iid, fam, LEAD)
        processes = view_processes(api, fam)
        assert (processes[iid]["status"], processes[referral["id"]]["status"]) == (
            "completed",
            "active",
        )
    else:
        no_referral(api)


# -- support for a disabled child -----------------------------------------------------------------


def test_support_for_a_disabled_child_takes_its_own_route_in_neutral_words(
    api: Api, qureshis: FamilyRecord
) -> None:
    iid = start(api, qureshis, REQUESTER, "amir", route="disabled_child_support")
    served: list[str] = []

    def record(element: str, username: str) -> Json:
        task = api.task(iid, element)
        detail = api.task_detail(task["id"], username)
        served.extend([detail["title"], json.dumps(detail["form_schema"])])
        served.append(api.instance(iid)["current_stage"])
        return task

    task = record("early_help_support_request", REQUESTER)
    assert (task["lane"], task["agency_code"], task["assignee"], task["due_at"]) == (
        "practitioner",
        REQUESTER_AGENCY,
        REQUESTER,
        "2026-12-30T17:00:00+00:00",
    )
    assert api.instance(iid)["current_stage"] == "Support for a disabled child: request"
    api.complete(iid, "early_help_support_request", SUPPORT_REQUEST)
    task = record("early_help_support_consent", REQUESTER)
    assert (task["lane"], task["assignee"]) == ("practitioner", REQUESTER)
    api.complete(iid, "early_help_support_consent", support_consent(qureshis))
    task = record("early_help_support_assessment", SUPPORT_LEAD)
    api.complete(iid, "early_help_support_assessment", SUPPORT_ASSESSMENT)
    record("early_help_support_review", SUPPORT_LEAD)
    served.extend(p["current_stage"] for p in view_processes(api, qureshis).values())
    served.extend(t["title"] for t in api.instance(iid)["history"])

    assert len(served) == 3 * len(DISABLED_ROUTE_TASKS) + 1 + 3
    for text in served:
        assert not SAFEGUARDING_WORDS.search(text), text


def test_a_worry_about_harm_is_referred_to_the_front_door(api: Api, qureshis: FamilyRecord) -> None:
    iid = start(api, qureshis, REQUESTER, "amir", route="disabled_child_support")
    api.complete(iid, "early_help_support_request", {**SUPPORT_REQUEST, "worry_about_harm": True})

    assert_completed(api, iid, "referred_to_front_door")
    referral = one_referral(api, iid, qureshis, REQUESTER)
    assert referral["subject_person_ids"] == qureshis.ids("amir")


@pytest.mark.parametrize(
    ("route", "outcome"), [(None, "not_proceeding"), ("local_offer", "local_offer")]
)
def test_family_may_not_go_ahead_or_may_use_the_local_offer(
    api: Api, qureshis: FamilyRecord, route: str | None, outcome: str
) -> None:
    iid = to_support(api, qureshis, route)
    assert_completed(api, iid, outcome)
    no_referral(api)


def test_early_help_assessment_route_joins_the_team_around_the_family(
    api: Api, qureshis: FamilyRecord
) -> None:
    iid = to_support(api, qureshis, "early_help_assessment")

    [task] = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "early_help_agree_lead_practitioner",
        "lead_practitioner",
        SUPPORT_AGENCY,
        SUPPORT_LEAD,
    )
    assert api.timers(iid) == {"early_help_first_taf_overdue": "2027-02-01T17:00:00+00:00"}
    assert api.instance(iid)["current_stage"] == "Assessment and plan"


@pytest.mark.parametrize(
    "route", ["short_breaks", "parent_carer_assessment", "overnight_breaks_assessment"]
)
def test_short_breaks_and_assessments_are_planned_and_reviewed(
    api: Api, qureshis: FamilyRecord, route: str
) -> None:
    iid = to_support(api, qureshis, route)

    [task] = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "early_help_support_assessment",
        "lead_practitioner",
        SUPPORT_AGENCY,
        SUPPORT_LEAD,
    )
    assert task["due_at"] == "2027-02-25T17:00:00+00:00"  # 45 working days
    assert api.instance(iid)["current_stage"] == "Support for a disabled child: assessment"
    assert problem(api.submit(task["id"], SUPPORT_ASSESSMENT, REQUESTER), 404)["code"] == (
        "not-found"
    )
    api.complete(
        iid, "early_help_support_assessment", {**SUPPORT_ASSESSMENT, "support_route": route}
    )
    [task] = api.ready(iid)
    assert (task["element_id"], task["due_at"]) == (
        "early_help_support_review",
        "2027-08-02T16:00:00+00:00",  # 26 weeks after the support starts
    )
    assert api.timers(iid) == {"early_help_support_review_overdue": "2027-08-02T16:00:00+00:00"}
    assert api.instance(iid)["status"] == "active"


def test_overdue_support_review_tells_the_lead_workers_manager(
    api: Api, qureshis: FamilyRecord, clock: FakeClock
) -> None:
    iid = to_support(api, qureshis)
    api.complete(iid, "early_help_support_assessment", SUPPORT_ASSESSMENT)

    assert fire_at(api, clock, "2027-08-02T15:59:59+00:00") == 0
    assert fire_at(api, clock, "2027-08-02T16:00:01+00:00") == 1
    assert notices(api.app, iid) == [Notice("manager_notice", SUPPORT_AGENCY, "team_manager", None)]
    assert api.ready_names(iid) == ["early_help_support_review"]


def test_worry_at_a_review_refers_while_the_support_carries_on(
    api: Api, qureshis: FamilyRecord
) -> None:
    iid = to_support(api, qureshis)
    api.complete(iid, "early_help_support_assessment", SUPPORT_ASSESSMENT)
    api.complete(
        iid, "early_help_support_review", support_review("2027-07-26", worry_about_harm=True)
    )

    one_referral(api, iid, qureshis, SUPPORT_LEAD)
    [task] = api.ready(iid)
    assert (task["element_id"], task["due_at"]) == (
        "early_help_support_review",
        "2028-01-24T17:00:00+00:00",
    )
    assert api.instance(iid)["status"] == "active"


def test_support_ends_only_when_the_family_agree(api: Api, qureshis: FamilyRecord) -> None:
    iid = to_support(api, qureshis)
    api.complete(iid, "early_help_support_assessment", SUPPORT_ASSESSMENT)
    task = api.task(iid, "early_help_support_review")

    answer = support_review("2027-07-26", "end", family_agrees_to_end=False)
    body = problem(api.submit(task["id"], answer, SUPPORT_LEAD), 422)
    assert [(e["field"], e["detail"]) for e in body["errors"]] == [
        ("family_agrees_to_end", "Support for a disabled child ends only when the family agree")
    ]
    api.complete(iid, "early_help_support_review", support_review("2027-07-26", "end"))
    detail = assert_completed(api, iid, "support_ended")
    assert detail["current_stage"] == "Support ended"


# -- server-side validation of every form ---------------------------------------------------------


def test_start_form_is_validated(api: Api, fam: FamilyRecord) -> None:
    response = api.post(
        INSTANCES, {"process_key": KEY, "data": start_data(fam, route="respite")}, REQUESTER
    )
    assert [(e["pointer"], e["field"]) for e in problem(response, 422)["errors"]] == [
        ("#/data/route", "route")
    ]
    response = api.post(
        INSTANCES, {"process_key": KEY, "data": {"subject_person_ids": [1]}}, REQUESTER
    )
    assert [e["pointer"] for e in problem(response, 422)["errors"]] == ["#/data/family_id"]
    assert api.instances(process_key=KEY) == []


def test_every_task_refuses_a_missing_answer_and_anyone_outside_its_lane(
    api: Api, fam: FamilyRecord, qureshis: FamilyRecord
) -> None:
    """Walk journeys that reach every user task. Before each completion the answer is first
    sent without its first required question, which must come back as a 422 naming it, and
    then by a practitioner or manager outside the task's lane, agency or assignee (403, or 404
    when the task is not shown to them at all)."""
    api.check_forms = api.check_permissions = True

    iid = start(api, fam, "fd.worker", origin="front_door")
    api.complete(iid, "early_help_triage_request", triage("level_2"))
    api.complete(iid, "early_help_consent", consent(fam))
    api.complete(iid, "early_help_single_agency_plan", SINGLE_AGENCY_PLAN)

    iid = to_consent(api, fam)
    api.complete(iid, "early_help_consent", consent(fam, given=False, refusal_raises_risk=True))
    advice = {"front_door_advice": "keep_offering", "advice_details": "No significant harm."}
    api.complete(iid, "early_help_consult_front_door", advice)

    iid = to_plan(api, fam)
    finish_actions(api, iid)
    api.complete(iid, "early_help_taf_review", taf_review("2027-03-18", "close"))

    iid = to_support(api, qureshis)
    api.complete(iid, "early_help_support_assessment", SUPPORT_ASSESSMENT)
    api.complete(iid, "early_help_support_review", support_review("2027-07-26", "end"))

    assert api.checked_forms == {f"{name}.schema.json" for name in USER_TASKS}
    assert set(api.refused) == USER_TASKS


@pytest.mark.parametrize(
    ("answer", "fields"),
    [
        ({**needs(), "level": None, "level_rationale": ""}, ["level", "level_rationale"]),
        ({**needs(), "level": "level_4"}, ["level"]),
        ({**needs(), "safeguarding_concern": "maybe"}, ["safeguarding_concern"]),
    ],
)
def test_identify_needs_requires_a_level_unless_there_is_a_safeguarding_concern(
    api: Api, fam: FamilyRecord, answer: dict[str, Any], fields: list[str]
) -> None:
    iid = start(api, fam)
    task = api.task(iid, "early_help_identify_needs")

    body = problem(api.submit(task["id"], answer, REQUESTER), 422)
    assert [e["pointer"] for e in body["errors"]] == [f"#/data/{f}" for f in fields]
    assert api.ready_names(iid) == ["early_help_identify_needs"]


def test_triage_and_consent_require_what_their_answers_reveal(api: Api, fam: FamilyRecord) -> None:
    iid = start(api, fam, "fd.worker", origin="front_door")
    task = api.task(iid, "early_help_triage_request")
    body = problem(api.submit(task["id"], {**triage(), "allocated_agency": None}, "eh.worker"), 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/data/allocated_agency"]
    api.complete(iid, "early_help_triage_request", triage())

    task = api.task(iid, "early_help_consent")
    answer = {**consent(fam, given=False), "refusal_raises_risk": None, "refusal_details": ""}
    body = problem(api.submit(task["id"], answer, LEAD), 422)
    assert [e["pointer"] for e in body["errors"]] == [
        "#/data/refusal_details",
        "#/data/refusal_raises_risk",
    ]
    # "the family agreed" needs someone asked who agreed
    nobody = consent(fam)
    nobody["consents"] = [{**nobody["consents"][0], "decision": "refused", "scope": []}]
    body = problem(api.submit(task["id"], nobody, LEAD), 422)
    assert [(e["field"], e["detail"]) for e in body["errors"]] == [
        ("consents", "Add the person who agreed, or answer that the family has not agreed")
    ]
    assert api.ready_names(iid) == ["early_help_consent"]


def test_support_consent_requires_a_route_when_the_family_agree(
    api: Api, qureshis: FamilyRecord
) -> None:
    iid = start(api, qureshis, REQUESTER, "amir", route="disabled_child_support")
    api.complete(iid, "early_help_support_request", SUPPORT_REQUEST)
    task = api.task(iid, "early_help_support_consent")

    answer = {**support_consent(qureshis), "support_route": None}
    body = problem(api.submit(task["id"], answer, REQUESTER), 422)
    assert [e["field"] for e in body["errors"]] == ["support_route"]
    assert api.ready_names(iid) == ["early_help_support_consent"]


# -- the Think Family view ------------------------------------------------------------------------


def test_family_view_shows_each_childs_early_help_with_its_status_and_stage(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    planned = to_plan(api, fam)
    advice = to_consent(api, fam, "level_1")
    baby = start(api, fam, "h.evans", "baby")

    processes = view_processes(api, fam, "eh.manager")
    assert {
        i: (p["process_key"], p["status"], p["open"], p["current_stage"])
        for i, p in processes.items()
    } == {
        planned: ("early_help", "active", True, "Plan and review"),
        advice: ("early_help", "completed", False, None),
        baby: ("early_help", "active", True, "Request for early help"),
    }
    assert processes[planned]["next_due_at"] == "2027-02-05T17:00:00+00:00"  # the first action
    assert processes[baby]["subject_person_ids"] == fam.ids("baby")
    assert processes[planned]["title"] == "Early help"

    fire_at(api, clock, "2027-02-05T17:00:01+00:00")
    assert view_processes(api, fam)[planned]["next_due_at"] == "2027-02-05T17:00:00+00:00"
    finish_actions(api, planned)
    assert view_processes(api, fam)[planned]["next_due_at"] == "2027-03-22T17:00:00+00:00"


def test_family_view_shows_the_stage_reached_inside_the_plan(api: Api, fam: FamilyRecord) -> None:
    iid = to_lead_practitioner(api, fam)
    api.complete(iid, "early_help_agree_lead_practitioner", LEAD_PRACTITIONER)
    assert view_processes(api, fam)[iid]["current_stage"] == "Whole-family assessment"
    api.complete(iid, "early_help_family_assessment", family_assessment(fam))
    api.complete(iid, "early_help_first_taf", first_taf())
    finish_actions(api, iid)
    assert view_processes(api, fam)[iid]["current_stage"] == "Plan review"
