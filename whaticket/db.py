"""Model mixins, a UTC datetime type, and commit()/rollback() that run deferred side effects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context
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
            # IMMEDIATE: take the write lock now. A deferred transaction that read before
            # its first write (an insert whose triggers keep the FTS5 search tables does)
            # cannot upgrade its lock while another writer commits: "database is locked".
            raw.execute("BEGIN IMMEDIATE")
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


def transaction_open() -> bool:
    """Whether the current session has a database transaction open (reads open one too)."""
    return db.session.registry.has() and db.session().in_transaction()


_LOCKS = "whaticket_row_locks"


@sa.event.listens_for(sa.orm.Session, "do_orm_execute")
def _note_locks(state: sa.orm.ORMExecuteState) -> None:
    """A SELECT ... FOR UPDATE holds row locks until the transaction ends."""
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        state.session.info[_LOCKS] = True


def holding_locks() -> bool:
    """Whether the open transaction holds row locks: it wrote, or it read FOR UPDATE.

    A network call or a sleep made while this is true keeps other writers waiting for as
    long as the provider takes. A transaction that has only read (an attribute reloaded
    after a commit autobegins one) locks nothing under InnoDB's consistent reads, so it
    is not counted.
    """
    if not transaction_open():
        return False
    return uncommitted_writes() or bool(db.session().info.get(_LOCKS))


# -- a view cannot forget to commit -------------------------------------------------------

_UNCOMMITTED = "whaticket_uncommitted_writes"


@sa.event.listens_for(sa.orm.Session, "after_flush")
def _note_writes(session: sa.orm.Session, _context: Any) -> None:
    """Rows were written in this transaction (and not committed yet)."""
    session.info[_UNCOMMITTED] = True


@sa.event.listens_for(sa.orm.Session, "after_commit")
@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget_writes(session: sa.orm.Session) -> None:
    session.info.pop(_UNCOMMITTED, None)
    session.info.pop(_LOCKS, None)


def uncommitted_writes() -> bool:
    """Whether the current session flushed writes that were neither committed nor rolled back."""
    if not db.session.registry.has():
        return False
    session = db.session()
    return bool(session.info.get(_UNCOMMITTED)) or bool(
        session.new or session.dirty or session.deleted
    )


def note_request_start() -> None:
    """Before every request: whether writes were already pending (not the view's)."""
    g.uncommitted_before = uncommitted_writes()


def check_request_committed(response: Any) -> Any:
    """After every request: writes the view neither committed nor rolled back are a bug.

    Views commit once (services never do); one that forgets would lose its writes
    silently when the session is removed. Tests fail on it (UNCOMMITTED_WRITES="raise");
    elsewhere it is logged and rolled back.
    """
    if g.get("uncommitted_before") or not uncommitted_writes():
        return response  # clean, or not this request's doing (a test's own session)
    what = "a request left writes uncommitted"
    if current_app.config.get("UNCOMMITTED_WRITES") == "raise":
        rollback()
        raise AssertionError(what)
    current_app.logger.error("%s: rolled back", what)
    rollback()
    return response
