"""A MariaDB deadlock rolls back the drain's whole transaction, not just the delivery's
savepoint: the drain must recognise it (and apply its batch again), and nothing else."""

from __future__ import annotations

import pymysql
import sqlalchemy as sa

from whaticket.jobs.inbound import transaction_lost


def _wrapped(code: int, text: str) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE x", {}, pymysql.err.OperationalError(code, text))


def test_a_deadlock_and_a_vanished_savepoint_lose_the_transaction() -> None:
    assert transaction_lost(_wrapped(1213, "Deadlock found when trying to get lock"))
    assert transaction_lost(_wrapped(1305, "SAVEPOINT sa_savepoint_3 does not exist"))


def test_other_errors_leave_the_transaction_to_the_savepoint() -> None:
    assert not transaction_lost(_wrapped(1205, "Lock wait timeout exceeded"))
    assert not transaction_lost(_wrapped(1062, "Duplicate entry"))
    assert not transaction_lost(ValueError("bad payload"))


class _PgError(Exception):
    """What psycopg2 raises: the SQLSTATE in `pgcode`."""

    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


def test_a_postgresql_deadlock_or_serialization_failure_is_applied_again() -> None:
    assert transaction_lost(sa.exc.OperationalError("UPDATE x", {}, _PgError("40P01")))
    assert transaction_lost(sa.exc.OperationalError("UPDATE x", {}, _PgError("40001")))
    assert not transaction_lost(sa.exc.IntegrityError("INSERT x", {}, _PgError("23505")))
