"""One row per form or API request that changed something, keyed by the token it carried."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, UTCDateTime


class FormSubmission(Base):
    """A page form's one-time token and where its result is shown."""

    __tablename__ = "form_submissions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    """A token is one person's: another's form with the same token is theirs to record."""
    result_path: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    """A digest of what was sent, where a resend must send the same (the API's)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
