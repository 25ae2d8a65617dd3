"""Browser test fixtures: a live ThinkFamily with the demo data, Debian's Chromium, axe-core.

- `live_server` (session): a migrated file SQLite database, `create_app` with a FakeClock that
  starts on Monday 21 December 2026 at 10:00 UTC (so working-day timers cross Christmas and the
  Boxing Day substitute holiday), the demo data loaded by the real `thinkfamily demo-data`
  command, served by werkzeug's threaded server on 127.0.0.1 and a free port.
- `open_page(username=None, javascript=True)`: a fresh browser context (1280x800) and page,
  signed in through the real sign-in page. At teardown it fails the test if any page requested
  a GDS Transport font file (with JavaScript on; see `_Watch` for the no-JavaScript bug),
  logged a console error (CSP violations included), threw an uncaught exception, got a 5xx
  response, or loaded without a screenshot being taken.
- `snap(page, label)`: a full-page screenshot in test-artifacts/screenshots/ (every page a test
  visits is snapped; `goto` and `sign_in` do it for you).
- `axe_violations(page)`: docs/ui-stack.md §9. axe-core is read from node_modules and run with
  `page.evaluate`, so the contexts keep the strict CSP (no `bypass_csp`): `add_script_tag`
  would be blocked by it, and a context that bypassed the CSP could not also prove the pages
  run under it.

Tests run in file order, except that modules setting `RUNS_FIRST = True` (the README
screenshots, which want the demo data exactly as loaded) run first, and modules setting
`MOVES_CLOCK = True` (they move the shared FakeClock forward and fire timers) run last.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    expect,
)
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from domain.demo import DEMO_PASSWORD
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]
# A second run at the same time (CI runs the SQLite and PostgreSQL suites side by side) points
# these elsewhere, so the two runs never write the same picture.
ARTIFACTS = Path(os.environ.get("THINKFAMILY_TEST_ARTIFACTS") or ROOT / "test-artifacts")
SCREENSHOTS = ARTIFACTS / "screenshots"
README_SCREENSHOTS = Path(
    os.environ.get("THINKFAMILY_README_SCREENSHOTS") or ROOT / "docs" / "screenshots"
)
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
START = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)
"""Monday 21 December 2026, 10:00 UTC: five working days later is Wednesday 30 December."""
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 15_000
DASH = "\N{EN DASH}"  # GOV.UK page titles end with an en dash and the service name

EXPECT_TIMEOUT_MS = 10_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)  # bpmn-js on a busy 2-core machine needs > 5 s

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
KNOWN_GOVUK = ".govuk-radios__input[aria-controls], .govuk-checkboxes__input[aria-controls]"


# --- the live server -----------------------------------------------------------------------


@dataclass
class LiveServer:
    """The running app: its URL, the Flask app (for database look-ups) and its clock."""

    url: str
    app: Flask
    clock: FakeClock

    def instance_id(self, reference: str) -> int:
        """Return the id of the process instance with this reference."""
        from api.common.context import base_context
        from domain.processes.models import ProcessInstance

        with self.app.app_context():
            ctx = base_context(None)
            found = ctx.session.scalar(
                select(ProcessInstance.id).where(ProcessInstance.reference == reference)
            )
            ctx.session.rollback()
        assert found is not None, f"no instance {reference}"
        return found

    def instance_of(self, family_reference: str, process_key: str) -> tuple[int, str]:
        """Return (id, reference) of the family's first instance of a process (the demo's)."""
        from api.common.context import base_context
        from domain.families.models import Family
        from domain.processes.models import ProcessInstance

        with self.app.app_context():
            ctx = base_context(None)
            row = ctx.session.execute(
                select(ProcessInstance.id, ProcessInstance.reference)
                .join(Family, Family.id == ProcessInstance.family_id)
                .where(Family.reference == family_reference)
                .where(ProcessInstance.process_key == process_key)
                .order_by(ProcessInstance.id)
                .limit(1)
            ).first()
            ctx.session.rollback()
        assert row is not None, f"no {process_key} for {family_reference}"
        return int(row.id), str(row.reference)

    def family_id(self, reference: str) -> int:
        """Return the id of the family with this reference."""
        from api.common.context import base_context
        from domain.families.models import Family

        with self.app.app_context():
            ctx = base_context(None)
            found = ctx.session.scalar(select(Family.id).where(Family.reference == reference))
            ctx.session.rollback()
        assert found is not None, f"no family {reference}"
        return found

    def next_timer_due_at(self, reference: str) -> datetime:
        """Return when the instance's earliest timer is due (UTC)."""
        from api.common.context import base_context
        from domain.processes.models import ProcessInstance

        with self.app.app_context():
            ctx = base_context(None)
            due = ctx.session.scalar(
                select(ProcessInstance.next_timer_due_at).where(
                    ProcessInstance.reference == reference
                )
            )
            ctx.session.rollback()
        assert due is not None, f"{reference} has no timer waiting"
        return due if due.tzinfo else due.replace(tzinfo=UTC)

    def fire_due_timers(self) -> int:
        """Fire every timer due at the clock's time, as `thinkfamily worker --once` does."""
        try:
            from api.worker import build_worker
        except ImportError:  # the worker is not there yet: fire each due instance directly
            return self._fire_directly()
        result = build_worker(self.app).run_until_idle()
        assert result.failed == 0, result
        assert result.errors == 0, result
        return result.fired

    def _fire_directly(self) -> int:
        from api.common.context import base_context
        from domain.db import unit_of_work
        from domain.processes import runtime
        from domain.processes.models import ProcessInstance

        fired = 0
        with self.app.app_context():
            ctx = base_context(None)
            due = ctx.session.scalars(
                select(ProcessInstance.id).where(
                    ProcessInstance.status == "active",
                    ProcessInstance.next_timer_due_at <= self.clock(),
                )
            ).all()
            for instance_id in due:
                with unit_of_work(ctx.session):
                    instance = ctx.session.get(ProcessInstance, instance_id)
                    assert instance is not None
                    runtime.fire_timers(ctx, instance)
                fired += 1
        return fired


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[LiveServer]:
    """Serve ThinkFamily with the demo data on 127.0.0.1 for the whole browser session."""
    from api.app import create_app
    from api.common.extensions import db

    path = tmp_path_factory.mktemp("browser-db") / "thinkfamily.sqlite"
    shutil.copy(sqlite_template, path)
    clock = FakeClock(START)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "TESTING": True,
            "SECRET_KEY": "browser-test-secret",
            "SESSION_COOKIE_SECURE": False,
            "SMTP_PORT": 0,
        },
        clock=clock,
    )
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output, result.output
    assert "stopped at" not in result.output, result.output

    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)  # one INFO line per request is only noise here
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="thinkfamily-live", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, clock)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        werkzeug_log.setLevel(level)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- Playwright set-up ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, never a downloaded browser (docs/ui-stack.md §8)."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """pytest-playwright's base URL: the live server."""
    return live_server.url


def _module_flag(item: pytest.Item, name: str) -> bool:
    return bool(getattr(getattr(item, "module", None), name, False))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Among the browser tests, run modules with RUNS_FIRST = True first (they want the demo
    data as loaded) and those with MOVES_CLOCK = True last (they move the shared clock).
    Other tests, and the order within each group, are left alone."""
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if here in Path(str(item.path)).parents]
    ours = [items[i] for i in slots]

    def group(item: pytest.Item) -> int:
        if _module_flag(item, "RUNS_FIRST"):
            return 0
        return 2 if _module_flag(item, "MOVES_CLOCK") else 1

    for slot, item in zip(slots, sorted(ours, key=group), strict=True):
        items[slot] = item


# --- screenshots ---------------------------------------------------------------------------


@dataclass
class _Shots:
    test: str = "session"
    count: int = 0
    snapped: set[str] = field(default_factory=set)


_SHOTS = _Shots()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "page"


@pytest.fixture(scope="session")
def _screenshot_folder() -> Path:
    """An empty test-artifacts/screenshots/ for this run."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture(autouse=True)
def _screenshot_names(request: pytest.FixtureRequest, _screenshot_folder: Path) -> None:
    """Name this test's screenshots after it (and its parameters, without the browser name)."""
    node = request.node
    name = _slug(str(getattr(node, "originalname", node.name)).removeprefix("test_"))[:50]
    callspec = getattr(node, "callspec", None)
    params = callspec.id.removeprefix("chromium").strip("-") if callspec is not None else ""
    if params:
        name += "-" + _slug(params)
    _SHOTS.test = name.strip("-")
    _SHOTS.count = 0
    _SHOTS.snapped = set()


def snap(page: Page, label: str) -> Path:
    """Save a full-page screenshot of the page as it is now; return its path."""
    _SHOTS.count += 1
    path = SCREENSHOTS / f"{_SHOTS.test}-{_SHOTS.count:02d}-{_slug(label)}.png"
    page.screenshot(path=path, full_page=True)
    _SHOTS.snapped.add(_without_fragment(page.url))
    return path


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def goto(page: Page, path: str, label: str | None = None, *, shot: bool = True) -> None:
    """Open a page (a path on the live server) and snap it (`shot=False`: the caller will)."""
    response = page.goto(path)
    assert response is not None, path
    assert response.ok, f"{path}: {response.status}"
    if shot:
        snap(page, label or path)


# --- pages and contexts --------------------------------------------------------------------


class OpenPage(Protocol):
    """The `open_page` fixture: a new signed-in (or signed-out) page in its own context."""

    def __call__(self, username: str | None = None, *, javascript: bool = True) -> Page: ...


@dataclass
class _Watch:
    """What the pages of one test did that no page may do."""

    font_requests: list[str] = field(default_factory=list)
    """GDS Transport is never requested, with or without JavaScript (scripts/vendor.mjs drops
    its @font-face rules and files from the vendored govuk-frontend)."""
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    loaded: set[str] = field(default_factory=set)

    def watch(self, context: BrowserContext, page: Page, *, javascript: bool) -> None:
        fonts = self.font_requests
        context.on(
            "request",
            lambda request: (
                fonts.append(f"{request.url} (by {request.frame.url})")
                if "/assets/fonts/" in request.url
                else None
            ),
        )
        context.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("load", lambda loaded: self.loaded.add(_without_fragment(loaded.url)))

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def problems(self) -> list[str]:
        unsnapped = sorted(self.loaded - _SHOTS.snapped - {"about:blank"})
        return [
            *(f"font requested: {url}" for url in self.font_requests),
            *(f"console error: {text}" for text in self.console_errors),
            *(f"uncaught page error: {text}" for text in self.page_errors),
            *(f"server error: {text}" for text in self.server_errors),
            *(f"page loaded without a screenshot: {url}" for url in unsnapped),
        ]


@pytest.fixture
def open_page(browser: Browser, live_server: LiveServer) -> Iterator[OpenPage]:
    """Open pages in fresh contexts (each its own session); check them all at teardown."""
    contexts: list[BrowserContext] = []
    watch = _Watch()

    def make(username: str | None = None, *, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]},
            java_script_enabled=javascript,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watch.watch(context, page, javascript=javascript)
        if username is not None:
            sign_in(page, username)
        return page

    yield make
    for context in contexts:
        context.close()
    assert watch.problems() == []


# --- signing in ----------------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real sign-in page and wait for the inbox."""
    goto(page, "/sign-in", "sign in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".tf-account__user")).to_be_visible()
    snap(page, f"signed in as {username}")


# --- axe-core ------------------------------------------------------------------------------


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_run(page: Page) -> dict[str, Any]:
    """Inject the pinned axe-core (once per document) and return its raw result for the tags."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return result


def axe_violations(page: Page) -> list[tuple[str, list[str]]]:
    """Run axe-core; drop only GOV.UK's deliberate aria-expanded on conditional-reveal inputs.

    docs/ui-stack.md §9, with one change: the strict CSP blocks `add_script_tag`, so the pinned
    axe.min.js is evaluated in the page (Playwright's evaluate is not subject to the page CSP).
    """
    result = axe_run(page)
    found: list[tuple[str, list[str]]] = []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            known = violation["id"] == "aria-allowed-attr" and page.locator(
                node["target"][0]
            ).evaluate("(e, sel) => e.matches(sel)", KNOWN_GOVUK)
            if not known:
                found.append((violation["id"], node["target"]))
    return found


def wait_for_diagram(page: Page) -> None:
    """Wait until bpmn-js has drawn the page's diagram and applied its status."""
    expect(page.locator(".tf-diagram").first).to_have_attribute("data-tf-diagram-state", "ready")
    expect(page.locator(".tf-diagram .djs-element").first).to_be_attached()


# --- forms ---------------------------------------------------------------------------------


def choose(page: Page, name: str, value: str) -> None:
    """Select a radio (or tick a checkbox) by its field name and value."""
    page.locator(f'input[name="{name}"][value="{value}"]').check()


def tick(page: Page, name: str, *values: str) -> None:
    """Tick checkboxes by field name and value."""
    for value in values:
        page.locator(f'input[type="checkbox"][name="{name}"][value="{value}"]').check()


def fill(page: Page, name: str, text: str) -> None:
    """Type into a text input or textarea by field name."""
    page.locator(f'input[name="{name}"], textarea[name="{name}"]').fill(text)


def select_option(page: Page, name: str, value: str) -> None:
    """Pick an option of a select by field name and value."""
    page.locator(f'select[name="{name}"]').select_option(value)


def fill_date(page: Page, name: str, day: date) -> None:
    """Fill a GOV.UK date input (day, month and year boxes)."""
    page.locator(f'input[name="{name}-day"]').fill(str(day.day))
    page.locator(f'input[name="{name}-month"]').fill(str(day.month))
    page.locator(f'input[name="{name}-year"]').fill(str(day.year))


def submit(page: Page, button: str, label: str) -> None:
    """Press a form's button, wait for the next page and snap it."""
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    snap(page, label)


def banner_reference(page: Page) -> str:
    """Return the case reference named in the page's success banner ("View case REF")."""
    link = page.locator(".govuk-notification-banner__link").first
    text = link.inner_text()
    match = re.search(r"View case (\S+)", text)
    assert match, text
    return match.group(1)


def open_task(page: Page, reference: str, title: str, *, view: str = "mine") -> None:
    """From the inbox, open the task with this title for this case, and snap it."""
    goto(page, "/tasks" if view == "mine" else f"/tasks?view={view}", f"inbox {view}")
    row = page.locator("tbody tr").filter(has=page.get_by_role("link", name=reference, exact=True))
    with page.expect_navigation():
        row.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    snap(page, title)
