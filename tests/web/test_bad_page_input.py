"""Bad input never breaks a page: signed in with every role over the demo data, the test follows
every link it finds, then sends each query parameter and each form field it met hostile values
(and forms unexpected fields). Every answer must be a page or a redirect, never a server error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_user
from tests.web.helpers_reports import CSRF, sign_in

BAD_VALUES = ("", "abc", "2147483648", "99999999999999999999999999", "x" * 5000)
BAD_FIELDS = ("relationship_abc", "relationship_99999999999999999999", "unexpected")
SKIP = ("/api/", "/static/", "/sign-out")
MAX_PAGES = 400


@dataclass
class Form:
    """A form as a browser would submit it: its action and each field's first value.

    `fixed` holds what the client does not choose: the buttons' names and values, the CSRF token.
    """

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)


class PageParser(HTMLParser):
    """Collects links and POST forms from one page."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page, self.links, self.forms = page, list[str](), list[Form]()
        self.form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            post = a.get("method", "get").lower() == "post"
            self.form = Form(a.get("action") or self.page) if post else None
            if self.form is not None:
                self.forms.append(self.form)
        elif self.form is not None and tag in ("input", "select", "textarea", "button"):
            name = a.get("name")
            kind = a.get("type", "")
            if name and (kind not in ("checkbox", "radio") or name not in self.form.fields):
                self.form.fields.setdefault(name, a.get("value", ""))
                if tag == "button" or name == "csrf_token":
                    self.form.fixed.setdefault(name, a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None


def crawl(client: FlaskClient) -> tuple[list[str], list[Form]]:
    """Every page reachable from the home page (one per path shape) and the forms on them."""
    seen: set[str] = set()
    shapes: set[tuple[str, ...]] = set()
    queue, pages, forms = ["/"], list[str](), dict[tuple[str, ...], Form]()
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen or url.startswith(SKIP):
            continue
        seen.add(url)
        response = client.get(url, follow_redirects=True)
        assert response.status_code < 500, url
        if response.mimetype != "text/html":
            continue
        pages.append(url)
        parser = PageParser(urlsplit(url).path)
        parser.feed(response.get_data(as_text=True))
        for form in (f for f in parser.forms if not f.action.startswith(SKIP)):
            forms.setdefault((*_shape(form.action), *sorted(form.fields)), form)
        for link in parser.links:
            shape = _shape(link)
            if shape not in shapes:
                shapes.add(shape)
                queue.append(link.split("#")[0])
    return pages, list(forms.values())


def _shape(url: str) -> tuple[str, ...]:
    """A link's path with ids blanked, and its query parameter names."""
    parts = urlsplit(url)
    path = "/".join("#" if p.isdigit() else p for p in parts.path.split("/"))
    return (path, *sorted(k for k, _ in parse_qsl(parts.query)))


def variants(form: Form) -> Iterator[tuple[str, dict[str, str]]]:
    """The form as shown with each value (hidden ones too) in turn made bad; then with unexpected
    fields, and with a NUL character in a value."""
    answers = [name for name in form.fields if name not in form.fixed]
    for value in BAD_VALUES:
        for name in answers:
            yield f"{name}={value[:20]!r}", {**form.fields, name: value}
    for name in BAD_FIELDS:
        yield f"+{name}", {**form.fields, name: "1"}
    for name in answers[:1]:
        yield f"{name} with NUL", {**form.fields, name: "nul\x00byte"}


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient) -> FlaskClient:
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    make_user(app, "everyone", ["practitioner", "team_manager", "process_owner", "admin"])
    sign_in(app, client, "everyone")
    return client


def test_pages_and_forms_survive_bad_input(signed_in: FlaskClient) -> None:
    pages, forms = crawl(signed_in)  # crawled once: the demo data takes seconds to load
    assert len(pages) > 20  # the crawl reached the family, task and instance pages
    reached = {_shape(form.action)[0] for form in forms}
    assert {
        "/tasks/#",
        "/tasks/#/claim",
        "/instances/#/terminate",
        "/start/referral",
        "/start/early_help",
        "/families/#/members/new",
        "/people/#/edit",
        "/people/#/ethnicity",
    } <= reached
    failures = [*bad_queries(signed_in, pages), *bad_forms(signed_in, forms)]
    assert not failures, "\n".join(failures)


def bad_queries(client: FlaskClient, pages: list[str]) -> Iterator[str]:
    """Each query parameter of each page given each bad value: what failed."""
    for url in pages:
        parts = urlsplit(url)
        query = parse_qsl(parts.query)
        for index, (name, _value) in enumerate(query):
            for bad in (*BAD_VALUES, "nul\x00byte"):
                changed = [*query[:index], (name, bad), *query[index + 1 :]]
                response = client.get(f"{parts.path}?{urlencode(changed)}")
                if response.status_code >= 500:
                    yield f"GET {parts.path} ?{name}={bad[:20]!r}: {response.status_code}"


def bad_forms(client: FlaskClient, forms: list[Form]) -> Iterator[str]:
    """Each variant of each form posted: what failed."""
    for form in forms:
        for label, data in variants(form):
            response = client.post(form.action, data={**data, "csrf_token": CSRF})
            if response.status_code >= 500:
                yield f"POST {form.action} {label}: {response.status_code}"
