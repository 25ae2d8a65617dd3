"""Each role signs in through the real page and sees ThinkFamily, not GOV.UK (ui-stack §1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from domain.demo import DEMO_PASSWORD
from tests.browser.conftest import DASH, OpenPage, goto, snap

pytestmark = pytest.mark.browser

CSC = "Shropshire Council Children's Social Care"
PARTNERSHIP = "Safeguarding Partnership Business Unit"

ROLES = [
    pytest.param(
        "sw1", "Social worker (demo)", CSC, ["Tasks", "Start", "Families"], id="practitioner"
    ),
    pytest.param(
        "tm1",
        "CSC team manager (demo)",
        CSC,
        ["Tasks", "Start", "Families", "Dashboard", "Processes"],
        id="team-manager",
    ),
    pytest.param(
        "owner1",
        "Process owner (demo)",
        PARTNERSHIP,
        ["Tasks", "Families", "Dashboard", "Processes", "API reference"],
        id="process-owner",
    ),
    pytest.param("admin1", "Administrator (demo)", PARTNERSHIP, ["Tasks", "Families"], id="admin"),
]

NOT_GOVUK = ("govuk-logo", "govuk-header__", "Crown copyright", "govuk-footer__crown")

COMPUTED_FONTS = """() => {
  const families = new Set();
  for (const el of document.querySelectorAll('*')) {
    families.add(getComputedStyle(el).fontFamily);
  }
  return [...families];
}"""

GDS_FACES = """() => [...document.fonts]
  .filter(face => face.family.includes('GDS Transport') && face.status !== 'unloaded')
  .map(face => face.family + ' ' + face.status)"""


def assert_not_govuk(page: Page) -> None:
    """No crown, no GOV.UK logotype, no Crown copyright, no GDS Transport anywhere."""
    html = page.content()
    for marker in NOT_GOVUK:
        assert marker not in html, marker
    fonts = page.evaluate(COMPUTED_FONTS)
    assert [f for f in fonts if "GDS Transport" in f] == []
    assert page.evaluate(GDS_FACES) == []
    expect(page.locator(".govuk-header__logotype, .govuk-footer__crown")).to_have_count(0)


@pytest.mark.parametrize(("username", "name", "agency", "sections"), ROLES)
def test_each_role_signs_in_and_sees_thinkfamily_not_govuk(
    open_page: OpenPage, username: str, name: str, agency: str, sections: list[str]
) -> None:
    fonts: list[str] = []
    page = open_page()
    page.context.on(
        "request", lambda request: fonts.append(request.url) if "/fonts/" in request.url else None
    )
    goto(page, "/tasks", "signed out")
    assert page.url.endswith("/sign-in")
    assert_not_govuk(page)

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()
    snap(page, f"inbox of {username}")

    account = page.locator(".tf-account__user")
    expect(account).to_contain_text(f"Signed in as {name}, {agency}")
    expect(page.locator(".govuk-generic-header, header").first).to_contain_text("ThinkFamily")
    expect(page.locator(".govuk-service-navigation__link")).to_have_text(sections)
    expect(page).to_have_title(f"My tasks {DASH} ThinkFamily")
    assert_not_govuk(page)

    for path in ("/families", "/accessibility"):
        goto(page, path)
        expect(account).to_contain_text(agency)
        assert_not_govuk(page)

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out", exact=True).click()
    snap(page, "signed out")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    expect(account).to_have_count(0)
    assert fonts == []
