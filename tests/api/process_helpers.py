"""Drive shipped processes end to end through the HTTP API, as real users would.

Shared by the API process tests (referral, early help, MDT meeting, escalation):

- `Crew`: users by name with their roles and agencies, created and signed in on first use,
  and the choice of a user allowed to work a task (its lane, agency and assignee);
- `create_family`: a household created through the families API, with children (one of
  them under 5) and adults, added in an order that is not the Think Family order;
- `Api`: start a process, read an instance, find a ready task by element id and complete it
  as a user who may work it (checking it is in that user's inbox), send raw requests;
- `fire_due_timers`: one pass of the timer worker on the app's injected clock;
- `notices`: the notification outbox rows of an instance.

Every step goes through the API and the database the app is configured with, so the same
tests run on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from api.common.context import services
from domain.lanes import CSC, EARLY_HELP, EDUCATION, HEALTH, LANES, OTHER, PARTNERSHIP, POLICE
from tests.api.problem_schema import assert_documented_problem
from tests.conftest import deploy_shipped, make_agency, make_user, token_for

API = "/api/v1"
INSTANCES = f"{API}/process-instances"
TASKS = f"{API}/tasks"
FAMILIES = f"{API}/families"
SHIPPED = ("referral", "early_help", "escalation", "mdt_meeting")
"""Every shipped process: they start one another, so tests deploy them all."""

Headers = dict[str, str]
_COMPILED: dict[str, Any] = {}
"""Compiled shipped bundles by content digest (see `Api.deploy`)."""
TOKEN_FRESH = timedelta(hours=1)
"""Sign in again after the clock moved this far (tokens last 12 hours on the app's clock)."""
Json = dict[str, Any]


def json_of(response: TestResponse) -> Any:
    """The JSON body of a response."""
    return json.loads(response.get_data(as_text=True))


def problem(response: TestResponse, status: int) -> Json:
    """An RFC 9457 problem response with this status; return its body."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    assert response.mimetype == "application/problem+json", text
    body: Json = json.loads(text)
    assert body["status"] == status
    assert "Traceback" not in text
    assert_documented_problem(body)
    return body


# -- users ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """A user of the crew."""

    username: str
    roles: frozenset[str]
    agency: str
    kind: str


@dataclass(frozen=True, slots=True)
class AgencySpec:
    """An agency the crew's users belong to."""

    code: str
    kind: str


AGENCIES = (
    AgencySpec("csc", CSC),
    AgencySpec("shropshire_csc", CSC),
    AgencySpec("early_help", EARLY_HELP),
    AgencySpec("oak_primary", EDUCATION),
    AgencySpec("west_mercia_police", POLICE),
    AgencySpec("nhs_shropshire", HEALTH),
    AgencySpec("shropshire_health_visiting", HEALTH),
    AgencySpec("shropshire_disabled_children", CSC),
    AgencySpec("shropshire_housing", OTHER),
    AgencySpec("partnership", PARTNERSHIP),
)
"""Agency codes match the engine tests' answers, so their example answers can be reused (the
API accepts only agencies that exist where a form takes its choices from the agency list).

The front door is `csc`, the default of the processes' `csc_agency` parameter, and the early
help hub is `early_help`, the default of `early_help_agency`."""

STANDARD_CREW: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # (username, roles, agency)
    ("fd.worker", ("practitioner",), "csc"),  # front door and social worker lanes
    ("csc.manager", ("team_manager",), "csc"),  # front door manager, csc manager, chair
    ("r.jones", ("practitioner",), "oak_primary"),  # a school's safeguarding lead
    ("k.patel", ("practitioner",), "oak_primary"),  # a school's family support worker
    ("school.head", ("team_manager",), "oak_primary"),
    ("pc.smith", ("practitioner",), "west_mercia_police"),
    ("police.dsl", ("team_manager",), "west_mercia_police"),
    ("nurse.ali", ("practitioner",), "nhs_shropshire"),
    ("health.dsl", ("team_manager",), "nhs_shropshire"),
    ("h.evans", ("practitioner",), "shropshire_health_visiting"),
    ("eh.worker", ("practitioner",), "early_help"),
    ("eh.manager", ("team_manager",), "early_help"),
    ("d.morris", ("practitioner",), "shropshire_disabled_children"),
    ("housing.officer", ("practitioner",), "shropshire_housing"),
    ("partnership.lead", ("team_manager",), "partnership"),
    ("owner", ("process_owner",), "partnership"),
)
"""Someone for every lane of every shipped process (created only when first needed)."""


class Crew:
    """Users by name, created and signed in on first use (they share the test password)."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self.kinds = {a.code: a.kind for a in AGENCIES}
        self.members: dict[str, Member] = {}
        self._headers: dict[str, tuple[datetime, Headers]] = {}
        self._agencies_made: set[str] = set()
        with app.app_context():
            self._clock: Callable[[], datetime] = services()["clock"]
        for username, roles, agency in STANDARD_CREW:
            self.add(username, roles, agency)

    def add(self, username: str, roles: Iterable[str], agency: str, kind: str = "") -> None:
        """Describe a user (`kind` is needed only for agencies not in AGENCIES)."""
        kind = kind or self.kinds[agency]
        self.kinds.setdefault(agency, kind)
        self.members[username] = Member(username, frozenset(roles), agency, kind)

    def make_agencies(self) -> None:
        """Create every known agency (processes name them before anyone signs in)."""
        for code, kind in self.kinds.items():
            self._agency(code, kind)

    def _agency(self, code: str, kind: str) -> None:
        if code not in self._agencies_made:
            make_agency(self.app, code, kind)
            self._agencies_made.add(code)

    def headers(self, username: str) -> Headers:
        """Bearer headers for a user, created on first use and signed in again whenever the
        injected clock has moved on (tokens expire on the app's clock)."""
        now = self._clock()
        if username not in self._headers:
            member = self.members[username]
            self._agency(member.agency, member.kind)
            make_user(
                self.app, username, sorted(member.roles), agency=member.agency, kind=member.kind
            )
        elif not now - TOKEN_FRESH < self._headers[username][0] <= now:
            del self._headers[username]
        if username not in self._headers:
            self._headers[username] = (now, token_for(self.client, username))
        return self._headers[username][1]

    def may_work(self, username: str, task: Mapping[str, Any]) -> bool:
        """Whether the user may work the task: lane role and agency kind, agency, assignee."""
        member = self.members[username]
        lane = LANES.get(str(task.get("lane") or ""))
        if lane is None or not lane.roles & member.roles:
            return False
        if lane.kinds is not None and member.kind not in lane.kinds:
            return False
        if task.get("agency_code") and task["agency_code"] != member.agency:
            return False
        return not (task.get("assignee") and task["assignee"] != username)

    def may_see(self, username: str, task: Mapping[str, Any]) -> bool:
        """Whether the task is shown to the user at all (process owners see every task)."""
        member = self.members[username]
        if "process_owner" in member.roles:
            return True
        lane = LANES.get(str(task.get("lane") or ""))
        if lane is None or (lane.kinds is not None and member.kind not in lane.kinds):
            return False
        return not (task.get("agency_code") and task["agency_code"] != member.agency)

    def worker_for(self, task: Mapping[str, Any]) -> str:
        """A user who may work the task (its assignee when it has one)."""
        assignee = task.get("assignee")
        if assignee:
            assert assignee in self.members, f"no crew member {assignee!r} for {task['element_id']}"
            assert self.may_work(assignee, task), f"{assignee} may not work {task}"
            return str(assignee)
        for username in self.members:
            if self.may_work(username, task):
                return username
        raise AssertionError(f"nobody in the crew may work {task}")

    def outsider_for(self, task: Mapping[str, Any]) -> str:
        """A practitioner or manager who may NOT work the task, preferring one who can see it
        (so that the refusal is a 403 about the lane, agency or assignee, not a 404)."""
        outsiders = [
            username
            for username, member in self.members.items()
            if member.roles & {"practitioner", "team_manager"} and not self.may_work(username, task)
        ]
        assert outsiders, f"everyone may work {task}"
        seeing = [u for u in outsiders if self.may_see(u, task)]
        return (seeing or outsiders)[0]


# -- families ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonSpec:
    """A household member to create: `key` names them in the test."""

    key: str
    given_name: str
    family_name: str
    sex: str
    date_of_birth: str | None = None
    expected_date_of_birth: str | None = None
    child_of: tuple[str, ...] = ()
    """Keys of members (added earlier) who are this child's parents with responsibility."""


@dataclass(frozen=True, slots=True)
class FamilyRecord:
    """A household created through the API: its id, reference and people by key."""

    id: int
    reference: str
    people: dict[str, int] = field(default_factory=dict)

    def ids(self, *keys: str) -> list[int]:
        """Person ids of the given keys."""
        return [self.people[k] for k in keys]

    def refs(self, *keys: str) -> list[str]:
        """Person ids as the forms' `family_members` choices give them (strings)."""
        return [str(self.people[k]) for k in keys]


STANDARD_FAMILY = (
    # Added adults first and the baby last, so that the view's order (under-5s first,
    # youngest first, then older children, then adults) differs from the order added.
    PersonSpec("mum", "Dana", "Fenwick", "F", "1991-03-14"),
    PersonSpec("partner", "Cal", "Brody", "M", "1988-11-02"),
    PersonSpec("jay", "Jay", "Fenwick", "M", "2019-06-14", child_of=("mum",)),
    PersonSpec("mia", "Mia", "Fenwick", "F", "2022-08-03", child_of=("mum",)),
    PersonSpec("baby", "Rae", "Fenwick", "F", "2026-02-10", child_of=("mum", "partner")),
)
"""Mum, her partner, Jay (7), Mia (4) and baby Rae (10 months) on 21 December 2026."""


def create_family(
    client: FlaskClient,
    headers: Headers,
    people: Sequence[PersonSpec] = STANDARD_FAMILY,
    name: str = "Fenwick household",
) -> FamilyRecord:
    """Open a household and add its members through the API."""
    response = client.post(FAMILIES, json={"name": name}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    family = json_of(response)
    record = FamilyRecord(id=family["id"], reference=family["reference"])
    for spec in people:
        person: Json = {
            "given_name": spec.given_name,
            "family_name": spec.family_name,
            "sex": spec.sex,
        }
        if spec.date_of_birth:
            person["date_of_birth"] = spec.date_of_birth
        if spec.expected_date_of_birth:
            person["expected_date_of_birth"] = spec.expected_date_of_birth
        body = {
            "person": person,
            "relationships": [
                {
                    "person_id": record.people[parent],
                    "relationship": "child",
                    "parental_responsibility": True,
                }
                for parent in spec.child_of
            ],
        }
        added = client.post(f"{FAMILIES}/{record.id}/members", json=body, headers=headers)
        assert added.status_code == 201, added.get_data(as_text=True)
        record.people[spec.key] = json_of(added)["id"]
    return record


def add_existing_member(
    client: FlaskClient, headers: Headers, family_id: int, person_id: int
) -> None:
    """Add a person who is already on record to another household."""
    response = client.post(
        f"{FAMILIES}/{family_id}/members", json={"person_id": person_id}, headers=headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)


# -- processes -----------------------------------------------------------------------------------


class Api:
    """Start processes and work their tasks through the HTTP API as the crew."""

    def __init__(self, app: Flask, client: FlaskClient, crew: Crew, viewer: str = "owner") -> None:
        self.app = app
        self.client = client
        self.crew = crew
        self.viewer = viewer
        """Who reads instances (any signed-in user may)."""
        self.check_forms = False
        """Before each completion, first send the answer without its first required question
        and expect a 422 naming it (see `refuse_missing_answer`)."""
        self.checked_forms: set[str] = set()
        """Form keys whose server-side validation was seen to refuse a missing answer."""
        self.check_permissions = False
        """Before each completion, first have a crew member who may not work the task try to
        complete it, and expect a 403 (or a 404 when the task is not even shown to them)."""
        self.refused: dict[str, str] = {}
        """Element id to the crew member who was refused it."""

    def deploy(self, *keys: str) -> None:
        """Deploy shipped processes (all of them by default) as the CLI does.

        Compiling a bundle (parsing, linting, checking every form schema) is the slow part, and
        every test deploys the same files into a fresh database: the app's engine compiles each
        distinct bundle once per test session and reuses the result."""
        with self.app.app_context():
            engine = services()["engine"]
        compile_bundle = engine.compile

        def compile_once(
            key: str | None,
            bpmn_files: Mapping[str, bytes],
            forms: Mapping[str, bytes],
            known_roles: frozenset[str] | None,
        ) -> Any:
            digest = hashlib.sha256(repr((key, sorted(known_roles or ()))).encode())
            for name, content in sorted({**bpmn_files, **forms}.items()):
                digest.update(name.encode() + b"\0" + content + b"\0")
            cache_key = digest.hexdigest()
            if cache_key not in _COMPILED:
                _COMPILED[cache_key] = compile_bundle(key, bpmn_files, forms, known_roles)
            return _COMPILED[cache_key]

        engine.compile = compile_once  # this test's app only: each test has its own engine
        deploy_shipped(self.app, *(keys or SHIPPED))

    # -- raw requests ----------------------------------------------------------------------------

    def get(self, path: str, username: str | None = None, **query: Any) -> TestResponse:
        """GET as a user (the viewer by default)."""
        return self.client.get(
            path, query_string=query, headers=self.crew.headers(username or self.viewer)
        )

    def post(self, path: str, body: Any, username: str) -> TestResponse:
        """POST JSON as a user."""
        return self.client.post(path, json=body, headers=self.crew.headers(username))

    def ok(self, response: TestResponse, status: int = 200) -> Any:
        """The JSON body of a response with the expected status."""
        assert response.status_code == status, response.get_data(as_text=True)
        return json_of(response)

    # -- instances -------------------------------------------------------------------------------

    def start(self, username: str, process_key: str, data: Mapping[str, Any]) -> Json:
        """Start a process as a user; return the new instance."""
        body = {"process_key": process_key, "data": dict(data)}
        instance: Json = self.ok(self.post(INSTANCES, body, username), 201)
        return instance

    def instance(self, instance_id: int) -> Json:
        """An instance with its ready tasks, history and timers."""
        detail: Json = self.ok(self.get(f"{INSTANCES}/{instance_id}"))
        return detail

    def instances(self, **query: Any) -> list[Json]:
        """List instances (newest first) with filters such as process_key or family_id."""
        listing: list[Json] = self.ok(self.get(INSTANCES, **query))
        return listing

    def follow_ons(self, instance_id: int, process_key: str) -> list[Json]:
        """Instances of `process_key` this instance started, oldest first (listed through the
        API; the parent link itself is not in the API, so it is read from the database)."""
        listing = self.instances(process_key=process_key)
        return sorted(
            (i for i in listing if parent_of(self.app, int(i["id"])) == instance_id),
            key=lambda i: int(i["id"]),
        )

    def ready(self, instance_id: int) -> list[Json]:
        """Ready tasks of an instance."""
        tasks: list[Json] = self.instance(instance_id)["ready_tasks"]
        return tasks

    def ready_names(self, instance_id: int) -> list[str]:
        """Element ids of the ready tasks, sorted."""
        return sorted(t["element_id"] for t in self.ready(instance_id))

    def task(self, instance_id: int, element_id: str, index: int = 0) -> Json:
        """A ready task of the instance by element id (the index-th of several)."""
        found = [t for t in self.ready(instance_id) if t["element_id"] == element_id]
        assert len(found) > index, (
            f"{element_id} is not ready; ready: {self.ready_names(instance_id)}"
        )
        return found[index]

    def task_detail(self, task_id: int, username: str) -> Json:
        """A task with its form schema, as a user sees it."""
        detail: Json = self.ok(self.get(f"{TASKS}/{task_id}", username))
        return detail

    def inbox(
        self, username: str, instance_id: int | None = None, scope: str = "mine"
    ) -> list[Json]:
        """A user's ready tasks (optionally of one instance)."""
        query: dict[str, Any] = {"scope": scope}
        if instance_id is not None:
            query["instance"] = instance_id
        tasks: list[Json] = self.ok(self.get(TASKS, username, **query))
        return tasks

    def submit(self, task_id: int, data: Mapping[str, Any], username: str) -> TestResponse:
        """POST a task's form data as a user; return the raw response."""
        return self.post(f"{TASKS}/{task_id}/complete", {"data": dict(data)}, username)

    def complete(
        self,
        instance_id: int,
        element_id: str,
        data: Mapping[str, Any],
        *,
        username: str | None = None,
        index: int = 0,
    ) -> Json:
        """Complete a ready task as a user who may work it; return the instance after.

        The user is the task's assignee, or the first crew member whose role and agency fit
        its lane and agency; the task must be in that user's inbox.
        """
        task = self.task(instance_id, element_id, index)
        worker = username or self.crew.worker_for(task)
        assert task["id"] in [t["id"] for t in self.inbox(worker, instance_id)], (
            f"{element_id} is not in {worker}'s inbox"
        )
        if self.check_permissions:
            self.refuse_outsider(task, data)
        if self.check_forms and task["form_key"]:
            self.refuse_missing_answer(task, data, worker)
        instance: Json = self.ok(self.submit(task["id"], data, worker))
        return instance

    def refuse_outsider(self, task: Mapping[str, Any], data: Mapping[str, Any]) -> str:
        """Have a crew member who may not work the task submit a valid answer: expect 403, or
        404 when the task is outside every lane their agency kind may see; return who."""
        outsider = self.crew.outsider_for(task)
        body = problem(
            self.submit(int(task["id"]), data, outsider),
            403 if self.crew.may_see(outsider, task) else 404,
        )
        assert body["code"] in ("forbidden", "not-found"), body
        assert task["id"] not in [t["id"] for t in self.inbox(outsider)]
        self.refused[str(task["element_id"])] = outsider
        return outsider

    def refuse_missing_answer(
        self, task: Mapping[str, Any], data: Mapping[str, Any], username: str
    ) -> str:
        """Send the answer without its first required question (as the task's form schema
        lists them): expect a 422 naming exactly that question; return its name."""
        schema = self.task_detail(int(task["id"]), username)["form_schema"]
        assert schema is not None, task
        required = [str(name) for name in schema.get("required", []) if name in data]
        assert required, f"{task['element_id']}: the answer has no required question"
        missing = required[0]
        answer = {k: v for k, v in data.items() if k != missing}
        body = problem(self.submit(int(task["id"]), answer, username), 422)
        assert body["code"] == "invalid-body", body
        assert [(e["pointer"], e["field"]) for e in body["errors"]] == [
            (f"#/data/{missing}", missing)
        ], body
        self.checked_forms.add(str(task["form_key"]))
        return missing

    def complete_all(self, instance_id: int, element_id: str, data: Mapping[str, Any]) -> Json:
        """Complete every ready task with this element id (for example each plan action)."""
        instance: Json = {}
        while any(t["element_id"] == element_id for t in self.ready(instance_id)):
            instance = self.complete(instance_id, element_id, data)
        return instance

    def timers(self, instance_id: int) -> dict[str, str]:
        """Waiting timers of an instance: element id to due instant (ISO text)."""
        return {t["element_id"]: t["due_at"] for t in self.instance(instance_id)["timers"]}

    def family_view(self, family_id: int, username: str) -> Json:
        """The Think Family view as a user sees it."""
        view: Json = self.ok(self.get(f"{FAMILIES}/{family_id}", username))
        return view


# -- timers and notifications --------------------------------------------------------------------


def fire_due_timers(app: Flask) -> int:
    """Fire every timer due at the app's (injected) clock with the timer worker; return how many
    instances fired. Fails on any firing error, so a broken timer cannot pass silently."""
    from api.worker import build_worker

    result = build_worker(app).run_until_idle()
    assert (result.failed, result.errors) == (0, 0), result
    return result.fired


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification outbox row: who is told what (never names or case details)."""

    event: str
    agency: str | None
    role: str | None
    username: str | None


def notices(app: Flask, instance_id: int, event: str | None = None) -> list[Notice]:
    """The notification outbox rows of an instance, oldest first."""
    from api.common.extensions import db
    from domain.processes.models import Notification

    with app.app_context():
        query = select(Notification).where(Notification.instance_id == instance_id)
        if event is not None:
            query = query.where(Notification.event == event)
        rows = db.session.scalars(query.order_by(Notification.id)).all()
        found = [Notice(r.event, r.agency_code, r.role, r.username) for r in rows]
        db.session.remove()
    return found


def parent_of(app: Flask, instance_id: int) -> int | None:
    """The id of the instance that started this one (None for a process a user started)."""
    from api.common.extensions import db
    from domain.processes.models import ProcessInstance

    with app.app_context():
        row = db.session.get(ProcessInstance, instance_id)
        assert row is not None
        parent = row.parent_instance_id
        db.session.remove()
    return parent
