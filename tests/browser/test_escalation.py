"""An escalation raised through the start page moves to stage 2 when its stage-1 timer fires.

Raised on Monday 21 December 2026 at 10:00, stage 1 lasts 5 working days: 22, 23, 24 and
(after Christmas Day and the Boxing Day substitute holiday on Monday 28) 29 and 30 December,
so it ends at 17:00 on Wednesday 30 December. The test moves the shared FakeClock past that,
fires the due timers as the worker does, and checks that the stage-2 task reaches the
responding agency's team manager and that the case page shows stage 2.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    LiveServer,
    OpenPage,
    banner_reference,
    choose,
    fill,
    goto,
    open_task,
    select_option,
    snap,
    submit,
)

pytestmark = pytest.mark.browser
MOVES_CLOCK = True
"""Runs after the other browser modules: it moves the shared clock past 30 December."""

FAMILY = "DEMO-0001"
CSC_NAME = "Shropshire Council Children's Social Care"
STAGE1_ENDS = datetime(2026, 12, 30, 17, 0, tzinfo=UTC)  # 17:00 Europe/London (GMT)
STAGE1_TASK = "Stage 1: respond to the disagreement"
STAGE2_TASK = "Stage 2: respond to the disagreement"


def test_escalation_moves_to_stage_2_when_the_stage_1_timer_fires(
    open_page: OpenPage, live_server: LiveServer
) -> None:
    raiser = open_page("police1")
    goto(raiser, "/start", "start")
    with raiser.expect_navigation():
        raiser.get_by_role("link", name="Raise an escalation", exact=True).click()
    snap(raiser, "which family")
    raiser.get_by_label("Family reference or a family member's name").fill(FAMILY)
    submit(raiser, "Find family", "escalation start form")
    expect(raiser.get_by_role("heading", level=1)).to_have_text("Raise a professional disagreement")
    raiser.locator('input[name="subject_person_ids"]').first.check()
    select_option(raiser, "responding_agency", "csc")
    fill(raiser, "disputed_decision", "The front door closed our referral about the Ashdowns.")
    choose(raiser, "category", "threshold")
    fill(raiser, "why_it_matters", "Three call-outs in a month; the children are not seen.")
    fill(raiser, "outcome_sought", "A strategy discussion with police and school.")
    choose(raiser, "immediate_risk", "no")
    choose(raiser, "conference_dissent", "no")
    submit(raiser, "Start", "escalation started")
    reference = banner_reference(raiser)

    # The raiser cannot answer for the other agency, so they land on the case page.
    expect(raiser.get_by_role("heading", level=1)).to_have_text(reference)
    expect(raiser.locator(".govuk-summary-list").first).to_contain_text("Stage 1: practitioners")
    open_tasks = raiser.locator("#tasks ~ table").first
    expect(open_tasks).to_contain_text(STAGE1_TASK)
    expect(open_tasks).to_contain_text("Responding agency, " + CSC_NAME)
    timers = raiser.locator("#timers ~ table").first
    expect(timers.locator("tr", has_text="Stage 1 time over").first).to_contain_text(
        "5pm on Wednesday 30 December 2026"
    )
    assert live_server.next_timer_due_at(reference) == STAGE1_ENDS

    practitioner = open_page("sw1")
    open_task(practitioner, reference, STAGE1_TASK)

    live_server.clock.now = STAGE1_ENDS + timedelta(minutes=1)
    assert live_server.fire_due_timers() >= 1

    goto(practitioner, "/tasks", "stage 1 task withdrawn")
    mine = practitioner.locator("tbody tr").filter(has_text=reference)
    expect(mine).to_have_count(0)

    manager = open_page("tm1")
    open_task(manager, reference, STAGE2_TASK)
    details = manager.locator(".govuk-summary-list").first
    expect(details).to_contain_text("Stage 2: agency managers")
    expect(details).to_contain_text(
        "Agency manager or DSL, Shropshire Council Children's Social Care"
    )

    with manager.expect_navigation():
        details.get_by_role("link", name=reference, exact=True).click()
    snap(manager, "case page at stage 2")
    expect(manager.locator(".govuk-summary-list").first).to_contain_text("Stage 2: agency managers")
    stages = manager.locator("#stage-list")
    expect(stages.locator(".govuk-summary-list__row").first).to_contain_text(STAGE2_TASK)
    expect(stages).to_contain_text("Stage 1 time over")
    expect(manager.locator("#tasks ~ table").first).to_contain_text(
        "Agency manager or DSL, " + CSC_NAME
    )
    expect(manager.locator(".tf-timeline")).to_contain_text(f"Task opened: {STAGE2_TASK}")
    # Stage 2 also lasts 5 working days: 31 December, then (after New Year's Day) 4 to 7 January.
    expect(
        manager.locator("#timers ~ table tr", has_text="Stage 2 time over").first
    ).to_contain_text("5pm on Thursday 7 January 2027")

    police_manager = open_page("tm-police")
    goto(police_manager, "/tasks", "police manager's tasks")
    expect(police_manager.locator("tbody tr").filter(has_text=reference)).to_have_count(0)
