"""A referral end to end through the pages: the referrer, the front door, the manager, feedback.

The shortest branch to a visible outcome: the manager decides "advice or no further action",
so the case closes at the front door; the front door gives feedback and the referrer agrees,
so the process completes. The instance page and the family page then show the outcome.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    START,
    OpenPage,
    banner_reference,
    choose,
    fill,
    fill_date,
    goto,
    open_task,
    select_option,
    snap,
    submit,
)

pytestmark = pytest.mark.browser

FAMILY = "DEMO-0002"
CLOSED = "Closed: no further action"


def pick_first(page: Page, name: str) -> None:
    """Choose the first real option of a question, whether it is shown as radios or a select."""
    dropdown = page.locator(f'select[name="{name}"]')
    if dropdown.count():
        dropdown.select_option(index=1)
    else:
        page.locator(f'input[name="{name}"]').first.check()


def expect_completed(page: Page, title: str) -> None:
    """The inbox shows the success banner for the task just completed."""
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(f"Task completed: {title}")


def start_referral(page: Page) -> str:
    """As the referrer: choose the family, tick a child, start; return the case reference."""
    goto(page, "/start", "start")
    with page.expect_navigation():
        page.get_by_role("link", name="Make a referral", exact=True).click()
    snap(page, "which family")
    page.get_by_label("Family reference or a family member's name").fill(FAMILY)
    submit(page, "Find family", "referral start form")
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a concern about a child")
    expect(page.locator(".govuk-summary-list")).to_contain_text(FAMILY)
    page.locator('input[name="subject_person_ids"]').first.check()
    select_option(page, "referral_source", "2A")
    submit(page, "Start", "record the concern")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Referral and child protection started"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the concern")
    return banner_reference(page)


def test_referral_from_concern_to_decision_and_feedback(open_page: OpenPage) -> None:
    teacher = open_page("teacher1")
    reference = start_referral(teacher)

    fill(teacher, "concern", "Leah came to school hungry three days running and was withdrawn.")
    fill(teacher, "verified", "Breakfast club records for the week; her class teacher saw it too.")
    fill(teacher, "uncertain", "Whether her younger brother is getting enough to eat.")
    fill(teacher, "child_voice", "Leah said there is no food at home at the weekend.")
    choose(teacher, "immediate_danger", "no")
    choose(teacher, "dsl_consulted", "yes")
    choose(teacher, "threshold_checked", "yes")
    select_option(teacher, "referral_source", "2A")
    submit(teacher, "Complete task", "concern recorded")
    expect_completed(teacher, "Record the concern")

    open_task(teacher, reference, "Seek and record consent")
    choose(teacher, "consent_status", "not_sought")
    choose(teacher, "not_sought_reason", "not_contactable")
    fill(teacher, "not_sought_details", "Mum's phone was off all day; the school will try again.")
    choose(teacher, "child_views_sought", "yes")
    submit(teacher, "Complete task", "consent recorded")
    expect_completed(teacher, "Seek and record consent")

    think_family = "Think Family: consider everyone in the household"
    open_task(teacher, reference, think_family)
    pick_first(teacher, "household-0-person")
    choose(teacher, "household-0-relationship", "parent_or_carer")
    choose(teacher, "household-0-lives_in_household", "yes")
    fill(teacher, "household-0-what_is_known", "Mum works nights; the children are often alone.")
    choose(teacher, "household-0-any_concerns", "no")
    choose(teacher, "everyone_considered", "yes")
    submit(teacher, "Complete task", "household considered")
    expect_completed(teacher, think_family)

    front_door = open_page("fd1")
    open_task(front_door, reference, "Screen the contact and gather information")
    fill(front_door, "observed", "School saw hunger on three days; no injuries were seen.")
    fill(front_door, "verified", "Attendance and the health record were checked.")
    fill(front_door, "uncertain", "Whether food at home is short every weekend.")
    choose(front_door, "shared_without_consent", "no")
    choose(front_door, "recommendation", "nfa")
    submit(front_door, "Complete task", "screened")
    expect_completed(front_door, "Screen the contact and gather information")

    manager = open_page("tm1")
    open_task(manager, reference, "Decide the response")
    choose(manager, "decision", "nfa")
    choose(manager, "nfa_type", "signposting")
    choose(manager, "accepted_as_referral", "no")
    fill(manager, "rationale", "Signpost to the food bank and the school's family support.")
    submit(manager, "Complete task", "decided")
    expect_completed(manager, "Decide the response")

    open_task(front_door, reference, "Give feedback to the referrer")
    fill_date(front_door, "feedback_date", START.date())
    choose(front_door, "feedback_method", "phone")
    choose(front_door, "reasons_explained", "yes")
    submit(front_door, "Complete task", "feedback given")
    expect_completed(front_door, "Give feedback to the referrer")

    open_task(teacher, reference, "Say whether you agree with the decision")
    choose(teacher, "referrer_agrees", "yes")
    submit(teacher, "Complete task", "referrer agrees")
    expect_completed(teacher, "Say whether you agree with the decision")

    with teacher.expect_navigation():
        teacher.get_by_role("link", name=f"View case {reference}").click()
    snap(teacher, "instance page")
    expect(teacher.get_by_role("heading", level=1)).to_have_text(reference)
    summary = teacher.locator(".govuk-summary-list").first
    expect(summary).to_contain_text("Completed")
    expect(summary).to_contain_text(CLOSED)
    timeline = teacher.locator(".tf-timeline")
    expect(timeline).to_contain_text(
        "Task completed: Decide the response (Shropshire Council Children's Social Care)"
        " by CSC team manager"
    )
    expect(timeline).to_contain_text("Process completed")
    expect(teacher.locator("#stage-list")).to_contain_text("Decide the response")
    expect(teacher.get_by_text("No tasks are open.")).to_be_visible()

    with teacher.expect_navigation():
        teacher.get_by_role("link", name="See the family").click()
    snap(teacher, "family page")
    row = teacher.locator("#processes ~ table tbody tr").filter(has_text=reference)
    expect(row).to_contain_text("Referral and child protection")
    # An ended process shows when it ended, not its last stage (domain/families/history.py).
    expect(row).to_contain_text("Ended Monday 21 December 2026")
    expect(row).to_contain_text("Completed")
