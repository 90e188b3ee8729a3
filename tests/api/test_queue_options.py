"""Queue options: the chatbot tree CRUD, roles, tenancy, subtree deletion and node media."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import QueueOption
from whaticket.services.platform import media

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

ROW_KEYS = {
    "id",
    "queueId",
    "parentId",
    "title",
    "message",
    "option",
    "mediaPath",
    "mediaName",
    "createdAt",
    "updatedAt",
}


def _node(queue, option: str, parent: QueueOption | None = None, **over) -> QueueOption:
    node = QueueOption(
        company_id=queue.company_id,
        queue_id=queue.id,
        parent_id=parent.id if parent else None,
        title=over.pop("title", f"Option {option}"),
        option=option,
        **over,
    )
    db.session.add(node)
    db.session.flush()
    return node


def _ids() -> list[int]:
    return sorted(db.session.scalars(sa.select(QueueOption.id)))


def _upload(client, url: str, headers: dict, data: bytes = PNG, name: str = "menu.png"):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.fixture
def queue(admin):
    """A queue of the admin's company."""
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    return queue


# -- list / show -----------------------------------------------------------------


def test_list_roots_and_children_in_option_order(client, prefix, agent, auth, queue):
    ten = _node(queue, "10")
    two = _node(queue, "2")
    one = _node(queue, "1")
    child_b = _node(queue, "2", parent=one)
    child_a = _node(queue, "1", parent=one)
    other_queue = factories.QueueFactory(company=queue.company)
    db.session.flush()
    _node(other_queue, "1")
    db.session.commit()
    base = f"{prefix}/queue-options?queueId={queue.id}"
    for url in (base, base + "&parentId=null", base + "&parentId=-1"):
        resp = client.get(url, headers=auth(agent))
        assert resp.status_code == 200, resp.get_json()
        assert [o["id"] for o in resp.get_json()] == [one.id, two.id, ten.id]
    body = client.get(base, headers=auth(agent)).get_json()
    assert set(body[0]) == ROW_KEYS
    assert body[0]["queueId"] == queue.id and body[0]["parentId"] is None
    assert body[0]["mediaPath"] is None and body[0]["title"] == "Option 1"
    resp = client.get(f"{base}&parentId={one.id}", headers=auth(agent))
    assert [o["id"] for o in resp.get_json()] == [child_a.id, child_b.id]
    assert all(o["parentId"] == one.id for o in resp.get_json())


def test_list_and_show_are_company_checked(client, prefix, admin, auth, other_admin, queue):
    theirs = factories.QueueFactory(company=other_admin.company)
    db.session.flush()
    their_node = _node(theirs, "1")
    mine = _node(queue, "1")
    db.session.commit()
    resp = client.get(f"{prefix}/queue-options?queueId={theirs.id}", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_QUEUE_NOT_FOUND"}
    resp = client.get(f"{prefix}/queue-options?parentId={their_node.id}", headers=auth(admin))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_QUEUE_OPTION_NOT_FOUND"}
    resp = client.get(f"{prefix}/queue-options/{their_node.id}", headers=auth(admin))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_QUEUE_OPTION_NOT_FOUND"}
    resp = client.get(f"{prefix}/queue-options", headers=auth(admin))
    assert [o["id"] for o in resp.get_json()] == [mine.id]
    resp = client.get(f"{prefix}/queue-options/{mine.id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["option"] == "1"


def test_list_validation_and_auth(client, prefix, admin, auth):
    resp = client.get(f"{prefix}/queue-options?parentId=abc", headers=auth(admin))
    assert resp.status_code == 400 and "parentId" in resp.get_json()["fields"]
    resp = client.get(f"{prefix}/queue-options?queueId=x", headers=auth(admin))
    assert resp.status_code == 400 and "queueId" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/queue-options").status_code == 401
    assert client.get(f"{prefix}/queue-options/1").status_code == 401


# -- create ------------------------------------------------------------------------


def test_admin_creates_root_and_child(client, prefix, admin, auth, queue):
    resp = client.post(
        f"{prefix}/queue-options",
        json={"queueId": queue.id, "title": " Sales ", "option": " 1 ", "message": "Pick"},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    root = resp.get_json()
    assert set(root) == ROW_KEYS
    assert root["title"] == "Sales" and root["option"] == "1" and root["message"] == "Pick"
    assert root["parentId"] is None and root["queueId"] == queue.id
    resp = client.post(
        f"{prefix}/queue-options",
        json={"queueId": queue.id, "parentId": root["id"], "title": "New", "option": "1"},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    child = resp.get_json()
    assert child["parentId"] == root["id"] and child["message"] is None
    db.session.expire_all()
    row = db.session.get(QueueOption, child["id"])
    assert row.company_id == admin.company_id and row.parent_id == root["id"]


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"option": ""}, "option"),
        ({"option": "x" * 21}, "option"),
        ({"message": "x" * 10001}, "message"),
        ({"queueId": "abc"}, "queueId"),
        ({"parentId": "abc"}, "parentId"),
        ({"parentId": 999999}, "parentId"),
    ],
)
def test_create_validation(client, prefix, admin, auth, queue, over, field):
    data = {"queueId": queue.id, "title": "T", "option": "1"}
    data.update(over)
    resp = client.post(f"{prefix}/queue-options", json=data, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and field in body["fields"], body
    assert _ids() == []


def test_create_requires_fields(client, prefix, admin, auth):
    resp = client.post(f"{prefix}/queue-options", json={}, headers=auth(admin))
    assert resp.status_code == 400
    assert {"queueId", "title", "option"} <= set(resp.get_json()["fields"])


def test_create_parent_must_be_in_the_same_queue(client, prefix, admin, auth, queue):
    other_queue = factories.QueueFactory(company=admin.company)
    db.session.flush()
    foreign = _node(other_queue, "1")
    db.session.commit()
    resp = client.post(
        f"{prefix}/queue-options",
        json={"queueId": queue.id, "parentId": foreign.id, "title": "T", "option": "1"},
        headers=auth(admin),
    )
    assert resp.status_code == 400 and "parentId" in resp.get_json()["fields"]
    assert _ids() == [foreign.id]


def test_create_duplicated_option_among_siblings(client, prefix, admin, auth, queue):
    root = _node(queue, "a")
    _node(queue, "1", parent=root)
    db.session.commit()
    url = f"{prefix}/queue-options"
    resp = client.post(
        url, json={"queueId": queue.id, "title": "T", "option": "A"}, headers=auth(admin)
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_DUPLICATED_OPTION"
    resp = client.post(
        url,
        json={"queueId": queue.id, "parentId": root.id, "title": "T", "option": "1"},
        headers=auth(admin),
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_DUPLICATED_OPTION"
    # The same option under another parent is fine.
    resp = client.post(
        url, json={"queueId": queue.id, "title": "T", "option": "1"}, headers=auth(admin)
    )
    assert resp.status_code == 200


def test_create_needs_token_admin_and_own_queue(client, prefix, agent, auth, other_admin, queue):
    data = {"queueId": queue.id, "title": "T", "option": "1"}
    assert client.post(f"{prefix}/queue-options", json=data).status_code == 401
    resp = client.post(f"{prefix}/queue-options", json=data, headers=auth(agent))
    assert resp.status_code == 403
    resp = client.post(f"{prefix}/queue-options", json=data, headers=auth(other_admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_QUEUE_NOT_FOUND"}
    assert _ids() == []


# -- update ------------------------------------------------------------------------


def test_update_changes_only_sent_keys(client, prefix, admin, auth, queue):
    node = _node(queue, "1", message="Hello")
    db.session.commit()
    resp = client.put(
        f"{prefix}/queue-options/{node.id}", json={"title": "Renamed"}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["title"] == "Renamed" and body["message"] == "Hello" and body["option"] == "1"
    db.session.expire_all()
    assert db.session.get(QueueOption, node.id).title == "Renamed"


def test_update_moves_node_and_rejects_cycles(client, prefix, admin, auth, queue):
    a = _node(queue, "1")
    b = _node(queue, "2")
    a1 = _node(queue, "1", parent=a)
    a11 = _node(queue, "1", parent=a1)
    db.session.commit()
    url = f"{prefix}/queue-options"
    for target in (a.id, a1.id, a11.id):
        resp = client.put(f"{url}/{a.id}", json={"parentId": target}, headers=auth(admin))
        assert resp.status_code == 400 and "parentId" in resp.get_json()["fields"]
    resp = client.put(f"{url}/{a1.id}", json={"parentId": b.id}, headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["parentId"] == b.id
    resp = client.put(f"{url}/{a1.id}", json={"parentId": None}, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_DUPLICATED_OPTION"
    resp = client.put(f"{url}/{b.id}", json={"option": "1"}, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_DUPLICATED_OPTION"
    db.session.expire_all()
    assert db.session.get(QueueOption, a1.id).parent_id == b.id
    assert db.session.get(QueueOption, b.id).option == "2"


def test_update_validation_roles_and_tenancy(
    client, prefix, agent, admin, auth, other_admin, queue
):
    node = _node(queue, "1")
    db.session.commit()
    url = f"{prefix}/queue-options/{node.id}"
    resp = client.put(url, json={"title": ""}, headers=auth(admin))
    assert resp.status_code == 400 and "title" in resp.get_json()["fields"]
    assert client.put(url, json={"title": "X"}).status_code == 401
    assert client.put(url, json={"title": "X"}, headers=auth(agent)).status_code == 403
    resp = client.put(url, json={"title": "X"}, headers=auth(other_admin))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_QUEUE_OPTION_NOT_FOUND"}
    db.session.expire_all()
    assert db.session.get(QueueOption, node.id).title == "Option 1"


# -- delete ------------------------------------------------------------------------


def test_delete_removes_the_whole_subtree(client, prefix, admin, auth, queue):
    root = _node(queue, "1")
    keep = _node(queue, "2")
    child = _node(queue, "1", parent=root)
    _node(queue, "2", parent=root)
    _node(queue, "1", parent=child)
    keep_child = _node(queue, "1", parent=keep)
    db.session.commit()
    assert len(_ids()) == 6
    resp = client.delete(f"{prefix}/queue-options/{root.id}", headers=auth(admin))
    assert resp.status_code == 200
    db.session.expire_all()
    assert _ids() == sorted([keep.id, keep_child.id])


def test_delete_roles_and_tenancy(client, prefix, agent, auth, other_admin, queue):
    node = _node(queue, "1")
    db.session.commit()
    url = f"{prefix}/queue-options/{node.id}"
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=auth(agent)).status_code == 403
    resp = client.delete(url, headers=auth(other_admin))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_QUEUE_OPTION_NOT_FOUND"}
    assert _ids() == [node.id]


def test_deleting_a_queue_deletes_its_options(client, prefix, admin, auth, queue):
    root = _node(queue, "1")
    _node(queue, "1", parent=root)
    db.session.commit()
    assert client.delete(f"{prefix}/queue/{queue.id}", headers=auth(admin)).status_code == 200
    db.session.expire_all()
    assert _ids() == []


# -- media ---------------------------------------------------------------------------


def test_media_upload_replace_and_delete(client, prefix, admin, auth, queue):
    node = _node(queue, "1")
    child = _node(queue, "1", parent=node)
    db.session.commit()
    url = f"{prefix}/queue-options/{node.id}/media-upload"
    resp = _upload(client, url, auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["mediaName"] == "menu.png" and "sig=" in body["mediaPath"]
    with client.get(body["mediaPath"].split("localhost:8080", 1)[-1]) as served:
        assert served.status_code == 200 and served.data == PNG
    db.session.expire_all()
    first = db.session.get(QueueOption, node.id).media_path
    assert first.startswith("queue-options/")
    first_file = media.absolute_path(admin.company_id, first)
    resp = _upload(client, url, auth(admin), name="other.png")
    assert resp.status_code == 200 and resp.get_json()["mediaName"] == "other.png"
    assert not first_file.exists()
    db.session.expire_all()
    second_file = media.absolute_path(
        admin.company_id, db.session.get(QueueOption, node.id).media_path
    )
    resp = client.delete(url, headers=auth(admin))
    assert resp.status_code == 200
    assert resp.get_json()["mediaPath"] is None and resp.get_json()["mediaName"] is None
    assert not second_file.exists()
    db.session.expire_all()
    row = db.session.get(QueueOption, node.id)
    assert row.media_path is None and row.media_name is None
    # A subtree's files go with it.
    resp = _upload(client, f"{prefix}/queue-options/{child.id}/media-upload", auth(admin))
    db.session.expire_all()
    child_file = media.absolute_path(
        admin.company_id, db.session.get(QueueOption, child.id).media_path
    )
    assert (
        client.delete(f"{prefix}/queue-options/{node.id}", headers=auth(admin)).status_code == 200
    )
    assert not child_file.exists()


def test_media_upload_limits_and_validation(client, app, prefix, admin, auth, queue):
    node = _node(queue, "1")
    db.session.commit()
    url = f"{prefix}/queue-options/{node.id}/media-upload"
    resp = client.post(url, data={}, headers=auth(admin), content_type="multipart/form-data")
    assert resp.status_code == 400 and "file" in resp.get_json()["fields"]
    resp = _upload(client, url, auth(admin), data=b"MZ\x90\x00binary", name="x.exe")
    assert resp.status_code == 415 and resp.get_json()["error"] == "ERR_UNSUPPORTED_MEDIA_TYPE"
    app.config["MEDIA_MAX_BYTES"] = 10
    resp = _upload(client, url, auth(admin))
    assert resp.status_code == 413 and resp.get_json()["error"] == "ERR_FILE_TOO_LARGE"
    db.session.expire_all()
    assert db.session.get(QueueOption, node.id).media_path is None


def test_media_roles_and_tenancy(client, prefix, agent, auth, other_admin, queue):
    node = _node(queue, "1")
    db.session.commit()
    url = f"{prefix}/queue-options/{node.id}/media-upload"
    assert _upload(client, url, {}).status_code == 401
    assert _upload(client, url, auth(agent)).status_code == 403
    resp = _upload(client, url, auth(other_admin))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_QUEUE_OPTION_NOT_FOUND"}
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=auth(agent)).status_code == 403
    assert client.delete(url, headers=auth(other_admin)).status_code == 404
    db.session.expire_all()
    assert db.session.get(QueueOption, node.id).media_path is None
