"""What has been recorded on a case, read where the case is worked: its start answers, then each
completed task's answers, on the case page and beside every task, each read audited.

Driven through the shipped escalation: a school raises a disagreement with children's social
care, whose social worker must respond to it, so the respondent has to be able to read it.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.api.test_process_escalation import RESPONSE, discussion, raise_concern
from tests.api.test_process_mdt_meeting import CSC, SCHOOL, Api, api, family
from tests.web.helpers_reports import sign_in

__all__ = ["api", "family"]  # shared fixtures, re-exported

DISPUTED = "The referral of 14 December was closed with no further action."


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def words(body: str) -> str:
    """The page's text, tags dropped and entities read, whitespace collapsed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def section(body: str, start: str, end: str) -> str:
    text = words(body)
    return text[text.index(start) : text.index(end, text.index(start))]


def reads(app: Flask, instance_id: int) -> list[tuple[str | None, Any]]:
    """(who, via) of every audited read of the case's recorded answers, oldest first, leaving
    out the test's own reads as the process owner (the `Api` helper finds tasks that way)."""
    from api.common.context import base_context
    from domain.audit.models import AuditEvent
    from domain.users.models import User

    with app.app_context():
        ctx = base_context(None)
        rows = ctx.session.execute(
            select(User.username, AuditEvent.details)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(
                AuditEvent.action == "process.records_viewed",
                AuditEvent.subject_type == "process_instance",
                AuditEvent.subject_id == str(instance_id),
            )
            .order_by(AuditEvent.id)
        ).all()
        return [(who, details.get("via")) for who, details in rows if who != "owner"]


def name_agency(app: Flask, code: str, name: str) -> None:
    from domain.agencies.models import Agency
    from domain.db import unit_of_work
    from tests.web.helpers_reports import context

    with context(app) as ctx, unit_of_work(ctx.session):
        ctx.session.scalars(select(Agency).where(Agency.code == code)).one().name = name


def test_the_respondent_reads_the_disagreement_beside_the_task(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]]
) -> None:
    name_agency(app, CSC, "Northshire Children's Services")
    instance = raise_concern(api, family)
    task_id = api.task_for(instance["id"], "stage1_response")
    api.headers("social_worker")  # the respondent's account
    sign_in(app, client, "social_worker")

    body = page(client, f"/tasks/{task_id}")

    recorded = section(body, "Recorded so far on this case", "What is your agency's view?")
    assert "Started: Escalation of a professional disagreement" in recorded
    assert "By Teacher" in recorded or "By teacher" in recorded
    assert DISPUTED in recorded
    assert "What is the disagreement about? A referral decision" in recorded  # the option's label
    assert "Is there an immediate risk of significant harm to the child? No" in recorded
    assert "Bea Q" in recorded
    assert "Cal Q" in recorded
    assert "Which agency do you disagree with? Northshire Children's Services" in recorded
    assert CSC not in recorded  # agencies by name, not code
    assert "family_id" not in body
    assert "started_by" not in recorded
    assert '<details class="govuk-details" open>' in body  # how it started is shown open
    assert reads(app, instance["id"]) == [("social_worker", "task")]


def test_the_case_page_shows_each_answer_in_words_and_the_raiser_sees_the_reply(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]]
) -> None:
    instance = raise_concern(api, family)
    iid = instance["id"]
    api.work(iid, "stage1_response", RESPONSE, "social_worker", CSC)
    api.work(iid, "stage1_discussion", discussion(resolved=True), "teacher", SCHOOL)
    sign_in(app, client, "teacher")

    body = page(client, f"/instances/{iid}")

    recorded = section(body, "What has been recorded", "Where the process is")
    order = [
        recorded.index(title)
        for title in (
            "Started: Escalation of a professional disagreement",
            "Stage 1: respond to the disagreement",
            "Stage 1: record the discussion",
        )
    ]
    assert order == sorted(order)  # oldest first
    assert RESPONSE["position"] in recorded
    assert "Has the risk to the child increased? No" in recorded
    assert "Is the disagreement resolved? Yes" in recorded
    assert "What is the main learning theme?" in recorded
    assert "Action 1" in recorded
    assert "Open an assessment" in recorded
    assert "8 January 2027" in recorded  # a date answer written out
    assert "2027-01-08" not in recorded
    assert reads(app, iid) == [("teacher", "case")]


def test_answers_are_shown_as_text_never_as_markup(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]]
) -> None:
    hostile = '<script>alert("x")</script><b>bold</b>\nsecond line'
    instance = raise_concern(api, family, disputed_decision=hostile)
    sign_in(app, client, "teacher")

    body = page(client, f"/instances/{instance['id']}")

    assert "<script>alert" not in body
    assert "<b>bold</b>" not in body
    assert "&lt;script&gt;alert(" in body
    assert "&lt;b&gt;bold&lt;/b&gt;\nsecond line" in body  # line breaks kept (pre-line)


def test_nothing_recorded_means_no_section_and_no_read_audited(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]]
) -> None:
    from domain.db import unit_of_work
    from domain.processes.models import ProcessInstance
    from tests.web.helpers_reports import context

    instance = raise_concern(api, family)
    with context(app) as ctx, unit_of_work(ctx.session):  # a case from before answers were kept
        row = ctx.session.get(ProcessInstance, instance["id"])
        assert row is not None
        row.start_data = None
    sign_in(app, client, "teacher")

    body = page(client, f"/instances/{instance['id']}")

    assert "What has been recorded" not in body
    assert DISPUTED not in body
    assert reads(app, instance["id"]) == []


def test_the_api_gives_the_start_answers_and_audits_reads_of_answers(
    app: Flask, api: Api, family: tuple[int, list[int]]
) -> None:
    instance = raise_concern(api, family)
    iid = instance["id"]
    api.work(iid, "stage1_response", RESPONSE, "social_worker", CSC)

    detail = api.instance(iid, "teacher")
    assert detail["start_data"]["disputed_decision"] == DISPUTED
    assert "started_by" not in detail["start_data"]  # the API adds who started it; not an answer
    completed = detail["history"][0]["id"]
    task = api.ok("get", f"/tasks/{completed}", "social_worker")
    assert task["data"]["position"] == RESPONSE["position"]
    api.ok("get", f"/tasks?state=completed&instance={iid}", "social_worker")  # no answers in lists
    open_task = api.task_for(iid, "stage1_discussion")
    api.ok("get", f"/tasks/{open_task}", "teacher")  # no answers yet: not a read of any

    assert reads(app, iid) == [("teacher", "api"), ("social_worker", "api")]


def test_a_task_page_shows_the_start_and_the_latest_records_and_points_to_the_rest(
    app: Flask,
    client: FlaskClient,
    api: Api,
    family: tuple[int, list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from web.pages import tasks

    monkeypatch.setattr(tasks, "RECENT_RECORDS", 1)
    instance = raise_concern(api, family)
    iid = instance["id"]
    api.work(iid, "stage1_response", RESPONSE, "social_worker", CSC)
    api.work(iid, "stage1_discussion", discussion(resolved=False), "teacher", SCHOOL)
    task_id = api.task_for(iid, "stage2_response")
    api.headers("csc_manager")
    sign_in(app, client, "csc_manager")

    shown = words(page(client, f"/tasks/{task_id}"))

    assert DISPUTED in shown  # how it started, always
    assert "The records of 1 earlier task is left out here." in shown
    assert f'href="/instances/{iid}/records">See everything recorded on this case' in page(
        client, f"/tasks/{task_id}"
    )
    assert "Stage 1: record the discussion" in shown  # the latest
    assert RESPONSE["position"] not in shown  # the earlier one is left to the case page
    order = [shown.index(s) for s in (DISPUTED, "1 earlier task", "Stage 1: record the")]
    assert order == sorted(order)
    case = words(page(client, f"/instances/{iid}"))
    assert RESPONSE["position"] in case  # the case page shows the latest 20


def test_a_task_page_opens_how_the_case_started_and_the_step_it_follows(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]]
) -> None:
    instance = raise_concern(api, family)
    iid = instance["id"]
    api.work(iid, "stage1_response", RESPONSE, "social_worker", CSC)
    api.work(iid, "stage1_discussion", discussion(resolved=False), "teacher", SCHOOL)
    task_id = api.task_for(iid, "stage2_response")
    api.headers("csc_manager")
    sign_in(app, client, "csc_manager")

    body = page(client, f"/tasks/{task_id}")

    opened = re.findall(
        r'<details class="govuk-details"( open)?>\s*<summary[^>]*>\s*<span[^>]*>([^<]*)', body
    )
    assert [(bool(flag), title.strip().split(" (")[0]) for flag, title in opened] == [
        (True, "Started: Escalation of a professional disagreement"),
        (False, "Stage 1: respond to the disagreement"),
        (True, "Stage 1: record the discussion"),  # what this task follows on from
    ]
