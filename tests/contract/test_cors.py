"""Every screen: CORS preflights answered on any path, Vary: Origin on every answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from whaticket import create_app
from whaticket.config import TestingConfig

EVIL = "http://evil.example"


def _origin(app: Flask) -> str:
    """The first FRONTEND_URL origin (where the SPA runs)."""
    return app.config["FRONTEND_URL"].split(",")[0].strip().rstrip("/")


def _preflight(client, path: str, origin: str, method: str = "POST"):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def _vary(resp) -> list[str]:
    """The Vary values, lower-cased, in order (all Vary headers merged)."""
    return [v.strip().lower() for h in resp.headers.getlist("Vary") for v in h.split(",")]


@pytest.mark.parametrize(
    "path",
    ["/no-such-route", "/tickets/not-a-number/nothing", "/queueIntegration/testSession"],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "GET"])
def test_preflight_on_any_path_is_answered(app, client, prefix, path, method):
    """src/services/api.js sends credentialed JSON from FRONTEND_URL: a non-2xx preflight
    makes the browser report a network error instead of the backend's JSON."""
    origin = _origin(app)
    resp = _preflight(client, prefix + path, origin, method)

    assert 200 <= resp.status_code < 300
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert resp.headers["Access-Control-Allow-Credentials"] == "true"
    assert method in resp.headers["Access-Control-Allow-Methods"]
    allowed = resp.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "origin" in _vary(resp)


def test_the_request_after_the_preflight_gets_the_json_error(app, client, prefix):
    """src/errors/toastError.js shows `err.response.data.error`, which the browser only
    exposes when the answer carries the allow-origin header."""
    origin = _origin(app)
    assert _preflight(client, f"{prefix}/no-such-route", origin).status_code == 200

    resp = client.post(f"{prefix}/no-such-route", json={}, headers={"Origin": origin})
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_NOT_FOUND"}
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert "origin" in _vary(resp)


def test_preflight_on_a_real_route_still_works(app, client, prefix):
    """src/pages/Login/index.js posts /auth/login from FRONTEND_URL."""
    origin = _origin(app)
    resp = _preflight(client, f"{prefix}/auth/login", origin)

    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == origin
    assert resp.get_data() == b""


@pytest.mark.parametrize("path", ["/no-such-route", "/auth/login"])
def test_a_disallowed_origin_gets_no_allow_origin(client, prefix, path):
    """src/services/api.js: only FRONTEND_URL may read answers with credentials."""
    resp = _preflight(client, prefix + path, EVIL)

    assert "Access-Control-Allow-Origin" not in resp.headers
    assert "Access-Control-Allow-Credentials" not in resp.headers
    assert "origin" in _vary(resp)
    real = client.post(f"{prefix}/auth/login", json={}, headers={"Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in real.headers
    assert "origin" in _vary(real)


def test_every_answer_varies_on_origin(app, client, prefix):
    """src/services/api.js: a cache must not hand one origin's answer to another."""
    plain = client.get(f"{prefix}/version")
    with_origin = client.get(f"{prefix}/version", headers={"Origin": _origin(app)})

    assert _vary(plain).count("origin") == 1
    assert _vary(with_origin).count("origin") == 1
    assert with_origin.headers["Access-Control-Allow-Origin"] == _origin(app)


class _TwoOriginsConfig(TestingConfig):
    FRONTEND_URL = "http://app.example:3000/, https://help.example.com"


@pytest.fixture
def two_origins() -> Iterator[Flask]:
    """An app whose FRONTEND_URL lists two origins (one with a trailing slash)."""
    app = create_app(_TwoOriginsConfig)
    with app.app_context():
        yield app


@pytest.mark.parametrize("origin", ["http://app.example:3000", "https://help.example.com"])
def test_each_listed_origin_is_echoed_once(two_origins, origin):
    """src/services/api.js runs on any of the FRONTEND_URL origins."""
    client = two_origins.test_client()
    prefix = two_origins.config["API_PREFIX"]
    resp = _preflight(client, f"{prefix}/no-such-route", origin)

    assert resp.status_code == 200
    assert resp.headers.getlist("Access-Control-Allow-Origin") == [origin]
    # flask-cors adds its own Vary for several origins: still one "Origin".
    assert _vary(resp).count("origin") == 1
    assert "Access-Control-Allow-Origin" not in _preflight(client, "/x", EVIL).headers
