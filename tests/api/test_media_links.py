"""Signed media links expire (MEDIA_URL_TTL), every listing signs them afresh, and a
message deleted for everyone takes its file with it (issue 15, item 15)."""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import Message
from whaticket.services.platform import media
from whaticket.utils import media_urls

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(app):
    """The app's clock, frozen at NOW; the test moves it."""
    app.config["FROZEN_NOW"] = NOW
    return app


@pytest.fixture
def ticket(company, admin):
    conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )
    return factories.TicketFactory(company=company, whatsapp=conn, status="open", user_id=admin.id)


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _get(client, url: str):
    resp = client.get(_path_of(url) if url.startswith("http") else url)
    resp.get_data()
    resp.close()
    return resp


def _send_picture(client, prefix, auth, admin, ticket) -> dict:
    resp = client.post(
        f"{prefix}/messages/{ticket.id}",
        data={"medias": (io.BytesIO(PNG), "foto.png"), "body": ""},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()[0]


def _listed_url(client, prefix, auth, admin, ticket, message_id: int) -> str | None:
    resp = client.get(f"{prefix}/messages/{ticket.id}", headers=auth(admin))
    assert resp.status_code == 200
    (row,) = [m for m in resp.get_json()["messages"] if m["id"] == message_id]
    return row["mediaUrl"]


def test_a_link_expires_after_the_ttl(app, client, company):
    app.config["MEDIA_URL_TTL"] = 3600
    stored = media.save(company.id, PNG, "a.png", "image/png")
    url = media_urls.public_url(company.id, stored.path)
    assert _get(client, url).status_code == 200
    app.config["FROZEN_NOW"] = NOW + timedelta(seconds=3599)
    assert _get(client, url).status_code == 200
    # Rounded up to the step (at most one hour, never more than the TTL): gone by 2 TTLs.
    app.config["FROZEN_NOW"] = NOW + timedelta(seconds=2 * 3600 + 1)
    resp = _get(client, url)
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NOT_FOUND"}


def test_the_default_ttl_is_a_day(app, client, company):
    stored = media.save(company.id, PNG, "a.png", "image/png")
    url = media_urls.public_url(company.id, stored.path)
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=23, minutes=59)
    assert _get(client, url).status_code == 200
    app.config["FROZEN_NOW"] = NOW + timedelta(hours=25, seconds=1)
    assert _get(client, url).status_code == 404


def test_links_without_an_expiry_are_refused(client, prefix, company):
    """Links signed before they expired (`?sig=` of `<cid>/<rel>` only) open nothing."""
    stored = media.save(company.id, PNG, "a.png", "image/png")
    key = str(client.application.config["SECRET_KEY"]).encode()
    old_sig = hmac.new(key, f"{company.id}/{stored.path}".encode(), hashlib.sha256).hexdigest()
    for query in (f"sig={old_sig}", f"exp=&sig={old_sig}", f"exp=9999999999&sig={old_sig}"):
        resp = _get(client, f"{prefix}/public/{company.id}/{stored.path}?{query}")
        assert resp.status_code == 404, query


def test_a_fresh_listing_gives_a_working_link(app, client, prefix, auth, admin, ticket):
    app.config["MEDIA_URL_TTL"] = 3600
    sent = _send_picture(client, prefix, auth, admin, ticket)
    first = _listed_url(client, prefix, auth, admin, ticket, sent["id"])
    assert first and _get(client, first).status_code == 200
    app.config["FROZEN_NOW"] = NOW + timedelta(days=3)
    assert _get(client, first).status_code == 404
    again = _listed_url(client, prefix, auth, admin, ticket, sent["id"])
    assert again != first
    resp = _get(client, again)
    assert resp.status_code == 200 and resp.data == PNG


def test_deleting_a_message_removes_its_file(client, prefix, auth, admin, ticket, app):
    sent = _send_picture(client, prefix, auth, admin, ticket)
    url = sent["mediaUrl"]
    row = db.session.get(Message, sent["id"])
    on_disk = Path(app.config["MEDIA_ROOT"]) / str(row.company_id) / row.media_path
    assert on_disk.is_file() and _get(client, url).status_code == 200
    resp = client.delete(f"{prefix}/messages/{sent['id']}", headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["isDeleted"] is True and body["mediaUrl"] is None
    assert not on_disk.exists()
    assert _get(client, url).status_code == 404
    # Not even the company's token opens it any more.
    path = urlsplit(url).path
    assert client.get(path, headers=auth(admin)).status_code == 404
    assert _listed_url(client, prefix, auth, admin, ticket, sent["id"]) is None


def test_a_campaign_message_deleted_keeps_the_campaign_file(
    client, prefix, auth, admin, ticket, app
):
    """Campaign messages point at the campaign's file: deleting one leaves it in place."""
    stored = media.save(ticket.company_id, PNG, "promo.png", "image/png", subdir="campaigns")
    message = factories.MessageFactory(
        ticket=ticket, from_me=True, media_path=stored.path, media_type="image", provider_id=None
    )
    db.session.commit()
    resp = client.delete(f"{prefix}/messages/{message.id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["mediaUrl"] is None
    assert media.absolute_path(ticket.company_id, stored.path).is_file()
