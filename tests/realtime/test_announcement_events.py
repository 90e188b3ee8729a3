"""`company-announcement` events: every authenticated socket of every company, nobody else,
no publisher data, and inactive announcements only for super users."""

from __future__ import annotations

import io

import pytest

from tests import factories
from whaticket.extensions import db, socketio
from whaticket.models import Announcement
from whaticket.realtime import rooms

EVENT = "company-announcement"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _events(sock) -> list[dict]:
    """The announcement payloads a connected socket received since the last call."""
    return [e["args"][0] for e in sock.get_received() if e["name"] == EVENT]


def _make(company, **over) -> Announcement:
    values = {"title": "Notice", "text": "Body", "priority": 2, "status": True}
    values.update(over)
    record = Announcement(company_id=company.id, **values)
    db.session.add(record)
    db.session.commit()
    return record


@pytest.fixture
def other_agent(other_company):
    """A non-admin user of the second tenant."""
    return factories.UserFactory(company=other_company)


@pytest.fixture
def sockets(socket_client, superuser, agent, other_agent):
    """Connected sockets of a super user, an agent, and another company's agent (drained)."""
    socks = {"super": socket_client(superuser), "agent": socket_client(agent)}
    socks["other"] = socket_client(other_agent)
    for sock in socks.values():
        assert sock.is_connected()
        sock.get_received()
    return socks


def test_every_authenticated_socket_joins_the_global_room(socket_client, agent, other_agent):
    mine, theirs = socket_client(agent), socket_client(other_agent)
    refused = socket_client(token="garbage")
    assert not refused.is_connected()
    mine.get_received(), theirs.get_received()
    socketio.emit("probe", {}, to=rooms.announcements())
    assert [e["name"] for e in mine.get_received()] == ["probe"]
    assert [e["name"] for e in theirs.get_received()] == ["probe"]
    assert not [p for p in refused.queue if p.get("name") == "probe"]


def test_only_super_sockets_join_the_super_room(socket_client, superuser, admin, agent):
    socks = [socket_client(superuser), socket_client(admin), socket_client(agent)]
    for sock in socks:
        sock.get_received()
    socketio.emit("probe", {}, to=rooms.super_users())
    assert [[e["name"] for e in s.get_received()] for s in socks] == [["probe"], [], []]


def test_create_reaches_every_company_without_publisher_data(
    client, prefix, auth, superuser, sockets, socket_client
):
    unauthenticated = socket_client()
    refused = socket_client(token="garbage")
    resp = client.post(
        f"{prefix}/announcements", json={"title": "Hello", "priority": 1}, headers=auth(superuser)
    )
    assert resp.status_code == 200
    record = resp.get_json()
    for sock in sockets.values():
        assert _events(sock) == [{"action": "create", "record": record}]
    assert "companyId" not in record and "company" not in record
    for sock in (unauthenticated, refused):
        assert not sock.is_connected()
        assert not [p for p in sock.queue if p.get("name") == EVENT]


def test_update_and_media_changes_reach_everyone(client, prefix, auth, company, superuser, sockets):
    record = _make(company)
    url = f"{prefix}/announcements/{record.id}"
    assert client.put(url, json={"title": "Edited"}, headers=auth(superuser)).status_code == 200
    upload = client.post(
        f"{url}/media-upload",
        data={"file": (io.BytesIO(PNG), "pic.png")},
        headers=auth(superuser),
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200
    assert client.delete(f"{url}/media-upload", headers=auth(superuser)).status_code == 200
    for sock in sockets.values():
        events = _events(sock)
        assert [e["action"] for e in events] == ["update", "update", "update"]
        assert events[0]["record"]["title"] == "Edited"
        assert events[1]["record"]["mediaName"] == "pic.png"
        assert events[1]["record"]["mediaPath"] == upload.get_json()["mediaPath"]
        assert events[2]["record"]["mediaPath"] is None
        assert all("companyId" not in e["record"] for e in events)


def test_delete_reaches_everyone(client, prefix, auth, company, superuser, sockets):
    record = _make(company)
    resp = client.delete(f"{prefix}/announcements/{record.id}", headers=auth(superuser))
    assert resp.status_code == 200
    for sock in sockets.values():
        assert _events(sock) == [{"action": "delete", "id": record.id}]


def test_deactivation_drops_it_for_users_and_updates_it_for_supers(
    client, prefix, auth, company, superuser, sockets
):
    record = _make(company)
    url = f"{prefix}/announcements/{record.id}"
    resp = client.put(url, json={"status": False, "text": "Draft"}, headers=auth(superuser))
    assert resp.status_code == 200
    dropped = {"action": "delete", "id": record.id}
    for name in ("agent", "other"):
        assert _events(sockets[name]) == [dropped]
    # Supers manage it: after the delete, the record (status false) puts it back.
    assert _events(sockets["super"]) == [dropped, {"action": "update", "record": resp.get_json()}]


def test_inactive_announcements_stay_among_super_users(
    client, prefix, auth, company, superuser, sockets
):
    created = client.post(
        f"{prefix}/announcements", json={"title": "Draft", "status": False}, headers=auth(superuser)
    ).get_json()
    url = f"{prefix}/announcements/{created['id']}"
    assert client.put(url, json={"text": "Still draft"}, headers=auth(superuser)).status_code == 200
    for name in ("agent", "other"):
        assert _events(sockets[name]) == []
    assert [(e["action"], e["record"]["status"]) for e in _events(sockets["super"])] == [
        ("create", False),
        ("update", False),
    ]
    # Switching it on publishes it to everyone.
    resp = client.put(url, json={"status": True}, headers=auth(superuser))
    for sock in sockets.values():
        assert _events(sock) == [{"action": "update", "record": resp.get_json()}]


def test_refused_writes_emit_nothing(client, prefix, auth, company, admin, superuser, sockets):
    record = _make(company)
    url = f"{prefix}/announcements/{record.id}"
    assert client.put(url, json={"title": ""}, headers=auth(superuser)).status_code == 400
    assert client.put(url, json={"title": "x"}, headers=auth(admin)).status_code == 403
    bad_upload = client.post(
        f"{url}/media-upload",
        data={"file": (io.BytesIO(b"MZ\x90\x00"), "x.exe")},
        headers=auth(superuser),
        content_type="multipart/form-data",
    )
    assert bad_upload.status_code == 415
    for sock in sockets.values():
        assert _events(sock) == []
