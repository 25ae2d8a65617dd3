"""User and token records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.agencies.models import Agency
from domain.db import Base, UTCDateTime


class User(Base):
    """A person who signs in: belongs to one agency, has one or more roles."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles_csv: Mapped[str] = mapped_column("roles", String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(lazy="joined")

    @property
    def roles(self) -> frozenset[str]:
        """The user's roles."""
        return frozenset(r for r in self.roles_csv.split(",") if r)


class ApiToken(Base):
    """A bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class SignInFailures(Base):
    """Consecutive failed sign-ins with one username, and how long further tries must wait.

    Keyed by a digest of the username as typed, so a password typed into the username box is
    never stored, and a username that belongs to nobody is treated exactly as one that does.
    """

    __tablename__ = "sign_in_failures"

    username_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
