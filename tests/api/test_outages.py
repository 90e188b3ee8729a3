"""The API through outages: 503 ERR_SERVICE_UNAVAILABLE with Retry-After while Redis or the
database is unreachable (never a 500), and the first request after they are back works.

Redis is a `redis-server` of the test's own (killed and restarted); the database is reached
through a TCP proxy the test cuts and restores (tests/outages.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories, outages
from tests.factories import PASSWORD
from tests.outages import TcpProxy, app_on_redis, default_port
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db
from whaticket.models import PendingJob

redis_process = outages.redis_process


def _unavailable(resp) -> bool:
    return (
        resp.status_code == 503
        and resp.get_json() == {"error": "ERR_SERVICE_UNAVAILABLE"}
        and int(resp.headers["Retry-After"]) > 0
    )


def test_login_answers_503_while_redis_is_down(app, client, prefix, admin, redis_process):
    with app_on_redis(app, redis_process.url):
        redis_process.kill()  # the login throttle counts in Redis
        login = {"email": admin.email, "password": PASSWORD}
        resp = client.post(f"{prefix}/auth/login", json=login)
        assert _unavailable(resp), (resp.status_code, resp.get_json())
        redis_process.start()
        assert client.post(f"{prefix}/auth/login", json=login).status_code == 200


def test_a_job_redis_refuses_after_the_commit_does_not_fail_the_request(
    app, client, prefix, auth, admin, company, redis_process
):
    with app_on_redis(app, redis_process.url):
        redis_process.kill()
        resp = client.put(
            f"{prefix}/companies/{company.id}/schedules",
            json={"timezone": "America/Manaus"},
            headers=auth(admin),
        )
        assert resp.status_code == 200, resp.get_json()
        # The rebuild the new time zone needs waits in the database for the sweep.
        stored = db.session.scalars(sa.select(PendingJob)).all()
        assert [(row.name, row.args_json) for row in stored] == [
            ("reports.rebuild_rollup", f"[{company.id}]")
        ]


@pytest.fixture
def proxied_app(app: Flask) -> Iterator[tuple[Flask, TcpProxy]]:
    """A second app on the test's database, reached through a proxy the test controls."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or default_port(url)).start()
    config = type("ProxiedConfig", (TestingConfig,), {})
    config.SQLALCHEMY_DATABASE_URI = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False
    )
    config.REDIS_URL = None  # this test is about the database
    other = create_app(config)
    other.config["RATELIMIT_NAMESPACE"] = uuid.uuid4().hex
    try:
        yield other, proxy
    finally:
        proxy.stop()
        with other.app_context():
            db.engine.dispose()


@pytest.mark.shared_db
@pytest.mark.real_db
def test_every_endpoint_answers_503_while_the_database_is_unreachable(
    proxied_app, prefix, company, auth
):
    other, proxy = proxied_app
    admin = factories.AdminFactory(company=company)
    db.session.commit()
    headers = auth(admin)
    login = {"email": admin.email, "password": PASSWORD}
    # No app context held around the requests: each gets its own, as when serving (one held
    # here would keep the session, and its connection, from one request to the next).
    client = other.test_client()
    assert client.get(f"{prefix}/users", headers=headers).status_code == 200
    # Gone and back while nobody asked: the pooled connection died meanwhile, and the first
    # request after the return must not be the one that finds out.
    proxy.stop()
    proxy.start()
    assert client.get(f"{prefix}/users", headers=headers).status_code == 200

    proxy.stop()
    for resp in (
        client.get(f"{prefix}/users", headers=headers),
        client.get(f"{prefix}/tickets", headers=headers),
        client.get(f"{prefix}/auth/me", headers=headers),
        client.post(f"{prefix}/auth/login", json=login),
    ):
        assert _unavailable(resp), (resp.status_code, resp.get_json())
    proxy.start()
    assert client.post(f"{prefix}/auth/login", json=login).status_code == 200
