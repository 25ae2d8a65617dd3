"""Macro drift check: the Jinja port must render every GOV.UK Frontend fixture identically.

govuk-frontend (npm, CSS and JS) and govuk-frontend-jinja (PyPI, the macros) are pinned as a
pair. Each component ships its Nunjucks fixtures (options and expected HTML) in
node_modules/govuk-frontend/dist/govuk/components/<name>/fixtures.json; this test renders every
fixture's options through the Jinja macro and compares the HTML token by token. It fails as soon
as one side of the pair is bumped without the other.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, PackageLoader, PrefixLoader

ROOT = Path(__file__).resolve().parents[2]
GOVUK = ROOT / "node_modules" / "govuk-frontend"
COMPONENTS = GOVUK / "dist" / "govuk" / "components"
GOVUK_FRONTEND_VERSION = "6.3.0"
GOVUK_FRONTEND_JINJA_VERSION = "4.1.0"

# Components the form renderer, the layout, the charts and the pages rely on.
USED = [
    "input",
    "textarea",
    "character-count",
    "radios",
    "checkboxes",
    "select",
    "date-input",
    "fieldset",
    "hint",
    "label",
    "error-message",
    "error-summary",
    "button",
    "table",
    "tag",
    "summary-list",
    "generic-header",
    "service-navigation",
    "skip-link",
    "back-link",
    "breadcrumbs",
]

pytestmark = pytest.mark.skipif(
    not COMPONENTS.is_dir(),
    reason="node_modules/govuk-frontend is not installed: run `npm ci` (the Makefile does)",
)

Token = tuple[str, ...]


class _Tokens(HTMLParser):
    """Tokenise HTML: tags with sorted, whitespace-normalised attributes, and collapsed text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[Token] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        normalised = sorted((name, " ".join((value or "").split())) for name, value in attrs)
        self.tokens.append(("start", tag, *(f"{name}={value}" for name, value in normalised)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag))

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not text:
            return
        if self.tokens and self.tokens[-1][0] == "text":
            text = f"{self.tokens[-1][1]} {text}"
            self.tokens.pop()
        self.tokens.append(("text", text))


def tokens(html: str) -> list[Token]:
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    return parser.tokens


def macro_name(component: str) -> str:
    return "govuk" + "".join(part.capitalize() for part in component.split("-"))


def environment() -> Environment:
    loader = PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})
    return Environment(loader=loader, autoescape=True)


def fixtures(component: str) -> list[dict[str, Any]]:
    data = json.loads((COMPONENTS / component / "fixtures.json").read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = data["fixtures"]
    return found


def all_components() -> list[str]:
    if not COMPONENTS.is_dir():
        return USED
    return sorted(p.parent.name for p in COMPONENTS.glob("*/fixtures.json"))


def first_difference(rendered: list[Token], expected: list[Token]) -> str:
    for index, (got, want) in enumerate(zip(rendered, expected, strict=False)):
        if got != want:
            return f"token {index}: got {got!r}, expected {want!r}"
    return f"length: got {len(rendered)} tokens, expected {len(expected)}"


def test_the_pinned_pair_is_installed() -> None:
    package = json.loads((GOVUK / "package.json").read_text(encoding="utf-8"))
    assert package["version"] == GOVUK_FRONTEND_VERSION
    assert version("govuk-frontend-jinja") == GOVUK_FRONTEND_JINJA_VERSION
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/govuk-frontend"]["version"] == GOVUK_FRONTEND_VERSION


def test_every_used_component_has_fixtures() -> None:
    missing = [c for c in USED if not (COMPONENTS / c / "fixtures.json").is_file()]
    assert missing == []


@pytest.mark.parametrize("component", all_components())
def test_macro_matches_nunjucks_fixtures(component: str) -> None:
    template = environment().get_template(f"govuk_frontend_jinja/components/{component}/macro.html")
    macro = getattr(template.module, macro_name(component))
    cases = fixtures(component)
    assert cases, component
    drift = []
    for case in cases:
        rendered = tokens(str(macro(case["options"])))
        expected = tokens(case["html"])
        if rendered != expected:
            drift.append(f"{case['name']}: {first_difference(rendered, expected)}")
    assert drift == [], f"{component}: {len(drift)}/{len(cases)} fixtures differ"
