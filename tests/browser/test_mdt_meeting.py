"""An MDT meeting: a practitioner convenes it inviting two agencies; one accepts, one declines.

Declining without a reason is refused with the GOV.UK error summary, whose link focuses the
reason box. The convenor then sees both replies on the case page: who replied for each agency
(timeline and audit trail) and what they said (the "Replies to the invitations" table).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DASH,
    START,
    LiveServer,
    OpenPage,
    banner_reference,
    choose,
    fill,
    fill_date,
    goto,
    open_task,
    snap,
    submit,
    tick,
)

pytestmark = pytest.mark.browser

FAMILY = "DEMO-0003"
RESPOND = "Respond to the invitation"
MEETING_DAY = START.date() + timedelta(days=2)  # Wednesday 23 December 2026
DECLINE_REASON = "Our DSL is on leave that day; we will send a written summary by Tuesday."


def test_mdt_meeting_invitations_accepted_and_declined_with_a_reason(
    open_page: OpenPage, live_server: LiveServer
) -> None:
    convenor = open_page("sw1")
    goto(convenor, f"/families?q={FAMILY}", "families found")
    with convenor.expect_navigation():
        convenor.get_by_role("link", name=FAMILY, exact=True).click()
    snap(convenor, "family page")
    with convenor.expect_navigation():
        convenor.get_by_role("link", name="Arrange a multi-agency meeting").click()
    snap(convenor, "mdt start form")
    expect(convenor.get_by_role("heading", level=1)).to_have_text("Call a multi-agency meeting")

    convenor.locator('input[name="subject_person_ids"]').first.check()
    choose(convenor, "meeting_reason", "uncertainty")
    fill(convenor, "purpose", "Agree how school and police support Ethan after the incident.")
    fill(convenor, "questions", "Is Ethan safe at home after school? Who checks in each day?")
    choose(convenor, "urgency", "routine")
    tick(convenor, "invited_agencies", "police", "school-a")
    fill_date(convenor, "meeting_date", MEETING_DAY)
    choose(convenor, "family_invited", "no")
    submit(convenor, "Start", "mdt started")
    expect(convenor.get_by_role("heading", level=1)).to_have_text(
        "Record the meeting and its notes"
    )
    reference = banner_reference(convenor)

    police = open_page("police1")
    open_task(police, reference, RESPOND)
    choose(police, "response", "accepted")
    fill(police, "observed", "Two call-outs to the address this year; no arrests.")
    choose(police, "sharing_basis", "risk_of_harm")
    submit(police, "Complete task", "police accepted")
    expect(police.locator(".govuk-notification-banner--success")).to_contain_text(RESPOND)

    school = open_page("teacher1")
    open_task(school, reference, RESPOND)
    choose(school, "response", "declined")
    submit(school, "Complete task", "declined without a reason")
    expect(school).to_have_title(f"Error: {RESPOND} ({reference}) {DASH} ThinkFamily")
    summary = school.locator(".govuk-error-summary")
    expect(summary).to_be_focused()  # GOV.UK Frontend's error summary takes focus on load
    expect(summary).to_contain_text("There is a problem")
    link = summary.locator('a[href="#decline_reason"]')
    expect(link).to_have_count(1)
    inline = school.locator("#decline_reason-error")
    expect(inline).to_be_visible()
    assert inline.inner_text().removeprefix("Error:").strip() == link.inner_text().strip()
    expect(school.locator('input[name="response"][value="declined"]')).to_be_checked()
    link.click()
    expect(school.locator("#decline_reason")).to_be_focused()
    snap(school, "error link followed")

    fill(school, "decline_reason", DECLINE_REASON)
    submit(school, "Complete task", "declined with a reason")
    expect(school.locator(".govuk-notification-banner--success")).to_contain_text(RESPOND)

    goto(convenor, f"/instances/{live_server.instance_id(reference)}", "convenor's case page")
    expect(convenor.get_by_role("heading", level=1)).to_have_text(reference)
    timeline = convenor.locator(".tf-timeline")
    expect(timeline).to_contain_text(
        f"Task completed: {RESPOND} (West Mercia Police) by Police officer (demo)"
    )
    expect(timeline).to_contain_text(
        f"Task completed: {RESPOND} (Meadow Primary School) by Teacher (demo)"
    )
    audit = convenor.locator("#audit ~ table")
    for agency in ("West Mercia Police", "Meadow Primary School"):
        row = audit.locator("tbody tr").filter(has_text="Task completed").filter(has_text=agency)
        expect(row).to_contain_text(f"Task: {RESPOND}")
    expect(convenor.locator("#stage-list")).to_contain_text("Collate the replies")
    replies = convenor.locator("table", has_text="Replies to the invitations")
    police_row = replies.locator("tbody tr", has_text="West Mercia Police")
    expect(police_row).to_contain_text("Accepted")
    school_row = replies.locator("tbody tr", has_text="Meadow Primary School")
    expect(school_row).to_contain_text("Declined")
    expect(school_row).to_contain_text(DECLINE_REASON)
    open_tasks = convenor.locator("#tasks ~ table").first.locator("tbody tr")
    expect(open_tasks).to_have_count(1)
    expect(open_tasks).to_contain_text("Record the meeting and its notes")
