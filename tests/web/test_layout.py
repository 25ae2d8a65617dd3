"""The page layout, security headers, assets and the diagram macro."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.dom import minidom

import pytest
from flask import Flask, render_template, render_template_string
from flask.testing import FlaskClient

from web.assets import GOVUK_ASSETS_DIR, STATIC_DIR, TEMPLATE_DIR, register_assets

ROOT = Path(__file__).resolve().parents[2]
DASH = "\N{EN DASH}"  # GOV.UK page titles use an en dash
PAGE = (
    '{% extends "base.html" %}{% block title %}Your tasks{% endblock %}'
    '{% block beforeContent %}<a href="/" class="govuk-back-link">Back</a>{% endblock %}'
    '{% block content %}<h1 class="govuk-heading-l">Your tasks</h1>{% endblock %}'
)
NAV = [
    {"href": "/tasks", "text": "Tasks", "current": True},
    {"href": "/families", "text": "Families"},
]


class User:
    """A signed-in user as the layout sees it."""

    display_name = "Sam <Worker>"
    agency_name = "Northshire Children's Services"
    is_authenticated = True


class Anonymous:
    """Flask-Login's anonymous user is truthy but not authenticated."""

    is_authenticated = False
    display_name = ""


@pytest.fixture
def page_app() -> Flask:
    app = Flask("layout_test", static_folder=str(STATIC_DIR))
    register_assets(app)
    app.jinja_env.globals["csrf_token"] = lambda: "csrf-123"

    @app.route("/")
    def home() -> str:
        return render_template_string(PAGE, nav_items=NAV, current_user=User())

    @app.route("/plain")
    def plain() -> str:
        return render_template_string(PAGE)

    @app.route("/anonymous")
    def anonymous() -> str:
        return render_template_string(PAGE, current_user=Anonymous())

    @app.route("/invalid")
    def invalid() -> str:
        return render_template_string(PAGE, errors=[object()])

    @app.route("/error")
    def error() -> tuple[str, int]:
        return render_template("error.html", status=404), 404

    @app.route("/accessibility")
    def accessibility() -> str:
        return render_template("accessibility.html")

    @app.route("/api")
    def api() -> dict[str, Any]:
        return {"ok": True}

    return app


@pytest.fixture
def client(page_app: Flask) -> FlaskClient:
    return page_app.test_client()


def nonce_of(csp: str) -> str:
    found = re.search(r"script-src 'self' 'nonce-([^']+)'", csp)
    assert found is not None, csp
    return found.group(1)


def test_not_a_govuk_service(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "govuk-logo" not in html
    assert "govuk-header__" not in html
    assert "Crown copyright" not in html
    assert "govuk-footer__crown" not in html
    assert "Open Government Licence" not in html
    assert "GOV.UK" not in html
    assert "/assets/images/" not in html  # no GOV.UK favicon, mask icon or touch icon
    assert "manifest.json" not in html
    assert "og:image" not in html
    assert '<meta name="theme-color" content="#0b0c0c">' in html
    assert "#1d70b8" not in html
    assert 'class="govuk-generic-header' in html
    assert "ThinkFamily" in html.split('class="govuk-generic-header__homepage-link">', 1)[1][:80]


def test_page_title_and_blocks(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert f"<title>Your tasks {DASH} ThinkFamily</title>" in html
    assert '<a href="/" class="govuk-back-link">Back</a>' in html
    main = html.split('<main class="govuk-main-wrapper" id="main-content">', 1)[1]
    assert main.lstrip().startswith('<h1 class="govuk-heading-l">Your tasks</h1>')
    invalid = client.get("/invalid").get_data(as_text=True)
    assert f"<title>Error: Your tasks {DASH} ThinkFamily</title>" in invalid


def test_styles_icons_and_scripts(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    css = [
        '<link rel="stylesheet" href="/static/vendor/govuk-frontend/govuk-frontend.min.css">',
        '<link rel="stylesheet" href="/static/css/thinkfamily.css">',
    ]
    assert html.index(css[0]) < html.index(css[1])  # the font override loads last
    assert 'import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js"' in html
    assert " style=" not in html
    assert "<style" not in html


def test_every_script_carries_the_csp_nonce(client: FlaskClient) -> None:
    response = client.get("/")
    nonce = nonce_of(response.headers["Content-Security-Policy"])
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 2  # js-enabled class switch and initAll
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag


def test_csp_and_security_headers(client: FlaskClient) -> None:
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    nonce = nonce_of(csp)
    assert len(nonce) >= 22
    for directive in (
        "default-src 'self'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_nonce_changes_per_request_and_covers_non_html(client: FlaskClient) -> None:
    first = nonce_of(client.get("/").headers["Content-Security-Policy"])
    second = nonce_of(client.get("/").headers["Content-Security-Policy"])
    assert first != second
    api = client.get("/api")
    assert "default-src 'self'" in api.headers["Content-Security-Policy"]
    assert api.headers["X-Frame-Options"] == "DENY"


def test_signed_in_user_and_sign_out(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert (
        "Signed in as <strong>Sam &lt;Worker&gt;</strong>, Northshire Children&#39;s Services"
        in (html)
    )
    form = re.search(r'<form class="tf-account__form" method="post" action="([^"]+)"', html)
    assert form is not None
    assert form.group(1) == "/sign-out"
    assert '<input type="hidden" name="csrf_token" value="csrf-123">' in html
    assert ">Sign out</button>" in html


def test_no_user_bar_when_signed_out(client: FlaskClient) -> None:
    for path in ("/plain", "/anonymous"):
        html = client.get(path).get_data(as_text=True)
        assert "Signed in as" not in html
        assert "csrf_token" not in html


def test_service_navigation(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert 'data-module="govuk-service-navigation"' in html
    assert 'href="/tasks"' in html
    assert 'aria-current="page"' in html
    assert 'href="/families"' in html
    assert "govuk-service-navigation" not in client.get("/plain").get_data(as_text=True)


def test_local_footer(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    footer = html.split('<footer class="govuk-footer">', 1)[1].split("</footer>", 1)[0]
    assert (
        '<a class="govuk-footer__link" href="/accessibility">Accessibility statement</a>' in footer
    )
    assert "govuk-footer__licence" not in footer


def test_error_page(client: FlaskClient) -> None:
    response = client.get("/error")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert f"<title>Page not found {DASH} ThinkFamily</title>" in html
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in html
    assert "check it is correct" in html
    assert "Error code: 404" in html


def test_error_page_with_own_title_and_message(page_app: Flask) -> None:
    with page_app.test_request_context("/"):
        html = render_template(
            "error.html", status=403, title="You cannot see this case", message="Ask your manager."
        )
    assert '<h1 class="govuk-heading-l">You cannot see this case</h1>' in html
    assert '<p class="govuk-body">Ask your manager.</p>' in html


def test_accessibility_statement(client: FlaskClient) -> None:
    html = client.get("/accessibility").get_data(as_text=True)
    assert f"<title>Accessibility statement {DASH} ThinkFamily</title>" in html
    assert "Web Content Accessibility Guidelines version 2.2</a>\n        AA standard" in html
    assert 'href="https://github.com/alphagov/govuk-frontend/issues/979"' in html
    assert "alphagov/govuk-frontend#979" in html
    assert "text alternative" in html
    assert "Feedback and contact information" in html
    assert "Do not include details of a child, family or case" in html


def test_static_files_exist_and_are_csp_safe() -> None:
    css = (STATIC_DIR / "css" / "thinkfamily.css").read_text(encoding="utf-8")
    assert "body *:not(svg, svg *, code, kbd, pre, samp, .djs-direct-editing-parent)" in css
    assert "font-family: var(--tf-font) !important;" in css
    assert re.findall(r"font-family:[^;]*GDS", css) == []
    assert ".djs-element.stage-completed .djs-visual > :nth-child(1)" in css
    assert ".djs-element.stage-active .djs-visual > :nth-child(1)" in css
    assert ".tf-count" in css
    assert ".tf-chart__bar" in css
    assert "url(" not in css  # no font or image downloads
    favicon = minidom.parse(str(STATIC_DIR / "img" / "favicon.svg"))  # noqa: S318 - our own file
    root = favicon.documentElement
    assert root is not None
    assert root.tagName == "svg"
    assert (STATIC_DIR / "js" / "diagram.js").is_file()
    assert (TEMPLATE_DIR / "base.html").is_file()


def test_diagram_macro(page_app: Flask) -> None:
    with page_app.test_request_context("/"):
        html = render_template_string(
            '{% from "macros/diagram.html" import diagram %}'
            "{{ diagram('/processes/s47.bpmn', '/cases/9/status.json', 'Stages of the enquiry') }}"
        )
    assert '<figure class="tf-diagram-figure">' in html
    assert (
        '<div class="tf-diagram" data-bpmn-url="/processes/s47.bpmn" '
        'data-status-url="/cases/9/status.json">' in html
    )
    assert (
        '<figcaption class="govuk-body tf-diagram__caption">Stages of the enquiry</figcaption>'
        in (html)
    )
    assert 'role="img"' not in html
    assert " style=" not in html
    scripts = re.findall(r'<script src="([^"]+)" defer></script>', html)
    assert scripts == [
        "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
        "/static/js/diagram.js",
    ]
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # nothing inline
    links = re.findall(r'<link rel="stylesheet" href="/static/vendor/bpmn-js/([^"]+)">', html)
    assert links == [
        "assets/diagram-js.css",
        "assets/bpmn-js.css",
        "assets/bpmn-font/css/bpmn.css",
    ]
    vendor_script = (ROOT / "scripts" / "vendor.mjs").read_text(encoding="utf-8")
    for path in [*links, "bpmn-navigated-viewer.production.min.js"]:
        assert f'"bpmn-js/{path}"' in vendor_script


def test_diagram_script_reads_the_documented_status_shape() -> None:
    script = (STATIC_DIR / "js" / "diagram.js").read_text(encoding="utf-8")
    for needle in (
        "status.completed",
        "status.active",
        "status.counts",
        '"stage-completed"',
        '"stage-active"',
        "govuk-tag",
        "result.warnings",
        'mode: "same-origin"',
    ):
        assert needle in script
    assert "innerHTML" not in script
    assert ".style" not in script


@pytest.mark.skipif(
    not (GOVUK_ASSETS_DIR / "manifest.json").is_file(),
    reason="web/static/vendor is not built: run `npm ci && npm run vendor`",
)
def test_govuk_assets_are_served(client: FlaskClient) -> None:
    response = client.get("/assets/manifest.json")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    response.close()


def test_assets_route_refuses_to_leave_its_folder(client: FlaskClient) -> None:
    assert client.get("/assets/../../assets.py").status_code == 404
    assert client.get("/assets/%2e%2e/%2e%2e/assets.py").status_code == 404
