"""The shipped mdt_meeting process driven end to end through the REST API.

Real users of the right roles and agencies work every task; timers fire through the timer
worker on the app's injected clock; the notification outbox and the Think Family view are
checked. The clock starts on Monday 21 December 2026 at 10:00 UTC; 25 and 28 December and
1 January are bank holidays, and deadlines close at 17:00 London time (UTC in winter).

Also home of the helpers the escalation API tests share (they import them from here).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.api.process_helpers import fire_due_timers
from tests.api.test_definitions_api import assert_problem
from tests.conftest import FakeClock, deploy_shipped, make_agency, make_user, token_for

API = "/api/v1"
Headers = dict[str, str]
Notice = tuple[str, str | None, str | None, str | None]
"""(event, agency, role, username) of one notification outbox row."""

SCHOOL = "oak_primary"
POLICE = "west_mercia"
HEALTH = "nhs_shropshire"
CSC = "shropshire_csc"
HOUSING = "housing"
PARTNERSHIP = "sscp"
INVITED = [POLICE, HEALTH, CSC, HOUSING]

AGENCY_KINDS = {
    SCHOOL: "education",
    POLICE: "police",
    HEALTH: "health",
    CSC: "childrens_social_care",
    HOUSING: "other",
    PARTNERSHIP: "partnership",
}
USERS: dict[str, tuple[list[str], str]] = {
    "teacher": (["practitioner"], SCHOOL),
    "teacher2": (["practitioner"], SCHOOL),
    "head": (["team_manager"], SCHOOL),
    "officer": (["practitioner"], POLICE),
    "nurse": (["practitioner"], HEALTH),
    "health_lead": (["team_manager"], HEALTH),
    "social_worker": (["practitioner"], CSC),
    "csc_manager": (["team_manager"], CSC),
    "housing_officer": (["practitioner"], HOUSING),
    "partnership_manager": (["team_manager"], PARTNERSHIP),
    "owner": (["process_owner"], PARTNERSHIP),
}
"""Who works where: teacher convenes or raises; head is the school's DSL."""


# -- shared helpers -------------------------------------------------------------------------------


def utc(iso: str) -> datetime:
    """An ISO instant as an aware UTC datetime."""
    return datetime.fromisoformat(iso).astimezone(UTC)


def when(value: str | None) -> datetime | None:
    """A datetime the API returned, as aware UTC."""
    return None if value is None else utc(value)


class Api:
    """The REST API as named users (each created and signed in on first use)."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self._headers: dict[str, Headers] = {}

    def headers(self, user: str) -> Headers:
        """Bearer headers for a user of `USERS`."""
        if user not in self._headers:
            roles, agency = USERS[user]
            make_agency(self.app, agency, AGENCY_KINDS[agency])
            make_user(self.app, user, roles, agency=agency, kind=AGENCY_KINDS[agency])
            self._headers[user] = token_for(self.client, user)
        return self._headers[user]

    def call(self, method: str, path: str, user: str, body: Any = None) -> TestResponse:
        """Send a request as a user (signing in again when the clock has outrun the token)."""
        response = self.client.open(
            f"{API}{path}", method=method.upper(), headers=self.headers(user), json=body
        )
        if response.status_code == 401:
            self._headers[user] = token_for(self.client, user)
            response = self.client.open(
                f"{API}{path}", method=method.upper(), headers=self._headers[user], json=body
            )
        return response

    def ok(self, method: str, path: str, user: str, body: Any = None, status: int = 200) -> Any:
        """Send a request that must succeed; return its JSON body."""
        response = self.call(method, path, user, body)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def start(self, key: str, data: dict[str, Any], user: str) -> dict[str, Any]:
        """Start a process; return the instance."""
        body = {"process_key": key, "data": data}
        instance: dict[str, Any] = self.ok("post", "/process-instances", user, body, 201)
        return instance

    def instance(self, instance_id: int, user: str = "owner") -> dict[str, Any]:
        """Read an instance with its ready tasks, history and timers."""
        result: dict[str, Any] = self.ok("get", f"/process-instances/{instance_id}", user)
        return result

    def instances(self, user: str = "owner", **query: Any) -> list[dict[str, Any]]:
        """List instances, newest first."""
        result: list[dict[str, Any]] = self.ok(
            "get", f"/process-instances?{urlencode(query)}", user
        )
        return result

    def ready(self, instance_id: int, element: str | None = None) -> list[dict[str, Any]]:
        """Ready tasks of an instance (optionally of one element), in creation order."""
        tasks: list[dict[str, Any]] = self.instance(instance_id)["ready_tasks"]
        return [t for t in tasks if element is None or t["element_id"] == element]

    def ready_names(self, instance_id: int) -> list[str]:
        """Element ids of the instance's ready tasks, sorted."""
        return sorted(t["element_id"] for t in self.ready(instance_id))

    def task_for(self, instance_id: int, element: str, agency: str | None = None) -> int:
        """The id of the one ready task of an element (for an agency, if given)."""
        tasks = [
            t
            for t in self.ready(instance_id, element)
            if agency is None or t["agency_code"] == agency
        ]
        assert len(tasks) == 1, (element, agency, self.ready(instance_id))
        task_id: int = tasks[0]["id"]
        return task_id

    def inbox(self, user: str, instance_id: int | None = None) -> list[tuple[str, str | None]]:
        """(element id, agency) of the ready tasks the user may work, soonest due first."""
        query = "" if instance_id is None else f"?instance={instance_id}"
        tasks = self.ok("get", f"/tasks{query}", user)
        return [(t["element_id"], t["agency_code"]) for t in tasks]

    def submit(self, task_id: int, data: dict[str, Any], user: str) -> TestResponse:
        """Complete a task (any outcome)."""
        return self.call("post", f"/tasks/{task_id}/complete", user, {"data": data})

    def complete(self, task_id: int, data: dict[str, Any], user: str) -> dict[str, Any]:
        """Complete a task that must succeed; return the instance."""
        response = self.submit(task_id, data, user)
        assert response.status_code == 200, response.get_data(as_text=True)
        result: dict[str, Any] = response.get_json()
        return result

    def work(
        self,
        instance_id: int,
        element: str,
        data: dict[str, Any],
        user: str,
        agency: str | None = None,
    ) -> dict[str, Any]:
        """Complete the ready task of an element as a user."""
        return self.complete(self.task_for(instance_id, element, agency), data, user)

    def invalid(self, task_id: int, data: dict[str, Any], user: str) -> list[str]:
        """Complete a task with data that must be refused (422); return the named pointers."""
        body = assert_problem(self.submit(task_id, data, user), 422)
        return sorted(e["pointer"] for e in body["errors"])

    def family_processes(self, family_id: int, user: str) -> dict[int, dict[str, Any]]:
        """The processes the Think Family view lists, by instance id."""
        view = self.ok("get", f"/families/{family_id}", user)
        return {p["instance_id"]: p for p in view["processes"]}

    def set_parameter(self, key: str, name: str, value: Any, user: str = "owner") -> TestResponse:
        """Change a process parameter."""
        return self.call(
            "put", f"/process-definitions/{key}/parameters/{name}", user, {"value": value}
        )


class Outbox:
    """The notification outbox as rows appear: `new()` returns what was queued since last time."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.seen = 0

    def new(self, instance_id: int | None = None) -> list[Notice]:
        """Notifications queued since the last call (of one instance, if given), oldest first."""
        from api.common.extensions import db
        from domain.processes.models import Notification

        with self.app.app_context():
            rows = db.session.scalars(
                select(Notification).where(Notification.id > self.seen).order_by(Notification.id)
            ).all()
            notices = [
                (r.event, r.agency_code, r.role, r.username)
                for r in rows
                if instance_id is None or r.instance_id == instance_id
            ]
            if rows:
                self.seen = rows[-1].id
            db.session.remove()
        return notices


def fire_at(app: Flask, clock: FakeClock, iso: str) -> int:
    """Move the injected clock and fire what is due."""
    clock.move_to(iso)
    return fire_due_timers(app)


def open_family(api: Api, user: str) -> tuple[int, list[int]]:
    """A household with a mother and two children, through the API: (family id, child ids)."""
    family = api.ok("post", "/families", user, {"name": "Quillfeather household"}, 201)
    path = f"/families/{family['id']}/members"
    mum = api.ok(
        "post",
        path,
        user,
        {
            "person": {
                "given_name": "Ada",
                "family_name": "Q",
                "sex": "F",
                "date_of_birth": "1990-02-03",
            }
        },
        201,
    )
    children = []
    for given, born in (("Bea", "2015-04-01"), ("Cal", "2022-09-12")):
        child = api.ok(
            "post",
            path,
            user,
            {
                "person": {
                    "given_name": given,
                    "family_name": "Q",
                    "sex": "F",
                    "date_of_birth": born,
                },
                "relationships": [
                    {
                        "person_id": mum["id"],
                        "relationship": "child",
                        "parental_responsibility": True,
                    }
                ],
            },
            201,
        )
        children.append(int(child["id"]))
    return int(family["id"]), children


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    """The API with every shipped process deployed and every agency of the partnership."""
    deploy_shipped(app)
    for agency, kind in AGENCY_KINDS.items():
        make_agency(app, agency, kind)
    return Api(app, client)


@pytest.fixture
def outbox(app: Flask) -> Outbox:
    return Outbox(app)


@pytest.fixture
def family(api: Api) -> tuple[int, list[int]]:
    return open_family(api, "teacher")


# -- this module's helpers ------------------------------------------------------------------------

KEY = "mdt_meeting"
REPLY_DUE = utc("2026-12-23T17:00:00+00:00")
"""Two working days from Monday 21 December (25 December is a bank holiday, but after)."""


def start_data(family: tuple[int, list[int]], **overrides: Any) -> dict[str, Any]:
    family_id, children = family
    data: dict[str, Any] = {
        "family_id": family_id,
        "subject_person_ids": children,
        "meeting_reason": "stalled_progress",
        "purpose": "Agree how agencies support the children's attendance and home conditions.",
        "questions": "Why has attendance fallen since October? Who is best placed to visit?",
        "urgency": "routine",
        "invited_agencies": list(INVITED),
        "meeting_date": "2027-01-06",
        "family_invited": True,
        "family_preferred_format": "Phone call to mum, then a letter",
    }
    data.update(overrides)
    return data


def meeting_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "meeting_held_on": "2027-01-06",
        "attendance": [
            {"name": "T. Eacher", "role": "Class teacher", "organisation": "Oak Primary"},
            {"name": "PC Lane", "role": "Police officer", "organisation": "West Mercia Police"},
            {"name": "A. Pryce", "role": "Health visitor", "organisation": "NHS Shropshire"},
        ],
        "family_participation": "attended",
        "information_shared": [
            {"agency": POLICE, "observed": "Two call-outs for noise since November."},
            {"agency": HEALTH, "observed": "Missed two health appointments."},
        ],
        "child_lived_experience": "The eldest says mornings are chaotic; she gets others ready.",
        "analysis": "Neglect is emerging; the eldest is taking on a caring role.",
        "decisions": [
            {"decision": "Offer a young carers assessment.", "reasons": "She is a young carer."}
        ],
        "dissent": False,
        "actions": [],
        "outcome": "close",
    }
    record.update(overrides)
    return record


ACTIONS = [
    {"description": "Young carers assessment", "owner_agency": HEALTH, "due_date": "2027-01-13"},
    {"description": "Share incident history", "owner_agency": POLICE, "due_date": "2027-01-14"},
]
REPLIERS = {POLICE: "officer", HEALTH: "nurse", CSC: "social_worker", HOUSING: "housing_officer"}


def convene(api: Api, family: tuple[int, list[int]], **overrides: Any) -> int:
    """The school teacher calls a meeting; return the instance id."""
    instance = api.start(KEY, start_data(family, **overrides), "teacher")
    return int(instance["id"])


def everyone_accepts(api: Api, iid: int, agencies: list[str] = INVITED) -> None:
    for agency in agencies:
        api.work(iid, "respond_to_invitation", {"response": "accepted"}, REPLIERS[agency], agency)


# -- invitations ----------------------------------------------------------------------------------


def test_a_teacher_convenes_and_every_agency_is_invited_in_parallel(
    api: Api, outbox: Outbox, family: tuple[int, list[int]]
) -> None:
    instance = api.start(KEY, start_data(family), "teacher")
    iid = instance["id"]

    assert instance["status"] == "active"
    assert instance["reference"].startswith("MDT-")
    assert instance["current_stage"] == "Invitations sent"
    assert outbox.new(iid) == [("mdt_invitation", a, "practitioner", None) for a in INVITED]
    invitations = api.ready(iid, "respond_to_invitation")
    assert sorted(t["agency_code"] for t in invitations) == sorted(INVITED)
    assert {(t["lane"], when(t["due_at"])) for t in invitations} == {("invitee", REPLY_DUE)}
    (record,) = api.ready(iid, "record_meeting")
    assert (record["lane"], record["agency_code"], record["assignee"]) == (
        "convenor",
        SCHOOL,
        "teacher",
    )
    assert when(record["due_at"]) == utc("2027-01-07T17:00:00+00:00")  # 1 working day after

    # Each agency sees its own invitation, in parallel; the convenor sees the meeting record.
    for agency, user in REPLIERS.items():
        assert api.inbox(user, iid) == [("respond_to_invitation", agency)]
    assert api.inbox("teacher", iid) == [("record_meeting", SCHOOL)]

    # Police accept, health send someone else, children's social care decline.
    api.work(iid, "respond_to_invitation", {"response": "accepted"}, "officer", POLICE)
    health = api.task_for(iid, "respond_to_invitation", HEALTH)
    assert api.invalid(health, {"response": "substitute"}, "nurse") == ["#/data/substitute_role"]
    api.complete(health, {"response": "substitute", "substitute_role": "Health visitor"}, "nurse")
    csc = api.task_for(iid, "respond_to_invitation", CSC)
    assert api.invalid(csc, {"response": "declined"}, "social_worker") == ["#/data/decline_reason"]
    # What an agency shares is shared with a recorded basis, and not sharing with a reason
    # (golden rule 7: the decision and the reasons are recorded either way).
    declined = {"response": "declined", "decline_reason": "In court."}
    shared = {**declined, "observed": "Known to the service in 2024."}
    assert api.invalid(csc, shared, "social_worker") == ["#/data/sharing_basis"]
    withheld = {**declined, "sharing_basis": "not_shared"}
    assert api.invalid(csc, withheld, "social_worker") == ["#/data/not_shared_reason"]
    # what an agency says it is not sharing is not taken (every invited agency would read it)
    slipped = {**shared, "sharing_basis": "not_shared", "not_shared_reason": "No basis."}
    body = assert_problem(api.submit(csc, slipped, "social_worker"), 422)
    assert [(e["field"], e["detail"]) for e in body["errors"]] == [
        ("observed", "Leave this blank: your agency is not sharing information")
    ]
    body = assert_problem(api.submit(csc, {"response": "declined"}, "social_worker"), 422)
    assert [e["field"] for e in body["errors"]] == ["decline_reason"]
    after = api.complete(
        csc,
        {
            "response": "declined",
            "decline_reason": "Our worker is in court; we will send a written summary.",
            "observed": "Known to the service in 2024.",
            "sharing_basis": "risk_of_harm",
        },
        "social_worker",
    )

    # One reply never blocks another: housing's invitation and the record are still open.
    assert [t["agency_code"] for t in api.ready(iid, "respond_to_invitation")] == [HOUSING]
    assert sorted(t["element_id"] for t in after["ready_tasks"]) == [
        "record_meeting",
        "respond_to_invitation",
    ]
    replies = {
        t["agency_code"]: api.ok("get", f"/tasks/{t['id']}", "owner")["data"]["response"]
        for t in api.instance(iid)["history"]
    }
    assert replies == {POLICE: "accepted", HEALTH: "substitute", CSC: "declined"}
    assert outbox.new(iid) == []

    family_id = family[0]
    listed = api.family_processes(family_id, "officer")[iid]
    assert (listed["process_key"], listed["open"], listed["current_stage"]) == (
        KEY,
        True,
        "Invitations sent",
    )
    assert when(listed["next_due_at"]) == REPLY_DUE


def test_a_meeting_is_planned_for_today_or_later_and_its_actions_fall_due_after_it(
    api: Api, family: tuple[int, list[int]]
) -> None:
    # The clock says Monday 21 December 2026: a meeting on the 18th could invite nobody in time.
    body = {"process_key": KEY, "data": start_data(family, meeting_date="2026-12-18")}
    response = api.call("post", "/process-instances", "teacher", body)
    assert response.status_code == 422
    assert [(e["field"], e["detail"]) for e in response.get_json()["errors"]] == [
        ("meeting_date", "Date of the meeting must be today or in the future")
    ]
    assert api.instances(process_key=KEY) == []
    iid = api.start(KEY, start_data(family, meeting_date="2026-12-21"), "teacher")["id"]
    late = meeting_record(actions=[{**ACTIONS[0], "due_date": "2026-12-01"}])
    [record] = api.ready(iid, "record_meeting")
    response = api.call("post", f"/tasks/{record['id']}/complete", "teacher", {"data": late})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["actions-0-due_date"]


def test_one_agency_cannot_answer_another_agencys_invitation(
    api: Api, family: tuple[int, list[int]]
) -> None:
    iid = convene(api, family)
    health = api.task_for(iid, "respond_to_invitation", HEALTH)

    # Invisible to other agencies (404, as for any task a user may not see).
    assert_problem(api.call("get", f"/tasks/{health}", "officer"), 404)
    assert_problem(api.submit(health, {"response": "accepted"}, "officer"), 404)
    # A process owner sees every task but works none of them.
    assert api.ok("get", f"/tasks/{health}", "owner")["agency_code"] == HEALTH
    assert_problem(api.submit(health, {"response": "accepted"}, "owner"), 403)
    # Nor may the convenor answer for an agency.
    assert_problem(api.submit(health, {"response": "accepted"}, "teacher"), 404)
    assert len(api.ready(iid, "respond_to_invitation")) == len(INVITED)


def test_an_agency_that_does_not_reply_is_reminded_then_its_manager_told_without_blocking(
    app: Flask, api: Api, outbox: Outbox, clock: FakeClock, family: tuple[int, list[int]]
) -> None:
    # A meeting on Tuesday 29 December: notes are due at the close of Wednesday 30 December.
    iid = convene(api, family, meeting_date="2026-12-29")
    everyone_accepts(api, iid, [POLICE, HEALTH, CSC])
    outbox.new()
    listed = api.instance(iid)["timers"]
    timers = {(t["element_id"], when(t["due_at"])) for t in listed}
    assert ("invitation_reminder_due", REPLY_DUE) in timers
    assert ("invitation_manager_due", utc("2026-12-24T17:00:00+00:00")) in timers
    assert ("meeting_day_over", utc("2026-12-29T17:00:00+00:00")) in timers
    # each timer says whose reply it chases: only housing's is still awaited
    chasing = {t["element_id"]: t["agency_code"] for t in listed if "invitation" in t["element_id"]}
    assert chasing == {"invitation_reminder_due": HOUSING, "invitation_manager_due": HOUSING}
    notes = [t["agency_code"] for t in listed if t["element_id"] == "notes_overdue"]
    assert notes == [SCHOOL]  # the convenor's record of the meeting

    assert fire_at(app, clock, "2026-12-23T16:59:00+00:00") == 0
    assert outbox.new(iid) == []

    assert fire_at(app, clock, "2026-12-23T17:00:01+00:00") == 1
    assert outbox.new(iid) == [("reminder", HOUSING, "practitioner", None)]

    assert fire_at(app, clock, "2026-12-24T17:00:01+00:00") == 1
    assert outbox.new(iid) == [("manager_notice", HOUSING, "team_manager", None)]
    assert [t["agency_code"] for t in api.ready(iid, "respond_to_invitation")] == [HOUSING]
    assert api.inbox("housing_officer", iid) == [("respond_to_invitation", HOUSING)]

    # The meeting goes ahead and is recorded while housing has still not replied.
    clock.move_to("2026-12-29T15:00:00+00:00")
    after = api.work(
        iid,
        "record_meeting",
        meeting_record(
            meeting_held_on="2026-12-29",
            actions=[
                {"description": "Home visit", "owner_agency": HEALTH, "due_date": "2027-01-08"}
            ],
        ),
        "teacher",
    )
    assert after["status"] == "active"
    assert after["current_stage"] == "Notes circulated: actions in progress"
    assert sorted(t["element_id"] for t in after["ready_tasks"]) == [
        "complete_action",
        "respond_to_invitation",
    ]
    assert ("outcome", HOUSING, None, None) in outbox.new(iid)

    # At the close of the meeting day housing's invitation lapses as "no response".
    assert fire_at(app, clock, "2026-12-29T17:00:01+00:00") == 1
    detail = api.instance(iid)
    assert "record_no_reply" in detail["completed_elements"]
    assert [t["element_id"] for t in detail["ready_tasks"]] == ["complete_action"]
    assert api.inbox("housing_officer", iid) == []

    api.work(
        iid, "complete_action", {"completed_on": "2027-01-05", "what_was_done": "Visited."}, "nurse"
    )
    assert api.instance(iid)["status"] == "completed"


def test_late_notes_remind_the_convenor_then_their_manager(
    app: Flask, api: Api, outbox: Outbox, clock: FakeClock, family: tuple[int, list[int]]
) -> None:
    iid = convene(api, family)
    everyone_accepts(api, iid)
    outbox.new()

    assert fire_at(app, clock, "2027-01-07T17:00:01+00:00") == 1
    assert outbox.new(iid) == [("reminder", SCHOOL, None, "teacher")]
    assert fire_at(app, clock, "2027-01-08T17:00:01+00:00") == 1
    assert outbox.new(iid) == [("manager_notice", SCHOOL, "team_manager", None)]
    assert api.ready_names(iid) == ["record_meeting"]
    # Only the convenor may write the record: a colleague at the same school may not.
    record = api.task_for(iid, "record_meeting")
    assert_problem(api.submit(record, meeting_record(), "teacher2"), 403)
    assert api.complete(record, meeting_record(), "teacher")["status"] == "completed"


# -- optional DSL endorsement ---------------------------------------------------------------------


def test_dsl_endorsement_when_switched_on(
    api: Api, outbox: Outbox, family: tuple[int, list[int]]
) -> None:
    assert_problem(api.set_parameter(KEY, "dsl_endorsement_required", True, "teacher"), 403)
    response = api.set_parameter(KEY, "dsl_endorsement_required", True)
    assert response.status_code == 200, response.get_data(as_text=True)

    iid = convene(api, family)
    assert outbox.new(iid) == []
    (task,) = api.ready(iid)
    assert (task["element_id"], task["lane"], task["agency_code"]) == (
        "endorse_request",
        "agency_manager",
        SCHOOL,
    )
    assert when(task["due_at"]) == utc("2026-12-22T17:00:00+00:00")
    assert api.instance(iid)["current_stage"] == "Awaiting DSL endorsement"
    # The school's DSL endorses; a practitioner there, or another agency's manager, may not.
    assert api.inbox("head", iid) == [("endorse_request", SCHOOL)]
    assert_problem(api.submit(task["id"], {"endorsed": True}, "teacher"), 403)
    assert_problem(api.submit(task["id"], {"endorsed": True}, "health_lead"), 404)
    assert api.invalid(task["id"], {"endorsed": False}, "head") == ["#/data/not_endorsed_reason"]

    api.complete(task["id"], {"endorsed": True, "endorsement_note": "Agreed."}, "head")
    assert outbox.new(iid) == [("mdt_invitation", a, "practitioner", None) for a in INVITED]
    assert api.ready_names(iid) == ["record_meeting"] + ["respond_to_invitation"] * len(INVITED)

    refused = convene(api, family)
    after = api.work(
        refused,
        "endorse_request",
        {"endorsed": False, "not_endorsed_reason": "The core group meets next week."},
        "head",
    )
    assert after["status"] == "completed"
    assert after["summary"]["outcome"] == "not_endorsed"
    assert after["current_stage"] == "Closed: request not endorsed"
    assert outbox.new(refused) == [("outcome", SCHOOL, None, "teacher")]


# -- the record, actions and outcomes -------------------------------------------------------------


def test_each_action_is_a_task_only_its_owners_agency_can_complete(
    api: Api, outbox: Outbox, family: tuple[int, list[int]]
) -> None:
    iid = convene(api, family)
    everyone_accepts(api, iid)
    outbox.new()

    after = api.work(iid, "record_meeting", meeting_record(actions=ACTIONS), "teacher")

    assert after["current_stage"] == "Notes circulated: actions in progress"
    notices = outbox.new(iid)
    circulated = sorted([*INVITED, SCHOOL])
    assert [n for n in notices if n[0] == "outcome"] == [
        ("outcome", a, None, None) for a in circulated
    ]
    assert [n for n in notices if n[0] == "task_assigned"] == [
        ("task_assigned", HEALTH, "practitioner", None),
        ("task_assigned", POLICE, "practitioner", None),
    ]
    actions = api.ready(iid, "complete_action")
    assert [(t["lane"], t["agency_code"], when(t["due_at"])) for t in actions] == [
        ("action_owner", HEALTH, utc("2027-01-13T17:00:00+00:00")),
        ("action_owner", POLICE, utc("2027-01-14T17:00:00+00:00")),
    ]
    health, police = (t["id"] for t in actions)
    assert api.inbox("nurse", iid) == [("complete_action", HEALTH)]
    assert api.inbox("officer", iid) == [("complete_action", POLICE)]
    assert api.inbox("teacher", iid) == []
    # the task page says which action it is, not only "Carry out the action agreed"
    from tests.web.helpers_reports import sign_in

    sign_in(api.app, api.client, "nurse")
    page = api.client.get(f"/tasks/{health}").get_data(as_text=True)
    assert "The action agreed at the meeting: Young carers assessment" in page
    assert "Share incident history" not in page.split("Recorded so far")[0]

    done = {"completed_on": "2027-01-12", "what_was_done": "Assessment completed."}
    assert_problem(api.submit(health, done, "officer"), 404)
    assert_problem(api.submit(health, done, "teacher"), 404)
    assert_problem(api.submit(health, done, "owner"), 403)
    assert api.invalid(health, {"completed_on": "12/01/2027"}, "nurse") == [
        "#/data/completed_on",
        "#/data/what_was_done",
    ]
    assert api.complete(health, done, "nurse")["status"] == "active"
    # A completed task cannot be completed again.
    assert_problem(api.submit(health, done, "nurse"), 409)
    final = api.complete(police, {**done, "what_was_done": "History shared."}, "officer")
    assert final["status"] == "completed"
    assert final["current_stage"] == "Closed"
    assert final["summary"]["outcome"] == "close"
    listed = api.family_processes(family[0], "teacher")[iid]
    assert (listed["open"], listed["status"]) == (False, "completed")


def test_overdue_action_chases_the_owner_then_their_manager_then_the_convenor(
    app: Flask, api: Api, outbox: Outbox, clock: FakeClock, family: tuple[int, list[int]]
) -> None:
    iid = convene(api, family)
    everyone_accepts(api, iid)
    api.work(iid, "record_meeting", meeting_record(actions=ACTIONS[:1]), "teacher")
    outbox.new()

    assert fire_at(app, clock, "2027-01-13T16:59:59+00:00") == 0
    assert fire_at(app, clock, "2027-01-13T17:00:01+00:00") == 1
    assert outbox.new(iid) == [("reminder", HEALTH, "practitioner", None)]
    assert fire_at(app, clock, "2027-01-14T17:00:01+00:00") == 1
    assert outbox.new(iid) == [("manager_notice", HEALTH, "team_manager", None)]
    assert fire_at(app, clock, "2027-01-15T17:00:01+00:00") == 1
    assert outbox.new(iid) == [("manager_notice", SCHOOL, None, "teacher")]
    assert api.ready_names(iid) == ["complete_action"]
    assert api.instance(iid)["status"] == "active"

    after = api.work(
        iid,
        "complete_action",
        {"completed_on": "2027-01-18", "what_was_done": "Done late."},
        "nurse",
    )
    assert after["status"] == "completed"
    assert after["next_timer_due_at"] is None


ESCALATION_ANSWERS = {
    "dissent": True,
    "dissent_details": "Police disagree that a section 47 enquiry is not needed.",
    "dissent_resolution": "Not resolved; to be escalated.",
    "escalation_responding_agency": CSC,
    "escalation_category": "threshold",
    "escalation_disputed_decision": "The decision that a section 47 enquiry is not needed.",
    "escalation_why_it_matters": "The children's safety plan depends on it.",
    "escalation_outcome_sought": "A strategy discussion this week.",
}


@pytest.mark.parametrize(
    ("outcome", "key", "extra"),
    [
        ("referral", "referral", {}),
        ("early_help", "early_help", {}),
        ("escalation", "escalation", ESCALATION_ANSWERS),
        (
            "next_meeting",
            "mdt_meeting",
            {"next_meeting_date": "2027-02-03", "next_meeting_purpose": "Review the plan."},
        ),
    ],
)
def test_outcome_starts_the_follow_on_process_the_family_view_lists(
    api: Api,
    outbox: Outbox,
    family: tuple[int, list[int]],
    outcome: str,
    key: str,
    extra: dict[str, Any],
) -> None:
    family_id, children = family
    iid = convene(api, family)
    everyone_accepts(api, iid)
    outbox.new()

    after = api.work(iid, "record_meeting", meeting_record(outcome=outcome, **extra), "teacher")

    assert after["status"] == "completed"
    assert after["summary"]["outcome"] == outcome
    started = [i for i in api.instances(family_id=family_id, process_key=key) if i["id"] != iid]
    assert len(started) == 1, started
    child = started[0]
    assert child["status"] == "active"
    assert (child["family_id"], child["subject_person_ids"]) == (family_id, children)
    assert child["ready_tasks"], child
    listed = api.family_processes(family_id, "teacher")
    assert listed[child["id"]]["process_key"] == key
    assert listed[child["id"]]["open"] is True
    assert listed[child["id"]]["current_stage"] == child["current_stage"]
    assert listed[iid]["open"] is False

    if outcome == "escalation":
        # Raised on behalf of the convening school, against children's social care.
        assert child["current_stage"] == "Stage 1: practitioners"
        assert outbox.new(child["id"]) == [
            ("escalation_stage", a, "practitioner", None) for a in (SCHOOL, CSC)
        ]
        assert api.inbox("social_worker", child["id"]) == [("stage1_response", CSC)]
    if outcome == "next_meeting":
        assert outbox.new(child["id"]) == [
            ("mdt_invitation", a, "practitioner", None) for a in INVITED
        ]
        (record,) = api.ready(child["id"], "record_meeting")
        assert record["assignee"] == "teacher"
        assert when(record["due_at"]) == utc("2027-02-04T17:00:00+00:00")


# -- forms are validated on the server ------------------------------------------------------------


def test_start_form_is_validated_on_the_server(api: Api, family: tuple[int, list[int]]) -> None:
    data = start_data(family, meeting_date="6 January", urgency="whenever")
    del data["purpose"]
    response = api.call("post", "/process-instances", "teacher", {"process_key": KEY, "data": data})
    body = assert_problem(response, 422)
    assert sorted(e["pointer"] for e in body["errors"]) == [
        "#/data/meeting_date",
        "#/data/purpose",
        "#/data/urgency",
    ]
    # A household that does not exist is named as the invalid answer (it was a 500 before).
    unknown = {"process_key": KEY, "data": start_data((999999, family[1]))}
    body = assert_problem(api.call("post", "/process-instances", "teacher", unknown), 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/data/family_id"]
    assert api.instances(process_key=KEY) == []


def test_an_agency_that_does_not_exist_cannot_be_invited(
    api: Api, family: tuple[int, list[int]]
) -> None:
    body = {"process_key": KEY, "data": start_data(family, invited_agencies=["atlantis", POLICE])}
    problem = assert_problem(api.call("post", "/process-instances", "teacher", body), 422)
    assert [e["pointer"] for e in problem["errors"]] == ["#/data/invited_agencies/0"]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"dissent": True}, ["dissent_details", "dissent_resolution"]),
        ({"outcome": "next_meeting"}, ["next_meeting_date", "next_meeting_purpose"]),
        (
            {"outcome": "escalation"},
            [
                "escalation_category",
                "escalation_disputed_decision",
                "escalation_outcome_sought",
                "escalation_responding_agency",
                "escalation_why_it_matters",
            ],
        ),
        (
            {"actions": [{"description": "Visit", "owner_agency": HEALTH, "due_date": "soon"}]},
            ["actions/0/due_date"],
        ),
    ],
)
def test_meeting_record_is_validated_on_the_server(
    api: Api, family: tuple[int, list[int]], overrides: dict[str, Any], fields: list[str]
) -> None:
    iid = convene(api, family)
    record = api.task_for(iid, "record_meeting")
    assert api.invalid(record, meeting_record(**overrides), "teacher") == [
        f"#/data/{f}" for f in fields
    ]
    assert api.ready_names(iid).count("record_meeting") == 1
