"""Socket.IO origin check: FRONTEND_URL and the server's own origin connect, others do not."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_jwt_extended import create_access_token

from whaticket import create_app
from whaticket.config import TestingConfig

SOCKET = "/socket.io/?EIO=4&transport=polling"
REFUSED = b'"Not an accepted origin."'


def _handshake(client, origin: str, base_url: str = "http://localhost", token: str = "", **headers):
    query = f"&token={token}" if token else ""
    return client.get(SOCKET + query, headers={"Origin": origin, **headers}, base_url=base_url)


def _connect(client, origin: str, token: str, base_url: str = "http://localhost") -> list[str]:
    """Open the default namespace over polling as socket.io-client does; the packets got."""
    hello = _handshake(client, origin, base_url, token)
    assert hello.status_code == 200, hello.get_data()
    assert hello.headers["Access-Control-Allow-Origin"] == origin
    sid = json.loads(hello.get_data(as_text=True)[1:])["sid"]
    url = f"{SOCKET}&sid={sid}"
    headers = {"Origin": origin}
    assert client.post(url, data="40", headers=headers, base_url=base_url).status_code == 200
    packets = client.get(url, headers=headers, base_url=base_url).get_data(as_text=True)
    client.post(url, data="1", headers=headers, base_url=base_url)  # engine.io close
    return packets.split("\x1e")


@pytest.mark.parametrize("base_url", ["http://localhost", "http://127.0.0.1:9000"])
def test_the_servers_own_origin_connects(client, admin, base_url):
    """src/context/Socket/SocketContext.js opens io(REACT_APP_BACKEND_URL) from a page served
    by the backend's own origin, not listed in FRONTEND_URL: it connects and gets "ready"."""
    packets = _connect(client, base_url, create_access_token(identity=admin), base_url)
    assert '42["ready"]' in packets


def test_a_frontend_url_origin_connects(app, client, admin):
    """src/context/Socket/SocketContext.js on the FRONTEND_URL origin."""
    origin = app.config["FRONTEND_URL"].split(",")[0].strip().rstrip("/")
    packets = _connect(client, origin, create_access_token(identity=admin))
    assert '42["ready"]' in packets


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://localhost",  # same host, other scheme
        "http://localhost:9000",  # same host, other port
        "http://localhost.evil.example",
        "null",
    ],
)
@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_other_origins_stay_refused(client, origin, transport):
    """src/context/Socket/SocketContext.js: a page elsewhere cannot open a socket."""
    resp = client.get(
        f"/socket.io/?EIO=4&transport={transport}",
        headers={"Origin": origin},
        base_url="http://localhost",
    )
    assert resp.status_code == 400
    assert resp.get_data() == REFUSED
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_forwarded_host_is_not_trusted_without_trusted_proxies(client):
    """src/context/Socket/SocketContext.js: a client cannot make its origin "the same" by
    sending X-Forwarded-Host when no proxy is trusted."""
    resp = _handshake(
        client,
        "https://evil.example",
        **{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    )
    assert resp.status_code == 400 and resp.get_data() == REFUSED


class _ProxiedConfig(TestingConfig):
    TRUSTED_PROXIES = 1


@pytest.fixture
def proxied_client(tmp_path) -> Iterator:
    """A client of an app behind one trusted reverse proxy (no database needed here)."""
    app: Flask = create_app(_ProxiedConfig)
    with app.app_context():
        yield app.test_client()


def test_behind_a_trusted_proxy_the_public_origin_connects(proxied_client):
    """src/context/Socket/SocketContext.js behind nginx: the page's origin is the public
    scheme and host the proxy forwarded; the proxy's own client-sent values are not."""
    forwarded = {"X-Forwarded-Host": "help.example.com", "X-Forwarded-Proto": "https"}
    ok = _handshake(
        proxied_client, "https://help.example.com", "http://127.0.0.1:8080", **forwarded
    )
    assert ok.status_code == 200, ok.get_data()
    assert ok.headers["Access-Control-Allow-Origin"] == "https://help.example.com"

    # A client-sent X-Forwarded-Host comes first; the one trusted proxy appends the real one.
    spoofed = {"X-Forwarded-Host": "evil.example, help.example.com", "X-Forwarded-Proto": "https"}
    refused = _handshake(proxied_client, "https://evil.example", "http://127.0.0.1:8080", **spoofed)
    assert refused.status_code == 400 and refused.get_data() == REFUSED
    # The internal address the proxy talks to is not the page's origin any more.
    internal = _handshake(
        proxied_client, "http://127.0.0.1:8080", "http://127.0.0.1:8080", **forwarded
    )
    assert internal.status_code == 400
