"""Announcements: global visibility (active vs inactive), super-only CRUD and media, validation."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Announcement
from whaticket.services.platform import media

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n" + b"\x00" * 32
ROW_KEYS = {
    "id",
    "priority",
    "title",
    "text",
    "mediaPath",
    "mediaUrl",
    "mediaName",
    "status",
    "createdAt",
    "updatedAt",
}


def _make(title: str = "Notice", *, company=None, age_minutes: int = 0, **over) -> Announcement:
    """An announcement published `age_minutes` ago (company: the publisher)."""
    values = {"priority": 2, "text": "Body", "status": True}
    values.update(over)
    record = Announcement(
        title=title,
        company_id=company.id if company is not None else None,
        created_at=utcnow() - timedelta(minutes=age_minutes),
        **values,
    )
    db.session.add(record)
    db.session.commit()
    return record


def _stored(announcement_id: int) -> Announcement | None:
    db.session.expire_all()
    return db.session.get(Announcement, announcement_id)


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Announcement.id)))


def _upload(client, url: str, headers: dict, data: bytes = PNG, name: str = "banner.png"):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def _local(url: str) -> str:
    """The path and query of an absolute URL built from BACKEND_URL, for the test client."""
    return url.split("localhost:8080", 1)[-1]


@pytest.fixture
def other_agent(other_company):
    """A non-admin user of the second tenant."""
    return factories.UserFactory(company=other_company)


# -- reading ------------------------------------------------------------------------


def test_page_shows_active_newest_first_to_every_company(
    client, prefix, company, superuser, agent, other_agent, auth
):
    old = _make("Old", company=company, age_minutes=30)
    new = _make("New", company=company, age_minutes=1)
    _make("Draft", company=company, status=False)
    for user in (agent, other_agent):
        # The SaaS frontend asks with a trailing slash and both query values.
        resp = client.get(f"{prefix}/announcements/?searchParam=&pageNumber=1", headers=auth(user))
        assert resp.status_code == 200
        body = resp.get_json()
        assert set(body) == {"records", "count", "hasMore"}
        assert body["count"] == 2 and body["hasMore"] is False
        assert [r["id"] for r in body["records"]] == [new.id, old.id]
        assert set(body["records"][0]) == ROW_KEYS
    # Without the slash too.
    assert client.get(f"{prefix}/announcements", headers=auth(agent)).get_json()["count"] == 2


def test_super_sees_inactive_ones_too(client, prefix, company, superuser, auth):
    active = _make("Active", company=company, age_minutes=5)
    draft = _make("Draft", company=company, status=False)
    body = client.get(f"{prefix}/announcements", headers=auth(superuser)).get_json()
    assert [(r["id"], r["status"]) for r in body["records"]] == [
        (draft.id, False),
        (active.id, True),
    ]


def test_page_searches_title_and_text_and_paginates(client, prefix, company, agent, auth):
    for i in range(21):
        _make(f"Maintenance {i:02d}", company=company, age_minutes=100 - i)
    _make("Other", company=company, text="scheduled MAINTENANCE window", age_minutes=200)
    _make("Unrelated", company=company)
    body = client.get(
        f"{prefix}/announcements?searchParam=maintenance", headers=auth(agent)
    ).get_json()
    assert body["count"] == 22 and body["hasMore"] is True and len(body["records"]) == 20
    assert body["records"][0]["title"] == "Maintenance 20"
    page2 = client.get(
        f"{prefix}/announcements?searchParam=maintenance&pageNumber=2", headers=auth(agent)
    ).get_json()
    assert [r["title"] for r in page2["records"]] == ["Maintenance 00", "Other"]
    assert page2["hasMore"] is False
    # LIKE wildcards are literal.
    body = client.get(f"{prefix}/announcements?searchParam=%25", headers=auth(agent)).get_json()
    assert body["count"] == 0


def test_list_is_an_array_and_ignores_company_id(
    client, prefix, company, other_company, superuser, agent, other_agent, auth
):
    first = _make("First", company=company, age_minutes=10)
    second = _make("Second", company=other_company, age_minutes=5)
    draft = _make("Draft", company=company, status=False)
    for user in (agent, other_agent):
        resp = client.get(
            f"{prefix}/announcements/list?companyId={other_company.id}", headers=auth(user)
        )
        assert resp.status_code == 200
        assert [r["id"] for r in resp.get_json()] == [second.id, first.id]
    body = client.get(f"{prefix}/announcements/list?searchParam=dra", headers=auth(superuser))
    assert [r["id"] for r in body.get_json()] == [draft.id]


def test_show_hides_inactive_from_non_super(
    client, prefix, company, superuser, admin, agent, other_agent, auth
):
    active = _make("Active", company=company)
    draft = _make("Draft", company=company, status=False)
    for user in (agent, admin, other_agent):
        resp = client.get(f"{prefix}/announcements/{active.id}", headers=auth(user))
        assert resp.status_code == 200 and resp.get_json()["title"] == "Active"
        resp = client.get(f"{prefix}/announcements/{draft.id}", headers=auth(user))
        assert resp.status_code == 404
        assert resp.get_json() == {"error": "ERR_NO_ANNOUNCEMENT_FOUND"}
    resp = client.get(f"{prefix}/announcements/{draft.id}", headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json()["status"] is False
    resp = client.get(f"{prefix}/announcements/{draft.id + 100}", headers=auth(superuser))
    assert resp.status_code == 404


def test_reading_requires_a_token(client, prefix, company):
    record = _make(company=company)
    for url in ("/announcements", "/announcements/list", f"/announcements/{record.id}"):
        resp = client.get(prefix + url)
        assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


def test_records_never_reveal_the_publisher(client, prefix, company, superuser, other_agent, auth):
    created = client.post(
        f"{prefix}/announcements", json={"title": "Hello"}, headers=auth(superuser)
    ).get_json()
    assert set(created) == ROW_KEYS
    shown = client.get(f"{prefix}/announcements/{created['id']}", headers=auth(other_agent))
    assert set(shown.get_json()) == ROW_KEYS
    listed = client.get(f"{prefix}/announcements/list", headers=auth(other_agent)).get_json()
    assert all("companyId" not in r and "company" not in r for r in listed)


# -- writing --------------------------------------------------------------------------


def test_super_creates_with_defaults(client, prefix, superuser, auth):
    resp = client.post(
        f"{prefix}/announcements",
        json={"title": "  Maintenance  ", "text": None},
        headers=auth(superuser),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["title"] == "Maintenance" and body["priority"] == 3
    assert body["text"] == "" and body["status"] is True
    assert body["mediaPath"] is None and body["mediaName"] is None
    row = _stored(body["id"])
    assert row.company_id == superuser.company_id


def test_create_takes_all_fields_and_ignores_media_and_company(
    client, prefix, superuser, other_company, auth
):
    resp = client.post(
        f"{prefix}/announcements/",
        json={
            "title": "Downtime",
            "text": "Sunday 2am",
            "priority": "1",
            "status": False,
            "mediaPath": "../../etc/passwd",
            "mediaName": "passwd",
            "companyId": other_company.id,
        },
        headers=auth(superuser),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["priority"], body["text"], body["status"]) == (1, "Sunday 2am", False)
    row = _stored(body["id"])
    assert row.media_path is None and row.media_name is None
    assert row.company_id == superuser.company_id


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": None},
        {"title": 12},
        {"title": "x" * 256},
        {"title": "ok", "priority": 0},
        {"title": "ok", "priority": 4},
        {"title": "ok", "priority": "high"},
        {"title": "ok", "priority": True},
        {"title": "ok", "priority": None},
        {"title": "ok", "text": "x" * 10001},
        {"title": "ok", "status": "maybe"},
    ],
)
def test_create_validation_creates_nothing(client, prefix, superuser, auth, payload):
    resp = client.post(f"{prefix}/announcements", json=payload, headers=auth(superuser))
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and resp.get_json()["fields"]
    assert _count() == 0


def test_only_super_users_write(client, prefix, company, admin, agent, other_admin, auth):
    record = _make(company=company)
    url = f"{prefix}/announcements/{record.id}"
    for user in (admin, agent, other_admin):
        headers = auth(user)
        for resp in (
            client.post(f"{prefix}/announcements", json={"title": "x"}, headers=headers),
            client.put(url, json={"title": "x"}, headers=headers),
            client.delete(url, headers=headers),
            _upload(client, f"{url}/media-upload", headers),
            client.delete(f"{url}/media-upload", headers=headers),
        ):
            # Not the SaaS 401, which would log the user out.
            assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    for resp in (
        client.post(f"{prefix}/announcements", json={"title": "x"}),
        client.put(url, json={"title": "x"}),
        client.delete(url),
        _upload(client, f"{url}/media-upload", {}),
        client.delete(f"{url}/media-upload"),
    ):
        assert resp.status_code == 401
    row = _stored(record.id)
    assert _count() == 1 and row.title == "Notice" and row.media_path is None


def test_super_of_any_company_updates_only_the_keys_sent(
    client, prefix, company, other_company, auth
):
    record = _make("Old", company=company, priority=2, text="Keep me")
    other_super = factories.AdminFactory(company=other_company, super=True)
    resp = client.put(
        f"{prefix}/announcements/{record.id}",
        # The SPA sends the whole row back, read-only keys included.
        json={
            "id": 999,
            "title": "New",
            "priority": 1,
            "mediaPath": "http://evil.example/x.png",
            "companyId": other_company.id,
            "createdAt": "2000-01-01T00:00:00.000Z",
        },
        headers=auth(other_super),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["id"], body["title"], body["priority"], body["text"]) == (
        record.id,
        "New",
        1,
        "Keep me",
    )
    row = _stored(record.id)
    assert row.company_id == company.id and row.media_path is None
    assert row.created_at.year != 2000


def test_update_validation_changes_nothing(client, prefix, company, superuser, auth):
    record = _make("Stay", company=company, priority=2)
    url = f"{prefix}/announcements/{record.id}"
    for payload in ({"title": " "}, {"priority": 9}, {"status": "x"}, {"title": None}):
        resp = client.put(url, json=payload, headers=auth(superuser))
        assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    row = _stored(record.id)
    assert (row.title, row.priority, row.status) == ("Stay", 2, True)
    resp = client.put(f"{prefix}/announcements/{record.id + 100}", json={}, headers=auth(superuser))
    assert resp.status_code == 404


def test_deactivate_hides_and_reactivate_shows(client, prefix, company, superuser, agent, auth):
    record = _make(company=company)
    url = f"{prefix}/announcements/{record.id}"
    resp = client.put(url, json={"status": False}, headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json()["status"] is False
    assert client.get(f"{prefix}/announcements", headers=auth(agent)).get_json()["count"] == 0
    assert client.get(url, headers=auth(agent)).status_code == 404
    assert client.put(url, json={"status": True}, headers=auth(superuser)).status_code == 200
    assert client.get(url, headers=auth(agent)).status_code == 200


def test_delete(client, prefix, company, superuser, agent, auth):
    record = _make(company=company)
    resp = client.delete(f"{prefix}/announcements/{record.id}", headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Announcement deleted"}
    assert _stored(record.id) is None
    assert client.get(f"{prefix}/announcements/{record.id}", headers=auth(agent)).status_code == 404
    resp = client.delete(f"{prefix}/announcements/{record.id}", headers=auth(superuser))
    assert resp.status_code == 404


# -- media ----------------------------------------------------------------------------


def test_upload_is_served_to_every_company_by_signed_url(
    client, prefix, company, superuser, other_agent, auth
):
    record = _make(company=company)
    resp = _upload(client, f"{prefix}/announcements/{record.id}/media-upload", auth(superuser))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["mediaName"] == "banner.png" and "sig=" in body["mediaUrl"]
    # The unchanged SaaS frontend loads `${BACKEND}/public/${mediaPath}`.
    assert body["mediaUrl"].endswith(f"/public/{body['mediaPath']}")
    with client.get(f"{prefix}/public/{body['mediaPath']}") as served:
        assert served.status_code == 200 and served.data == PNG
    row = _stored(record.id)
    # Stored under the publisher's company.
    assert row.media_path.startswith("announcements/")
    assert media.absolute_path(company.id, row.media_path).read_bytes() == PNG
    listed = client.get(f"{prefix}/announcements", headers=auth(other_agent)).get_json()
    assert listed["records"][0]["mediaUrl"] == body["mediaUrl"]
    # No token needed: the URL itself is the permission (it goes in an <img src>).
    with client.get(_local(body["mediaUrl"])) as served:
        assert served.status_code == 200 and served.data == PNG
    # A tampered signature is refused.
    tampered = _local(body["mediaUrl"]).rsplit("sig=", 1)[0] + "sig=" + "0" * 64
    assert client.get(tampered).status_code == 404


def test_upload_replaces_and_delete_clears_the_file(client, prefix, company, superuser, auth):
    record = _make(company=company)
    url = f"{prefix}/announcements/{record.id}/media-upload"
    assert _upload(client, url, auth(superuser)).status_code == 200
    first = media.absolute_path(company.id, _stored(record.id).media_path)
    resp = _upload(client, url, auth(superuser), name="second.png")
    assert resp.status_code == 200 and resp.get_json()["mediaName"] == "second.png"
    assert not first.exists()
    second = media.absolute_path(company.id, _stored(record.id).media_path)
    resp = client.delete(url, headers=auth(superuser))
    assert resp.status_code == 200
    assert resp.get_json()["mediaPath"] is None and resp.get_json()["mediaName"] is None
    assert not second.exists()
    row = _stored(record.id)
    assert row.media_path is None and row.media_name is None
    # Deleting when there is no media is harmless.
    assert client.delete(url, headers=auth(superuser)).status_code == 200


def test_deleting_an_announcement_deletes_its_file(client, prefix, company, superuser, auth):
    record = _make(company=company)
    url = f"{prefix}/announcements/{record.id}"
    assert _upload(client, f"{url}/media-upload", auth(superuser)).status_code == 200
    path = media.absolute_path(company.id, _stored(record.id).media_path)
    assert client.delete(url, headers=auth(superuser)).status_code == 200
    assert not path.exists()


def test_upload_limits_and_validation(client, app, prefix, company, superuser, auth):
    record = _make(company=company)
    url = f"{prefix}/announcements/{record.id}/media-upload"
    headers = auth(superuser)
    resp = client.post(url, data={}, headers=headers, content_type="multipart/form-data")
    assert resp.status_code == 400 and "file" in resp.get_json()["fields"]
    resp = _upload(client, url, headers, data=b"MZ\x90\x00binary", name="x.exe")
    assert resp.status_code == 415 and resp.get_json()["error"] == "ERR_UNSUPPORTED_MEDIA_TYPE"
    # Only pictures: the announcement dialog shows its media as an image.
    resp = _upload(client, url, headers, data=PDF, name="doc.pdf")
    assert resp.status_code == 415
    app.config["MEDIA_MAX_BYTES"] = 10
    resp = _upload(client, url, headers)
    assert resp.status_code == 413 and resp.get_json()["error"] == "ERR_FILE_TOO_LARGE"
    assert _stored(record.id).media_path is None
    resp = _upload(client, f"{prefix}/announcements/{record.id + 100}/media-upload", headers)
    assert resp.status_code == 404


def test_upload_when_the_publisher_company_is_gone(client, prefix, superuser, agent, auth):
    record = _make(company=None)
    body = client.get(f"{prefix}/announcements/{record.id}", headers=auth(agent)).get_json()
    assert body["mediaPath"] is None
    resp = _upload(client, f"{prefix}/announcements/{record.id}/media-upload", auth(superuser))
    assert resp.status_code == 200
    row = _stored(record.id)
    # The uploading super user's company takes it over, so the file has a home.
    assert row.company_id == superuser.company_id
    with client.get(_local(resp.get_json()["mediaUrl"])) as served:
        assert served.status_code == 200 and served.data == PNG
