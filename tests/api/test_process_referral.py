"""The shipped referral process end to end through the HTTP API.

Every branch the engine tests drive (tests/engine/test_referral.py) is driven here through
`/api/v1` instead: a real family created through the families API, each task completed by a
user of the right role and agency (found in their inbox), each timer fired by the timer worker
on the injected clock, follow-on processes checked through the instances API and the Think
Family view. Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

The clock starts on Monday 21 December 2026 at 10:00 UTC; 25 and 28 December and 1 January are
bank holidays. Deadlines close at 17:00 London time (UTC in winter, 16:00 UTC in summer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    add_existing_member,
    create_family,
    fire_due_timers,
    notices,
    problem,
)
from tests.conftest import FakeClock
from tests.engine.test_referral import (
    AGREE,
    ASSESSMENT,
    CIN_MEETING,
    CONSENT,
    CONVENE_ICPC,
    CONVENE_STRATEGY,
    DISAGREE,
    EMERGENCY,
    FEEDBACK,
    FOLLOW_UP,
    OVERRUN,
    SCREENING,
    cin_review,
    concern,
    decision,
    icpc,
    review,
    s47,
    sign_off,
    strategy,
)

KEY = "referral"
REFERRER = "r.jones"
"""A school's designated safeguarding lead (education practitioner at oak_primary)."""
REFERRER_AGENCY = "oak_primary"
FRONT_DOOR = "fd.worker"
MANAGER = "csc.manager"
MANAGER_NOTICE = Notice("manager_notice", "csc", "team_manager", None)
USER_TASKS = {
    "referral_record_concern",
    "referral_emergency_action",
    "referral_consent",
    "referral_think_family",
    "referral_screening",
    "referral_decision",
    "referral_feedback",
    "referral_feedback_follow_up",
    "referral_referrer_response",
    "referral_convene_strategy_discussion",
    "referral_strategy_discussion",
    "referral_assessment",
    "referral_assessment_sign_off",
    "referral_assessment_overrun",
    "referral_s47_enquiry",
    "referral_convene_icpc",
    "referral_icpc",
    "referral_review_conference",
    "referral_cin_planning_meeting",
    "referral_cin_review",
}


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    """Every shipped process deployed (a referral starts early help and escalations)."""
    driver = Api(app, client, Crew(app, client))
    driver.deploy()
    driver.crew.make_agencies()
    return driver


@pytest.fixture
def fam(api: Api) -> FamilyRecord:
    """Mum, her partner, Jay (7), Mia (4) and baby Rae, recorded by the referrer."""
    return create_family(api.client, api.crew.headers(REFERRER))


# -- answers that name family members -------------------------------------------------------------


def start_data(fam: FamilyRecord, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "family_id": fam.id,
        "subject_person_ids": fam.ids("jay", "mia"),
        "referral_source": "2A",
    }
    data.update(overrides)
    return data


def consent(fam: FamilyRecord, status: str = "given") -> dict[str, Any]:
    if status == "given":
        return {**CONSENT, "consent_given_by": fam.refs("mum")}
    if status == "refused":
        return {
            "consent_status": "refused",
            "refusal_details": "Mum said the school is making a fuss about nothing.",
            "child_views_sought": True,
        }
    return {
        "consent_status": "not_sought",
        "not_sought_reason": "increase_risk",
        "not_sought_details": "Asking could put Jay at risk from mum's partner tonight.",
        "child_views_sought": False,
    }


def think_family(fam: FamilyRecord) -> dict[str, Any]:
    """Everyone in the household, under-5s first as the Think Family view lists them."""
    rows = [
        ("baby", "child_under_5", True, "Ten months old; no health visitor contact since May."),
        ("mia", "child_under_5", True, "Missed nursery all week."),
        ("jay", "child", True, "Bruise to cheek; attendance 82%."),
        ("partner", "other_adult", False, "Mum's partner; stays most nights."),
        ("mum", "parent_or_carer", True, "Works nights at a care home."),
    ]
    return {
        "household": [
            {
                "person": str(fam.people[key]),
                "relationship": relationship,
                "lives_in_household": lives,
                "what_is_known": known,
                "any_concerns": key != "mum",
            }
            for key, relationship, lives, known in rows
        ],
        "everyone_considered": True,
        "siblings_learning": "Jay describes shouting at night; his sisters are likely to hear it.",
        "people_missing": "Nobody: the partner is on the family record.",
    }


def enquiry(fam: FamilyRecord, outcome: str = "icpc", **overrides: Any) -> dict[str, Any]:
    return s47(outcome, children_seen=fam.refs("jay", "mia"), **overrides)


def convene_icpc(fam: FamilyRecord) -> dict[str, Any]:
    return {**CONVENE_ICPC, "children_considered": fam.refs("jay", "mia")}


# -- journeys -------------------------------------------------------------------------------------


def start(api: Api, fam: FamilyRecord, **overrides: Any) -> int:
    """The referrer reports a concern about Jay and Mia."""
    return int(api.start(REFERRER, KEY, start_data(fam, **overrides))["id"])


def make_contact(
    api: Api, fam: FamilyRecord, consent_status: str = "given", **concern_overrides: Any
) -> int:
    """The referrer records the concern, consent and the household."""
    iid = start(api, fam)
    api.complete(iid, "referral_record_concern", concern(**concern_overrides))
    if concern_overrides.get("immediate_danger"):
        api.complete(iid, "referral_emergency_action", EMERGENCY)
    api.complete(iid, "referral_consent", consent(fam, consent_status))
    api.complete(iid, "referral_think_family", think_family(fam))
    return iid


def decide(api: Api, fam: FamilyRecord, choice: str, **overrides: Any) -> int:
    """Contact, screening and the front door manager's decision."""
    iid = make_contact(api, fam)
    api.complete(iid, "referral_screening", SCREENING)
    api.complete(iid, "referral_decision", decision(choice, **overrides))
    return iid


def give_feedback(api: Api, iid: int, response: Mapping[str, Any] = AGREE) -> Json:
    api.complete(iid, "referral_feedback", FEEDBACK)
    return api.complete(iid, "referral_referrer_response", response)


def to_s47(api: Api, fam: FamilyRecord) -> int:
    iid = decide(api, fam, "strategy_discussion")
    give_feedback(api, iid)
    api.complete(iid, "referral_convene_strategy_discussion", CONVENE_STRATEGY)
    api.complete(iid, "referral_strategy_discussion", strategy())
    return iid


def to_cp_plan(api: Api, fam: FamilyRecord) -> int:
    iid = to_s47(api, fam)
    api.complete(iid, "referral_s47_enquiry", enquiry(fam))
    api.complete(iid, "referral_convene_icpc", convene_icpc(fam))
    api.complete(iid, "referral_icpc", icpc())
    return iid


def to_cin_plan(api: Api, fam: FamilyRecord) -> int:
    iid = decide(api, fam, "assessment")
    give_feedback(api, iid)
    api.complete(iid, "referral_assessment", ASSESSMENT)
    api.complete(iid, "referral_assessment_sign_off", sign_off("cin_plan"))
    api.complete(iid, "referral_cin_planning_meeting", CIN_MEETING)
    return iid


def fire_at(api: Api, clock: FakeClock, iso: str) -> int:
    """Move the injected clock and let the timer worker fire what is due."""
    clock.move_to(iso)
    return fire_due_timers(api.app)


def assert_completed(api: Api, iid: int, outcome: str) -> Json:
    detail = api.instance(iid)
    assert detail["status"] == "completed", detail
    assert detail["ready_tasks"] == []
    assert detail["timers"] == []
    assert detail["summary"]["outcome"] == outcome
    return detail


def one_follow_on(api: Api, iid: int, process_key: str, fam: FamilyRecord) -> Json:
    """The single process of `process_key` the referral started, listed through the API."""
    listed = api.instances(process_key=process_key, family_id=fam.id)
    [child] = api.follow_ons(iid, process_key)
    assert [i["id"] for i in listed] == [child["id"]]
    assert child["status"] == "active"
    assert (child["family_id"], child["subject_person_ids"]) == (fam.id, fam.ids("jay", "mia"))
    return child


def view_processes(api: Api, fam: FamilyRecord, username: str = REFERRER) -> dict[int, Json]:
    """The Think Family view's processes by instance id."""
    return {p["instance_id"]: p for p in api.family_view(fam.id, username)["processes"]}


# -- contact --------------------------------------------------------------------------------------


def test_the_referrer_records_the_concern_and_only_they_may(api: Api, fam: FamilyRecord) -> None:
    instance = api.start(REFERRER, KEY, start_data(fam))

    assert (instance["status"], instance["reference"]) == ("active", f"REF-{instance['id']:06d}")
    assert (instance["family_id"], instance["subject_person_ids"]) == (
        fam.id,
        fam.ids("jay", "mia"),
    )
    [task] = instance["ready_tasks"]
    assert (task["element_id"], task["lane"], task["agency_code"], task["assignee"]) == (
        "referral_record_concern",
        "referrer",
        REFERRER_AGENCY,
        REFERRER,
    )
    assert task["due_at"] == "2026-12-21T17:00:00+00:00"  # the same working day
    assert instance["current_stage"] == "Contact"
    assert [t["id"] for t in api.inbox(REFERRER)] == [task["id"]]
    # a colleague at the same school does not see it in their inbox, nor may complete it
    assert api.inbox("k.patel") == []
    body = problem(api.submit(task["id"], concern(), "k.patel"), 403)
    assert body["code"] == "forbidden"
    assert api.ready_names(instance["id"]) == ["referral_record_concern"]


def test_without_immediate_danger_the_referrer_seeks_consent_and_thinks_family(
    api: Api, fam: FamilyRecord
) -> None:
    iid = start(api, fam)
    # professional curiosity: what the referrer checked, and how, and what is still unknown
    unchecked = {k: v for k, v in concern().items() if k not in ("verified", "uncertain")}
    task = api.task(iid, "referral_record_concern")
    body = problem(api.submit(task["id"], unchecked, REFERRER), 422)
    assert [e["field"] for e in body["errors"]] == ["verified", "uncertain"]
    after = api.complete(iid, "referral_record_concern", concern())

    assert sorted(t["element_id"] for t in after["ready_tasks"]) == [
        "referral_consent",
        "referral_think_family",
    ]
    assert {(t["lane"], t["assignee"]) for t in after["ready_tasks"]} == {("referrer", REFERRER)}
    assert after["summary"]["urgent"] is False
    assert notices(api.app, iid) == []


def test_immediate_danger_takes_emergency_action_and_alerts_the_front_door_manager(
    api: Api, fam: FamilyRecord
) -> None:
    iid = start(api, fam)
    api.complete(iid, "referral_record_concern", concern(immediate_danger=True))

    task = api.task(iid, "referral_emergency_action")
    assert (task["lane"], task["assignee"], task["due_at"]) == (
        "referrer",
        REFERRER,
        "2026-12-21T17:00:00+00:00",
    )
    assert api.instance(iid)["current_stage"] == "Emergency action"
    after = api.complete(iid, "referral_emergency_action", EMERGENCY)

    assert notices(api.app, iid) == [MANAGER_NOTICE]
    assert after["summary"]["urgent"] is True
    assert api.ready_names(iid) == ["referral_consent", "referral_think_family"]
    api.complete(iid, "referral_consent", consent(fam))
    api.complete(iid, "referral_think_family", think_family(fam))
    assert api.ready_names(iid) == ["referral_screening"]


@pytest.mark.parametrize("status", ["given", "refused", "not_sought"])
def test_consent_given_refused_or_not_sought_is_recorded_and_the_contact_goes_on(
    api: Api, fam: FamilyRecord, status: str
) -> None:
    iid = make_contact(api, fam, consent_status=status)

    [screening] = api.ready(iid)
    assert (screening["element_id"], screening["lane"], screening["agency_code"]) == (
        "referral_screening",
        "front_door",
        "csc",  # the council's front door (the csc_agency parameter)
    )
    history = {t["element_id"]: t for t in api.instance(iid)["history"]}
    assert history["referral_consent"]["status"] == "completed"
    detail = api.task_detail(history["referral_consent"]["id"], REFERRER)
    assert detail["data"] == consent(fam, status)


def test_the_front_door_is_the_councils_not_every_childrens_social_care_team(
    api: Api, fam: FamilyRecord
) -> None:
    iid = make_contact(api, fam, consent_status="given")

    [screening] = api.ready(iid)
    assert [t["id"] for t in api.inbox(FRONT_DOOR, iid)] == [screening["id"]]
    # The disabled children's team is children's social care too, but not the front door.
    assert api.inbox("d.morris", iid) == []
    assert problem(api.submit(screening["id"], {}, "d.morris"), 404)["code"] == "not-found"


CONSENT_REVEALS = {
    "given": ["consent_given_by", "consent_date"],
    "refused": ["refusal_details"],
    "not_sought": ["not_sought_reason", "not_sought_details"],
}


def test_consent_form_requires_what_its_answer_reveals(api: Api, fam: FamilyRecord) -> None:
    iid = start(api, fam)
    api.complete(iid, "referral_record_concern", concern())
    task = api.task(iid, "referral_consent")

    for status, fields in CONSENT_REVEALS.items():
        answer = {k: v for k, v in consent(fam, status).items() if k not in fields}
        body = problem(api.submit(task["id"], answer, REFERRER), 422)
        assert [(e["pointer"], e["field"]) for e in body["errors"]] == [
            (f"#/data/{f}", f) for f in fields
        ], status
    assert api.ready_names(iid) == ["referral_consent", "referral_think_family"]


# -- Think Family ---------------------------------------------------------------------------------


def test_think_family_lists_every_member_under_fives_first_and_its_form_validates(
    api: Api, fam: FamilyRecord
) -> None:
    iid = start(api, fam)
    api.complete(iid, "referral_record_concern", concern())
    task = api.task(iid, "referral_think_family")

    detail = api.task_detail(task["id"], REFERRER)
    schema = detail["form_schema"]
    assert "Children under 5 are listed first" in schema["description"]
    person = schema["properties"]["household"]["items"]["properties"]["person"]
    assert person["x-options-from"] == "family_members"
    # the choices come from the family record of the case: under-5s first, youngest first
    instance = api.instance(iid)
    members = api.family_view(instance["family_id"], REFERRER)["members"]
    assert [m["id"] for m in members] == fam.ids("baby", "mia", "jay", "partner", "mum")
    assert [m["under_5"] for m in members] == [True, True, False, False, False]
    assert [m["age_label"] for m in members][:3] == ["10 months", "4 years", "7 years"]

    answer = think_family(fam)
    for missing, pointer in [
        ("everyone_considered", "#/data/everyone_considered"),
        ("household", "#/data/household"),
    ]:
        body = problem(
            api.submit(task["id"], {k: v for k, v in answer.items() if k != missing}, REFERRER),
            422,
        )
        assert [(e["pointer"], e["field"]) for e in body["errors"]] == [(pointer, missing)]
    empty = problem(api.submit(task["id"], {**answer, "household": []}, REFERRER), 422)
    assert [e["pointer"] for e in empty["errors"]] == ["#/data/household"]
    no_concerns = {**answer, "household": [dict(answer["household"][0])]}
    del no_concerns["household"][0]["any_concerns"]
    body = problem(api.submit(task["id"], no_concerns, REFERRER), 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/data/household/0/any_concerns"]

    api.complete(iid, "referral_think_family", answer)
    history = {t["element_id"]: t for t in api.instance(iid)["history"]}
    recorded = api.task_detail(history["referral_think_family"]["id"], REFERRER)["data"]
    assert [row["person"] for row in recorded["household"]] == fam.refs(
        "baby", "mia", "jay", "partner", "mum"
    )


def test_answers_may_name_only_members_of_the_family_and_known_agencies(
    api: Api, fam: FamilyRecord
) -> None:
    """Questions that take their choices from records (`x-options-from`) are checked against
    them on the server: the case's household members, the agencies on record."""
    stranger = create_family(
        api.client, api.crew.headers(REFERRER), [PersonSpec("x", "Ola", "Quist", "F", "1990-01-01")]
    )
    iid = start(api, fam)
    api.complete(iid, "referral_record_concern", concern())
    task = api.task(iid, "referral_think_family")

    for person in (str(stranger.people["x"]), "999999", "mum"):
        answer = think_family(fam)
        answer["household"][1]["person"] = person
        body = problem(api.submit(task["id"], answer, REFERRER), 422)
        assert [e["pointer"] for e in body["errors"]] == ["#/data/household/1/person"], person
    api.complete(iid, "referral_think_family", think_family(fam))
    api.complete(iid, "referral_consent", consent(fam))
    answer = {**SCREENING, "agency_information": [{"agency": "nowhere", "information": "x"}]}
    body = problem(api.submit(api.task(iid, "referral_screening")["id"], answer, FRONT_DOOR), 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/data/agency_information/0/agency"]
    assert api.ready_names(iid) == ["referral_screening"]


# -- screening, decision and permissions ----------------------------------------------------------


def test_screening_is_for_the_front_door_and_the_decision_for_its_manager(
    api: Api, fam: FamilyRecord
) -> None:
    iid = make_contact(api, fam)
    screening = api.task(iid, "referral_screening")

    assert screening["due_at"] == "2026-12-22T17:00:00+00:00"
    assert api.timers(iid) == {"referral_screening_overdue": "2026-12-22T17:00:00+00:00"}
    assert api.instance(iid)["current_stage"] == "Front door screening"
    # any children's social care practitioner sees it in their inbox
    assert [t["id"] for t in api.inbox(FRONT_DOOR, iid)] == [screening["id"]]
    api.complete(iid, "referral_screening", SCREENING)

    decision_task = api.task(iid, "referral_decision")
    assert (decision_task["lane"], decision_task["due_at"]) == (
        "front_door_manager",
        "2026-12-22T17:00:00+00:00",
    )
    # a front door practitioner sees it (same agency kind) but may not decide
    body = problem(api.submit(decision_task["id"], decision("nfa"), FRONT_DOOR), 403)
    assert body["code"] == "forbidden"
    assert decision_task["id"] not in [t["id"] for t in api.inbox(FRONT_DOOR)]
    assert decision_task["id"] in [t["id"] for t in api.inbox(MANAGER)]


def test_police_practitioner_may_not_complete_a_front_door_task(
    api: Api, fam: FamilyRecord
) -> None:
    """The front door lane is for children's social care. A police practitioner is refused:
    the task is not even disclosed to them (404, as for any task outside their agency kind's
    lanes). A police officer who may see every task (a process owner) is refused with 403."""
    iid = make_contact(api, fam)
    screening = api.task(iid, "referral_screening")

    assert api.inbox("pc.smith") == [] == api.inbox("pc.smith", scope="agency")
    assert problem(api.get(f"/api/v1/tasks/{screening['id']}", "pc.smith"), 404)["code"] == (
        "not-found"
    )
    body = problem(api.submit(screening["id"], SCREENING, "pc.smith"), 404)
    assert body["code"] == "not-found"
    api.crew.add("police.owner", ["practitioner", "process_owner"], "west_mercia_police")
    assert api.task_detail(screening["id"], "police.owner")["lane"] == "front_door"
    body = problem(api.submit(screening["id"], SCREENING, "police.owner"), 403)
    assert body["code"] == "forbidden"

    assert api.ready_names(iid) == ["referral_screening"]
    assert [h["element_id"] for h in api.instance(iid)["history"]][-1] == "referral_think_family"
    api.complete(iid, "referral_screening", SCREENING)
    assert api.ready_names(iid) == ["referral_decision"]


def test_overdue_screening_is_escalated_to_the_front_door_manager(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = make_contact(api, fam)
    api.complete(iid, "referral_screening", SCREENING)

    assert fire_at(api, clock, "2026-12-22T16:59:00+00:00") == 0
    assert fire_at(api, clock, "2026-12-22T17:00:00+00:00") == 0  # due, not yet past
    assert notices(api.app, iid) == []
    assert fire_at(api, clock, "2026-12-22T17:00:01+00:00") == 1
    assert notices(api.app, iid, "manager_notice") == [MANAGER_NOTICE]
    detail = api.instance(iid)
    assert (detail["status"], detail["timers"]) == ("active", [])
    assert api.ready_names(iid) == ["referral_decision"]
    assert fire_at(api, clock, "2026-12-29T10:00:00+00:00") == 0  # fired once only
    assert notices(api.app, iid) == [MANAGER_NOTICE]
    api.complete(iid, "referral_decision", decision("nfa"))
    assert api.ready_names(iid) == ["referral_feedback"]


# -- decisions at the front door ------------------------------------------------------------------


def test_advice_or_nfa_closes_after_feedback_to_the_referrer(api: Api, fam: FamilyRecord) -> None:
    iid = decide(api, fam, "nfa")

    feedback = api.task(iid, "referral_feedback")
    assert (feedback["lane"], feedback["due_at"]) == ("front_door", "2026-12-22T17:00:00+00:00")
    api.complete(iid, "referral_feedback", FEEDBACK)
    assert notices(api.app, iid) == [Notice("feedback", REFERRER_AGENCY, None, REFERRER)]
    response = api.task(iid, "referral_referrer_response")
    assert (response["lane"], response["agency_code"], response["assignee"]) == (
        "referrer",
        REFERRER_AGENCY,
        REFERRER,
    )
    assert response["due_at"] == "2026-12-30T17:00:00+00:00"  # 5 working days
    api.complete(iid, "referral_referrer_response", AGREE)

    detail = assert_completed(api, iid, "nfa")
    assert detail["summary"]["decision"] == "nfa"
    assert api.follow_ons(iid, "early_help") == [] == api.follow_ons(iid, "escalation")
    [process] = view_processes(api, fam).values()
    assert (process["status"], process["open"], process["current_stage"]) == (
        "completed",
        False,
        None,
    )


def test_early_help_decision_starts_early_help_for_the_family(api: Api, fam: FamilyRecord) -> None:
    iid = decide(api, fam, "early_help")

    child = one_follow_on(api, iid, "early_help", fam)
    assert child["summary"]["route"] == "early_help"
    # each case's page links to the other
    from tests.web.helpers_reports import sign_in

    sign_in(api.app, api.client, FRONT_DOOR)
    referral_page = api.client.get(f"/instances/{iid}").get_data(as_text=True)
    assert re.search(
        rf'Cases it started</dt>.*?href="/instances/{child["id"]}">{child["reference"]}</a>: '
        "Early help",
        referral_page,
        re.S,
    )
    early_help_page = api.client.get(f"/instances/{child['id']}").get_data(as_text=True)
    reference = api.instance(iid)["reference"]
    assert re.search(
        rf'Started from</dt>.*?href="/instances/{iid}">{reference}</a>: Referral',
        early_help_page,
        re.S,
    )
    [triage] = child["ready_tasks"]
    assert (triage["element_id"], triage["lane"], triage["agency_code"]) == (
        "early_help_triage_request",
        "early_help",
        "early_help",
    )
    assert [t["id"] for t in api.inbox("eh.worker", child["id"])] == [triage["id"]]
    assert api.inbox(FRONT_DOOR, child["id"]) == []
    processes = view_processes(api, fam)
    assert {p["process_key"]: p["status"] for p in processes.values()} == {
        "referral": "active",
        "early_help": "active",
    }
    assert processes[child["id"]]["current_stage"] == "Request for early help"
    assert processes[child["id"]]["title"] == "Early help"

    give_feedback(api, iid)
    detail = assert_completed(api, iid, "early_help")
    assert detail["current_stage"] == "Stepped down to early help"
    processes = view_processes(api, fam)
    assert (processes[iid]["status"], processes[child["id"]]["status"]) == ("completed", "active")


def test_no_feedback_in_time_reminds_the_front_door_and_asks_the_referrer_to_chase(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = decide(api, fam, "nfa")
    assert api.timers(iid) == {"referral_feedback_overdue": "2026-12-22T17:00:00+00:00"}

    assert fire_at(api, clock, "2026-12-22T17:00:01+00:00") == 1
    assert notices(api.app, iid) == [Notice("reminder", "csc", "practitioner", None)]
    chase = api.task(iid, "referral_feedback_follow_up")
    assert (chase["lane"], chase["agency_code"], chase["assignee"]) == (
        "referrer",
        REFERRER_AGENCY,
        REFERRER,
    )
    assert chase["due_at"] == "2026-12-23T17:00:00+00:00"
    assert api.ready_names(iid) == ["referral_feedback", "referral_feedback_follow_up"]
    api.complete(iid, "referral_feedback_follow_up", FOLLOW_UP)
    assert api.ready_names(iid) == ["referral_feedback"]
    api.complete(iid, "referral_feedback", FEEDBACK)
    assert api.ready_names(iid) == ["referral_referrer_response"]


def test_referrer_who_disagrees_starts_an_escalation(api: Api, fam: FamilyRecord) -> None:
    iid = decide(api, fam, "nfa")
    give_feedback(api, iid, DISAGREE)

    assert_completed(api, iid, "nfa")
    escalation = one_follow_on(api, iid, "escalation", fam)
    [stage1] = escalation["ready_tasks"]
    assert (stage1["element_id"], stage1["agency_code"]) == ("stage1_response", "csc")
    assert [t["id"] for t in api.inbox(FRONT_DOOR, escalation["id"])] == [stage1["id"]]
    assert api.inbox(REFERRER, escalation["id"]) == []
    processes = view_processes(api, fam)
    assert processes[escalation["id"]]["status"] == "active"
    assert processes[escalation["id"]]["process_key"] == "escalation"


def test_referrer_who_disagrees_but_does_not_escalate_ends_without_escalation(
    api: Api, fam: FamilyRecord
) -> None:
    iid = decide(api, fam, "nfa")
    give_feedback(api, iid, {**DISAGREE, "start_escalation": False})
    assert_completed(api, iid, "nfa")
    assert api.instances(process_key="escalation") == []


def test_referrer_response_form_requires_the_disagreement(api: Api, fam: FamilyRecord) -> None:
    iid = decide(api, fam, "nfa")
    api.complete(iid, "referral_feedback", FEEDBACK)
    task = api.task(iid, "referral_referrer_response")

    body = problem(api.submit(task["id"], {"referrer_agrees": False}, REFERRER), 422)
    assert sorted(e["field"] for e in body["errors"]) == [
        "disagreement_reason",
        "start_escalation",
    ]
    answer = {**DISAGREE, "why_it_matters": "", "outcome_sought": ""}
    body = problem(api.submit(task["id"], answer, REFERRER), 422)
    assert sorted(e["field"] for e in body["errors"]) == ["outcome_sought", "why_it_matters"]
    assert api.instances(process_key="escalation") == []


def test_silent_referrer_lets_the_decision_stand(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = decide(api, fam, "nfa")
    api.complete(iid, "referral_feedback", FEEDBACK)
    assert api.timers(iid) == {"referral_response_timeout": "2026-12-30T17:00:00+00:00"}

    assert fire_at(api, clock, "2026-12-30T16:59:59+00:00") == 0
    assert fire_at(api, clock, "2026-12-30T17:00:01+00:00") == 1
    assert_completed(api, iid, "nfa")
    assert api.instances(process_key="escalation") == []


# -- assessment -----------------------------------------------------------------------------------


def test_assessment_is_due_45_working_days_from_the_referral(api: Api, fam: FamilyRecord) -> None:
    iid = decide(api, fam, "assessment")

    task = api.task(iid, "referral_assessment")
    assert (task["lane"], task["due_at"]) == ("social_worker", "2027-02-25T17:00:00+00:00")
    assert api.timers(iid)["referral_assessment_overdue"] == "2027-02-25T17:00:00+00:00"
    assert api.instance(iid)["current_stage"] == "Assessment"
    assert api.inbox("h.evans", iid) == []
    api.complete(iid, "referral_assessment", ASSESSMENT)
    sign = api.task(iid, "referral_assessment_sign_off")
    assert (sign["lane"], sign["due_at"]) == ("csc_manager", "2027-02-25T17:00:00+00:00")
    assert problem(api.submit(sign["id"], sign_off("nfa"), FRONT_DOOR), 403)["code"] == (
        "forbidden"
    )


def test_overdue_assessment_tells_the_manager_and_needs_an_overrun_reason(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = decide(api, fam, "assessment")
    give_feedback(api, iid)

    assert fire_at(api, clock, "2027-02-25T16:59:00+00:00") == 0
    assert fire_at(api, clock, "2027-02-25T17:00:01+00:00") == 1
    assert notices(api.app, iid, "manager_notice") == [MANAGER_NOTICE]
    assert api.ready_names(iid) == ["referral_assessment"]
    api.complete(iid, "referral_assessment", ASSESSMENT)
    api.complete(iid, "referral_assessment_sign_off", sign_off("nfa"))

    overrun = api.task(iid, "referral_assessment_overrun")
    assert overrun["lane"] == "csc_manager"
    assert overrun["due_at"] == "2027-02-26T17:00:00+00:00"  # 1 working day
    api.complete(iid, "referral_assessment_overrun", OVERRUN)
    assert notices(api.app, iid, "outcome") == [Notice("outcome", REFERRER_AGENCY, None, REFERRER)]
    assert_completed(api, iid, "nfa")


@pytest.mark.parametrize(
    ("outcome", "route", "first_task"),
    [
        ("nfa", None, None),
        ("early_help", "early_help", "early_help_triage_request"),
        ("disabled_child_support", "disabled_child_support", "early_help_support_request"),
    ],
)
def test_assessment_outcome_that_ends_the_referral(
    api: Api,
    fam: FamilyRecord,
    clock: FakeClock,
    outcome: str,
    route: str | None,
    first_task: str | None,
) -> None:
    iid = decide(api, fam, "assessment")
    give_feedback(api, iid)
    clock.move_to("2027-01-20T11:00:00+00:00")
    api.complete(iid, "referral_assessment", ASSESSMENT)
    api.complete(iid, "referral_assessment_sign_off", sign_off(outcome))

    assert notices(api.app, iid, "outcome") == [Notice("outcome", REFERRER_AGENCY, None, REFERRER)]
    assert_completed(api, iid, outcome)
    if route is None:
        assert api.instances(process_key="early_help") == []
        return
    child = one_follow_on(api, iid, "early_help", fam)
    assert child["summary"]["route"] == route
    [task] = child["ready_tasks"]
    assert task["element_id"] == first_task
    worker = api.crew.worker_for(task)
    assert task["id"] in [t["id"] for t in api.inbox(worker, child["id"])]
    processes = view_processes(api, fam)
    assert processes[child["id"]]["status"] == "active"
    assert processes[iid]["status"] == "completed"


def test_assessment_can_lead_to_a_child_in_need_plan_reviewed_until_it_closes(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = decide(api, fam, "assessment")
    give_feedback(api, iid)
    api.complete(iid, "referral_assessment", ASSESSMENT)
    api.complete(iid, "referral_assessment_sign_off", sign_off("cin_plan"))

    meeting = api.task(iid, "referral_cin_planning_meeting")
    assert (meeting["lane"], meeting["due_at"]) == ("social_worker", "2027-01-07T17:00:00+00:00")
    assert api.instance(iid)["current_stage"] == "Child in need plan"
    api.complete(iid, "referral_cin_planning_meeting", CIN_MEETING)
    task = api.task(iid, "referral_cin_review")
    assert (task["lane"], task["due_at"]) == ("social_worker", "2027-04-09T16:00:00+00:00")
    assert api.timers(iid) == {"referral_cin_review_overdue": "2027-04-09T16:00:00+00:00"}

    assert fire_at(api, clock, "2027-04-09T16:00:01+00:00") == 1
    assert notices(api.app, iid, "manager_notice") == [MANAGER_NOTICE]
    api.complete(iid, "referral_cin_review", cin_review("2027-04-12"))
    assert api.task(iid, "referral_cin_review")["due_at"] == "2027-07-05T16:00:00+00:00"
    api.complete(iid, "referral_cin_review", cin_review("2027-07-01", "close"))
    assert_completed(api, iid, "closed")
    assert api.instances(process_key="early_help") == []


def test_child_in_need_plan_can_step_down_to_early_help(api: Api, fam: FamilyRecord) -> None:
    iid = to_cin_plan(api, fam)
    api.complete(iid, "referral_cin_review", cin_review("2027-04-12", "early_help"))

    assert_completed(api, iid, "early_help")
    child = one_follow_on(api, iid, "early_help", fam)
    assert [t["element_id"] for t in child["ready_tasks"]] == ["early_help_triage_request"]


def test_assessment_can_lead_to_a_strategy_discussion(api: Api, fam: FamilyRecord) -> None:
    iid = decide(api, fam, "assessment")
    api.complete(iid, "referral_assessment", ASSESSMENT)
    api.complete(iid, "referral_assessment_sign_off", sign_off("strategy_discussion"))

    convene = api.task(iid, "referral_convene_strategy_discussion")
    assert convene["lane"] == "social_worker"
    assert api.instance(iid)["current_stage"] == "Strategy discussion"


# -- strategy discussion and section 47 -----------------------------------------------------------


def test_strategy_discussion_invites_agencies_and_starts_the_icpc_clock(
    api: Api, fam: FamilyRecord
) -> None:
    iid = decide(api, fam, "strategy_discussion")
    give_feedback(api, iid)
    api.complete(iid, "referral_convene_strategy_discussion", CONVENE_STRATEGY)

    assert notices(api.app, iid, "mdt_invitation") == [
        Notice("mdt_invitation", agency, None, None)
        for agency in CONVENE_STRATEGY["invited_agencies"]
    ]
    api.complete(iid, "referral_strategy_discussion", strategy())
    task = api.task(iid, "referral_s47_enquiry")
    assert (task["lane"], task["due_at"]) == ("social_worker", "2027-01-18T17:00:00+00:00")
    assert api.timers(iid)["referral_icpc_overdue"] == "2027-01-18T17:00:00+00:00"
    assert api.instance(iid)["current_stage"] == "Section 47 enquiry"


def test_immediate_protection_is_recorded_and_starts_the_enquiry(
    api: Api, fam: FamilyRecord
) -> None:
    iid = decide(api, fam, "strategy_discussion", immediate_protection=True)
    api.complete(iid, "referral_convene_strategy_discussion", CONVENE_STRATEGY)
    api.complete(iid, "referral_strategy_discussion", strategy("immediate_protection"))
    assert "referral_s47_enquiry" in api.ready_names(iid)


@pytest.mark.parametrize(
    ("outcome", "next_step", "follow_on"),
    [
        ("nfa", None, None),
        ("early_help", None, "early_help"),
        ("cin_plan", "referral_cin_planning_meeting", None),
        ("assessment", "referral_assessment", None),
    ],
)
def test_no_section_47_outcomes(
    api: Api, fam: FamilyRecord, outcome: str, next_step: str | None, follow_on: str | None
) -> None:
    iid = decide(api, fam, "strategy_discussion")
    give_feedback(api, iid)
    api.complete(iid, "referral_convene_strategy_discussion", CONVENE_STRATEGY)
    api.complete(iid, "referral_strategy_discussion", strategy("no_s47", no_s47_next=outcome))

    if follow_on:
        one_follow_on(api, iid, follow_on, fam)
    else:
        assert api.instances(process_key="early_help") == []
    if next_step is None:
        detail = assert_completed(api, iid, outcome)
        assert detail["status"] == "completed"
    else:
        assert api.ready_names(iid) == [next_step]


@pytest.mark.parametrize(
    ("outcome", "after", "next_step", "follow_on"),
    [
        ("not_substantiated", "nfa", None, None),
        ("not_substantiated", "early_help", None, "early_help"),
        ("not_substantiated", "cin_plan", "referral_cin_planning_meeting", None),
        ("substantiated_no_icpc", None, "referral_cin_planning_meeting", None),
    ],
)
def test_section_47_outcomes_without_a_conference(
    api: Api,
    fam: FamilyRecord,
    outcome: str,
    after: str | None,
    next_step: str | None,
    follow_on: str | None,
) -> None:
    iid = to_s47(api, fam)
    answer = enquiry(fam, outcome)
    if after is not None:
        answer["not_substantiated_next"] = after
    api.complete(iid, "referral_s47_enquiry", answer)

    assert "referral_icpc_overdue" not in api.timers(iid)
    if follow_on:
        one_follow_on(api, iid, follow_on, fam)
    else:
        assert api.instances(process_key="early_help") == []
    if next_step is None:
        assert api.instance(iid)["status"] == "completed"
    else:
        assert api.ready_names(iid) == [next_step]


def test_overdue_conference_tells_the_manager(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = to_s47(api, fam)
    api.complete(iid, "referral_s47_enquiry", enquiry(fam))

    arrange = api.task(iid, "referral_convene_icpc")
    assert (arrange["lane"], arrange["due_at"]) == (
        "conference_chair",
        "2027-01-18T17:00:00+00:00",
    )
    assert fire_at(api, clock, "2027-01-18T16:59:59+00:00") == 0
    assert fire_at(api, clock, "2027-01-18T17:00:01+00:00") == 1
    assert notices(api.app, iid, "manager_notice") == [MANAGER_NOTICE]
    assert api.ready_names(iid) == ["referral_convene_icpc"]


def test_conference_date_must_be_a_working_day(api: Api, fam: FamilyRecord) -> None:
    iid = to_s47(api, fam)
    api.complete(iid, "referral_s47_enquiry", enquiry(fam))
    api.complete(iid, "referral_convene_icpc", convene_icpc(fam))
    assert notices(api.app, iid, "mdt_invitation")[-2:] == [
        Notice("mdt_invitation", "west_mercia_police", None, None),
        Notice("mdt_invitation", "nhs_shropshire", None, None),
    ]

    api.complete(iid, "referral_icpc", icpc("2027-01-09"))  # a Saturday
    assert api.ready_names(iid) == ["referral_icpc"]
    api.complete(iid, "referral_icpc", icpc(plan=False))
    assert api.ready_names(iid) == ["referral_cin_planning_meeting"]


def test_child_protection_plan_is_reviewed_until_it_ends(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    iid = to_cp_plan(api, fam)

    task = api.task(iid, "referral_review_conference")
    assert (task["lane"], task["due_at"]) == ("conference_chair", "2027-04-09T16:00:00+00:00")
    detail = api.instance(iid)
    assert (detail["current_stage"], detail["summary"]["outcome"]) == (
        "Child protection plan",
        "cp_plan",
    )
    assert api.timers(iid) == {"referral_review_overdue": "2027-04-09T16:00:00+00:00"}
    processes = view_processes(api, fam)
    assert (processes[iid]["current_stage"], processes[iid]["next_due_at"]) == (
        "Child protection plan",
        "2027-04-09T16:00:00+00:00",
    )

    assert fire_at(api, clock, "2027-04-09T16:00:01+00:00") == 1
    assert notices(api.app, iid, "manager_notice") == [MANAGER_NOTICE]
    api.complete(iid, "referral_review_conference", review("2027-04-12"))
    assert api.task(iid, "referral_review_conference")["due_at"] == "2027-10-08T16:00:00+00:00"
    api.complete(iid, "referral_review_conference", review("2027-09-20", end="close"))
    detail = assert_completed(api, iid, "closed")
    assert detail["ended_at"] == "2027-04-09T16:00:01+00:00"


@pytest.mark.parametrize("route", ["cin_plan", "early_help"])
def test_child_protection_plan_steps_down_through_a_child_in_need_plan(
    api: Api, fam: FamilyRecord, route: str
) -> None:
    """Stepping down to early help goes through child in need unless the partnership allows a
    direct step down (a process owner parameter, off by default)."""
    iid = to_cp_plan(api, fam)
    api.complete(iid, "referral_review_conference", review("2027-04-05", end=route))

    assert api.ready_names(iid) == ["referral_cin_planning_meeting"]
    assert api.instances(process_key="early_help") == []


def test_direct_step_down_to_early_help_when_the_partnership_allows_it(
    api: Api, fam: FamilyRecord
) -> None:
    """A process owner sets the parameter through the API; the next plan that ends with a
    step down to early help starts early help directly."""
    path = "/api/v1/process-definitions/referral/parameters/cp_direct_step_down_to_early_help"
    response = api.client.put(path, json={"value": True}, headers=api.crew.headers("owner"))
    assert api.ok(response)["value"] is True
    iid = to_cp_plan(api, fam)
    api.complete(iid, "referral_review_conference", review("2027-04-05", end="early_help"))

    assert_completed(api, iid, "early_help")
    child = one_follow_on(api, iid, "early_help", fam)
    assert [t["element_id"] for t in child["ready_tasks"]] == ["early_help_triage_request"]


# -- server-side validation of every form ---------------------------------------------------------


def test_start_form_is_validated(api: Api, fam: FamilyRecord) -> None:
    response = api.post(INSTANCES, {"process_key": KEY, "data": {"family_id": fam.id}}, REFERRER)
    body = problem(response, 422)
    assert [(e["pointer"], e["field"]) for e in body["errors"]] == [
        ("#/data/subject_person_ids", "subject_person_ids")
    ]
    response = api.post(
        INSTANCES, {"process_key": KEY, "data": start_data(fam, referral_source="99")}, REFERRER
    )
    assert [e["pointer"] for e in problem(response, 422)["errors"]] == ["#/data/referral_source"]
    assert api.instances(process_key=KEY) == []


def test_every_task_refuses_a_missing_answer_and_anyone_outside_its_lane(
    api: Api, fam: FamilyRecord, clock: FakeClock
) -> None:
    """Walk journeys that reach every user task. Before each completion the answer is first
    sent without its first required question, which must come back as a 422 naming it, and
    then by a practitioner or manager outside the task's lane, agency or assignee (403, or 404
    when the task is not shown to them at all)."""
    api.check_forms = api.check_permissions = True

    iid = make_contact(api, fam, immediate_danger=True)
    api.complete(iid, "referral_screening", SCREENING)
    api.complete(iid, "referral_decision", decision("nfa"))
    fire_at(api, clock, "2026-12-22T17:00:01+00:00")
    api.complete(iid, "referral_feedback_follow_up", FOLLOW_UP)
    give_feedback(api, iid)

    clock.move_to("2026-12-21T10:00:00+00:00")
    iid = to_s47(api, fam)
    api.complete(iid, "referral_s47_enquiry", enquiry(fam))
    api.complete(iid, "referral_convene_icpc", convene_icpc(fam))
    api.complete(iid, "referral_icpc", icpc())
    api.complete(iid, "referral_review_conference", review("2027-04-05", end="cin_plan"))
    api.complete(iid, "referral_cin_planning_meeting", CIN_MEETING)
    api.complete(iid, "referral_cin_review", cin_review("2027-04-12", "close"))

    iid = decide(api, fam, "assessment")
    give_feedback(api, iid)
    fire_at(api, clock, "2027-02-25T17:00:01+00:00")
    api.complete(iid, "referral_assessment", ASSESSMENT)
    api.complete(iid, "referral_assessment_sign_off", sign_off("nfa"))
    api.complete(iid, "referral_assessment_overrun", OVERRUN)

    assert api.checked_forms == {f"{name}.schema.json" for name in USER_TASKS}
    assert set(api.refused) == USER_TASKS


def test_front_door_forms_require_what_their_answers_reveal(api: Api, fam: FamilyRecord) -> None:
    iid = make_contact(api, fam)
    task = api.task(iid, "referral_screening")
    answer = {**SCREENING, "shared_without_consent": True}
    body = problem(api.submit(task["id"], answer, FRONT_DOOR), 422)
    assert sorted(e["field"] for e in body["errors"]) == ["lawful_basis", "sharing_reason"]
    api.complete(iid, "referral_screening", SCREENING)

    task = api.task(iid, "referral_decision")
    body = problem(api.submit(task["id"], {**decision("nfa"), "nfa_type": None}, MANAGER), 422)
    assert [e["field"] for e in body["errors"]] == ["nfa_type"]
    answer = decision("strategy_discussion")
    del answer["immediate_protection"]
    body = problem(api.submit(task["id"], answer, MANAGER), 422)
    assert [e["field"] for e in body["errors"]] == ["immediate_protection"]
    assert api.ready_names(iid) == ["referral_decision"]


def test_conference_forms_require_what_their_answers_reveal(api: Api, fam: FamilyRecord) -> None:
    iid = to_s47(api, fam)
    task = api.task(iid, "referral_s47_enquiry")
    answer = enquiry(fam, "not_substantiated")
    del answer["not_substantiated_next"]
    body = problem(api.submit(task["id"], answer, FRONT_DOOR), 422)
    assert [e["field"] for e in body["errors"]] == ["not_substantiated_next"]
    api.complete(iid, "referral_s47_enquiry", enquiry(fam))
    api.complete(iid, "referral_convene_icpc", convene_icpc(fam))

    task = api.task(iid, "referral_icpc")
    body = problem(api.submit(task["id"], {**icpc(), "cp_initial_category": None}, MANAGER), 422)
    assert [e["field"] for e in body["errors"]] == ["cp_initial_category"]
    api.complete(iid, "referral_icpc", icpc())
    task = api.task(iid, "referral_review_conference")
    answer = {**review("2027-04-05", end="close"), "cp_closure_reason": None}
    body = problem(api.submit(task["id"], answer, MANAGER), 422)
    assert [e["field"] for e in body["errors"]] == ["cp_closure_reason"]
    assert api.ready_names(iid) == ["referral_review_conference"]


# -- the Think Family view ------------------------------------------------------------------------


def test_family_view_shows_every_members_processes_with_status_and_stage(
    api: Api, fam: FamilyRecord
) -> None:
    """Jay also lives part of the week at his dad's: a referral about Jay there shows in this
    household's view, and this household's referral shows in his dad's household's view."""
    headers = api.crew.headers(REFERRER)
    dads = create_family(
        api.client,
        headers,
        [PersonSpec("dad", "Lee", "Fenwick", "M", "1989-07-21")],
        name="Fenwick household (dad)",
    )
    add_existing_member(api.client, headers, dads.id, fam.people["jay"])

    closed = decide(api, fam, "nfa")
    give_feedback(api, closed)
    open_here = to_s47(api, fam)
    at_dads = int(
        api.start(
            "k.patel", KEY, {"family_id": dads.id, "subject_person_ids": [fam.people["jay"]]}
        )["id"]
    )
    about_baby = int(
        api.start(
            "h.evans",
            "early_help",
            {"family_id": fam.id, "subject_person_ids": [fam.people["baby"]]},
        )["id"]
    )

    processes = view_processes(api, fam, FRONT_DOOR)
    assert set(processes) == {closed, open_here, at_dads, about_baby}
    summary = {
        i: (p["process_key"], p["status"], p["open"], p["current_stage"])
        for i, p in processes.items()
    }
    assert summary == {
        closed: ("referral", "completed", False, None),
        open_here: ("referral", "active", True, "Section 47 enquiry"),
        at_dads: ("referral", "active", True, "Contact"),
        about_baby: ("early_help", "active", True, "Request for early help"),
    }
    assert processes[at_dads]["family_id"] == dads.id
    assert processes[about_baby]["subject_person_ids"] == [fam.people["baby"]]
    assert processes[open_here]["next_due_at"] == "2027-01-18T17:00:00+00:00"
    assert processes[closed]["ended_at"] is not None

    view = api.family_view(fam.id, FRONT_DOOR)
    jay = next(m for m in view["members"] if m["id"] == fam.people["jay"])
    assert jay["family_ids"] == [fam.id, dads.id]
    titles = [e["title"] for e in view["timeline"]]
    assert "Referral and child protection started" in titles
    assert "Referral and child protection completed" in titles
    assert "Completed: Think Family: consider everyone in the household" in titles

    dads_processes = view_processes(api, dads, "k.patel")
    assert set(dads_processes) == {closed, open_here, at_dads}  # each names Jay
