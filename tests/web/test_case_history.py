"""A long case's page stays short: it shows how the case started and the latest records,
timeline and audit entries, and links to numbered pages of all of them, oldest first.

Driven through the shipped escalation, with small page sizes so a few stages make a long case.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from domain.reports.paging import Span
from tests.api.test_process_escalation import RESPONSE, discussion, raise_concern
from tests.api.test_process_mdt_meeting import CSC, SCHOOL, Api, api, family
from tests.web.helpers_reports import sign_in
from tests.web.test_case_records import DISPUTED, page, reads, words
from web.paging import pagination

__all__ = ["api", "family"]  # shared fixtures, re-exported

SECOND_RESPONSE = "A manager has read the school's evidence again."


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    from web.pages import instances

    monkeypatch.setattr(instances, "CASE_RECORDS", 1)
    monkeypatch.setattr(instances, "CASE_EVENTS", 3)
    monkeypatch.setattr(instances, "RECORDS_PAGE", 1)
    monkeypatch.setattr(instances, "EVENTS_PAGE", 3)


def long_case(api: Api, family: tuple[int, list[int]]) -> int:
    """A disagreement taken to stage 2 and answered there: three completed tasks."""
    iid = int(raise_concern(api, family)["id"])
    api.work(iid, "stage1_response", RESPONSE, "social_worker", CSC)
    api.work(iid, "stage1_discussion", discussion(resolved=False), "teacher", SCHOOL)
    second = {**RESPONSE, "position": SECOND_RESPONSE}
    api.work(iid, "stage2_response", second, "csc_manager", CSC)
    return iid


def whole(app: Flask, iid: int) -> tuple[list[str], list[str]]:
    """Every timeline entry's text and every audit entry's action, oldest first."""
    from domain.processes import runtime
    from domain.reports import instance as report
    from tests.web.helpers_reports import context

    with context(app) as ctx:
        instance = runtime.get_instance(ctx, iid)
        timeline = [item.text for item in report.timeline(ctx, instance, Span()).items]
        audit = [line.action for line in report.audit_trail(ctx, iid, Span()).items]
    return timeline, audit


def test_a_long_case_page_shows_the_start_and_the_latest_and_links_to_the_rest(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]], small_pages: None
) -> None:
    iid = long_case(api, family)
    timeline, audit = whole(app, iid)
    sign_in(app, client, "teacher")

    body = page(client, f"/instances/{iid}")
    shown = words(body)

    assert DISPUTED in shown  # how the case started, always
    assert SECOND_RESPONSE in shown  # the latest record
    assert RESPONSE["position"] not in shown  # an earlier one, a link away
    assert "The records of 2 earlier tasks are left out here." in shown
    assert f'href="/instances/{iid}/records">See everything recorded on this case' in body
    assert f"The latest 3 of {len(timeline)} entries are shown, oldest first." in shown
    assert f'href="/instances/{iid}/timeline">See the whole timeline' in body
    assert f"The latest 3 of {len(audit)} entries are shown, oldest first." in shown
    assert f'href="/instances/{iid}/audit">See the whole audit trail' in body
    latest = section(shown, "See the whole timeline", "Audit trail")
    assert all(entry in latest for entry in timeline[-3:])
    assert "Process started" not in latest  # the oldest entry is on the timeline's first page


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_records_pages_hold_everything_recorded_oldest_first_and_each_read_is_audited(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]], small_pages: None
) -> None:
    iid = long_case(api, family)
    sign_in(app, client, "teacher")

    first = page(client, f"/instances/{iid}/records")
    assert "Page 1 of 3." in words(first)
    assert DISPUTED in words(first)  # how the case started, on the first page only
    assert RESPONSE["position"] in words(first)  # then the oldest task
    assert SECOND_RESPONSE not in words(first)
    assert f'href="/instances/{iid}/records?page=2"' in first
    assert f'href="/instances/{iid}/records?page=3"' in first

    last = words(page(client, f"/instances/{iid}/records?page=3"))
    assert "Page 3 of 3." in last
    assert SECOND_RESPONSE in last
    assert DISPUTED not in last
    assert f"Back to {api.instance(iid)['reference']}" in last

    assert reads(app, iid)[-2:] == [("teacher", "records"), ("teacher", "records")]
    for beyond in ("4", "0", "-1", "two", "1.5", "99999999999999999999"):
        assert client.get(f"/instances/{iid}/records?page={beyond}").status_code == 404, beyond
    assert reads(app, iid)[-2:] == [("teacher", "records"), ("teacher", "records")]  # no more


def test_timeline_and_audit_pages_together_hold_every_entry_once_oldest_first(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]], small_pages: None
) -> None:
    iid = long_case(api, family)
    timeline, audit = whole(app, iid)
    sign_in(app, client, "csc_manager")

    for kind, entries, pattern in (
        ("timeline", timeline, r"<strong>(.*?)</strong>"),
        ("audit", audit, r'<span class="govuk-body-s tf-secondary-text">([a-z_.]+)</span>'),
    ):
        pages = -(-len(entries) // 3)
        assert pages >= 3, kind  # a long case at this page size
        seen: list[str] = []
        for number in range(1, pages + 1):
            body = page(client, f"/instances/{iid}/{kind}?page={number}")
            assert f"Page {number} of {pages}." in words(body)
            listed = body[body.index("<h1") : body.index("govuk-footer")]
            seen += [words(found) for found in re.findall(pattern, listed)]
        assert seen == [words(entry) for entry in entries], kind
        assert client.get(f"/instances/{iid}/{kind}?page={pages + 1}").status_code == 404


def test_a_short_case_has_one_page_and_no_links_to_more(
    app: Flask, client: FlaskClient, api: Api, family: tuple[int, list[int]]
) -> None:
    iid = int(raise_concern(api, family)["id"])
    sign_in(app, client, "teacher")

    body = page(client, f"/instances/{iid}")
    assert "left out here" not in body
    assert "entries are shown" not in body
    for kind in ("records", "timeline", "audit"):
        whole_list = page(client, f"/instances/{iid}/{kind}")
        assert "Oldest first." in words(whole_list)
        assert "Page 1 of" not in words(whole_list)
        assert "govuk-pagination" not in whole_list
    assert client.get("/instances/999999/timeline").status_code == 404


def test_pagination_shows_the_ends_and_the_pages_either_side() -> None:
    def href(number: int) -> str:
        return f"?page={number}"

    assert pagination(1, 1, href, "Pages") is None
    middle = pagination(5, 10, href, "Pages")
    assert middle is not None
    marks = [item.get("number", "…") for item in middle["items"]]
    assert marks == [1, "…", 4, 5, 6, "…", 10]
    assert [item["number"] for item in middle["items"] if item.get("current")] == [5]
    assert (middle["previous"], middle["next"]) == ({"href": "?page=4"}, {"href": "?page=6"})
    first = pagination(1, 3, href, "Pages")
    assert first is not None
    assert [item.get("number", "…") for item in first["items"]] == [1, 2, 3]
    assert first["previous"] is None
