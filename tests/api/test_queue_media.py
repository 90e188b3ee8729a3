"""Queue greeting media: upload, replace, delete, limits, roles, tenancy and the row shape."""

from __future__ import annotations

import io

from tests import factories
from whaticket.extensions import db
from whaticket.models import Queue
from whaticket.services.platform import media

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _upload(client, url: str, headers: dict, data: bytes = PNG, name: str = "hello.png"):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def _stored(queue_id: int) -> Queue:
    db.session.expire_all()
    return db.session.get(Queue, queue_id)


def test_upload_sets_media_and_list_shows_signed_url(client, prefix, admin, agent, auth):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    resp = _upload(client, f"{prefix}/queue/{queue.id}/media-upload", auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["id"] == queue.id and body["mediaName"] == "hello.png"
    assert "sig=" in body["mediaPath"]
    row = _stored(queue.id)
    assert row.media_path.startswith("queues/") and row.media_name == "hello.png"
    assert media.absolute_path(admin.company_id, row.media_path).read_bytes() == PNG
    listed = client.get(f"{prefix}/queue", headers=auth(agent)).get_json()
    assert listed[0]["mediaPath"] == body["mediaPath"]
    with client.get(body["mediaPath"].split("localhost:8080", 1)[-1]) as served:
        assert served.status_code == 200 and served.data == PNG


def test_upload_replaces_and_delete_clears_the_file(client, prefix, admin, auth):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    url = f"{prefix}/queue/{queue.id}/media-upload"
    assert _upload(client, url, auth(admin)).status_code == 200
    first = media.absolute_path(admin.company_id, _stored(queue.id).media_path)
    resp = _upload(client, url, auth(admin), name="second.png")
    assert resp.status_code == 200 and resp.get_json()["mediaName"] == "second.png"
    assert not first.exists()
    second = media.absolute_path(admin.company_id, _stored(queue.id).media_path)
    resp = client.delete(url, headers=auth(admin))
    assert resp.status_code == 200
    assert resp.get_json()["mediaPath"] is None and resp.get_json()["mediaName"] is None
    assert not second.exists()
    row = _stored(queue.id)
    assert row.media_path is None and row.media_name is None
    # Deleting when there is no media is harmless.
    assert client.delete(url, headers=auth(admin)).status_code == 200


def test_queue_without_media_shows_nulls(client, prefix, admin, auth):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    body = client.get(f"{prefix}/queue/{queue.id}", headers=auth(admin)).get_json()
    assert body["mediaPath"] is None and body["mediaName"] is None


def test_upload_limits_and_validation(client, app, prefix, admin, auth):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    url = f"{prefix}/queue/{queue.id}/media-upload"
    resp = client.post(url, data={}, headers=auth(admin), content_type="multipart/form-data")
    assert resp.status_code == 400 and "file" in resp.get_json()["fields"]
    resp = _upload(client, url, auth(admin), data=b"MZ\x90\x00binary", name="x.exe")
    assert resp.status_code == 415 and resp.get_json()["error"] == "ERR_UNSUPPORTED_MEDIA_TYPE"
    app.config["MEDIA_MAX_BYTES"] = 10
    resp = _upload(client, url, auth(admin))
    assert resp.status_code == 413 and resp.get_json()["error"] == "ERR_FILE_TOO_LARGE"
    assert _stored(queue.id).media_path is None


def test_upload_and_delete_roles_and_tenancy(client, prefix, admin, agent, auth, other_admin):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    url = f"{prefix}/queue/{queue.id}/media-upload"
    assert _upload(client, url, {}).status_code == 401
    assert _upload(client, url, auth(agent)).status_code == 403
    resp = _upload(client, url, auth(other_admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_QUEUE_NOT_FOUND"}
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=auth(agent)).status_code == 403
    assert client.delete(url, headers=auth(other_admin)).status_code == 404
    assert _stored(queue.id).media_path is None


def test_upload_emits_queue_update(client, prefix, admin, auth, socket_client):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    sock = socket_client(admin)
    sock.get_received()
    assert (
        _upload(client, f"{prefix}/queue/{queue.id}/media-upload", auth(admin)).status_code == 200
    )
    events = [e for e in sock.get_received() if e["name"] == f"company-{admin.company_id}-queue"]
    assert events and events[-1]["args"][0]["action"] == "update"
    assert events[-1]["args"][0]["queue"]["mediaName"] == "hello.png"
