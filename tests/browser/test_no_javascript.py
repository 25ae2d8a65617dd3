"""Without JavaScript the pages still work: sign in, start a referral, submit a task form (with
an error first), see the success banner; the case page lists the stages as text. As on every
page, no GDS Transport font file is requested.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DASH,
    OpenPage,
    banner_reference,
    choose,
    fill,
    goto,
    select_option,
    snap,
    submit,
)

pytestmark = pytest.mark.browser

FAMILY = "DEMO-0003"


def test_sign_in_and_complete_a_task_without_javascript(open_page: OpenPage) -> None:
    page = open_page("teacher2", javascript=False)
    assert "govuk-frontend-supported" not in (page.locator("body").get_attribute("class") or "")
    assert page.evaluate("() => 1 + 1") == 2  # Playwright still runs; the page's scripts do not

    goto(page, "/start", "start")
    with page.expect_navigation():
        page.get_by_role("link", name="Make a referral", exact=True).click()
    snap(page, "which family")
    page.get_by_label("Family reference or a family member's name").fill(FAMILY)
    submit(page, "Find family", "start form")
    page.locator('input[name="subject_person_ids"]').first.check()
    submit(page, "Start", "task form")
    expect(page.get_by_role("heading", level=1)).to_have_text("Record the concern")
    reference = banner_reference(page)

    choose(page, "immediate_danger", "no")
    submit(page, "Complete task", "task form with errors")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.locator('a[href="#concern"]')).to_have_count(1)
    expect(page.locator('input[name="immediate_danger"][value="no"]')).to_be_checked()

    fill(page, "concern", "Ruby said she is scared to go home when mum's friend visits.")
    fill(page, "verified", "Nothing yet: it was said at the end of the school day.")
    fill(page, "uncertain", "Who mum's friend is and how often he visits.")
    choose(page, "dsl_consulted", "yes")
    choose(page, "threshold_checked", "no")
    select_option(page, "referral_source", "2A")
    submit(page, "Complete task", "task completed")
    expect(page).to_have_title(f"My tasks {DASH} ThinkFamily")
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("Task completed: Record the concern")
    expect(banner).to_contain_text(f"Case {reference} has moved on.")

    with page.expect_navigation():
        banner.get_by_role("link", name=f"View case {reference}").click()
    snap(page, "case page without a diagram")
    expect(page.locator(".tf-diagram__fallback")).to_be_visible()
    in_progress = page.locator("#stage-list .govuk-summary-list__row").first
    expect(in_progress).to_contain_text("Seek and record consent")
