"""Families (households), people, relationships, ethnicity, disability, consent and sharing."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base, UTCDateTime
from domain.families import codes
from domain.processes.models import ProcessInstance


class Family(Base):
    """A household: the unit a Think Family view is built around."""

    __tablename__ = "families"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The reference and name as `names.search_key` folds them, for search."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    memberships: Mapped[list[FamilyMembership]] = relationship(
        back_populates="family", order_by="FamilyMembership.id"
    )


class Person(Base):
    """A child (born or unborn) or an adult, recorded once however many households they are in."""

    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint("sex IN ('F', 'M', 'U')", name="sex"),
        CheckConstraint(
            "date_of_birth IS NULL OR expected_date_of_birth IS NULL", name="one_birth_date"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Given and family name as `names.search_key` folds them, for search."""
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    expected_date_of_birth: Mapped[date | None] = mapped_column(Date)
    """Set for an unborn child instead of the date of birth."""
    sex: Mapped[str] = mapped_column(String(1))
    recorded_is_child: Mapped[bool | None] = mapped_column()
    """Child or adult as recorded; only used while the date of birth is unknown."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    memberships: Mapped[list[FamilyMembership]] = relationship(
        back_populates="person", order_by="FamilyMembership.id"
    )
    ethnicity_records: Mapped[list[EthnicityRecord]] = relationship(order_by="EthnicityRecord.id")
    """Oldest first; the last one is current."""
    disability_records: Mapped[list[DisabilityRecord]] = relationship(
        order_by="DisabilityRecord.id"
    )
    """Oldest first; the last one is current."""

    @property
    def is_unborn(self) -> bool:
        """Whether the person is an unborn child."""
        return self.date_of_birth is None and self.expected_date_of_birth is not None


class FamilyMembership(Base):
    """A person's membership of a household (a person may be in several)."""

    __tablename__ = "family_memberships"
    __table_args__ = (UniqueConstraint("family_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    left_on: Mapped[date | None] = mapped_column(Date)
    """The day the person left the household (None while they live there). They stay a member
    of the record: who recorded it, and when, is in the audit trail."""
    left_reason: Mapped[str | None] = mapped_column(String(200))

    family: Mapped[Family] = relationship(back_populates="memberships")
    person: Mapped[Person] = relationship(back_populates="memberships", lazy="joined")


class PersonRelationship(Base):
    """`person` is <kind> of `related_person` (e.g. parent of); the inverse is derived."""

    __tablename__ = "person_relationships"
    __table_args__ = (
        UniqueConstraint("person_id", "related_person_id"),
        CheckConstraint("person_id <> related_person_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    related_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    parental_responsibility: Mapped[bool] = mapped_column(default=False)
    """`person` holds parental responsibility for `related_person` (caring kinds only)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EthnicityRecord(Base):
    """One answer about a person's ethnicity. History is kept; the newest row is current."""

    __tablename__ = "ethnicity_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    code: Mapped[str] = mapped_column(String(4))
    """DfE main code (one of the 20, REFU and NOBT included)."""
    extended_code: Mapped[str | None] = mapped_column(String(4))
    ons2021: Mapped[str | None] = mapped_column(String(40))
    self_description: Mapped[str | None] = mapped_column(String(200))
    """The person's (or parent's) own words."""
    source: Mapped[str | None] = mapped_column(String(30))
    """self | parent_carer | practitioner_observed; None only for NOBT."""
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def status(self) -> str:
        """recorded, refused (closed outcome) or not_yet_obtained (open data-quality item)."""
        return codes.ethnicity_status(self.code)

    @property
    def observed(self) -> bool:
        """Whether a practitioner observed this rather than the person or a parent saying it."""
        return self.source == codes.PRACTITIONER_OBSERVED


class DisabilityRecord(Base):
    """A person's DfE disability codes as recorded at one time; the newest row is current."""

    __tablename__ = "disability_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    codes: Mapped[list[str]] = mapped_column(JSON)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsentRecord(Base):
    """Consent given, refused or not sought (with a reason) for one scope, for a family."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    scope: Mapped[str] = mapped_column(String(10))
    """share | refer | taf"""
    status: Mapped[str] = mapped_column(String(20))
    """given | refused | not_sought"""
    given_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    competent_child: Mapped[bool] = mapped_column(default=False)
    """The person who answered is a child judged competent to decide."""
    obtained_on: Mapped[date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(20))
    not_sought_reason: Mapped[str | None] = mapped_column(String(500))
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InformationSharingDecision(Base):
    """A decision to share or not to share, with what, with whom, why and on what basis."""

    __tablename__ = "information_sharing_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    shared: Mapped[bool] = mapped_column()
    information: Mapped[str | None] = mapped_column(Text)
    """What was (or would have been) shared."""
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Agency codes shared with."""
    purpose: Mapped[str] = mapped_column(Text)
    """Why: the reasons, recorded either way."""
    lawful_basis: Mapped[str | None] = mapped_column(String(300))
    consent_status: Mapped[str] = mapped_column(String(30))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_records.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


# process_instances.family_id points at a household. The processes area declares it as a plain
# column; the families area adds the constraint so the metadata matches 0002_families.
cast(Table, ProcessInstance.__table__).append_constraint(
    ForeignKeyConstraint(["family_id"], ["families.id"])
)
