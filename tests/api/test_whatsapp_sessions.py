"""Sessions: start, restart, disconnect; the health timeline; whatsappSession events."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.models.whatsapp import ConnectionEvent
from whaticket.services.connections import sessions as session_service
from whaticket.whatsapp import registry
from whaticket.whatsapp.base import GatewayError, SessionState
from whaticket.whatsapp.fake import FakeGateway


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def _timeline(whatsapp_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ConnectionEvent.status)
            .where(ConnectionEvent.whatsapp_id == whatsapp_id)
            .order_by(ConnectionEvent.id)
        )
    )


class QrGateway(FakeGateway):
    """A provider with a QR code, failing on demand."""

    name = "qr-session-test"
    fail: GatewayError | None = None

    def start_session(self, conn):
        if QrGateway.fail:
            raise QrGateway.fail
        return SessionState("qrcode", "QR-STRING-1")

    def stop_session(self, conn):
        return SessionState("DISCONNECTED")


def test_start_restart_disconnect_write_the_timeline_and_emit(
    client, prefix, auth, admin, company, other_admin, socket_client
):
    conn = factories.WhatsappFactory(company=company, status="DISCONNECTED")
    db.session.commit()
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received()
    theirs.get_received()
    name = f"company-{company.id}-whatsappSession"

    resp = client.post(f"{prefix}/whatsappsession/{conn.id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Starting session."}
    db.session.refresh(conn)
    assert conn.status == "CONNECTED" and _timeline(conn.id) == ["CONNECTED"]
    [event] = _events(mine, name)
    assert event["action"] == "update"
    assert event["session"]["id"] == conn.id and event["session"]["status"] == "CONNECTED"

    resp = client.put(f"{prefix}/whatsappsession/{conn.id}", headers=auth(admin))
    assert resp.status_code == 200
    db.session.refresh(conn)
    assert conn.status == "CONNECTED"
    assert _timeline(conn.id) == ["CONNECTED", "DISCONNECTED", "CONNECTED"]
    assert [e["session"]["status"] for e in _events(mine, name)] == ["DISCONNECTED", "CONNECTED"]

    resp = client.delete(f"{prefix}/whatsappsession/{conn.id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Session disconnected."}
    db.session.refresh(conn)
    assert conn.status == "DISCONNECTED"
    assert _timeline(conn.id)[-1] == "DISCONNECTED"
    assert [e["session"]["status"] for e in _events(mine, name)] == ["DISCONNECTED"]
    # The other tenant's sockets heard nothing of it.
    assert not [e for e in theirs.get_received() if "whatsappSession" in e["name"]]


def test_a_qr_state_is_stored_and_cleared(client, prefix, auth, admin, company, socket_client):
    registry.register(QrGateway)
    try:
        conn = factories.WhatsappFactory(company=company, provider=QrGateway.name)
        db.session.commit()
        sock = socket_client(admin)
        sock.get_received()
        assert (
            client.post(f"{prefix}/whatsappsession/{conn.id}", headers=auth(admin)).status_code
            == 200
        )
        db.session.refresh(conn)
        assert conn.status == "qrcode" and conn.qrcode == "QR-STRING-1"
        [event] = _events(sock, f"company-{company.id}-whatsappSession")
        assert event["session"]["qrcode"] == "QR-STRING-1"
        session_service.apply_state(company.id, conn.id, SessionState("CONNECTED"), "scanned")
        db.session.commit()
        db.session.refresh(conn)
        assert conn.status == "CONNECTED" and conn.qrcode == ""
        # The same state again is no new timeline entry.
        session_service.apply_state(company.id, conn.id, SessionState("CONNECTED"))
        db.session.commit()
        assert _timeline(conn.id) == ["qrcode", "CONNECTED"]
    finally:
        registry._PROVIDERS.pop(QrGateway.name, None)


def test_a_gateway_error_leaves_the_connection_as_it_was(client, prefix, auth, admin, company):
    registry.register(QrGateway)
    try:
        conn = factories.WhatsappFactory(
            company=company, provider=QrGateway.name, status="CONNECTED"
        )
        db.session.commit()
        for retryable, status in ((False, 502), (True, 503)):
            QrGateway.fail = GatewayError("ERR_X", "down", retryable=retryable)
            for method in (client.post, client.put):
                resp = method(f"{prefix}/whatsappsession/{conn.id}", headers=auth(admin))
                assert resp.status_code == status
                assert resp.get_json() == {"error": "ERR_WAPP_SESSION"}
        db.session.expire_all()
        assert db.session.get(Whatsapp, conn.id).status == "CONNECTED"
        # Each failure is logged on the timeline, without a status change.
        assert _timeline(conn.id) == ["ERROR"] * 4
    finally:
        QrGateway.fail = None
        registry._PROVIDERS.pop(QrGateway.name, None)


def test_sessions_are_admin_only_and_company_scoped(
    client, prefix, auth, admin, agent, company, other_company
):
    mine = factories.WhatsappFactory(company=company)
    theirs = factories.WhatsappFactory(company=other_company)
    db.session.commit()
    for method in (client.post, client.put, client.delete):
        assert method(f"{prefix}/whatsappsession/{mine.id}", headers=auth(agent)).status_code == 403
        assert method(f"{prefix}/whatsappsession/{mine.id}").status_code == 401
        resp = method(f"{prefix}/whatsappsession/{theirs.id}", headers=auth(admin))
        assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_WAPP_FOUND"}
    assert _timeline(mine.id) == [] and _timeline(theirs.id) == []


def test_events_timeline_newest_first_paginated(
    client, prefix, auth, admin, agent, company, other_company
):
    conn = factories.WhatsappFactory(company=company)
    theirs = factories.WhatsappFactory(company=other_company)
    db.session.commit()
    for n in range(55):
        status = "DISCONNECTED" if n % 2 else "CONNECTED"
        session_service.apply_state(company.id, conn.id, SessionState(status), f"step {n}")
    db.session.commit()
    url = f"{prefix}/whatsapp/{conn.id}/events"
    page = client.get(url, headers=auth(admin)).get_json()
    assert page["count"] == 55 and page["hasMore"] is True and len(page["events"]) == 50
    assert page["events"][0]["detail"] == "step 54" and page["events"][0]["status"] == "CONNECTED"
    assert set(page["events"][0]) == {"status", "detail", "createdAt"}
    page2 = client.get(f"{url}?pageNumber=2", headers=auth(admin)).get_json()
    assert [e["detail"] for e in page2["events"]] == [f"step {n}" for n in range(4, -1, -1)]
    assert page2["hasMore"] is False
    assert client.get(url, headers=auth(agent)).status_code == 403
    resp = client.get(f"{prefix}/whatsapp/{theirs.id}/events", headers=auth(admin))
    assert resp.status_code == 404
