"""Model mixins, a UTC datetime type, and commit()/rollback() that run deferred side effects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from whaticket.extensions import db

_AFTER_COMMIT = "whaticket_after_commit"
_COMMIT_SCOPE = "whaticket_commit_scope"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC.

    Tests that script a conversation over hours set `FROZEN_NOW` in the app config (a
    datetime, or a callable returning one) instead of sleeping on the wall clock.
    """
    if has_app_context():
        frozen = current_app.config.get("FROZEN_NOW")
        if frozen is not None:
            return frozen() if callable(frozen) else frozen
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Stores naive UTC (microseconds on MySQL/MariaDB), returns aware UTC datetimes."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        """Ask MySQL/MariaDB for microsecond precision, which DATETIME lacks by default."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Convert aware datetimes to naive UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Mark stored values as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class TimestampMixin:
    """created_at / updated_at on every table."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class CompanyScopedMixin:
    """A tenant-owned row: company_id foreign key, indexed, cascading with the company."""

    @declared_attr
    def company_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(
            sa.ForeignKey("companies.id", ondelete="CASCADE"), nullable=False, index=True
        )

    @declared_attr
    def company(cls) -> Mapped[Any]:  # noqa: N805
        """The owning company (models may redeclare it, e.g. with back_populates)."""
        return relationship("Company", lazy="select")


@contextmanager
def savepoint() -> Iterator[Any]:
    """A SAVEPOINT inside the current transaction, e.g. to survive a duplicate-key insert.

    pysqlite (legacy transaction mode) issues no BEGIN before SAVEPOINT, so the savepoint
    would open the transaction itself and its RELEASE would commit everything, leaving the
    request unable to roll back. Open the real transaction first there.
    """
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN")
    with db.session.begin_nested() as nested:
        yield nested


def after_commit(callback: Callable[[], Any]) -> None:
    """Run `callback` after the current transaction commits; drop it on rollback."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def commit_scope() -> dict[str, Any]:
    """Scratch space the side effects of the current transaction share (e.g. rows they
    read in one query); forgotten when the transaction commits or rolls back."""
    return db.session.info.setdefault(_COMMIT_SCOPE, {})


def _prepare_side_effects() -> None:
    """Let side effects read the state the transaction leaves, before the commit.

    A callback with a `prepare` attribute (an emit whose payload is the record as it ends
    up, not as it was when the emit was registered) has it called here, in order. The
    session is flushed first so a failing write raises its own error, not a payload's.
    """
    callbacks = db.session.info.get(_AFTER_COMMIT)
    if callbacks and any(hasattr(cb, "prepare") for cb in callbacks):
        db.session.flush()
        for callback in list(callbacks):
            prepare = getattr(callback, "prepare", None)
            if prepare is not None:
                prepare()
    db.session.info.pop(_COMMIT_SCOPE, None)


def commit() -> None:
    """Commit the session, then run (and clear) the side effects registered during it."""
    _prepare_side_effects()
    db.session.commit()
    callbacks = db.session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a failed emit or enqueue must not undo a committed request
            current_app.logger.exception("after-commit callback failed")


def rollback() -> None:
    """Roll back the session and forget its deferred side effects."""
    db.session.info.pop(_AFTER_COMMIT, None)
    db.session.info.pop(_COMMIT_SCOPE, None)
    db.session.rollback()


def drop_side_effects_after(mark: int) -> None:
    """Forget the side effects registered since `mark` (a SAVEPOINT was rolled back)."""
    callbacks = db.session.info.get(_AFTER_COMMIT)
    if callbacks is not None:
        del callbacks[mark:]


def pending_side_effects() -> int:
    """How many side effects wait for the current transaction (for tests and debugging)."""
    return len(db.session.info.get(_AFTER_COMMIT, []))
