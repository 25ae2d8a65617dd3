"""Diagram views: bpmn-js draws the process under the strict CSP, the bpmn.io watermark stays
visible (its licence requires it), stage markers match the case, and every diagram has a text
alternative (a caption and the same information as text or a table)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, OpenPage, goto, snap, wait_for_diagram

pytestmark = pytest.mark.browser

ACTIVE_FILL = "rgb(255, 247, 191)"  # .stage-active in static/css/thinkfamily.css
COMPLETED_FILL = "rgb(204, 226, 216)"  # .stage-completed

FIRST_VISUAL_FILL = """(id) => {
  const shape = document.querySelector(`.djs-element[data-element-id="${id}"] .djs-visual > *`);
  return shape ? getComputedStyle(shape).fill : null;
}"""


def expect_drawn_with_watermark(page: Page) -> None:
    """bpmn-js drew the diagram, the watermark is visible, and the figure has a caption."""
    wait_for_diagram(page)
    assert page.locator(".tf-diagram .djs-element").count() > 10
    watermark = page.locator(".tf-diagram .bjs-powered-by")
    expect(watermark).to_be_visible()
    box = watermark.bounding_box()
    assert box is not None
    assert box["width"] > 0
    assert box["height"] > 0
    expect(page.locator(".tf-diagram__error")).to_be_hidden()
    caption = page.locator("figure.tf-diagram-figure > figcaption")
    expect(caption).not_to_be_empty()
    # role="img" on the container hides the interactive SVG and watermark (ui-stack §5).
    expect(page.locator(".tf-diagram-figure [role='img']")).to_have_count(0)


def test_instance_diagram_of_a_running_referral_shows_its_stages(
    open_page: OpenPage, live_server: LiveServer
) -> None:
    instance_id, reference = live_server.instance_of("DEMO-0001", "referral")
    page = open_page("sw1")
    status: dict[str, Any] = page.request.get(f"/instances/{instance_id}/status.json").json()
    assert status["active"]
    assert status["completed"]

    goto(page, f"/instances/{instance_id}", shot=False)
    expect_drawn_with_watermark(page)
    snap(page, f"diagram of {reference}")

    active = page.locator(".djs-element.stage-active")
    completed = page.locator(".djs-element.stage-completed")
    expect(active.first).to_be_attached()
    expect(completed.first).to_be_attached()
    drawn_active = set(active.evaluate_all("els => els.map(e => e.dataset.elementId)"))
    drawn_completed = set(completed.evaluate_all("els => els.map(e => e.dataset.elementId)"))
    assert "referral_screening" in drawn_active
    assert drawn_active <= set(status["active"])
    assert drawn_completed <= set(status["completed"])
    assert {"referral_record_concern", "referral_consent"} <= drawn_completed
    assert page.evaluate(FIRST_VISUAL_FILL, "referral_screening") == ACTIVE_FILL
    assert page.evaluate(FIRST_VISUAL_FILL, "referral_record_concern") == COMPLETED_FILL

    # The text alternative names the same steps.
    stages = page.locator("#stage-list")
    in_progress = stages.locator(".govuk-summary-list__row").filter(has_text="In progress")
    expect(in_progress).to_contain_text("Screen the contact and gather information")
    done = stages.locator(".govuk-summary-list__row").filter(has_text="Completed")
    for name in ("Record the concern", "Seek and record consent"):
        expect(done).to_contain_text(name)


def test_heatmap_diagram_shows_open_cases_per_step(open_page: OpenPage) -> None:
    page = open_page("tm1")
    goto(page, "/dashboard", "dashboard")
    with page.expect_navigation():
        page.get_by_role("link", name="See where referral and child protection cases are").click()
    expect_drawn_with_watermark(page)
    snap(page, "referral heatmap")

    counts = page.locator(".tf-diagram .tf-count")
    expect(counts.first).to_be_visible()
    table = page.locator("#heatmap-table tbody tr")
    expect(table.first).to_be_visible()
    drawn = sorted(int(text) for text in counts.all_inner_texts())
    listed = sorted(int(text) for text in page.locator("#heatmap-table tbody td").all_inner_texts())
    assert drawn == [n for n in listed if n > 0]


def test_stage_list_names_every_step_in_words(open_page: OpenPage, live_server: LiveServer) -> None:
    instance_id, reference = live_server.instance_of("DEMO-0001", "referral")
    page = open_page("sw1")
    status: dict[str, Any] = page.request.get(f"/instances/{instance_id}/status.json").json()
    element_ids = set(status["active"]) | set(status["completed"])
    goto(page, f"/instances/{instance_id}", f"stage list of {reference}")
    listed = page.locator("#stage-list li").all_inner_texts()
    assert listed
    assert [text for text in listed if text.strip() in element_ids] == []
