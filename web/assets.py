"""Templates, static assets and security headers for the ThinkFamily pages.

The app factory creates the app with ``Flask(..., static_folder=STATIC_DIR,
template_folder=TEMPLATE_DIR)`` and then calls ``register_assets(app)``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask, Response, g, send_from_directory
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIR = WEB_DIR / "templates"
GOVUK_ASSETS_DIR = STATIC_DIR / "vendor" / "govuk-frontend" / "assets"
ASSET_MAX_AGE = 31_536_000  # one year: the vendored files only change with a version bump

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def csp_nonce() -> str:
    """Return this request's CSP nonce, creating it on first use."""
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        g.csp_nonce = nonce
    return nonce


def content_security_policy(nonce: str) -> str:
    """Build the strict Content-Security-Policy for one response."""
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def register_assets(app: Flask) -> None:
    """Set up the Jinja loader, the /assets route, the CSP nonce and the security headers."""
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(TEMPLATE_DIR),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.add_url_rule("/assets/<path:filename>", endpoint="govuk_assets", view_func=govuk_asset)
    app.context_processor(_template_context)
    app.after_request(_set_security_headers)


def govuk_asset(filename: str) -> Response:
    """Serve a file from govuk-frontend's dist/govuk/assets (vendored by `npm run vendor`)."""
    return send_from_directory(GOVUK_ASSETS_DIR, filename, max_age=ASSET_MAX_AGE)


def _template_context() -> dict[str, str]:
    return {"csp_nonce": csp_nonce()}


def _set_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
