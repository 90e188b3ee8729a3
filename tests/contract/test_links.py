"""Media and webhook links reach the server that gave them (`PORT=9000 make run`), unless
BACKEND_URL names the public address."""

from __future__ import annotations

import io
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_jwt_extended import create_access_token

from tests import factories
from whaticket import create_app
from whaticket.config import TestingConfig
from whaticket.extensions import db
from whaticket.services.billing import subscriptions
from whaticket.services.platform import media
from whaticket.services.team import settings as settings_service
from whaticket.utils import media_urls
from whaticket.utils.urls import server_url

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _media_message(company, name: str = "photo.png"):
    """A ticket with one image message whose file is stored."""
    stored = media.save(company.id, PNG, name, "image/png", subdir="messages")
    ticket = factories.TicketFactory(company=company)
    factories.MessageFactory(
        ticket=ticket, media_path=stored.path, media_name=name, media_type="image"
    )
    db.session.commit()
    return ticket


def _media_url(client, prefix, headers, ticket_id, base_url=None) -> str:
    kwargs = {"base_url": base_url} if base_url else {}
    resp = client.get(f"{prefix}/messages/{ticket_id}", headers=headers, **kwargs)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["messages"][0]["mediaUrl"]


def test_media_url_reaches_the_port_the_request_came_to(client, prefix, admin, auth):
    """src/components/MessagesList/index.js loads `message.mediaUrl` as an <img>/<audio>
    src: with BACKEND_URL unset it names the host and port the SPA called."""
    ticket = _media_message(admin.company)
    url = _media_url(client, prefix, auth(admin), ticket.id, base_url="http://localhost:9000")

    assert url.startswith(f"http://localhost:9000{prefix}/public/{admin.company_id}/")
    parts = urlsplit(url)
    with client.get(f"{parts.path}?{parts.query}", base_url="http://localhost:9000") as served:
        assert served.status_code == 200 and served.data == PNG


def test_another_address_gets_its_own_links(client, prefix, admin, auth):
    """src/components/MessagesList/index.js: a SPA built for another address gets links to it."""
    ticket = _media_message(admin.company)
    url = _media_url(client, prefix, auth(admin), ticket.id, base_url="https://10.0.0.7:8443")
    assert url.startswith(f"https://10.0.0.7:8443{prefix}/public/")


def test_backend_url_wins_when_set(app, client, prefix, admin, auth):
    """src/components/MessagesList/index.js: an operator's BACKEND_URL is the public address."""
    app.config["BACKEND_URL"] = "https://wa.example.com/"
    ticket = _media_message(admin.company)
    url = _media_url(client, prefix, auth(admin), ticket.id, base_url="http://localhost:9000")
    assert url.startswith(f"https://wa.example.com{prefix}/public/{admin.company_id}/")


def test_forwarded_headers_are_ignored_without_trusted_proxies(client, prefix, admin, auth):
    """src/components/MessagesList/index.js: a client cannot choose the host of the links
    it and others get by sending X-Forwarded-Host when no proxy is trusted."""
    ticket = _media_message(admin.company)
    headers = {**auth(admin), "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    url = _media_url(client, prefix, headers, ticket.id, base_url="http://localhost:9000")
    assert url.startswith("http://localhost:9000/")


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("0.0.0.0", 9000, "http://localhost:9000"),
        ("127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("::", 9000, "http://localhost:9000"),
        ("::1", 9000, "http://[::1]:9000"),
        ("wa.internal", 80, "http://wa.internal"),
    ],
)
def test_outside_a_request_links_use_host_and_port(app, company, host, port, expected):
    """src/components/MessagesList/index.js also gets mediaUrl from socket events emitted by
    jobs, outside any request: they name HOST/PORT of `python wsgi.py`."""
    app.config.update(HOST=host, PORT=port)
    stored = media.save(company.id, PNG, "a.png", "image/png")

    assert server_url(app.config) == expected
    url = media_urls.public_url(company.id, stored.path)
    assert url.startswith(f"{expected}{app.config['API_PREFIX']}/public/{company.id}/")


def test_webhook_addresses_follow_the_same_rule(app, company):
    """src/pages/Connections/index.js shows the QR code the Evolution webhook brings: that
    address is PUBLIC_URL, else BACKEND_URL, else HOST/PORT (outside a request)."""
    from whaticket.services.connections.gateway import evolution_webhook_url as webhook_url

    conn = factories.WhatsappFactory(company=company)
    db.session.commit()
    prefix = app.config["API_PREFIX"]
    app.config.update(HOST="0.0.0.0", PORT=9000, PUBLIC_URL=None, BACKEND_URL=None)
    assert webhook_url(conn, "s3cr3t") == (
        f"http://localhost:9000{prefix}/webhooks/evolution/{conn.id}/s3cr3t"
    )
    assert subscriptions.webhook_url("efi") == (
        f"http://localhost:9000{prefix}/subscription/webhook/efi"
    )
    app.config["BACKEND_URL"] = "https://wa.example.com"
    assert webhook_url(conn, "s").startswith("https://wa.example.com/")
    app.config["PUBLIC_URL"] = "https://hooks.example.com/"
    assert subscriptions.webhook_url("efi") == (
        f"https://hooks.example.com{prefix}/subscription/webhook/efi"
    )


# -- behind trusted proxies -----------------------------------------------------------


class _ProxiedConfig(TestingConfig):
    TRUSTED_PROXIES = 1


@pytest.fixture
def proxied_app(tmp_path) -> Iterator[Flask]:
    """An app behind one trusted reverse proxy (its own engine, empty tables)."""
    app = create_app(_ProxiedConfig)
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    with app.app_context():
        if not sa.inspect(db.engine).has_table("users"):
            db.create_all()
        _delete_rows()
        yield app
        db.session.remove()
        _delete_rows()
        db.engine.dispose()


def _delete_rows() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def test_links_honour_a_trusted_proxy(proxied_app):
    """src/components/MessagesList/index.js behind nginx (TRUSTED_PROXIES=1): links name the
    public scheme and host the proxy forwarded, not the internal address."""
    company = factories.CompanyFactory()
    settings_service.create_defaults(company.id)
    admin = factories.AdminFactory(company=company)
    db.session.commit()
    ticket = _media_message(company)
    prefix = proxied_app.config["API_PREFIX"]
    headers = {
        "Authorization": f"Bearer {create_access_token(identity=admin)}",
        "X-Forwarded-Host": "help.example.com",
        "X-Forwarded-Proto": "https",
    }
    client = proxied_app.test_client()
    url = _media_url(client, prefix, headers, ticket.id, base_url="http://127.0.0.1:8080")

    assert url.startswith(f"https://help.example.com{prefix}/public/{company.id}/")


def test_upload_answers_link_to_the_same_server(client, prefix, admin, auth):
    """src/components/QueueModal/index.js shows the queue's `mediaPath` after an upload."""
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    resp = client.post(
        f"{prefix}/queue/{queue.id}/media-upload",
        data={"file": (io.BytesIO(PNG), "hello.png")},
        headers=auth(admin),
        content_type="multipart/form-data",
        base_url="http://localhost:9000",
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["mediaPath"].startswith(f"http://localhost:9000{prefix}/public/")
