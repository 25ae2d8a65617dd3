"""Compose notification emails: a reference, generic wording and a sign-in link, nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass

EVENT_WORDING: dict[str, tuple[str, str]] = {
    "task_assigned": (
        "A task is waiting for you",
        "A task has been assigned to you or your team.",
    ),
    "mdt_invitation": (
        "You are invited to a multi-agency meeting",
        "Your agency has been invited to a multi-agency meeting. Please sign in to respond.",
    ),
    "reminder": (
        "A task is due soon",
        "A task for you or your team is due soon or is overdue.",
    ),
    "manager_notice": (
        "A case needs a manager's attention",
        "A case needs a manager's attention.",
    ),
    "escalation_stage": (
        "An escalation has moved to a new stage",
        "A professional disagreement has been escalated or has moved to a new stage.",
    ),
    "outcome": (
        "An outcome has been recorded",
        "An outcome has been recorded.",
    ),
    "feedback": (
        "Your feedback is requested",
        "Your feedback has been requested.",
    ),
}
GENERIC_WORDING = (
    "There is an update in ThinkFamily",
    "There is an update that may need your attention.",
)

_SAFE_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")
_SAFE_LINK = re.compile(r"/[A-Za-z0-9/_-]{0,499}")
_SAFE_BASE_URL = re.compile(r"https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?")

BODY = """{sentence}

Reference: {reference}

Sign in to ThinkFamily to see the details:
{link}

This email does not contain any case details. Please do not reply to it.
"""


class UnsafeMessageError(ValueError):
    """The reference, link or base URL is not of the expected shape, so nothing is sent."""


@dataclass(frozen=True, slots=True)
class Message:
    """One notification email, identical for every recipient."""

    event: str
    reference: str
    link: str
    """The absolute sign-in link (BASE_URL + the outbox row's path)."""
    headline: str
    subject: str
    body: str


def is_safe_base_url(base_url: str) -> bool:
    """Return whether BASE_URL is a plain http(s) address that links can be appended to."""
    return bool(_SAFE_BASE_URL.fullmatch(base_url.rstrip("/")))


def compose_message(event: str, *, reference: str, link: str, base_url: str) -> Message:
    """Build the subject and body for an event from the reference and the link only.

    Raises:
        UnsafeMessageError: the reference is not a plain case reference, the link is not a
            plain path, or the base URL is not an http(s) origin, so free text cannot leak in.
    """
    if not _SAFE_REFERENCE.fullmatch(reference):
        raise UnsafeMessageError("reference")
    if not _SAFE_LINK.fullmatch(link):
        raise UnsafeMessageError("link")
    if not is_safe_base_url(base_url):
        raise UnsafeMessageError("base_url")
    base = base_url.rstrip("/")
    headline, sentence = EVENT_WORDING.get(event, GENERIC_WORDING)
    url = base + link
    return Message(
        event=event,
        reference=reference,
        link=url,
        headline=headline,
        subject=f"ThinkFamily: {headline} ({reference})",
        body=BODY.format(sentence=sentence, reference=reference, link=url),
    )
