"""Send composed messages by SMTP or GOV.UK Notify; choose one from the settings."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from notifications_python_client.notifications import NotificationsAPIClient

from domain.notifications.messages import EVENT_WORDING, Message

log = logging.getLogger(__name__)
SMTP_TIMEOUT_SECONDS = 30.0


class NotificationConfigError(ValueError):
    """The notification settings are missing or inconsistent."""


class SendError(Exception):
    """A message could not be handed to the provider (the text holds no personal data)."""


class Sender(Protocol):
    """Hand one message to one recipient; return the provider's id for it, if any."""

    @property
    def name(self) -> str:
        """The backend name used in logs and audit records."""
        ...

    def send(self, message: Message, recipient: str) -> str | None:
        """Send the message or raise; never retry internally."""
        ...


class NotifyClient(Protocol):
    """The part of notifications-python-client's NotificationsAPIClient used here."""

    def send_email_notification(
        self, email_address: str, template_id: str, personalisation: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one email from a template; return Notify's response (with its `id`)."""
        ...


class SmtpSender:
    """Send plain-text email through an SMTP server, with optional STARTTLS and login."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        from_address: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = SMTP_TIMEOUT_SECONDS,
    ) -> None:
        self.host, self.port, self.from_address = host, port, from_address
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout = timeout

    @property
    def name(self) -> str:
        """The backend name."""
        return "smtp"

    def send(self, message: Message, recipient: str) -> str:
        """Deliver over one SMTP session; return the Message-ID."""
        email = EmailMessage()
        message_id = make_msgid(domain=self.from_address.rpartition("@")[2] or "localhost")
        email["Subject"] = message.subject
        email["From"] = self.from_address
        email["To"] = recipient
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = message_id
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email, from_addr=self.from_address, to_addrs=[recipient])
        return message_id


class NotifySender:
    """Send through GOV.UK Notify with one email template per event."""

    def __init__(self, *, api_key: str, templates: Mapping[str, str]) -> None:
        factory: Callable[[str], NotifyClient] = NotificationsAPIClient  # looked up per build
        self._client = factory(api_key)
        self._templates = dict(templates)

    @property
    def name(self) -> str:
        """The backend name."""
        return "notify"

    def template_for(self, event: str) -> str:
        """Return the template id for an event (or the `default` template)."""
        template_id = self._templates.get(event) or self._templates.get("default")
        if not template_id:
            raise SendError(f"no Notify template for event {event}")
        return template_id

    def send(self, message: Message, recipient: str) -> str:
        """Ask Notify to send the event's template; return the Notify notification id."""
        response = self._client.send_email_notification(
            email_address=recipient,
            template_id=self.template_for(message.event),
            personalisation={
                "reference": message.reference,
                "link": message.link,
                "event": message.headline,
            },
        )
        try:
            return str(response["id"])
        except (KeyError, TypeError) as exc:
            raise SendError("Notify returned no notification id") from exc


def build_sender(settings: Mapping[str, Any]) -> Sender:
    """Return the sender NOTIFY_BACKEND names: `smtp` (the default) or `notify`.

    Raises:
        NotificationConfigError: the backend is unknown or Notify has no API key or templates.
    """
    backend = str(settings.get("NOTIFY_BACKEND") or "smtp").strip().lower()
    if backend == "smtp":
        return SmtpSender(
            host=str(settings.get("SMTP_HOST") or "127.0.0.1"),
            port=int(settings.get("SMTP_PORT") or 25),
            from_address=str(settings.get("SMTP_FROM") or "no-reply@thinkfamily.local"),
            starttls=bool(settings.get("SMTP_STARTTLS")),
            username=settings.get("SMTP_USERNAME") or None,
            password=settings.get("SMTP_PASSWORD") or None,
        )
    if backend == "notify":
        api_key = settings.get("NOTIFY_API_KEY")
        if not api_key:
            raise NotificationConfigError("NOTIFY_API_KEY is not set.")
        templates = _templates(settings.get("NOTIFY_TEMPLATES"))
        missing = sorted(set(EVENT_WORDING) - set(templates))
        if missing and "default" not in templates:
            log.warning("no Notify template for events: %s", ", ".join(missing))
        return NotifySender(api_key=str(api_key), templates=templates)
    raise NotificationConfigError(f"NOTIFY_BACKEND must be 'smtp' or 'notify', not {backend!r}.")


def _templates(raw: Any) -> dict[str, str]:
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw or "{}")
        except ValueError as exc:
            raise NotificationConfigError("NOTIFY_TEMPLATES is not valid JSON.") from exc
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise NotificationConfigError("NOTIFY_TEMPLATES must map event names to template ids.")
    return {str(event): str(template) for event, template in raw.items() if template}
