"""Deliver through GOV.UK Notify (client faked): one template per event, Notify ids stored."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from tests.notifications.conftest import BASE_URL, PERSONAL_VALUES, start_demo
from tests.notifications.fakes import FakeNotify
from tests.notifications.helpers import audit_details, deliver, reference_of, rows

TEMPLATES = {
    "task_assigned": "tmpl-task-assigned",
    "mdt_invitation": "tmpl-mdt-invitation",
    "reminder": "tmpl-reminder",
    "manager_notice": "tmpl-manager-notice",
    "escalation_stage": "tmpl-escalation-stage",
    "outcome": "tmpl-outcome",
    "feedback": "tmpl-feedback",
}


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        **settings,
        "NOTIFY_BACKEND": "notify",
        "NOTIFY_API_KEY": "thinkfamily_test-key",
        "NOTIFY_TEMPLATES": TEMPLATES,
    }


def test_notify_sends_one_template_per_event_and_stores_the_notify_id(
    app: Flask, people: None, fake_notify: FakeNotify, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    instance_id = start_demo(app)
    reference = reference_of(app, instance_id)

    result = deliver(app)

    assert result.sent == 5
    assert fake_notify.api_keys == ["thinkfamily_test-key"]
    sent = {(c.email_address, c.template_id) for c in fake_notify.calls}
    assert sent == {
        ("alice@example.org", "tmpl-task-assigned"),
        ("hm1@example.org", "tmpl-mdt-invitation"),
        ("hm2@example.org", "tmpl-mdt-invitation"),
        ("school@example.org", "tmpl-reminder"),
        ("school@example.org", "tmpl-escalation-stage"),
    }
    for call in fake_notify.calls:
        assert set(call.personalisation) == {"reference", "link", "event"}
        assert call.personalisation["reference"] == reference
        assert call.personalisation["link"] == f"{BASE_URL}/instances/{instance_id}"
        for value in PERSONAL_VALUES:
            assert value not in str(call.personalisation)
    by_address_and_id = {(c.email_address, c.response_id) for c in fake_notify.calls}
    assert {(r.recipient, r.provider_id) for r in rows(app)} == by_address_and_id
    audited = audit_details(app, "notification.sent")
    assert {(i, d["provider_id"]) for i, d in audited} == {
        (instance_id, c.response_id) for c in fake_notify.calls
    }
    assert all(d["backend"] == "notify" for _, d in audited)
    for call in fake_notify.calls:
        assert f"on instance {instance_id} sent via notify, provider id {call.response_id}" in (
            caplog.text
        )


def test_event_without_a_template_is_retried(
    app: Flask, people: None, fake_notify: FakeNotify
) -> None:
    app_settings = app.extensions["thinkfamily"]["settings"]
    app_settings["NOTIFY_TEMPLATES"] = {k: v for k, v in TEMPLATES.items() if k != "reminder"}
    start_demo(app)

    result = deliver(app)

    assert (result.sent, result.retrying) == (4, 1)
    (waiting,) = [r for r in rows(app) if r.status == "pending"]
    assert waiting.event == "reminder"
    assert waiting.attempts == 1
    assert waiting.provider_id is None


def test_notify_error_is_retried_and_later_sent_once(
    app: Flask, people: None, fake_notify: FakeNotify
) -> None:
    from tests.conftest import FakeClock

    start_demo(app)
    fake_notify.failing_addresses = {"hm2@example.org"}

    first = deliver(app)

    assert (first.sent, first.retrying) == (4, 1)
    fake_notify.failing_addresses = set()
    clock: FakeClock = app.extensions["thinkfamily"]["clock"]
    clock.advance(minutes=1)
    second = deliver(app)
    assert (second.sent, second.retrying) == (1, 0)
    assert deliver(app).processed == 0
    assert [c.email_address for c in fake_notify.calls].count("hm1@example.org") == 1
    assert [c.email_address for c in fake_notify.calls].count("hm2@example.org") == 1
    assert all(r.status == "sent" and r.provider_id for r in rows(app))
