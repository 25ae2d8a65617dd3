"""A second click on a form's button while the first is still being answered sends nothing
(GOV.UK Frontend's preventDoubleClick): a family, a person or a case is never recorded twice
because someone clicked again on a slow day."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import LiveServer, OpenPage, fill, goto, snap

pytestmark = pytest.mark.browser


def families_named(live_server: LiveServer, name: str) -> int:
    from api.common.context import base_context
    from domain.families.models import Family

    with live_server.app.app_context():
        ctx = base_context(None)
        found = ctx.session.scalar(select(func.count(Family.id)).where(Family.name == name))
        ctx.session.rollback()
    return int(found or 0)


def test_clicking_add_family_again_while_it_is_saved_adds_one_family(
    open_page: OpenPage, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.families import service as families

    create = families.create_family

    def slow_create(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.6)  # a busy server: the practitioner clicks again meanwhile
        return create(*args, **kwargs)

    monkeypatch.setattr(families, "create_family", slow_create)
    page = open_page("sw1")
    goto(page, "/families/new", "add family")
    fill(page, "name", "Clicked twice household")
    # a click, and another a quarter of a second later, while the first is still saving
    page.evaluate(
        """() => {
          const button = [...document.querySelectorAll("button")].find(
            (b) => b.textContent.trim() === "Add family"
          );
          button.click();
          setTimeout(() => button.click(), 250);
        }"""
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Clicked twice household")
    snap(page, "family added once")
    page.wait_for_timeout(1000)  # a second request, had one been sent, has finished
    assert families_named(live_server, "Clicked twice household") == 1
