"""Audit event rows: append-only, record ids only, never personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, UTCDateTime

READ_ACTIONS = (
    "family.viewed",
    "person.special_category_viewed",
    "person.viewed",
    "process.records_viewed",
)
"""Events that record a read, not a change. There are many more of them than of changes."""

NOT_A_READ = text(
    "action NOT IN ('family.viewed', 'person.special_category_viewed', 'person.viewed', "
    "'process.records_viewed')"
)
"""The condition of the changes-only indexes; a query must say it in these words to use them."""


class AuditEvent(Base):
    """Something that happened: who, what, to which record, when."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # a record's changes by action, its reads left out: a family timeline seeks the
        # family's few changes, however often the family and its members have been viewed.
        # (No index covers reads: one that did would tempt a planner to read them all.)
        Index(
            "ix_audit_events_changes",
            "subject_type",
            "subject_id",
            "action",
            sqlite_where=NOT_A_READ,
            postgresql_where=NOT_A_READ,
        ),
        # most events belong to no case; leaving them out keeps a case's events one seek away
        # (and the planner's figures for this index true)
        Index(
            "ix_audit_events_instance_id",
            "instance_id",
            sqlite_where=text("instance_id IS NOT NULL"),
            postgresql_where=text("instance_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
