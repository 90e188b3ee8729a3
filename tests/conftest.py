"""Fixtures: app (TEST_DATABASE_URL or in-memory SQLite), client, auth headers, sockets."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token

from tests import factories
from tests.stubs import base as stub_base
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db, socketio
from whaticket.models import User
from whaticket.services import settings as settings_service


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    """A fresh app and empty schema per test (media files go to a temporary folder)."""
    app = create_app(TestingConfig)
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    # Rate-limit counters may live in a shared Redis: give each test its own.
    app.config["RATELIMIT_NAMESPACE"] = uuid.uuid4().hex
    # The stub servers of tests/stubs are the only internal hosts tenants' URLs may reach.
    app.config["OUTBOUND_ALLOWED_HOSTS"] = stub_base.TRUSTED
    with app.app_context():
        _empty_schema()
        yield app
        db.session.remove()
        _delete_rows()
        db.engine.dispose()


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
