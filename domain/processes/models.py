"""Process definitions, versions, instances, task rows, timers and the notification outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base, UTCDateTime


class ProcessDefinition(Base):
    """A process key (e.g. `referral`) and its versions."""

    __tablename__ = "process_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    versions: Mapped[list[ProcessVersion]] = relationship(
        back_populates="definition", order_by="ProcessVersion.number"
    )


class ProcessVersion(Base):
    """An immutable deployed version: the parsed spec is stored here once, never per instance."""

    __tablename__ = "process_versions"
    __table_args__ = (
        UniqueConstraint("definition_id", "number"),
        UniqueConstraint("definition_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    # the immutable content, loaded together when first used (running cases read it from the
    # compiled-version cache, so inboxes and task completions never parse it)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True, deferred_group="content")
    bpmn: Mapped[dict[str, str]] = mapped_column(JSON, deferred=True, deferred_group="content")
    forms: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True, deferred_group="content")
    tasks: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True, deferred_group="content")
    element_names: Mapped[dict[str, str]] = mapped_column(
        JSON, deferred=True, deferred_group="content"
    )
    start_form: Mapped[str | None] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, deferred=True, deferred_group="content"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    definition: Mapped[ProcessDefinition] = relationship(back_populates="versions", lazy="joined")


class ProcessParameter(Base):
    """A process owner's value for a `param("name", default)` a diagram reads."""

    __tablename__ = "process_parameters"
    __table_args__ = (UniqueConstraint("process_key", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(80))
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ProcessInstance(Base):
    """One running or finished case process. `state` is the engine state without the spec."""

    __tablename__ = "process_instances"
    __table_args__ = (
        Index("ix_process_instances_due", "status", "next_timer_due_at"),
        Index("ix_process_instances_family", "family_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    process_key: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    state: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    current_stage: Mapped[str | None] = mapped_column(String(200))
    family_id: Mapped[int | None] = mapped_column(Integer)
    subject_person_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    parent_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instances.id"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(500))
    next_timer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Selected workflow variables (stage, decision, outcome...) for lists and dashboards."""
    start_data: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    """The answers the case was started with, as submitted (read on the case and task pages)."""
    active_elements: Mapped[list[str]] = mapped_column(JSON, default=list)
    completed_elements: Mapped[list[str]] = mapped_column(JSON, default=list)

    version: Mapped[ProcessVersion] = relationship(lazy="select")

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """A projection of one user task, so inboxes never load workflow state."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_uuid"),
        Index("ix_human_tasks_inbox", "status", "lane", "agency_code"),
        # an instance's ready tasks, found without reading its completed history
        Index("ix_human_tasks_instance_status", "instance_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    task_uuid: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(80))
    form_key: Mapped[str | None] = mapped_column(String(200))
    agency_code: Mapped[str | None] = mapped_column(String(40))
    assignee: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="ready")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The submitted form data (kept with the task for the record)."""

    instance: Mapped[ProcessInstance] = relationship(lazy="joined")


class TimerRow(Base):
    """A waiting timer of an instance, recomputed after every transaction on the instance."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    agency_code: Mapped[str | None] = mapped_column(String(40))
    """The agency of the task the timer is attached to (whose reply or action it chases)."""
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    """waiting | incident"""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))


class Notification(Base):
    """Outbox: a notification written in the same transaction, delivered after commit."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    reference: Mapped[str] = mapped_column(String(40))
    agency_code: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str | None] = mapped_column(String(40))
    username: Mapped[str | None] = mapped_column(String(80))
    recipient: Mapped[str | None] = mapped_column(String(254))
    link: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_id: Mapped[str | None] = mapped_column(String(100))
