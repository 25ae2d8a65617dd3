"""The dashboard and process heatmap: figures from seeded rows, role checks, JSON for the viewer."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FakeClock, deploy_shipped, make_agency, make_user
from tests.web.helpers_reports import (
    add_person,
    context,
    h1_count,
    make_family,
    seed_instance,
    seed_task,
    sign_in,
    text,
    title,
)

# The FakeClock starts at 10:00 on Monday 21 December 2026 (UK time = UTC in winter).
MONDAY = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)
EARLIER = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # Monday 2 November 2026


def close_of(year: int, month: int, day: int) -> datetime:
    """17:00 UK time (UTC in winter) on a day."""
    return datetime(year, month, day, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _setup(app: Flask) -> None:
    make_user(app, "tess", ["team_manager"])
    make_user(app, "owen", ["process_owner"])
    make_user(app, "pat", ["practitioner"])
    make_agency(app, "police", "police", name="West Mercia Police")
    make_agency_user = make_user
    make_agency_user(app, "polly", ["team_manager"], agency="police", kind="police")
    deploy_shipped(app, "referral", "escalation")


def cells(html: str, row_id: str) -> list[str]:
    """The text of each cell of the table row with this id."""
    row = re.search(rf'<tr class="govuk-table__row" id="{row_id}">(.*?)</tr>', html, re.S)
    assert row is not None, row_id
    found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in found]


# --- access -------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    for url in ("/dashboard", "/processes/referral/heatmap", "/processes/referral/heatmap.json"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize(
    "url", ["/dashboard", "/processes/referral/heatmap", "/processes/referral/heatmap.json"]
)
def test_practitioners_may_not_see_reports(app: Flask, client: FlaskClient, url: str) -> None:
    sign_in(app, client, "pat")
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("username", ["tess", "owen"])
def test_managers_and_process_owners_see_the_dashboard(
    app: Flask, client: FlaskClient, username: str
) -> None:
    sign_in(app, client, username)
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert title(response) == "Dashboard \N{EN DASH} ThinkFamily"
    assert h1_count(response) == 1
    body = text(response)
    assert "No work is overdue or due in the next 2 working days." in body
    assert "No data yet" in body  # no timescale has data
    assert body.count("<script") == 2  # only the layout's: the charts are plain SVG


# --- open cases and escalations -----------------------------------------------------------


def test_open_cases_by_process_and_stage_as_charts_with_tables(
    app: Flask, client: FlaskClient
) -> None:
    for stage in ("Front door screening", "Front door screening", "Assessment"):
        seed_instance(app, "referral", stage=stage, started_at=EARLIER)
    seed_instance(app, "referral", stage="Closed", status="completed", started_at=EARLIER)
    seed_instance(app, "referral", stage="Assessment", status="terminated", started_at=EARLIER)
    seed_instance(app, "escalation", stage="Stage 1: practitioners", started_at=EARLIER)
    seed_instance(app, "escalation", stage="Stage 1: practitioners", started_at=EARLIER)
    seed_instance(app, "escalation", stage="Stage 3: senior managers", started_at=EARLIER)
    for reached in (0, 2, 2):
        seed_instance(
            app,
            "escalation",
            stage="Resolved: outcome statement shared",
            status="completed",
            started_at=EARLIER,
            summary={"stage_reached": reached},
        )
    sign_in(app, client, "tess")

    body = text(client.get("/dashboard"))

    assert "There are <strong>6</strong> open cases." in body
    referral_title = "Referral and child protection: open cases by stage"
    assert (
        f'<title id="chart-stages-referral-title">{referral_title}: '
        "Front door screening: 2 cases; Assessment: 1 cases</title>"
    ) in body
    assert f'<caption class="govuk-table__caption govuk-table__caption--s">{referral_title}' in body
    assert "Open cases by process: " in body
    assert "Escalation of a professional disagreement: 3 cases" in body
    assert (
        "Open escalations by stage: Stage 1: practitioners: 2 escalations; "
        "Stage 3: senior managers: 1 escalations</title>"
    ) in body
    finished = body.split("Finished escalations by the highest stage reached", 1)[1]
    assert re.search(r"Resolved before stage 1</th>\s*<td[^>]*>1</td>", finished)
    assert re.search(r"Stage 2</th>\s*<td[^>]*>2</td>", finished)
    assert 'href="/processes/referral/heatmap"' in body


# --- work due -----------------------------------------------------------------------------


def test_overdue_and_due_soon_work_for_my_agency_then_all(app: Flask, client: FlaskClient) -> None:
    case = seed_instance(app, "referral", stage="Front door screening", started_at=EARLIER)
    seed_task(
        app, case, "late", title="Late task", created_at=EARLIER, due_at=close_of(2026, 12, 18)
    )
    seed_task(
        app, case, "soon", title="Soon task", created_at=EARLIER, due_at=close_of(2026, 12, 23)
    )
    seed_task(
        app, case, "later", title="Later task", created_at=EARLIER, due_at=close_of(2026, 12, 31)
    )
    seed_task(
        app,
        case,
        "police_task",
        title="Police task",
        lane="police",
        agency_code="police",
        created_at=EARLIER,
        due_at=close_of(2026, 12, 22),
    )
    seed_task(
        app,
        case,
        "done",
        title="Done task",
        created_at=EARLIER,
        due_at=close_of(2026, 12, 18),
        completed_at=close_of(2026, 12, 17),
    )
    sign_in(app, client, "tess")

    mine = text(client.get("/dashboard"))

    assert "2 tasks overdue or due within 2 working days" in mine
    assert mine.index("Late task") < mine.index("Soon task")
    assert "Later task" not in mine
    assert "Police task" not in mine
    assert "Done task" not in mine
    assert "Friday 18 December 2026" in mine
    assert "Overdue" in mine
    assert "Wednesday 23 December 2026" in mine
    assert "Due soon" in mine
    assert f'href="/instances/{case}"' in mine
    assert 'href="/dashboard?agencies=all#due"' in mine

    everyone = text(client.get("/dashboard?agencies=all"))

    assert "3 tasks overdue or due within 2 working days" in everyone
    assert everyone.index("Late task") < everyone.index("Police task") < everyone.index("Soon task")
    assert 'href="/dashboard#due"' in everyone
    assert "Police (West Mercia Police)" in everyone  # the agency's name, not its code
    assert "(police)" not in everyone

    sign_in(app, client, "polly")  # the police manager sees the police task as theirs
    police = text(client.get("/dashboard"))
    assert "Police task" in police
    assert "Soon task" not in police


# --- timescales ---------------------------------------------------------------------------


def seed_compliance(app: Flask) -> None:
    """Screening: 2 of 3 on time, 1 open and late. Assessment: 1 of 1. ICPC: 1 of 2, 1 unknown."""
    for completed in (close_of(2026, 11, 3), datetime(2026, 11, 3, 9, tzinfo=UTC)):
        case = seed_instance(app, "referral", stage="Assessment", started_at=EARLIER)
        seed_task(
            app,
            case,
            "referral_decision",
            created_at=EARLIER,
            due_at=close_of(2026, 11, 3),
            completed_at=completed,
        )
    late = seed_instance(app, "referral", stage="Assessment", started_at=EARLIER)
    seed_task(
        app,
        late,
        "referral_decision",
        created_at=EARLIER,
        due_at=close_of(2026, 11, 3),
        completed_at=close_of(2026, 11, 4),
    )
    waiting = seed_instance(app, "referral", stage="Front door screening", started_at=MONDAY)
    seed_task(
        app,
        waiting,
        "referral_decision",
        created_at=EARLIER,
        due_at=MONDAY - timedelta(hours=1),
    )
    seed_task(
        app,
        late,
        "referral_assessment_sign_off",
        created_at=EARLIER,
        due_at=close_of(2027, 1, 5),
        completed_at=close_of(2026, 12, 1),
    )
    for icpc_day in (20, 24):  # 14 and 16 working days after Monday 2 November
        case = seed_instance(app, "referral", stage="Child protection plan", started_at=EARLIER)
        seed_task(
            app,
            case,
            "referral_strategy_discussion",
            created_at=EARLIER,
            due_at=None,
            completed_at=EARLIER,
        )
        seed_task(
            app,
            case,
            "referral_icpc",
            created_at=EARLIER,
            due_at=None,
            completed_at=close_of(2026, 11, icpc_day),
        )
    unknown = seed_instance(app, "referral", stage="Child protection plan", started_at=EARLIER)
    seed_task(app, unknown, "referral_icpc", created_at=EARLIER, due_at=None, completed_at=EARLIER)


def test_timescale_compliance_from_task_rows(app: Flask) -> None:
    from domain.reports import compliance

    seed_compliance(app)
    with context(app, "tess") as ctx:
        found = {c.timescale.key: c for c in compliance.timescale_compliance(ctx)}

    assert (found["screening"].within, found["screening"].total) == (2, 3)
    assert found["screening"].percent == 67
    assert found["screening"].open_overdue == 1
    assert (found["assessment"].within, found["assessment"].total) == (1, 1)
    assert found["assessment"].percent == 100
    assert (found["icpc"].within, found["icpc"].total) == (1, 2)
    assert found["icpc"].percent == 50


def test_screening_element_is_configurable(app: Flask) -> None:
    from domain.reports import compliance

    seed_compliance(app)
    other = compliance.Timescale("x", "Screens", "referral", "referral_screening", 1)
    with context(app, "tess") as ctx:
        (result,) = compliance.timescale_compliance(ctx, [other])
    assert (result.total, result.percent) == (0, None)
    assert compliance.TIMESCALES[0].element == compliance.SCREENING_DECISION_ELEMENT


def test_dashboard_shows_timescales(app: Flask, client: FlaskClient) -> None:
    seed_compliance(app)
    sign_in(app, client, "owen")

    body = text(client.get("/dashboard"))

    assert cells(body, "timescale-screening") == [
        "Referral screening decisions made within 1 working day",
        "2",
        "3",
        "67%",
        "1",
    ]
    assert cells(body, "timescale-assessment")[1:4] == ["1", "1", "100%"]
    assert cells(body, "timescale-icpc")[1:4] == ["1", "2", "50%"]


# --- ethnicity data quality ---------------------------------------------------------------


def test_ethnicity_quality_counts_nobt_and_refu_apart(app: Flask, client: FlaskClient) -> None:
    from domain.db import unit_of_work
    from domain.families import ethnicity

    family = make_family(app, "tess")
    people = [
        add_person(app, "tess", family, name, born=datetime(2015, 5, 1, tzinfo=UTC).date())
        for name in ("Never", "Nobt", "Refu", "Seen", "Said")
    ]
    answers: list[dict[str, str | None]] = [
        {"code": "NOBT", "source": None},
        {"code": "REFU", "source": "parent_carer"},
        {"ons2021": "white_irish", "source": "practitioner_observed"},
        {"ons2021": "asian_indian", "source": "self", "self_description": "British Indian"},
    ]
    with context(app, "tess") as ctx, unit_of_work(ctx.session):
        for person_id, answer in zip(people[1:], answers, strict=True):
            ethnicity.record_ethnicity(
                ctx,
                person_id=person_id,
                source=answer.get("source"),
                code=answer.get("code"),
                ons2021=answer.get("ons2021"),
                self_description=answer.get("self_description"),
            )
    sign_in(app, client, "tess")

    body = text(client.get("/dashboard"))

    section = body.split('id="ethnicity"', 1)[1]
    assert re.search(r'id="ethnicity-nobt">.*?<strong>2</strong> people: ask them', section, re.S)
    assert "Action needed" in section
    assert re.search(r'id="ethnicity-refu">.*?<strong>1</strong> person preferred', section, re.S)
    assert re.search(
        r'id="ethnicity-recorded">.*?<strong>2</strong> people, of whom 1', section, re.S
    )


# --- heatmap ------------------------------------------------------------------------------


def test_heatmap_counts_open_cases_per_element(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    for _ in range(2):
        seed_instance(
            app,
            "referral",
            stage="Front door screening",
            started_at=EARLIER,
            active=["referral_screening_stage", "referral_screening"],
        )
    seed_instance(  # also waiting at an unnamed gateway: on the diagram, not in the table
        app,
        "referral",
        stage="Assessment",
        started_at=EARLIER,
        active=["referral_assessment", "referral_danger_merge"],
    )
    seed_instance(
        app,
        "referral",
        stage="Closed",
        status="completed",
        started_at=EARLIER,
        active=["referral_assessment"],
    )
    with context(app) as ctx:
        from domain.processes import definitions

        version = definitions.latest_version(ctx, "referral")
        names = dict(version.element_names)
        number = version.number
    sign_in(app, client, "tess")

    data = json.loads(text(client.get("/processes/referral/heatmap.json")))
    assert data == {
        "completed": [],
        "active": [],
        "counts": {
            "referral_screening_stage": 2,
            "referral_screening": 2,
            "referral_assessment": 1,
            "referral_danger_merge": 1,
        },
    }

    response = client.get("/processes/referral/heatmap")
    assert response.status_code == 200
    body = text(response)
    assert (
        title(response)
        == "Referral and child protection: where open cases are \N{EN DASH} ThinkFamily"
    )
    assert h1_count(response) == 1
    assert f'data-bpmn-url="/processes/referral/versions/{number}/diagram.bpmn"' in body
    assert 'data-status-url="/processes/referral/heatmap.json"' in body
    assert "3 open cases" in body
    table = body.split('id="heatmap-table"', 1)[1]
    assert re.search(
        rf"{re.escape(names['referral_screening'])}</a>\s*</th>\s*<td[^>]*>2</td>", table
    )
    assert re.search(
        rf"{re.escape(names['referral_assessment'])}</a>\s*</th>\s*<td[^>]*>1</td>", table
    )
    assert "referral_danger_merge" not in table

    xml = client.get(f"/processes/referral/versions/{number}/diagram.bpmn")
    assert xml.status_code == 200
    assert xml.mimetype == "application/xml"


def test_heatmap_of_an_unknown_process_is_a_404(app: Flask, client: FlaskClient) -> None:
    sign_in(app, client, "tess")
    assert client.get("/processes/nope/heatmap").status_code == 404
    assert client.get("/processes/nope/heatmap.json").status_code == 404


def test_escalation_log_lists_cases_and_counts_learning_themes(
    app: Flask, client: FlaskClient
) -> None:
    for theme in ("thresholds", "thresholds", "information_sharing"):
        seed_instance(
            app,
            "escalation",
            stage="Resolved: outcome statement shared",
            status="completed",
            started_at=EARLIER,
            summary={"category": "threshold", "theme": theme, "stage_reached": 2},
        )
    seed_instance(app, "escalation", stage="Stage 1: practitioners", started_at=EARLIER)
    sign_in(app, client, "tess")
    page = text(client.get("/dashboard"))
    log = page[page.index('id="escalation-log"') : page.index('id="timescales"')]
    assert "Finished escalations by learning theme" in log
    assert re.search(r"Thresholds</th>\s*<td[^>]*>\s*2", log)
    assert re.search(r"Information sharing</th>\s*<td[^>]*>\s*1", log)
    assert log.count('href="/instances/') == 4
    assert "Not recorded yet" in log  # the open one has no theme until it ends


def test_a_count_leads_to_the_cases_behind_it(app: Flask, client: FlaskClient) -> None:
    family = make_family(app, "tess")
    screening = seed_instance(
        app,
        "referral",
        stage="Front door screening",
        started_at=EARLIER,
        active=["referral_screening_stage", "referral_screening"],
        family_id=family,
    )
    assessment = seed_instance(
        app, "referral", stage="Assessment", started_at=EARLIER, active=["referral_assessment"]
    )
    seed_instance(  # closed: not behind any open count
        app, "referral", stage="Assessment", status="completed", started_at=EARLIER
    )
    sign_in(app, client, "tess")

    dashboard = text(client.get("/dashboard"))
    by_stage = "/processes/referral/cases?stage=Front+door+screening"
    assert f'href="{by_stage}">Front door screening: see the 1 case</a>' in dashboard

    at_stage = text(client.get(by_stage))
    assert "Open cases at stage “Front door screening”" in at_stage
    assert f'href="/instances/{screening}"' in at_stage
    assert f'href="/instances/{assessment}"' not in at_stage
    assert f'href="/families/{family}"' in at_stage

    heatmap = text(client.get("/processes/referral/heatmap"))
    by_step = "/processes/referral/cases?step=referral_assessment"
    assert f'href="{by_step}"' in heatmap
    at_step = text(client.get(by_step))
    assert f'href="/instances/{assessment}"' in at_step
    assert f'href="/instances/{screening}"' not in at_step

    every = text(client.get("/processes/referral/cases"))
    assert "2 cases, oldest first." in every
    assert client.get("/processes/nope/cases").status_code == 404
    sign_in(app, client, "pat")
    assert client.get("/processes/referral/cases").status_code == 403
