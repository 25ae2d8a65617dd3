"""Declarative base, column types and the unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, Dialect, MetaData, Table, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction
from sqlalchemy.types import TypeDecorator

MAX_ID = 2**31 - 1  # ids are INTEGER columns: 32-bit signed on PostgreSQL


def record_id(value: Any) -> int | None:
    """The id a caller's value names, or None when it cannot name a row (wrong type or range)."""
    if (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10
    ):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
        return value
    return None


NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every ORM model."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite returns naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Reject naive values; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values read back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@contextmanager
def unit_of_work(session: Session, *, keep_loaded: bool = False) -> Iterator[Session]:
    """Commit on success, roll back on any error: the one commit point.

    `keep_loaded` keeps the committed objects' values in memory, so a response built from
    what was just written reads nothing back.
    """
    try:
        yield session
        if keep_loaded:
            expire, session.expire_on_commit = session.expire_on_commit, False
            try:
                session.commit()
            finally:
                session.expire_on_commit = expire
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def first_writer_wins(conflict: Exception) -> Iterator[None]:
    """Answer a clash on a unique key with `conflict`, as if the check before it had seen it.

    A service checks that a code, day or name is free before it inserts; two requests at the
    same moment can both pass that check, and the database's unique index then refuses the
    later insert. Raised inside the unit of work, `conflict` rolls the whole transaction back
    like the sequential refusal would.
    """
    try:
        yield
    except IntegrityError as exc:
        raise conflict from exc


def table_of(model: type[Base]) -> Table:
    """The table a model maps, for batched Core statements on hot paths."""
    return cast(Table, model.__table__)


_READY_ROWS = "thinkfamily.ready_rows"


def projected_ready_rows(session: Session) -> dict[int, list[Any]]:
    """Ready task rows this session projected, by instance id (responses read them back).

    Forgotten on rollback, when the projection no longer matches the database.
    """
    rows: dict[int, list[Any]] = session.info.setdefault(_READY_ROWS, {})
    return rows


@event.listens_for(Session, "after_soft_rollback")
def _forget_projections(session: Session, _previous: SessionTransaction) -> None:
    session.info.pop(_READY_ROWS, None)
