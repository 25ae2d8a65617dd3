"""The README's screenshots, taken from the demo data at 1280x800. Regenerate them with

    .venv/bin/python -m pytest tests/browser -k test_readme_screenshots

This module runs before the other browser tests, so the pictures show the demo data exactly as
`thinkfamily demo-data` loads it, on Monday 21 December 2026 at 10:00.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    README_SCREENSHOTS,
    VIEWPORT,
    LiveServer,
    OpenPage,
    goto,
    open_task,
)

pytestmark = pytest.mark.browser
RUNS_FIRST = True
"""Runs before the other browser tests, which add cases of their own."""


def readme_shot(page: Page, name: str) -> Path:
    """Save the visible 1280x800 viewport as docs/screenshots/<name>.png."""
    README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = README_SCREENSHOTS / f"{name}.png"
    page.mouse.move(0, 0)
    page.screenshot(path=path, animations="disabled", caret="hide")
    return path


def png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def test_readme_screenshots(open_page: OpenPage, live_server: LiveServer) -> None:
    family_id = live_server.family_id("DEMO-0001")
    _, referral = live_server.instance_of("DEMO-0001", "referral")
    written: list[Path] = []

    health_visitor = open_page("health1")
    expect(health_visitor.locator("tbody tr")).to_have_count(3)
    # Scroll the tabs to the top so that the whole task table fits in the 800-pixel picture.
    health_visitor.locator(".govuk-tabs").evaluate("e => window.scrollTo(0, e.offsetTop - 16)")
    written.append(readme_shot(health_visitor, "inbox"))

    front_door = open_page("fd1")
    open_task(front_door, referral, "Screen the contact and gather information")
    written.append(readme_shot(front_door, "task-form"))

    practitioner = open_page("sw1")
    goto(practitioner, f"/families/{family_id}", "family")
    baby = practitioner.locator(".govuk-summary-card").first
    expect(baby).to_contain_text("Unborn, due 11 March 2027")  # due 80 days after the start
    written.append(readme_shot(practitioner, "family"))

    manager = open_page("tm1")
    goto(manager, "/dashboard", "dashboard")
    expect(manager.get_by_role("heading", level=1)).to_be_visible()
    written.append(readme_shot(manager, "dashboard"))

    for path in written:
        assert png_size(path) == (VIEWPORT["width"], VIEWPORT["height"]), path
        assert path.stat().st_size > 20_000, path
