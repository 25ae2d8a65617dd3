"""A stand-in for notifications_python_client's NotificationsAPIClient."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class NotifyCall:
    """One send_email_notification call."""

    email_address: str
    template_id: str
    personalisation: dict[str, Any]
    response_id: str


@dataclass
class FakeNotify:
    """Records the clients built and every email they were asked to send."""

    api_keys: list[str] = field(default_factory=list)
    calls: list[NotifyCall] = field(default_factory=list)
    failing_addresses: set[str] = field(default_factory=set)

    def client_class(self) -> type[Any]:
        """Return a class to patch in place of NotificationsAPIClient."""
        recorder = self

        class FakeNotificationsAPIClient:
            def __init__(self, api_key: str, **_kwargs: Any) -> None:
                recorder.api_keys.append(api_key)

            def send_email_notification(
                self,
                email_address: str,
                template_id: str,
                personalisation: dict[str, Any] | None = None,
                **_kwargs: Any,
            ) -> dict[str, Any]:
                if email_address in recorder.failing_addresses:
                    raise ConnectionError("Notify is unavailable")
                response_id = str(uuid.uuid4())
                recorder.calls.append(
                    NotifyCall(email_address, template_id, dict(personalisation or {}), response_id)
                )
                return {"id": response_id, "reference": None, "content": {}}

        return FakeNotificationsAPIClient
