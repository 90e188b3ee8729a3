"""Fixtures: app (TEST_DATABASE_URL or in-memory SQLite), client, auth headers, sockets."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token

from tests import factories, services_found
from tests.stubs import base as stub_base
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db, socketio
from whaticket.models import User
from whaticket.services.team import settings as settings_service


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers this suite uses."""
    config.addinivalue_line(
        "markers",
        "real_db: the test commits for real (threads, worker processes, a second app): its "
        "rows are deleted afterwards instead of rolled back",
    )
    config.addinivalue_line(
        "markers", "own_app: the test changes the app itself (routes, hooks): it gets a new one"
    )
    config.addinivalue_line(
        "markers",
        "shared_db: threads or worker processes share the database: on a SQLite run the "
        "test gets its own app on a throw-away MariaDB database (skipped when none answers)",
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which real services this run uses, and why a family of tests will skip."""
    return [
        f"database: {TestingConfig.SQLALCHEMY_DATABASE_URI}",
        f"redis: {services_found.FOUND.get('redis')}",
        f"shared database: {services_found.FOUND.get('shared_db')}",
    ]


@pytest.fixture(scope="session")
def _shared_database_url() -> Iterator[str | None]:
    """The URL `shared_db` tests of a SQLite run use; its database made once, then dropped."""
    url = services_found.FOUND.get("shared_db_url")
    name = services_found.FOUND.get("shared_db_create")
    if url is None or name is None:
        yield url
        return
    # The app maps mysql:// to PyMySQL itself; this engine is built here, so say it.
    server = sa.create_engine(url.rsplit("/", 1)[0].replace("mysql://", "mysql+pymysql://") + "/")
    with server.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield url
    finally:
        with server.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        server.dispose()


@pytest.fixture(scope="session")
def _session_app() -> Iterator[Flask]:
    """One app and one schema for the whole run: building them per test was most of its time."""
    app = create_app(TestingConfig)
    # The Socket.IO extension object is global and every create_app re-initialises it:
    # keep this app's server to put it back for each test (see _shared_app).
    app.extensions["whaticket_test_socketio"] = _socketio_state()
    with app.app_context():
        _empty_schema()
    yield app
    with app.app_context():
        _delete_rows()
        db.engine.dispose()


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path) -> Iterator[Flask]:
    """The app of the test: the shared one, or its own with the `own_app` marker."""
    if request.node.get_closest_marker("shared_db") and _is_sqlite():
        url = request.getfixturevalue("_shared_database_url")
        if url is None:
            pytest.skip(f"needs a shared database: {services_found.FOUND.get('shared_db')}")
        yield from _own_app(tmp_path, url)
    elif request.node.get_closest_marker("own_app"):
        yield from _own_app(tmp_path)
    else:
        yield from _shared_app(request.getfixturevalue("_session_app"), tmp_path, request)


def _is_sqlite() -> bool:
    return TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("sqlite")


def _own_app(tmp_path, database_url: str | None = None) -> Iterator[Flask]:
    """A fresh app (for a test that adds routes or hooks), with real commits; on
    `database_url` when given (a shared_db test of a SQLite run)."""
    config = TestingConfig
    if database_url is not None:
        config = type("SharedDatabaseConfig", (TestingConfig,), {})
        config.SQLALCHEMY_DATABASE_URI = database_url
    app = create_app(config)
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    app.config["RATELIMIT_NAMESPACE"] = uuid.uuid4().hex
    app.config["OUTBOUND_ALLOWED_HOSTS"] = stub_base.TRUSTED
    with app.app_context():
        _empty_schema()
        try:
            yield app
        finally:
            db.session.remove()
            _delete_rows()
            db.engine.dispose()


def _shared_app(_session_app: Flask, tmp_path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The app, its config as a test may change it, and a database that forgets the test.

    Each test runs inside one outer transaction that is rolled back at the end; the code's
    own commits become savepoints inside it. Tests marked `real_db` commit for real and
    have their rows deleted instead. Config changes are undone after the test.
    """
    app = _session_app
    saved = app.config.copy()
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    # Rate-limit counters (and the fake's outbox) may live in a shared Redis: per test.
    app.config["RATELIMIT_NAMESPACE"] = uuid.uuid4().hex
    # The stub servers of tests/stubs are the only internal hosts tenants' URLs may reach.
    app.config["OUTBOUND_ALLOWED_HOSTS"] = stub_base.TRUSTED
    # A fresh job backend: inline jobs scheduled by one test never run in the next.
    app.extensions.pop("whaticket_jobs", None)
    # Another app built since (a live server, an own_app test) took the global Socket.IO.
    _restore_socketio(app.extensions["whaticket_test_socketio"])
    try:
        with app.app_context():
            if request.node.get_closest_marker("real_db"):
                try:
                    yield app
                finally:
                    db.session.remove()
                    _delete_rows()
            else:
                with _rolled_back():
                    yield app
    finally:
        app.config.clear()
        app.config.update(saved)
        app.extensions.pop("whaticket_jobs", None)


_SOCKETIO_ATTRS = ("server", "server_options", "async_mode", "sockio_mw", "manage_session")


def _socketio_state() -> dict[str, Any]:
    """What init_app sets on the global Socket.IO extension object."""
    state = {name: getattr(socketio, name, None) for name in _SOCKETIO_ATTRS}
    state["async_handlers"] = getattr(socketio.server, "async_handlers", True)
    return state


def _restore_socketio(state: dict[str, Any]) -> None:
    """Put back a state taken by `_socketio_state`, and the server's own packet senders.

    Flask-SocketIO's test client patches the server it tests (packets go to the test
    clients, handlers run inline); a later test over real polling needs them back.
    """
    for name in _SOCKETIO_ATTRS:
        setattr(socketio, name, state[name])
    server = state["server"]
    if server is not None:
        for patched in ("_send_packet", "_send_eio_packet"):
            server.__dict__.pop(patched, None)
        server.async_handlers = state["async_handlers"]


@contextmanager
def _rolled_back() -> Iterator[None]:
    """Route the session through one connection whose transaction is rolled back at the end.

    The session joins that transaction with savepoints (`join_transaction_mode`), so a
    commit in the code under test releases a savepoint and a rollback returns to it: the
    code behaves as with a real database, and the next test starts from empty tables.
    """
    engines = db.engines
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    if connection.dialect.name == "sqlite":
        # pysqlite opens its transaction lazily, and a SAVEPOINT outside one would commit
        # on RELEASE: open it now (see whaticket.db.savepoint).
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN")
    factory_kw = db.session.session_factory.kw
    db.session.remove()
    factory_kw["join_transaction_mode"] = "create_savepoint"
    engines[None] = connection  # type: ignore[index] - Flask-SQLAlchemy's plain dict
    try:
        yield
    finally:
        db.session.remove()
        engines[None] = engine  # type: ignore[index]
        factory_kw.pop("join_transaction_mode", None)
        outer.rollback()
        connection.close()


def _empty_schema() -> None:
    """Tables present and empty. Creating them once per database and deleting rows
    afterwards keeps MariaDB fast (DDL there costs far more than a DELETE)."""
    if sa.inspect(db.engine).has_table("users"):
        _delete_rows()
    else:
        db.drop_all()
        db.create_all()


def _delete_rows() -> None:
    """Empty every table, children first."""
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """The Flask test client."""
    return app.test_client()


@pytest.fixture
def prefix(app: Flask) -> str:
    """API_PREFIX, to build URLs."""
    return app.config["API_PREFIX"]


@pytest.fixture
def auth() -> Callable[[User], dict[str, str]]:
    """auth(user) -> Authorization headers with a fresh access token."""

    def _headers(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_access_token(identity=user)}"}

    return _headers


@pytest.fixture
def company(app: Flask):
    """A company with its default settings."""
    company = factories.CompanyFactory()
    settings_service.create_defaults(company.id)
    db.session.commit()
    return company


@pytest.fixture
def admin(company) -> User:
    """An admin of `company`."""
    return factories.AdminFactory(company=company)


@pytest.fixture
def agent(company) -> User:
    """A non-admin user of `company`."""
    return factories.UserFactory(company=company)


@pytest.fixture
def superuser(company) -> User:
    """A super admin (belongs to `company`)."""
    return factories.AdminFactory(company=company, super=True)


@pytest.fixture
def other_company(app: Flask):
    """A second tenant, with its default settings."""
    company = factories.CompanyFactory()
    settings_service.create_defaults(company.id)
    db.session.commit()
    return company


@pytest.fixture
def other_admin(other_company) -> User:
    """An admin of the second tenant."""
    return factories.AdminFactory(company=other_company)


@pytest.fixture
def socket_client(app: Flask, client: FlaskClient):
    """socket_client(user or token=None) -> a connected (or refused) Socket.IO test client."""
    made: list[Any] = []

    def _connect(user: User | None = None, token: str | None = None, via: str = "query"):
        if token is None and user is not None:
            token = create_access_token(identity=user)
        kwargs: dict[str, Any] = {"flask_test_client": client}
        if token is not None and via == "query":
            kwargs["query_string"] = f"token={token}"
        elif token is not None:
            kwargs["auth"] = {"token": token}
        sock = socketio.test_client(app, **kwargs)
        made.append(sock)
        return sock

    yield _connect
    for sock in made:
        if sock.is_connected():
            sock.disconnect()
