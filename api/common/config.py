"""Settings: defaults, then THINKFAMILY_* environment variables, then a test mapping."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": f"sqlite:///{ROOT / 'instance' / 'thinkfamily.sqlite'}",
    "SECRET_KEY": None,
    "WORKFLOWS_DIR": str(ROOT / "workflows"),
    "FORMS_DIR": str(ROOT / "forms"),
    "BASE_URL": "http://127.0.0.1:5000",
    "NOTIFY_BACKEND": "smtp",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 8025,
    "SMTP_FROM": "no-reply@thinkfamily.local",
    "SMTP_STARTTLS": False,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "NOTIFY_API_KEY": None,
    "NOTIFY_TEMPLATES": {},
    "SESSION_COOKIE_SECURE": True,
    "CLOSE_TIME": "17:00",
    "WEEKEND_DAYS": "5,6",
    "LOG_LEVEL": "INFO",
}
_INT_KEYS = {"SMTP_PORT"}
_BOOL_KEYS = {"SMTP_STARTTLS", "SESSION_COOKIE_SECURE"}
_JSON_KEYS = {"NOTIFY_TEMPLATES"}


def load_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return settings from defaults, the environment (THINKFAMILY_*) and explicit overrides."""
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        raw = os.environ.get(f"THINKFAMILY_{key}")
        if raw is None:
            continue
        if key in _INT_KEYS:
            settings[key] = int(raw)
        elif key in _BOOL_KEYS:
            settings[key] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif key in _JSON_KEYS:
            settings[key] = json.loads(raw)
        else:
            settings[key] = raw
    settings.update(overrides or {})
    return settings
