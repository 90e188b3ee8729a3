"""Help videos: global reading for every company, super-only writes, validation, events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Help

ROW_KEYS = {"id", "title", "description", "video", "link", "createdAt", "updatedAt"}


def _make(title: str = "Getting started", **over) -> Help:
    values = {"description": "How to", "video": "dQw4w9WgXcQ", "link": None}
    values.update(over)
    record = Help(title=title, **values)
    db.session.add(record)
    db.session.commit()
    return record


def _stored(help_id: int) -> Help | None:
    db.session.expire_all()
    return db.session.get(Help, help_id)


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Help.id)))


def _help_events(sock) -> list[tuple[str, dict]]:
    return [(e["name"], e["args"][0]) for e in sock.get_received() if e["name"].endswith("help")]


@pytest.fixture
def other_agent(other_company):
    """A non-admin user of the second tenant."""
    return factories.UserFactory(company=other_company)


# -- reading ------------------------------------------------------------------------


def test_every_company_reads_the_same_helps_by_title(
    client, prefix, agent, admin, other_agent, auth
):
    b = _make("Bravo")
    a = _make("alpha")
    c = _make("Charlie")
    for user in (agent, admin, other_agent):
        resp = client.get(f"{prefix}/helps/?searchParam=&pageNumber=1", headers=auth(user))
        assert resp.status_code == 200
        body = resp.get_json()
        assert body["count"] == 3 and body["hasMore"] is False
        assert [r["id"] for r in body["records"]] == [a.id, b.id, c.id]
        assert set(body["records"][0]) == ROW_KEYS
        listed = client.get(f"{prefix}/helps/list", headers=auth(user)).get_json()
        assert [r["title"] for r in listed] == [r["title"] for r in body["records"]]
        shown = client.get(f"{prefix}/helps/{b.id}", headers=auth(user)).get_json()
        assert shown["title"] == "Bravo" and shown["video"] == "dQw4w9WgXcQ"


def test_page_searches_and_paginates(client, prefix, agent, auth):
    for i in range(21):
        _make(f"Queues {i:02d}")
    _make("Tags", description="Sorting QUEUES by tag")
    _make("Unrelated", description="nothing")
    body = client.get(f"{prefix}/helps?searchParam=queues", headers=auth(agent)).get_json()
    assert body["count"] == 22 and body["hasMore"] is True and len(body["records"]) == 20
    page2 = client.get(
        f"{prefix}/helps?searchParam=queues&pageNumber=2", headers=auth(agent)
    ).get_json()
    assert [r["title"] for r in page2["records"]] == ["Queues 20", "Tags"]
    assert client.get(f"{prefix}/helps?pageNumber=0", headers=auth(agent)).status_code == 400


def test_show_missing_and_unauthenticated(client, prefix, agent, auth):
    record = _make()
    resp = client.get(f"{prefix}/helps/{record.id + 1}", headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_HELP_FOUND"}
    for url in ("/helps", "/helps/list", f"/helps/{record.id}"):
        assert client.get(prefix + url).status_code == 401


# -- writing --------------------------------------------------------------------------


def test_super_creates(client, prefix, superuser, auth):
    resp = client.post(
        f"{prefix}/helps",
        json={
            "title": "  Connections  ",
            "description": "",
            "video": " abc123 ",
            "link": "https://docs.example.com/connections",
        },
        headers=auth(superuser),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == ROW_KEYS
    assert (body["title"], body["description"], body["video"], body["link"]) == (
        "Connections",
        None,
        "abc123",
        "https://docs.example.com/connections",
    )
    assert _stored(body["id"]).title == "Connections"
    minimal = client.post(f"{prefix}/helps/", json={"title": "Only"}, headers=auth(superuser))
    assert minimal.status_code == 200 and minimal.get_json()["video"] is None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"title": ""},
        {"title": "  "},
        {"title": None},
        {"title": "x" * 256},
        {"title": "ok", "video": "v" * 501},
        {"title": "ok", "link": "javascript:alert(1)"},
        {"title": "ok", "link": "not a url"},
        {"title": "ok", "link": "https://example.com/" + "x" * 500},
        {"title": "ok", "description": "d" * 10001},
        {"title": "ok", "description": 5},
    ],
)
def test_create_validation_creates_nothing(client, prefix, superuser, auth, payload):
    resp = client.post(f"{prefix}/helps", json=payload, headers=auth(superuser))
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and resp.get_json()["fields"]
    assert _count() == 0


def test_only_super_users_write(client, prefix, admin, agent, other_admin, auth):
    record = _make("Keep")
    url = f"{prefix}/helps/{record.id}"
    for user in (admin, agent, other_admin):
        headers = auth(user)
        for resp in (
            client.post(f"{prefix}/helps", json={"title": "x"}, headers=headers),
            client.put(url, json={"title": "x"}, headers=headers),
            client.delete(url, headers=headers),
        ):
            assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    for resp in (
        client.post(f"{prefix}/helps", json={"title": "x"}),
        client.put(url, json={"title": "x"}),
        client.delete(url),
    ):
        assert resp.status_code == 401
    assert _count() == 1 and _stored(record.id).title == "Keep"


def test_update_changes_only_keys_sent_and_clears_with_null(client, prefix, other_company, auth):
    record = _make("Old", description="Desc", link="https://a.example.com")
    other_super = factories.AdminFactory(company=other_company, super=True)
    resp = client.put(
        f"{prefix}/helps/{record.id}",
        json={"id": 999, "title": "New", "link": None, "createdAt": "2000-01-01"},
        headers=auth(other_super),
    )
    assert resp.status_code == 200, resp.get_json()
    row = _stored(record.id)
    assert (row.title, row.description, row.video, row.link) == ("New", "Desc", "dQw4w9WgXcQ", None)


def test_update_validation_changes_nothing(client, prefix, superuser, auth):
    record = _make("Stay", link="https://a.example.com")
    url = f"{prefix}/helps/{record.id}"
    for payload in ({"title": ""}, {"link": "ftp://x.example.com"}, {"video": "v" * 501}):
        resp = client.put(url, json=payload, headers=auth(superuser))
        assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    row = _stored(record.id)
    assert (row.title, row.link, row.video) == ("Stay", "https://a.example.com", "dQw4w9WgXcQ")
    resp = client.put(f"{prefix}/helps/{record.id + 1}", json={}, headers=auth(superuser))
    assert resp.status_code == 404


def test_delete(client, prefix, superuser, agent, auth):
    record = _make()
    resp = client.delete(f"{prefix}/helps/{record.id}", headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Help deleted"}
    assert _stored(record.id) is None
    assert client.get(f"{prefix}/helps/{record.id}", headers=auth(agent)).status_code == 404
    assert client.delete(f"{prefix}/helps/{record.id}", headers=auth(superuser)).status_code == 404


# -- events ---------------------------------------------------------------------------


def test_changes_reach_every_company(
    client, prefix, company, superuser, agent, other_agent, auth, socket_client
):
    mine, theirs = socket_client(agent), socket_client(other_agent)
    mine.get_received(), theirs.get_received()
    created = client.post(
        f"{prefix}/helps", json={"title": "Intro", "video": "abc"}, headers=auth(superuser)
    ).get_json()
    client.put(
        f"{prefix}/helps/{created['id']}", json={"title": "Intro 2"}, headers=auth(superuser)
    )
    client.delete(f"{prefix}/helps/{created['id']}", headers=auth(superuser))
    saas_name = f"company-{company.id}-help"
    mine_events = _help_events(mine)
    theirs_events = _help_events(theirs)
    for events in (mine_events, theirs_events):
        global_events = [(n, d) for n, d in events if n == "company-help"]
        assert [d["action"] for _, d in global_events] == ["create", "update", "delete"]
        assert global_events[0][1] == {"action": "create", "record": created}
        assert global_events[1][1]["record"]["title"] == "Intro 2"
        assert global_events[2][1] == {"action": "delete", "id": created["id"]}
    # The SaaS name goes only to the acting super user's company.
    assert [d["action"] for n, d in mine_events if n == saas_name] == ["create", "update", "delete"]
    assert not [n for n, _ in theirs_events if n != "company-help"]


def test_failed_write_emits_nothing(client, prefix, superuser, agent, auth, socket_client):
    sock = socket_client(agent)
    sock.get_received()
    resp = client.post(f"{prefix}/helps", json={"title": ""}, headers=auth(superuser))
    assert resp.status_code == 400
    assert (
        client.post(f"{prefix}/helps", json={"title": "x"}, headers=auth(agent)).status_code == 403
    )
    assert _help_events(sock) == []
