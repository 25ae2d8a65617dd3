"""Message wording: one per event, reference and link only, unsafe input refused."""

from __future__ import annotations

import pytest

from domain.notifications.messages import (
    EVENT_WORDING,
    GENERIC_WORDING,
    UnsafeMessageError,
    compose_message,
)
from domain.processes.outbox import NOTIFY_EVENTS

BASE = "https://thinkfamily.example.org/"


def test_every_outbox_event_has_its_own_wording() -> None:
    assert set(EVENT_WORDING) == NOTIFY_EVENTS
    assert len({headline for headline, _ in EVENT_WORDING.values()}) == len(EVENT_WORDING)


@pytest.mark.parametrize("event", sorted(NOTIFY_EVENTS))
def test_message_has_reference_link_and_event_wording(event: str) -> None:
    message = compose_message(event, reference="MDT-000012", link="/instances/12", base_url=BASE)

    headline, sentence = EVENT_WORDING[event]
    assert message.subject == f"ThinkFamily: {headline} (MDT-000012)"
    assert message.link == "https://thinkfamily.example.org/instances/12"
    assert sentence in message.body
    assert "Reference: MDT-000012" in message.body
    assert message.link in message.body


def test_unknown_event_gets_generic_wording() -> None:
    message = compose_message("mystery", reference="REF-000001", link="/instances/1", base_url=BASE)

    assert GENERIC_WORDING[0] in message.subject
    assert GENERIC_WORDING[1] in message.body


@pytest.mark.parametrize(
    ("reference", "link", "base_url"),
    [
        ("Jane Smith", "/instances/1", BASE),
        ("REF-1\nBcc: x@example.org", "/instances/1", BASE),
        ("REF-000001", "/instances/1?child=Jane", BASE),
        ("REF-000001", "https://elsewhere.example.com/x", BASE),
        ("REF-000001", "/instances/1", "javascript:alert(1)"),
        ("REF-000001", "/instances/1", ""),
    ],
)
def test_unsafe_reference_link_or_base_url_is_refused(
    reference: str, link: str, base_url: str
) -> None:
    with pytest.raises(UnsafeMessageError):
        compose_message("outcome", reference=reference, link=link, base_url=base_url)
