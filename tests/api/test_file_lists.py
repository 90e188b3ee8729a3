"""File lists (`/files`): CRUD with options, uploads into media storage, delete-all scoped
to the caller's company, `company{cid}-file` events, roles and tenancy."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import FileList, FileListOption
from whaticket.services.platform import media

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n" + b"x" * 32


def _new(company, name: str = "Catalogue", options: tuple[str, ...] = ("Photo",)) -> FileList:
    record = FileList(company_id=company.id, name=name, message="See below")
    db.session.add(record)
    db.session.flush()
    for option in options:
        db.session.add(FileListOption(company_id=company.id, file_id=record.id, name=option))
    db.session.commit()
    db.session.refresh(record)
    return record


def _stored(list_id: int) -> FileList | None:
    db.session.expire_all()
    return db.session.get(FileList, list_id)


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(FileList.id)))


def _events(sock, company_id: int) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == f"company{company_id}-file"]


def _file_events(sock) -> list:
    return [e for e in sock.get_received() if e["name"].endswith("-file")]


def _upload(client, url: str, headers: dict, files: list[tuple[bytes, str]], ids, types=None):
    data: dict = {
        "files": [(io.BytesIO(b), name) for b, name in files],
        "id": [str(i) for i in ids],
    }
    if types is not None:
        data["mediaType"] = types
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


# -- list -------------------------------------------------------------------------


def test_page_by_name_searched_and_scoped(client, prefix, agent, auth, other_company):
    b = _new(agent.company, "B set")
    a = _new(agent.company, "A set", options=())
    _new(other_company, "A foreign")
    resp = client.get(f"{prefix}/files", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 2 and body["hasMore"] is False
    assert [f["id"] for f in body["files"]] == [a.id, b.id]
    assert [o["name"] for o in body["files"][1]["options"]] == ["Photo"]
    body = client.get(f"{prefix}/files?searchParam=b%20s", headers=auth(agent)).get_json()
    assert [f["id"] for f in body["files"]] == [b.id]
    resp = client.get(f"{prefix}/files?pageNumber=0", headers=auth(agent))
    assert resp.status_code == 400 and "pageNumber" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/files").status_code == 401


def test_plain_list_shape_search_and_scope(client, prefix, agent, auth, other_company):
    a = _new(agent.company, "Alpha")
    _new(agent.company, "Beta")
    _new(other_company, "Alpha elsewhere")
    resp = client.get(
        f"{prefix}/files/list?searchParam=alp&companyId={other_company.id}", headers=auth(agent)
    )
    assert resp.status_code == 200
    assert resp.get_json() == [
        {"id": a.id, "name": "Alpha", "message": "See below", "companyId": agent.company_id}
    ]
    assert len(client.get(f"{prefix}/files/list", headers=auth(agent)).get_json()) == 2
    assert client.get(f"{prefix}/files/list").status_code == 401


# -- create -----------------------------------------------------------------------


def test_admin_creates_with_options_and_company_hears(
    client, prefix, admin, auth, other_admin, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.post(
        f"{prefix}/files",
        json={
            "name": "Menu",
            "message": "Our menu",
            # A client-given path is ignored: only uploads set it.
            "options": [{"name": "Page 1", "path": "../x.png", "mediaType": "image/png"}],
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "Menu" and body["companyId"] == admin.company_id
    [option] = body["options"]
    assert option["name"] == "Page 1" and option["path"] is None and option["mediaUrl"] is None
    assert _events(mine, admin.company_id) == [{"action": "create", "fileList": body}]
    assert not _file_events(theirs)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "ab"}, "name"),
        ({"name": "Menu", "options": [{"path": "x"}]}, "options"),
        ({"name": "Menu", "options": "nope"}, "options"),
    ],
)
def test_create_validation(client, prefix, admin, auth, payload, field):
    resp = client.post(f"{prefix}/files", json=payload, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and field in body["fields"]
    assert _count() == 0


def test_create_duplicate_name_in_the_company_only(client, prefix, admin, auth, other_company):
    _new(admin.company, "Menu")
    _new(other_company, "Shared")
    resp = client.post(f"{prefix}/files", json={"name": "MENU"}, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_DUPLICATED_FILE_LIST"
    assert "name" in resp.get_json()["fields"]
    assert (
        client.post(f"{prefix}/files", json={"name": "Shared"}, headers=auth(admin)).status_code
        == 200
    )
    assert client.post(f"{prefix}/files", json={"name": "Other"}).status_code == 401


# -- upload and show ---------------------------------------------------------------


def test_upload_stores_files_and_show_signs_them(client, prefix, admin, auth, socket_client):
    record = _new(admin.company, options=("Photo", "Leaflet"))
    photo, leaflet = record.options
    sock = socket_client(admin)
    sock.get_received()
    resp = _upload(
        client,
        f"{prefix}/files/uploadList/{record.id}",
        auth(admin),
        [(PNG, "photo.png"), (PDF, "leaflet.pdf")],
        [photo.id, leaflet.id],
        ["image/png", "application/pdf"],
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert _events(sock, admin.company_id) == [{"action": "update", "fileList": body}]
    stored = {o.id: o for o in _stored(record.id).options}
    assert stored[photo.id].media_type == "image/png"
    assert stored[leaflet.id].media_type == "application/pdf"
    assert stored[photo.id].path.startswith(f"file-lists/{record.id}/")
    assert media.absolute_path(admin.company_id, stored[photo.id].path).read_bytes() == PNG
    resp = client.get(f"{prefix}/files/{record.id}", headers=auth(admin))
    assert resp.status_code == 200
    url = resp.get_json()["options"][0]["mediaUrl"]
    assert "sig=" in url
    parts = urlsplit(url)
    served = client.get(f"{parts.path}?{parts.query}")
    assert served.status_code == 200 and served.data == PNG
    served.close()


def test_upload_replaces_and_removes_the_old_file(client, prefix, admin, auth):
    record = _new(admin.company)
    [photo] = record.options
    url = f"{prefix}/files/uploadList/{record.id}"
    assert _upload(client, url, auth(admin), [(PNG, "a.png")], [photo.id]).status_code == 200
    old = _stored(record.id).options[0].path
    assert _upload(client, url, auth(admin), [(PDF, "b.pdf")], [photo.id]).status_code == 200
    new = _stored(record.id).options[0]
    assert new.path != old and new.media_type == "application/pdf"
    assert not media.delete(admin.company_id, old)  # already gone


def test_refused_upload_changes_nothing(client, app, prefix, admin, auth):
    record = _new(admin.company, options=("Photo", "Page"))
    photo, page = record.options
    url = f"{prefix}/files/uploadList/{record.id}"
    resp = _upload(
        client,
        url,
        auth(admin),
        [(PNG, "ok.png"), (b"<html><script>x</script></html>", "evil.html")],
        [photo.id, page.id],
        ["image/png", "text/html"],
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_UNSUPPORTED_MEDIA_TYPE" and "files" in body["fields"]
    assert all(o.path is None for o in _stored(record.id).options)
    root = media.company_root(admin.company_id)
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))
    app.config["MEDIA_MAX_BYTES"] = 10
    resp = _upload(client, url, auth(admin), [(PNG, "big.png")], [photo.id])
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_FILE_TOO_LARGE"


@pytest.mark.parametrize("ids", [[], ["x"], [999999], ["{photo}", "{photo}"]])
def test_upload_needs_one_known_option_per_file(client, prefix, admin, auth, ids):
    record = _new(admin.company)
    [photo] = record.options
    ids = [str(i).format(photo=photo.id) for i in ids]
    files = [(PNG, "a.png")] * max(len(ids), 1)
    resp = _upload(client, f"{prefix}/files/uploadList/{record.id}", auth(admin), files, ids)
    assert resp.status_code == 400 and "id" in resp.get_json()["fields"]
    assert _stored(record.id).options[0].path is None


def test_upload_without_files_and_foreign_option(client, prefix, admin, auth, other_company):
    record = _new(admin.company)
    theirs = _new(other_company, "Theirs")
    url = f"{prefix}/files/uploadList/{record.id}"
    resp = client.post(url, data={}, headers=auth(admin), content_type="multipart/form-data")
    assert resp.status_code == 400 and "files" in resp.get_json()["fields"]
    # An option of another company's list is not an option of this list.
    resp = _upload(client, url, auth(admin), [(PNG, "a.png")], [theirs.options[0].id])
    assert resp.status_code == 400


# -- update -----------------------------------------------------------------------


def test_admin_update_upserts_options_and_deletes_dropped_files(
    client, prefix, admin, auth, socket_client
):
    record = _new(admin.company, options=("Keep", "Drop"))
    keep, drop = record.options
    _upload(
        client,
        f"{prefix}/files/uploadList/{record.id}",
        auth(admin),
        [(PNG, "k.png"), (PDF, "d.pdf")],
        [keep.id, drop.id],
    )
    paths = {o.id: o.path for o in _stored(record.id).options}
    sock = socket_client(admin)
    sock.get_received()
    resp = client.put(
        f"{prefix}/files/{record.id}",
        json={
            "name": "Renamed",
            "message": "New text",
            "options": [{"id": keep.id, "name": "Kept"}, {"name": "Added"}],
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "Renamed" and body["message"] == "New text"
    assert [(o["id"] == keep.id, o["name"]) for o in body["options"]] == [
        (True, "Kept"),
        (False, "Added"),
    ]
    assert _events(sock, admin.company_id) == [{"action": "update", "fileList": body}]
    assert db.session.get(FileListOption, drop.id) is None
    assert media.absolute_path(admin.company_id, paths[keep.id]).is_file()
    assert not (media.company_root(admin.company_id) / paths[drop.id]).exists()


def test_update_without_options_keeps_them(client, prefix, admin, auth):
    record = _new(admin.company, options=("A", "B"))
    resp = client.put(f"{prefix}/files/{record.id}", json={"message": None}, headers=auth(admin))
    assert resp.status_code == 200 and len(resp.get_json()["options"]) == 2


def test_update_roles_validation_and_tenancy(client, prefix, admin, agent, auth, other_admin):
    record = _new(admin.company, "Mine")
    _new(admin.company, "Taken")
    url = f"{prefix}/files/{record.id}"
    resp = client.put(url, json={"name": "By agent"}, headers=auth(agent))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    for payload in ({"name": "ab"}, {"name": "taken"}, {"options": [{"id": 1}]}):
        resp = client.put(url, json=payload, headers=auth(admin))
        assert resp.status_code == 400 and resp.get_json()["fields"]
    resp = client.put(url, json={"name": "Stolen"}, headers=auth(other_admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_FILE_LIST_NOT_FOUND"}
    stored = _stored(record.id)
    assert stored.name == "Mine" and len(stored.options) == 1
    assert client.put(url, json={"name": "Anon"}).status_code == 401


# -- delete -----------------------------------------------------------------------


def test_delete_removes_list_options_and_files(
    client, prefix, admin, auth, other_admin, socket_client
):
    record = _new(admin.company)
    _upload(
        client,
        f"{prefix}/files/uploadList/{record.id}",
        auth(admin),
        [(PNG, "a.png")],
        [record.options[0].id],
    )
    path = _stored(record.id).options[0].path
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.delete(f"{prefix}/files/{record.id}", headers=auth(admin))
    assert resp.status_code == 200 and _stored(record.id) is None
    assert db.session.scalar(sa.select(sa.func.count(FileListOption.id))) == 0
    assert not (media.company_root(admin.company_id) / path).exists()
    assert _events(mine, admin.company_id) == [
        {"action": "delete", "fileListId": record.id, "fileId": record.id}
    ]
    assert not _file_events(theirs)


def test_delete_all_only_touches_own_company(client, prefix, admin, auth, other_company):
    _new(admin.company, "One")
    _new(admin.company, "Two")
    theirs = _new(other_company, "Theirs")
    resp = client.delete(f"{prefix}/files", headers=auth(admin))
    assert resp.status_code == 200
    db.session.expire_all()
    assert [f.id for f in db.session.scalars(sa.select(FileList))] == [theirs.id]
    assert len(_stored(theirs.id).options) == 1
    assert client.delete(f"{prefix}/files").status_code == 401


def test_other_company_file_list_is_404_everywhere(client, prefix, admin, auth, other_company):
    theirs = _new(other_company, "Theirs")
    h = auth(admin)
    assert client.get(f"{prefix}/files/{theirs.id}", headers=h).status_code == 404
    assert client.delete(f"{prefix}/files/{theirs.id}", headers=h).status_code == 404
    resp = _upload(
        client,
        f"{prefix}/files/uploadList/{theirs.id}",
        h,
        [(PNG, "a.png")],
        [theirs.options[0].id],
    )
    assert resp.status_code == 404
    stored = _stored(theirs.id)
    assert stored is not None and stored.options[0].path is None
    assert client.get(f"{prefix}/files/999999", headers=h).status_code == 404
    assert client.get(f"{prefix}/files/{theirs.id}").status_code == 401
