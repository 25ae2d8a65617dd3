"""The settings choose the sender; THINKFAMILY_NOTIFY_TEMPLATES is JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.common.config import load_settings
from domain.notifications.senders import (
    NotificationConfigError,
    NotifySender,
    SmtpSender,
    build_sender,
)
from tests.notifications.fakes import FakeNotify


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("NOTIFY_BACKEND", "NOTIFY_API_KEY", "NOTIFY_TEMPLATES", "SMTP_HOST", "SMTP_PORT"):
        monkeypatch.delenv(f"THINKFAMILY_{key}", raising=False)


def test_smtp_is_the_default_backend() -> None:
    sender = build_sender(
        load_settings({"SMTP_HOST": "mail.example.org", "SMTP_PORT": 2525, "SMTP_STARTTLS": True})
    )

    assert isinstance(sender, SmtpSender)
    assert (sender.host, sender.port, sender.starttls) == ("mail.example.org", 2525, True)
    assert sender.from_address == "no-reply@thinkfamily.local"
    assert sender.name == "smtp"


def test_environment_chooses_notify_with_json_templates(
    monkeypatch: pytest.MonkeyPatch, fake_notify: FakeNotify
) -> None:
    templates = {"task_assigned": "tmpl-1", "default": "tmpl-0"}
    monkeypatch.setenv("THINKFAMILY_NOTIFY_BACKEND", "notify")
    monkeypatch.setenv("THINKFAMILY_NOTIFY_API_KEY", "env-key")
    monkeypatch.setenv("THINKFAMILY_NOTIFY_TEMPLATES", json.dumps(templates))

    settings = load_settings()
    sender = build_sender(settings)

    assert settings["NOTIFY_TEMPLATES"] == templates
    assert isinstance(sender, NotifySender)
    assert sender.name == "notify"
    assert fake_notify.api_keys == ["env-key"]
    assert sender.template_for("task_assigned") == "tmpl-1"
    assert sender.template_for("outcome") == "tmpl-0"


@pytest.mark.parametrize(
    "overrides",
    [
        {"NOTIFY_BACKEND": "carrier-pigeon"},
        {"NOTIFY_BACKEND": "notify", "NOTIFY_API_KEY": None},
        {"NOTIFY_BACKEND": "notify", "NOTIFY_API_KEY": "k", "NOTIFY_TEMPLATES": "not json"},
        {"NOTIFY_BACKEND": "notify", "NOTIFY_API_KEY": "k", "NOTIFY_TEMPLATES": ["a"]},
    ],
)
def test_bad_configuration_is_refused(overrides: dict[str, Any], fake_notify: FakeNotify) -> None:
    with pytest.raises(NotificationConfigError):
        build_sender(load_settings(overrides))
