"""Throw-away MariaDB and PostgreSQL databases holding the old rows (skip when none answers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests import services_found
from tests.importer import old_rows

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432


@contextmanager
def mariadb_old_db() -> Iterator[str]:
    """The old rows in a new MariaDB database, dropped afterwards; yields its mysql:// URL."""
    host, port = services_found.MARIADB_HOST, services_found.MARIADB_PORT
    if not services_found._answers(host, port):
        pytest.skip(f"no MariaDB at {host}:{port}")
    name = f"wt_import_old_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(f"mysql+pymysql://root@{host}:{port}/")
    with server.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    url = f"mysql://root@{host}:{port}/{name}"
    try:
        old_rows.create(url.replace("mysql://", "mysql+pymysql://")).dispose()
        yield url
    finally:
        with server.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        server.dispose()


@contextmanager
def postgres_old_db() -> Iterator[str]:
    """The old rows in a new PostgreSQL database, dropped afterwards; yields its
    postgresql:// URL. Its default time zone is not UTC, as on many servers: the import
    must not care."""
    host, port = POSTGRES_HOST, POSTGRES_PORT
    if not services_found._answers(host, port):
        pytest.skip(f"no PostgreSQL at {host}:{port}")
    name = f"wt_import_old_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(
        f"postgresql+psycopg2://postgres@{host}:{port}/postgres", isolation_level="AUTOCOMMIT"
    )
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0")
        conn.exec_driver_sql(f"ALTER DATABASE {name} SET timezone TO 'America/Sao_Paulo'")
    url = f"postgresql://postgres@{host}:{port}/{name}"
    try:
        # The rows' naive times are UTC, as Sequelize writes them: build in a UTC session.
        old_rows.create(
            url.replace("postgresql://", "postgresql+psycopg2://"),
            connect_args={"options": "-c timezone=UTC"},
        ).dispose()
        yield url
    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.dispose()
