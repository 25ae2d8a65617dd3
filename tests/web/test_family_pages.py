"""Family pages: find a family, the Think Family view, add and edit a person, ethnicity."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FakeClock, make_user
from tests.web.helpers_reports import (
    add_person,
    context,
    deploy_test_bundle,
    h1_count,
    make_family,
    post,
    seed_instance,
    seed_task,
    sign_in,
    text,
    title,
)

EARLIER = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class Household:
    """The Smiths: mum Jane (parental responsibility), Amy (7), Bo (2) and an unborn baby."""

    def __init__(self, app: Flask) -> None:
        self.family = make_family(app, "pat", "Smith household")
        self.jane = add_person(app, "pat", self.family, "Jane", born=date(1990, 4, 2))
        self.amy = add_person(
            app,
            "pat",
            self.family,
            "Amy",
            born=date(2019, 6, 1),
            relationships=[(self.jane, "child", True)],
        )
        self.bo = add_person(app, "pat", self.family, "Bo", born=date(2024, 3, 9), sex="M")
        self.baby = add_person(app, "pat", self.family, "Baby", due=date(2027, 3, 1), sex="U")


@pytest.fixture(autouse=True)
def _setup(app: Flask) -> None:
    make_user(app, "pat", ["practitioner"])
    make_user(app, "owen", ["process_owner"])


@pytest.fixture
def smiths(app: Flask) -> Household:
    return Household(app)


def member_card(html: str, person_id: int) -> str:
    found = re.search(
        rf'<div class="govuk-summary-card" id="person-{person_id}">(.*?)</dl>', html, re.S
    )
    assert found is not None, person_id
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def record_ethnicity(app: Flask, person_id: int, **answer: object) -> None:
    from domain.db import unit_of_work
    from domain.families import ethnicity

    with context(app, "pat") as ctx, unit_of_work(ctx.session):
        ethnicity.record_ethnicity(ctx, person_id=person_id, **answer)  # type: ignore[arg-type]


def person_row(app: Flask, person_id: int) -> dict[str, object]:
    from domain.families import service as families

    with context(app, "pat") as ctx:
        person = families.get_person(ctx, person_id)
        return {
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth,
            "expected_date_of_birth": person.expected_date_of_birth,
            "sex": person.sex,
        }


# --- access -------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, smiths: Household) -> None:
    for url in (
        "/families",
        f"/families/{smiths.family}",
        f"/families/{smiths.family}/members/new",
        f"/people/{smiths.amy}/edit",
        f"/people/{smiths.amy}/ethnicity",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/sign-in")


def test_unknown_family_is_a_404_page(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "pat")
    assert client.get("/families/999").status_code == 404
    assert client.get("/people/999/edit").status_code == 404


# --- finding a family ---------------------------------------------------------------------


def test_search_by_reference_or_name(app: Flask, client: FlaskClient, smiths: Household) -> None:
    other = make_family(app, "pat", "Jones household")
    add_person(app, "pat", other, "Cat", "Jones", born=date(2012, 1, 1))
    sign_in(app, client, "pat")

    everyone = client.get("/families")
    assert everyone.status_code == 200
    assert title(everyone) == "Families \N{EN DASH} ThinkFamily"
    assert "Smith household" in text(everyone)
    assert "Jones household" in text(everyone)

    by_name = text(client.get("/families?q=amy+smith"))
    assert f'href="/families/{smiths.family}"' in by_name
    assert "Jones household" not in by_name
    by_reference = text(client.get(f"/families?q=FAM-{other:06d}"))
    assert "Jones household" in by_reference
    assert "Smith household" not in by_reference
    accented = make_family(app, "pat", "Household")
    add_person(app, "pat", accented, "Zo\u00eb", "\u00d3 Briain", born=date(2015, 3, 1))
    typed_plainly = text(client.get("/families?q=zoe+o%27briain"))
    assert f'href="/families/{accented}"' in typed_plainly
    assert "Jones household" not in typed_plainly
    nothing = text(client.get("/families?q=zzz"))
    assert "No families match" in nothing


def test_a_practitioner_adds_a_family_then_its_people(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "pat")
    listing = text(client.get("/families?q=nobody"))
    assert 'href="/families/new"' in listing
    form = client.get("/families/new")
    assert form.status_code == 200
    assert text(form).count('data-prevent-double-click="true"') == 1
    assert title(form) == "Add a family \N{EN DASH} ThinkFamily"
    assert 'name="csrf_token"' in text(form)

    added = post(client, "/families/new", {"name": "  Mill Lane household ", "reference": ""})

    assert added.status_code == 302
    family_url = added.headers["Location"]
    page = text(client.get(family_url))
    assert "Family FAM-" in page
    assert "was added: now add the people in it" in page
    assert '<h1 class="govuk-heading-l">Mill Lane household</h1>' in page
    assert f'href="{family_url}/members/new"' in page
    found = text(client.get("/families?q=mill+lane"))
    assert f'href="{family_url}"' in found
    from domain.audit.models import AuditEvent

    with context(app, "pat") as ctx:
        from sqlalchemy import select

        actions = ctx.session.scalars(select(AuditEvent.action)).all()
    assert "family.created" in actions


def test_an_add_family_form_sent_twice_adds_one_family(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "pat")
    token = re.search(r'name="form_token" value="([^"]+)"', text(client.get("/families/new")))
    assert token is not None
    form = {"name": "Resent household", "form_token": token.group(1)}

    first = post(client, "/families/new", form)
    again = post(client, "/families/new", form)

    assert again.headers["Location"] == first.headers["Location"]
    assert "This form had been sent already" in text(client.get(again.headers["Location"]))
    with context(app, "pat") as ctx:
        from domain.families import service as families

        assert len(families.list_families(ctx, search="resent household")) == 1


def test_an_add_person_form_sent_twice_adds_one_person(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")
    url = f"/families/{smiths.family}/members/new"
    token = re.search(r'name="form_token" value="([^"]+)"', text(client.get(url)))
    assert token is not None
    form = {"given_name": "Resent", "family_name": "Smith", "sex": "M", "is_child": "adult"}
    form["form_token"] = token.group(1)

    first = post(client, url, form)
    again = post(client, url, form)

    assert first.status_code == again.status_code == 302
    assert len(people_named(app, "resent")) == 1


def test_a_form_sent_twice_at_once_records_once(app: Flask) -> None:
    """Two sendings of one form at the same moment: one family, and both see it."""
    from tests.api.test_races import at_once

    clients = []
    for _ in range(2):
        c = app.test_client()
        sign_in(app, c, "pat")
        clients.append(c)
    token = re.search(r'name="form_token" value="([^"]+)"', text(clients[0].get("/families/new")))
    assert token is not None
    form = {"name": "Twice at once", "form_token": token.group(1)}

    responses = at_once(app, lambda _c, n: post(clients[n], "/families/new", form), 2)

    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0].headers["Location"] == responses[1].headers["Location"]
    with context(app, "pat") as ctx:
        from domain.families import service as families

        assert len(families.list_families(ctx, search="twice at once")) == 1


def test_a_token_is_one_persons_and_a_made_up_one_guards_nothing(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(app, client, "pat")
    form = {"name": "Shared token household", "form_token": "x" * 32}
    first = post(client, "/families/new", form)
    other = app.test_client()
    make_user(app, "tia", ["practitioner"])
    sign_in(app, other, "tia")
    second = post(other, "/families/new", form)  # someone else's form: recorded as theirs
    assert second.status_code == 302
    assert second.headers["Location"] != first.headers["Location"]
    with context(app, "pat") as ctx:
        from domain.families import service as families

        assert len(families.list_families(ctx, search="shared token household")) == 2
    for bad in ("", "short", "<script>" * 8):
        sent = post(client, "/families/new", {"name": f"Bad token {len(bad)}", "form_token": bad})
        assert sent.status_code == 302
    with context(app, "pat") as ctx:
        from domain.families import service as families

        assert len(families.list_families(ctx, search="bad token")) == 3


def test_a_family_can_keep_another_systems_reference(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "pat")

    added = post(client, "/families/new", {"name": "Kerr household", "reference": "lcs-48213"})

    assert added.status_code == 302
    assert "LCS-48213" in text(client.get(added.headers["Location"]))
    for reference, message in (
        ("LCS-48213", "A family with that reference exists"),
        ("FAM-000001", "References starting FAM- are generated"),
        ("a b", "Use 3 to 20 capital letters, digits or hyphens"),
    ):
        refused = post(client, "/families/new", {"name": "Another", "reference": reference})
        assert refused.status_code == 200, reference
        body = text(refused)
        assert 'href="#reference"' in body, reference
        assert message in body, reference
        assert 'value="Another"' in body  # the answers are kept


def test_adding_a_family_needs_a_name_csrf_and_a_writer(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "pat")
    nameless = post(client, "/families/new", {"name": " "})
    assert nameless.status_code == 200
    assert 'href="#name"' in text(nameless)
    assert "Enter a household name" in text(nameless)
    assert client.post("/families/new", data={"name": "No token"}).status_code == 400
    sign_in(app, client, "owen")  # a process owner reads families but does not add them
    assert client.get("/families/new").status_code == 403
    assert 'href="/families/new"' not in text(client.get("/families"))
    with context(app, "pat") as ctx:
        from domain.families import service as families

        assert families.list_families(ctx) == []


# --- the Think Family view ----------------------------------------------------------------


def statements_sent(app: Flask, send: Any) -> int:
    """How many SQL statements `send()` makes the app send."""
    from sqlalchemy import event

    from api.common.extensions import db

    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def count(*_args: object) -> None:
        sent.append("statement")

    event.listen(engine, "before_cursor_execute", count)
    try:
        send()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(sent)


def test_a_large_household_costs_the_family_view_no_more_statements(
    app: Flask, client: FlaskClient
) -> None:
    """Each member's disabilities and each special category read's audit row used to cost a
    statement of its own, on the family page and in the API's family view alike."""
    from domain.db import unit_of_work
    from domain.families import disabilities
    from tests.conftest import token_for

    sign_in(app, client, "pat")
    headers = token_for(app.test_client(), "pat")
    page_counts, api_counts = [], []
    for size in (2, 12):
        family = make_family(app, "pat", f"Household of {size}")
        for n in range(size):
            person = add_person(app, "pat", family, f"Member{n}", born=date(2010, 1, 1 + n))
            record_ethnicity(app, person, code="WBRI", source="self")
            with context(app, "pat") as ctx, unit_of_work(ctx.session):
                disabilities.record_disabilities(ctx, person_id=person, disability_codes=["NONE"])
        seen: dict[str, Any] = {}

        def page(family: int = family, seen: dict[str, Any] = seen) -> None:
            seen["page"] = client.get(f"/families/{family}").status_code

        def api(family: int = family, seen: dict[str, Any] = seen) -> None:
            seen["api"] = client.get(f"/api/v1/families/{family}", headers=headers).json

        page_counts.append(statements_sent(app, page))
        api_counts.append(statements_sent(app, api))
        assert seen["page"] == 200
        assert [m["disabilities"] for m in seen["api"]["members"]] == [["NONE"]] * size
    assert page_counts[0] == page_counts[1]
    assert api_counts[0] == api_counts[1]

    from sqlalchemy import select

    from domain.audit.models import AuditEvent

    with context(app, "pat") as ctx:
        actions = ctx.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-13:] == ["family.viewed"] + ["person.special_category_viewed"] * 12


def test_family_page_shows_members_under_5s_first(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")

    response = client.get(f"/families/{smiths.family}")

    assert response.status_code == 200
    assert title(response) == f"Smith household (FAM-{smiths.family:06d}) \N{EN DASH} ThinkFamily"
    assert h1_count(response) == 1
    body = text(response)
    order = [
        body.index(f'id="person-{p}"') for p in (smiths.baby, smiths.bo, smiths.amy, smiths.jane)
    ]
    assert order == sorted(order)  # unborn and under-5s first, then children, then adults
    baby = member_card(body, smiths.baby)
    assert "Unborn" in baby
    assert "Expected date of birth Monday 1 March 2027" in baby
    bo = member_card(body, smiths.bo)
    assert "Under 5" in bo
    assert "2 years" in bo
    assert "Male" in bo
    amy = member_card(body, smiths.amy)
    assert "Under 5" not in amy
    assert "7 years" in amy
    assert "Parent: Jane Smith (parental responsibility: Jane Smith)" in amy
    jane = member_card(body, smiths.jane)
    assert "Adult" in jane
    assert "Child: Amy Smith" in jane
    for key in ("referral", "mdt_meeting", "escalation", "early_help"):
        assert f'href="/start/{key}?family_id={smiths.family}"' in body
    assert f'href="/families/{smiths.family}/members/new"' in body
    assert "Family record opened" in body
    assert "Member added to the household" in body


def test_ethnicity_status_per_person_as_distinct_tags(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    record_ethnicity(
        app, smiths.jane, ons2021="black_caribbean", source="self", self_description="Jamaican"
    )
    record_ethnicity(app, smiths.amy, code="REFU", source="parent_carer")
    record_ethnicity(app, smiths.bo, ons2021="white_irish", source="practitioner_observed")
    sign_in(app, client, "pat")

    body = text(client.get(f"/families/{smiths.family}"))

    jane = member_card(body, smiths.jane)
    assert "Recorded Black: Caribbean (BCRB)" in jane
    assert "In their own words: “Jamaican”" in jane
    assert "Source: the person themselves" in jane
    assert "Refused (REFU) Declined by a parent or carer" in member_card(body, smiths.amy)
    bo = member_card(body, smiths.bo)
    assert "Observed by a practitioner" in bo
    assert "sent to the census as not yet obtained" in bo
    assert "Not yet obtained (NOBT)" in member_card(body, smiths.baby)
    assert "Refused (REFU)" not in member_card(body, smiths.baby)


def test_every_process_of_the_family_with_next_due(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    deploy_test_bundle(app, "basic")
    case = seed_instance(
        app, "basic", stage="Front door screening", started_at=EARLIER, family_id=smiths.family
    )
    seed_task(
        app, case, "triage", created_at=EARLIER, due_at=datetime(2026, 12, 18, 17, tzinfo=UTC)
    )
    ended = seed_instance(
        app,
        "basic",
        stage="Closed",
        status="completed",
        started_at=EARLIER,
        family_id=smiths.family,
    )
    sign_in(app, client, "pat")

    body = text(client.get(f"/families/{smiths.family}"))

    table = body.split('id="processes"', 1)[1].split('id="timeline"', 1)[0]
    assert f'<a class="govuk-link" href="/instances/{case}">T-{case:06d}</a>' in table
    assert f'href="/instances/{ended}"' in table
    assert "Front door screening" in table
    assert "In progress" in table
    assert "Completed" in table
    assert "Friday 18 December 2026" in table
    assert "Overdue" in table


def timeline_items(body: str) -> list[str]:
    """The timeline's entries as text, newest first."""
    section = body.split('id="timeline"', 1)[1]
    items = re.findall(r'<li class="tf-timeline__item">(.*?)</li>', section, re.S)
    words = [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]
    return [html.unescape(w).replace(" ,", ",") for w in words]


def test_the_timeline_says_who_it_happened_to_how_and_by_whom(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    from domain.db import unit_of_work
    from domain.families import service as families

    with context(app, "pat") as ctx, unit_of_work(ctx.session):
        families.update_person(
            ctx, person_id=smiths.bo, changes={"date_of_birth": date(2024, 3, 8)}
        )
    sign_in(app, client, "pat")

    items = timeline_items(text(client.get(f"/families/{smiths.family}")))

    by = "by Pat, csc"
    assert items[0].startswith("Person details changed: Bo Smith (date of birth) ")
    assert any(
        i.startswith("Relationship recorded: Jane Smith is Amy Smith's parent ") for i in items
    )
    assert any(i.startswith("Member added to the household: Baby Smith ") for i in items)
    assert any(i.startswith("Person record created: Amy Smith ") for i in items)
    assert items[-1].startswith("Family record opened ")
    assert all(i.endswith(by) for i in items)


def test_the_timeline_pages_on_to_every_older_entry(
    app: Flask, client: FlaskClient, smiths: Household, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.families import history

    sign_in(app, client, "pat")
    every = timeline_items(text(client.get(f"/families/{smiths.family}")))
    assert len(every) > 7
    monkeypatch.setattr(history, "TIMELINE_PAGE", 3)

    seen: list[str] = []
    address = f"/families/{smiths.family}"
    pages = 0
    while True:
        body = text(client.get(address))
        pages += 1
        items = timeline_items(body)
        assert len(items) == 3 or "Older entries</span>" not in body
        seen += items
        if pages > 1:
            assert f'href="/families/{smiths.family}#timeline"' in body  # the newest
        found = re.search(r'href="([^"]*before=\d+[^"]*)"[^>]*rel="next"', body)
        if found is None:
            break
        address = found.group(1).replace("&amp;", "&")
    assert pages == -(-len(every) // 3)
    assert seen == every


def test_the_timeline_shows_processes_or_record_changes_alone(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    from domain.db import unit_of_work
    from domain.processes import runtime
    from tests.web.test_session_pages import deploy_web_test

    deploy_web_test(app)
    with context(app, "pat") as ctx, unit_of_work(ctx.session):
        answers = {"urgency": "routine", "route": "general", "other_agency": "csc"}
        runtime.start_process(
            ctx,
            process_key="web_test",
            data={"family_id": smiths.family, "subject_person_ids": [smiths.amy], **answers},
        )
    sign_in(app, client, "pat")
    every = timeline_items(text(client.get(f"/families/{smiths.family}")))

    body = text(client.get(f"/families/{smiths.family}?show=processes"))
    processes = timeline_items(body)
    assert '<strong aria-current="page">Processes and tasks</strong>' in body
    assert len(processes) == 1
    assert "started" in processes[0]
    records = timeline_items(text(client.get(f"/families/{smiths.family}?show=records")))
    assert "started" not in " ".join(records)
    assert sorted(processes + records) == sorted(every)
    for hand_made in ("?show=reads", "?before=abc", "?before=-1&show="):
        response = client.get(f"/families/{smiths.family}{hand_made}")
        assert response.status_code == 200, hand_made
        assert timeline_items(text(response)) == every or "before=-1" in hand_made


def test_a_member_who_leaves_stays_on_the_family_page_until_they_come_back(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")
    page = text(client.get(f"/families/{smiths.family}"))
    assert "Members (4)" in page
    url = f"/families/{smiths.family}/members/{smiths.jane}/left"
    assert f'href="{url}"' in page

    form = client.get(url)
    assert title(form).startswith("Record that Jane Smith has left the household")
    answer = {"left_on-day": "1", "left_on-month": "12", "left_on-year": "2026"}
    saved = post(client, url, {**answer, "reason": "Moved in with her partner"})
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/families/{smiths.family}#person-{smiths.jane}")

    page = text(client.get(f"/families/{smiths.family}"))
    assert "Members (3 living here, 1 who has left)" in page
    assert "Jane Smith (left), Amy Smith, Bo Smith" in text(client.get("/families?q=smith"))
    assert "Jane Smith is recorded as having left the household" in page
    card = member_card(page, smiths.jane)
    assert "Left the household Tuesday 1 December 2026 Moved in with her partner" in card
    assert page.index(f'id="person-{smiths.jane}"') > page.index(f'id="person-{smiths.amy}"')
    assert f'href="{url}"' not in page  # recorded already: "back" is offered instead
    assert 'back<span class="govuk-visually-hidden">: Jane Smith</span></button>' in page
    assert timeline_items(page)[0].startswith("Left the household: Jane Smith ")

    again = post(client, url, answer)  # sent twice, or by a second practitioner
    assert again.status_code == 302
    assert "already recorded" in text(client.get(f"/families/{smiths.family}"))

    back = f"/families/{smiths.family}/members/{smiths.jane}/returned"
    assert client.post(back).status_code == 400  # no CSRF token
    assert post(client, back).status_code == 302
    page = text(client.get(f"/families/{smiths.family}"))
    assert "Members (4)" in page
    assert "Jane Smith is recorded as living in the household" in page
    assert timeline_items(page)[0].startswith("Back living in the household: Jane Smith ")


def test_leaving_form_errors_are_shown_on_the_field(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")
    url = f"/families/{smiths.family}/members/{smiths.amy}/left"
    for answer, message in (
        ({}, "Enter the day they left"),
        (
            {"left_on-day": "31", "left_on-month": "5", "left_on-year": "2019"},
            "Enter a day on or after their date of birth",  # Amy was born on 1 June 2019
        ),
        (
            {"left_on-day": "22", "left_on-month": "12", "left_on-year": "2026"},
            "Enter the day they left: today or earlier",
        ),
    ):
        response = post(client, url, {**answer, "reason": "To her dad's"})
        assert response.status_code == 200
        assert title(response).startswith("Error: ")
        body = text(response)
        assert 'href="#left_on-day"' in body, answer
        assert message in body, answer
        assert 'value="To her dad&#39;s"' in body or "To her dad&#39;s" in body
    assert "Left the household" not in member_card(
        text(client.get(f"/families/{smiths.family}")), smiths.amy
    )
    other = make_family(app, "pat", "Jones household")
    assert client.get(f"/families/{other}/members/{smiths.amy}/left").status_code == 404
    assert post(client, f"/families/{other}/members/{smiths.amy}/returned").status_code == 404


def test_only_practitioners_and_managers_record_a_member_leaving(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "owen")
    assert "Record that they left" not in text(client.get(f"/families/{smiths.family}"))
    url = f"/families/{smiths.family}/members/{smiths.jane}/left"
    assert client.get(url).status_code == 403
    answer = {"left_on-day": "1", "left_on-month": "12", "left_on-year": "2026"}
    assert post(client, url, answer).status_code == 403


def test_process_owners_read_families_without_special_category_data(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    record_ethnicity(app, smiths.jane, ons2021="black_caribbean", source="self")
    sign_in(app, client, "owen")

    response = client.get(f"/families/{smiths.family}")

    assert response.status_code == 200
    body = text(response)
    assert "Not shown for your role" in member_card(body, smiths.jane)
    assert "Caribbean" not in body
    assert "/start/referral" not in body
    assert "/members/new" not in body
    assert "/edit" not in body
    assert client.get(f"/families/{smiths.family}/members/new").status_code == 403
    assert client.get(f"/people/{smiths.jane}/ethnicity").status_code == 403


# --- adding a person ----------------------------------------------------------------------


def test_add_a_person_with_relationships_without_javascript(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")
    url = f"/families/{smiths.family}/members/new"
    form = client.get(url)
    assert form.status_code == 200
    page = text(form)
    assert page.count('data-prevent-double-click="true"') == 1
    assert title(form) == "Add a person to the family \N{EN DASH} ThinkFamily"
    assert 'name="csrf_token"' in page
    assert 'name="date_of_birth-day"' in page
    assert 'name="expected_date_of_birth-year"' in page
    assert "What is this person to Amy Smith?" in page
    assert f'name="relationship_{smiths.amy}"' in page

    response = post(
        client,
        url,
        {
            "given_name": "Tom",
            "family_name": "Smith",
            "sex": "M",
            "date_of_birth-day": "5",
            "date_of_birth-month": "7",
            "date_of_birth-year": "1988",
            f"relationship_{smiths.amy}": "parent",
            f"relationship_{smiths.bo}": "step_parent",
            f"relationship_{smiths.jane}": "none",  # not related
            "parental_responsibility": [str(smiths.amy)],
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/families/{smiths.family}"
    body = text(client.get(f"/families/{smiths.family}"))
    assert "Tom Smith was added to the family" in body
    assert "Tom Smith" not in member_card(body, smiths.jane)
    amy = member_card(body, smiths.amy)
    assert "Parent: Tom Smith (parental responsibility: Tom Smith)" in amy
    assert "Step-parent: Tom Smith" in member_card(body, smiths.bo)
    assert "Step-parent: Tom Smith (parental" not in member_card(body, smiths.bo)


AMY_AGAIN = {
    "given_name": "amy",
    "family_name": "SMITH",
    "sex": "F",
    "date_of_birth-day": "1",
    "date_of_birth-month": "6",
    "date_of_birth-year": "2019",
}


def offered_of(body: str) -> str:
    found = re.search(r'name="offered" value="([^"]*)"', body)
    assert found is not None
    return found.group(1)


def people_named(app: Flask, given: str) -> list[int]:
    from sqlalchemy import select

    from domain.families.models import Person

    with context(app, "pat") as ctx:
        return list(ctx.session.scalars(select(Person.id).where(Person.given_name.ilike(given))))


def test_someone_already_recorded_is_offered_and_added_as_the_same_person(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    dads = make_family(app, "pat", "Dad's household")
    dad = add_person(app, "pat", dads, "Tom", born=date(1988, 7, 5), sex="M")
    sign_in(app, client, "pat")
    url = f"/families/{dads}/members/new"

    asked = post(client, url, {**AMY_AGAIN, f"relationship_{dad}": "child"})

    assert asked.status_code == 200
    body = text(asked)
    assert "Is this someone already recorded?" in body
    assert f'value="{smiths.amy}"' in body
    assert "Amy Smith, born Saturday 1 June 2019" in body
    assert f"Recorded in FAM-{smiths.family:06d} (Smith household)" in body
    assert "No, add a new person" in body
    assert 'value="amy"' in body  # what was typed is kept
    assert offered_of(body) == str(smiths.amy)

    added = post(
        client,
        url,
        {
            **AMY_AGAIN,
            f"relationship_{dad}": "child",
            "offered": offered_of(body),
            "match_choice": str(smiths.amy),
        },
    )

    assert added.status_code == 302
    page = text(client.get(f"/families/{dads}"))
    assert "Amy Smith, already recorded, was added to the family" in page
    assert "Parent: Tom Smith" in member_card(page, smiths.amy)
    assert people_named(app, "amy") == [smiths.amy]  # one record, in both households
    assert f'id="person-{smiths.amy}"' in text(client.get(f"/families/{smiths.family}"))
    assert person_row(app, smiths.amy)["given_name"] == "Amy"  # details kept as recorded

    from sqlalchemy import select

    from domain.audit.models import AuditEvent

    with context(app, "pat") as ctx:
        shown = ctx.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "person.possible_matches_shown")
        ).all()
    assert [(e.subject_id, e.details) for e in shown] == [
        (str(dads), {"person_ids": [smiths.amy]}),  # shown once: the choice showed no one
    ]


def test_someone_new_with_a_recorded_name_is_added_when_the_practitioner_says_so(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    other = make_family(app, "pat", "Other household")
    sign_in(app, client, "pat")
    url = f"/families/{other}/members/new"
    body = text(post(client, url, AMY_AGAIN))

    unanswered = post(client, url, {**AMY_AGAIN, "offered": offered_of(body)})
    assert unanswered.status_code == 200
    assert 'href="#match_choice"' in text(unanswered)
    assert "Say whether this is one of the people already recorded" in text(unanswered)
    not_offered = post(
        client, url, {**AMY_AGAIN, "offered": offered_of(body), "match_choice": str(smiths.bo)}
    )
    assert 'href="#match_choice"' in text(not_offered)
    assert people_named(app, "amy") == [smiths.amy]

    added = post(client, url, {**AMY_AGAIN, "offered": offered_of(body), "match_choice": "new"})

    assert added.status_code == 302
    assert len(people_named(app, "amy")) == 2
    assert "amy SMITH was added to the family" in text(client.get(f"/families/{other}"))


def test_the_question_is_asked_again_when_the_name_changes_and_not_for_another_birthday(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    other = make_family(app, "pat", "Other household")
    add_person(app, "pat", other, "Bo", born=date(2024, 3, 9), sex="M")
    sign_in(app, client, "pat")
    url = f"/families/{other}/members/new"
    body = text(post(client, url, AMY_AGAIN))

    # changed to a name someone else has: that person is offered, the old answer not used
    renamed = {**AMY_AGAIN, "given_name": "Jane", "date_of_birth-year": "1990"}
    renamed.update({"date_of_birth-month": "4", "date_of_birth-day": "2"})
    asked = post(client, url, {**renamed, "offered": offered_of(body), "match_choice": "new"})
    assert asked.status_code == 200
    assert offered_of(text(asked)) == str(smiths.jane)
    assert people_named(app, "jane") == [smiths.jane]

    # another date of birth: not the same person, added without a question
    twin = {**AMY_AGAIN, "date_of_birth-year": "2018"}
    assert post(client, url, twin).status_code == 302
    assert len(people_named(app, "amy")) == 2

    # the same name as someone in this household: said, and only "someone new" is offered
    bo = {"given_name": "Bo", "family_name": "Smith", "sex": "M", "date_of_birth-year": "2024"}
    bo.update({"date_of_birth-month": "3", "date_of_birth-day": "9"})
    body = text(post(client, url, bo))
    assert "Bo Smith in this household has the same name." in body
    assert re.findall(r'name="match_choice" type="radio" value="([^"]+)"', body) == [
        str(smiths.bo),  # the Smiths' Bo, who may be this one
        "new",
    ]


def test_add_person_errors_keep_the_answers(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")
    url = f"/families/{smiths.family}/members/new"

    response = post(client, url, {"family_name": "Smith", "date_of_birth-day": "31"})

    assert response.status_code == 200
    body = text(response)
    assert title(response).startswith("Error: ")
    assert "There is a problem" in body
    assert 'href="#given_name"' in body
    assert "Enter first name" in body
    assert 'href="#sex"' in body
    assert "Select the person&#39;s sex" in body
    assert 'href="#date_of_birth-day"' in body
    assert 'value="31"' in body
    assert 'value="Smith"' in body


def test_add_person_domain_errors_are_shown_on_the_field(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")
    url = f"/families/{smiths.family}/members/new"
    both = {
        "given_name": "Zed",
        "family_name": "Smith",
        "sex": "U",
        "date_of_birth-day": "1",
        "date_of_birth-month": "1",
        "date_of_birth-year": "2020",
        "expected_date_of_birth-day": "1",
        "expected_date_of_birth-month": "3",
        "expected_date_of_birth-year": "2027",
    }
    body = text(post(client, url, both))
    assert 'href="#expected_date_of_birth-day"' in body
    assert "Give a date of birth or an expected one" in body

    no_age = {"given_name": "Zed", "family_name": "Smith", "sex": "U"}
    body = text(post(client, url, no_age))
    assert 'href="#is_child"' in body

    orphan = {**no_age, "is_child": "child", "parental_responsibility": [str(smiths.jane)]}
    body = text(post(client, url, orphan))
    assert 'href="#parental_responsibility"' in body
    assert "Select what this person is to Jane Smith" in body
    assert "Zed" not in text(client.get(f"/families/{smiths.family}"))


def test_add_person_needs_the_csrf_token(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")
    response = client.post(
        f"/families/{smiths.family}/members/new",
        data={"given_name": "Tom", "family_name": "Smith", "sex": "M", "is_child": "adult"},
    )
    assert response.status_code == 400
    assert "Tom Smith" not in text(client.get(f"/families/{smiths.family}"))


# --- editing a person ---------------------------------------------------------------------


def test_edit_a_person(app: Flask, client: FlaskClient, smiths: Household) -> None:
    sign_in(app, client, "pat")
    url = f"/people/{smiths.baby}/edit?family_id={smiths.family}"
    form = client.get(url)
    assert form.status_code == 200
    page = text(form)
    assert 'value="Baby"' in page
    assert 'name="expected_date_of_birth-year"' in page
    assert 'value="2027"' in page
    assert "What is this person to Jane Smith?" in page

    response = post(
        client,
        url,
        {
            "given_name": "Cleo",
            "family_name": "Smith",
            "sex": "F",
            "date_of_birth-day": "14",
            "date_of_birth-month": "12",
            "date_of_birth-year": "2026",
            f"relationship_{smiths.jane}": "child",
            "parental_responsibility": [str(smiths.jane)],
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/families/{smiths.family}"
    assert person_row(app, smiths.baby) == {
        "given_name": "Cleo",
        "family_name": "Smith",
        "date_of_birth": date(2026, 12, 14),
        "expected_date_of_birth": None,
        "sex": "F",
    }
    body = text(client.get(f"/families/{smiths.family}"))
    cleo = member_card(body, smiths.baby)
    assert "Under 5" in cleo
    assert "Unborn" not in cleo
    assert "Parent: Jane Smith (parental responsibility: Jane Smith)" in cleo
    page = text(client.get(url))  # the relationship recorded is the question's answer now
    assert "What is this person to Jane Smith?" in page
    assert re.search(r'<option value="child" selected>', page)
    assert re.search(rf'value="{smiths.jane}" checked', page)


def edit_form(client: FlaskClient, url: str) -> dict[str, Any]:
    """The edit person form as a browser would send it unchanged (selects and ticks kept)."""
    page = text(client.get(url))
    fields: dict[str, Any] = dict(
        re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
    )
    fields = {k: v for k, v in fields.items() if not k.startswith(("parental", "is_child", "sex"))}
    for select in re.findall(r'<select[^>]*name="([^"]+)"(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', select[1])
        fields[select[0]] = chosen.group(1) if chosen else ""
    fields["parental_responsibility"] = re.findall(
        r'name="parental_responsibility"[^>]*value="(\d+)" checked', page
    )
    sex = re.search(r'name="sex"[^>]*value="(\w)" checked', page)
    fields["sex"] = sex.group(1) if sex else ""
    fields.pop("csrf_token", None)
    return fields


def test_a_relationship_recorded_wrongly_is_changed_or_removed(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    sign_in(app, client, "pat")
    url = f"/people/{smiths.amy}/edit?family_id={smiths.family}"
    form = edit_form(client, url)
    assert form[f"relationship_{smiths.jane}"] == "child"
    assert form["parental_responsibility"] == [str(smiths.jane)]
    assert post(client, url, form).status_code == 302  # saved unchanged: nothing recorded
    assert "Relationship removed" not in text(client.get(f"/families/{smiths.family}"))

    # Jane is Amy's step-parent, not her parent
    changed = {**edit_form(client, url), f"relationship_{smiths.jane}": "step_child"}
    assert post(client, url, changed).status_code == 302
    page = text(client.get(f"/families/{smiths.family}"))
    assert "Step-parent: Jane Smith (parental responsibility: Jane Smith)" in member_card(
        page, smiths.amy
    )
    items = timeline_items(page)
    assert items[0].startswith("Relationship recorded: Jane Smith is Amy Smith's step-parent ")
    assert items[1].startswith("Relationship removed: Jane Smith was Amy Smith's parent ")

    # Bo is not related to Amy after all: recorded, then removed
    assert post(client, url, {**edit_form(client, url), f"relationship_{smiths.bo}": "sibling"})
    assert "Sibling: Bo Smith" in member_card(
        text(client.get(f"/families/{smiths.family}")), smiths.amy
    )
    removed = {**edit_form(client, url), f"relationship_{smiths.bo}": "none"}
    assert post(client, url, removed).status_code == 302
    card = member_card(text(client.get(f"/families/{smiths.family}")), smiths.amy)
    assert "Bo Smith" not in card
    assert "Step-parent: Jane Smith" in card
    # left blank: no answer, so nothing changes
    assert post(client, url, {**edit_form(client, url), f"relationship_{smiths.jane}": ""})
    assert "Step-parent: Jane Smith" in member_card(
        text(client.get(f"/families/{smiths.family}")), smiths.amy
    )


def test_a_relationship_changed_from_another_page_since_is_not_undone(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    """Two practitioners: one corrects Jane and Amy's relationship from Jane's page while the
    other has Amy's page open. Amy's page, saved, must not put the old relationship back."""
    sign_in(app, client, "pat")
    amy_url = f"/people/{smiths.amy}/edit?family_id={smiths.family}"
    stale = edit_form(client, amy_url)
    jane_url = f"/people/{smiths.jane}/edit?family_id={smiths.family}"
    corrected = {**edit_form(client, jane_url), f"relationship_{smiths.amy}": "step_parent"}
    assert post(client, jane_url, corrected).status_code == 302

    response = post(client, amy_url, stale)
    assert response.status_code == 409
    assert "after you opened them" in text(response)
    card = member_card(text(client.get(f"/families/{smiths.family}")), smiths.amy)
    assert "Step-parent: Jane Smith" in card


def test_edit_person_errors_are_shown(app: Flask, client: FlaskClient, smiths: Household) -> None:
    sign_in(app, client, "pat")
    response = post(
        client,
        f"/people/{smiths.amy}/edit",
        {
            "given_name": "Amy",
            "family_name": "Smith",
            "sex": "F",
            "date_of_birth-day": "1",
            "date_of_birth-month": "1",
            "date_of_birth-year": "2030",
        },
    )
    assert response.status_code == 200
    assert 'href="#date_of_birth-day"' in text(response)
    assert "The date of birth must be a past date" in text(response)
    assert person_row(app, smiths.amy)["date_of_birth"] == date(2019, 6, 1)


# --- ethnicity ----------------------------------------------------------------------------


def test_ethnicity_page_records_the_persons_own_answer(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    record_ethnicity(app, smiths.jane, ons2021="black_caribbean", source="self")
    sign_in(app, client, "pat")
    url = f"/people/{smiths.amy}/ethnicity?family_id={smiths.family}"
    form = client.get(url)
    assert form.status_code == 200
    page = text(form)
    assert title(form) == "Ethnicity of Amy Smith \N{EN DASH} ThinkFamily"
    assert "Nothing has been recorded for Amy Smith" in page
    assert "Caribbean (BCRB)" not in page  # never defaulted from her mother
    assert "They preferred not to say (refused)" in page
    assert "Not asked yet (not yet obtained)" in page
    assert "recorded by a practitioner as observed" in page

    response = post(
        client,
        url,
        {
            "answer": "recorded",
            "source": "parent_carer",
            "ons2021": "mixed_white_black_caribbean",
            "self_description": "Mixed heritage",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/families/{smiths.family}"
    amy = member_card(text(client.get(f"/families/{smiths.family}")), smiths.amy)
    assert "Mixed: White and Black Caribbean (MWBC)" in amy
    assert "“Mixed heritage”" in amy
    assert "Source: a parent or carer, on the child&#39;s behalf" in amy


@pytest.mark.parametrize(
    ("answer", "tag"),
    [
        ({"answer": "refused", "refused_by": "self"}, "Refused (REFU)"),
        ({"answer": "not_obtained"}, "Not yet obtained (NOBT)"),
        (
            {"answer": "recorded", "source": "self", "ons2021": "white_gypsy_irish_traveller:WROM"},
            "White: Gypsy or Irish Traveller (WROM)",
        ),
    ],
)
def test_refused_not_obtained_and_two_code_categories(
    app: Flask, client: FlaskClient, smiths: Household, answer: dict[str, str], tag: str
) -> None:
    sign_in(app, client, "pat")
    response = post(client, f"/people/{smiths.jane}/ethnicity", answer)
    assert response.status_code == 302
    assert tag in member_card(text(client.get(f"/families/{smiths.family}")), smiths.jane)
    history = text(client.get(f"/people/{smiths.jane}/ethnicity"))
    assert "(current)" in history


def test_ethnicity_errors(app: Flask, client: FlaskClient, smiths: Household) -> None:
    sign_in(app, client, "pat")
    url = f"/people/{smiths.jane}/ethnicity"

    body = text(post(client, url, {}))
    assert 'href="#answer"' in body
    assert "Select what the answer is" in body

    body = text(post(client, url, {"answer": "recorded"}))
    assert 'href="#source"' in body
    assert 'href="#ons2021"' in body

    body = text(post(client, url, {"answer": "refused"}))
    assert 'href="#refused_by"' in body

    observed = {
        "answer": "recorded",
        "source": "practitioner_observed",
        "ons2021": "white_irish",
        "self_description": "Irish",
    }
    response = post(client, url, observed)
    assert response.status_code == 200
    assert 'href="#self_description"' in text(response)
    assert "Not yet obtained (NOBT)" in member_card(
        text(client.get(f"/families/{smiths.family}")), smiths.jane
    )


def test_ethnicity_needs_the_csrf_token(app: Flask, client: FlaskClient, smiths: Household) -> None:
    sign_in(app, client, "pat")
    response = client.post(f"/people/{smiths.jane}/ethnicity", data={"answer": "not_obtained"})
    assert response.status_code == 400


def test_the_built_form_schemas_are_valid_forms() -> None:
    from domain.families.models import Person
    from domain.forms import check_form_schema
    from web.ethnicity_form import ethnicity_schema
    from web.people_forms import person_schema

    others = [Person(id=7, given_name="Jane", family_name="Smith")]
    assert check_form_schema(person_schema()) == []
    assert check_form_schema(person_schema(others)) == []
    assert check_form_schema(ethnicity_schema()) == []


def amy_renamed(given_name: str) -> dict[str, str]:
    """The edit form for the Smiths' Amy as submitted with a new given name."""
    return {
        "given_name": given_name,
        "family_name": "Smith",
        "sex": "F",
        "date_of_birth-day": "1",
        "date_of_birth-month": "6",
        "date_of_birth-year": "2019",
    }


def test_a_save_a_database_constraint_refuses_is_a_409_page_not_a_500(
    app: Flask, client: FlaskClient, smiths: Household, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two people saving at the same moment can clash on a unique index no check foresaw."""
    from sqlalchemy.exc import IntegrityError

    from domain.families import service as families

    def clash(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("UPDATE ...", {"given_name": "Cleo"}, Exception("UNIQUE failed"))

    monkeypatch.setattr(families, "update_person", clash)
    sign_in(app, client, "pat")
    url = f"/people/{smiths.amy}/edit?family_id={smiths.family}"
    response = post(client, url, amy_renamed("Cleo"))
    assert response.status_code == 409
    body = text(response)
    assert "at the same moment" in body
    assert "Cleo" not in body
    assert "UNIQUE" not in body
    assert client.get(f"/families/{smiths.family}").status_code == 200


def test_saving_a_person_someone_changed_since_the_page_opened_is_refused(
    app: Flask, client: FlaskClient, smiths: Household, clock: FakeClock
) -> None:
    """Two practitioners open Amy's page; the second to save is told, not silently merged."""
    from domain.db import unit_of_work
    from domain.families import service as families

    sign_in(app, client, "pat")
    url = f"/people/{smiths.amy}/edit?family_id={smiths.family}"
    opened = re.search(r'name="unchanged_since" value="([^"]+)"', text(client.get(url)))
    assert opened is not None
    clock.advance(minutes=10)
    with context(app, "pat") as ctx, unit_of_work(ctx.session):
        families.update_person(ctx, person_id=smiths.amy, changes={"family_name": "Jones"})
    clock.advance(minutes=10)
    form = {**amy_renamed("Aimee"), "unchanged_since": opened.group(1)}
    response = post(client, url, form)
    assert response.status_code == 409
    assert "after you opened them" in text(response)
    assert person_row(app, smiths.amy)["given_name"] == "Amy"
    assert person_row(app, smiths.amy)["family_name"] == "Jones"

    reopened = re.search(r'name="unchanged_since" value="([^"]+)"', text(client.get(url)))
    assert reopened is not None
    saved = post(client, url, {**form, "unchanged_since": reopened.group(1)})
    assert saved.status_code == 302
    assert person_row(app, smiths.amy)["given_name"] == "Aimee"
    tampered = post(client, url, {**form, "unchanged_since": "yesterday"})
    assert tampered.status_code == 400


def test_a_member_in_another_household_names_it(
    app: Flask, client: FlaskClient, smiths: Household
) -> None:
    from domain.db import unit_of_work
    from domain.families import service as families

    dads = make_family(app, "pat", "Jones household")
    with context(app, "pat") as ctx, unit_of_work(ctx.session):
        families.add_member(ctx, family_id=dads, person_id=smiths.amy)
        reference = families.get_family(ctx, dads).reference
    sign_in(app, client, "pat")
    card = member_card(text(client.get(f"/families/{smiths.family}")), smiths.amy)
    assert f"Also in {reference} (Jones household)" in card
