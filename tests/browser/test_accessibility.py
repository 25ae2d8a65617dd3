"""axe-core (WCAG 2.0, 2.1 and 2.2 A and AA) on every kind of page: no violations except the one
documented GOV.UK exception (docs/ui-stack.md §9).

Each test visits the pages one user sees, runs axe on each, and reports every page's
violations together, so one run lists them all.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LiveServer,
    OpenPage,
    axe_run,
    axe_violations,
    goto,
    open_task,
    snap,
    submit,
    wait_for_diagram,
)

pytestmark = pytest.mark.browser

Found = dict[str, list[tuple[str, list[str]]]]


def check(page: Page, kind: str, found: Found) -> None:
    """Run axe on the page as it is now and remember any violations under `kind`."""
    violations = axe_violations(page)
    if violations:
        found[kind] = violations


def test_signed_out_pages_have_no_axe_violations(open_page: OpenPage) -> None:
    found: Found = {}
    page = open_page()
    goto(page, "/sign-in", "sign in")
    check(page, "sign-in", found)
    submit(page, "Sign in", "sign in with errors")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check(page, "sign-in after a submit with errors", found)
    goto(page, "/accessibility", "accessibility statement")
    check(page, "accessibility statement", found)
    assert found == {}


def test_practitioner_pages_have_no_axe_violations(
    open_page: OpenPage, live_server: LiveServer
) -> None:
    found: Found = {}
    family_id = live_server.family_id("DEMO-0002")
    referral_id, referral = live_server.instance_of("DEMO-0001", "referral")
    page = open_page("sw1")
    check(page, "inbox: my tasks", found)
    goto(page, "/tasks?view=agency", "inbox agency")
    expect(page.get_by_role("heading", level=1)).to_have_text("My agency's tasks")
    check(page, "inbox: my agency's tasks", found)

    open_task(page, referral, "Screen the contact and gather information")
    check(page, "task form", found)
    submit(page, "Complete task", "task form with errors")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check(page, "task form after a submit with errors", found)
    page.locator('input[name="shared_without_consent"][value="yes"]').check()
    expect(
        page.locator('select[name="lawful_basis"], input[name="lawful_basis"]').first
    ).to_be_visible()
    check(page, "task form with a conditional question revealed", found)
    # axe really ran, and the one exception was needed: GOV.UK's JS put aria-expanded on
    # the radios that reveal questions, and nothing else was allowed through.
    raw = axe_run(page)
    assert raw["passes"]
    excused = [v for v in raw["violations"] if v["id"] == "aria-allowed-attr"]
    assert excused, "expected GOV.UK's aria-expanded on the revealing radios"
    targets = [node["target"][0] for v in excused for node in v["nodes"]]
    assert all(
        page.locator(t).evaluate("e => e.matches('.govuk-radios__input[aria-controls]')")
        for t in targets
    )

    goto(page, "/start", "start list")
    check(page, "start list", found)
    goto(page, "/start/referral", "family picker")
    check(page, "start: choose the family", found)
    goto(page, f"/start/referral?family_id={family_id}", "start form")
    check(page, "start form", found)
    submit(page, "Start", "start form with errors")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check(page, "start form after a submit with errors", found)

    goto(page, "/families", "families list")
    check(page, "families list", found)
    goto(page, "/families/new", "add family")
    check(page, "add family", found)
    submit(page, "Add family", "add family with errors")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check(page, "add family after a submit with errors", found)
    goto(page, f"/families/{family_id}", "family page")
    check(page, "family page", found)
    # a household whose timeline runs to more than one page: its filters and pages
    goto(page, f"/families/{live_server.family_id('DEMO-0001')}", "family page, long timeline")
    pages = page.get_by_role("navigation", name="Timeline pages")
    pages.get_by_role("link", name="Older entries").click()
    expect(pages.get_by_role("link", name="Newest entries")).to_be_visible()
    snap(page, "family page: older timeline entries")
    check(page, "family page: older timeline entries", found)
    page.get_by_role("navigation", name="What the timeline shows").get_by_role(
        "link", name="Processes and tasks"
    ).click()
    expect(page.locator('[aria-current="page"]', has_text="Processes and tasks")).to_be_visible()
    snap(page, "family page: the timeline's processes and tasks")
    check(page, "family page: the timeline's processes and tasks", found)
    # a member leaves the household (the form, its errors, the page after) and comes back
    page.get_by_role("link", name="Record that they left").last.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("has left the household")
    snap(page, "record that a member left")
    check(page, "record that a member left", found)
    submit(page, "Save", "record that a member left, with errors")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check(page, "record that a member left, with errors", found)
    page.fill('input[name="left_on-day"]', "1")
    page.fill('input[name="left_on-month"]', "12")
    page.fill('input[name="left_on-year"]', "2026")
    submit(page, "Save", "family page with a member who has left")
    expect(page.locator(".govuk-tag", has_text="Left")).to_be_visible()
    check(page, "family page with a member who has left", found)
    with page.expect_navigation():
        page.get_by_role("button", name="Record that they are back").click()
    snap(page, "family page: the member is back")
    expect(page.locator(".govuk-tag", has_text="Left")).to_have_count(0)
    edit_url = page.get_by_role("link", name="Change details").first.get_attribute("href")
    ethnicity_url = page.get_by_role("link", name="Record ethnicity").first.get_attribute("href")
    assert edit_url
    assert ethnicity_url
    goto(page, f"/families/{family_id}/members/new", "add person")
    check(page, "add person", found)
    submit(page, "Add person", "add person with errors")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check(page, "add person after a submit with errors", found)
    # someone of another household's name: asked whether they are that person first
    page.fill('input[name="given_name"]', "Mark")
    page.fill('input[name="family_name"]', "Ashdown")
    page.check('input[name="sex"][value="M"]')
    page.check('input[name="is_child"][value="adult"]')
    submit(page, "Add person", "add person: someone already recorded?")
    expect(page.get_by_text("Is this someone already recorded?")).to_be_visible()
    check(page, "add person: someone already recorded?", found)
    submit(page, "Continue", "add person: someone already recorded? unanswered")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check(page, "add person: someone already recorded? unanswered", found)

    goto(page, edit_url, "edit person")
    check(page, "edit person", found)
    goto(page, ethnicity_url, "ethnicity")
    check(page, "ethnicity", found)

    goto(page, f"/instances/{referral_id}", shot=False)
    wait_for_diagram(page)
    snap(page, "instance page with its diagram")
    check(page, "instance page", found)
    for kind in ("records", "timeline", "audit"):
        goto(page, f"/instances/{referral_id}/{kind}", f"instance {kind}")
        check(page, f"instance {kind} page", found)
    assert found == {}


def test_manager_and_owner_pages_have_no_axe_violations(open_page: OpenPage) -> None:
    found: Found = {}
    manager = open_page("tm1")
    goto(manager, "/dashboard", "dashboard")
    check(manager, "dashboard", found)
    goto(manager, "/dashboard?agencies=all", "dashboard all agencies")
    check(manager, "dashboard (every agency)", found)
    goto(manager, "/processes/referral/heatmap", shot=False)
    wait_for_diagram(manager)
    snap(manager, "heatmap with its diagram")
    # lanes read as the roles that work them, not their codes
    lanes = manager.locator(".tf-diagram .djs-element[data-element-id^='lane_'] text")
    expect(lanes.filter(has_text="Children's social care team manager")).to_have_count(1)
    expect(lanes.filter(has_text="csc_manager")).to_have_count(0)
    check(manager, "heatmap", found)
    goto(manager, "/processes/referral/cases", "open cases of a process")
    check(manager, "open cases of a process", found)

    owner = open_page("owner1")
    goto(owner, "/processes", "processes")
    check(owner, "processes", found)
    goto(owner, "/processes/escalation", "process with its parameters")
    check(owner, "process with its parameters", found)
    goto(owner, "/processes/escalation/parameters/stage1_days", "change a parameter")
    check(owner, "change a parameter", found)
    owner.locator('input[name="value"]').fill("three")
    submit(owner, "Save", "change a parameter with errors")
    expect(owner.locator(".govuk-error-summary")).to_be_visible()
    check(owner, "change a parameter, with errors", found)
    goto(owner, "/processes/escalation/parameters/partnership_agency", "change an agency")
    check(owner, "change an agency parameter", found)
    goto(owner, "/processes/deploy", "deploy")
    check(owner, "deploy a new version", found)
    submit(owner, "Check and deploy", "deploy with nothing chosen")
    expect(owner.locator(".govuk-error-summary")).to_be_visible()
    check(owner, "deploy a new version, with problems", found)
    with owner.expect_navigation():
        owner.get_by_role("link", name="API reference", exact=True).click()
    snap(owner, "api docs")
    check(owner, "API docs", found)
    assert found == {}
