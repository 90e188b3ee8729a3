"""Quick messages: visibility (company-wide vs personal), CRUD, role rules, tenancy, events."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import QuickMessage


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(QuickMessage.id)))


def _names(company_id: int) -> tuple[str, str]:
    return f"company-{company_id}-quickmessage", f"company{company_id}-quickemessage"


def _qm_events(sock) -> list[tuple[str, dict]]:
    """Every quick-message event (either spelling) the socket received."""
    return [
        (e["name"], e["args"][0])
        for e in sock.get_received()
        if e["name"].endswith(("-quickmessage", "-quickemessage"))
    ]


def _company_wide(company, shortcode: str = "hello", **over) -> QuickMessage:
    return factories.QuickMessageFactory(company=company, shortcode=shortcode, **over)


def _personal(user, shortcode: str = "mine", **over) -> QuickMessage:
    return factories.QuickMessageFactory(
        company=user.company, user_id=user.id, shortcode=shortcode, **over
    )


# -- list -------------------------------------------------------------------------


def test_agent_sees_company_wide_and_own_only(client, prefix, agent, auth, other_company):
    colleague = factories.UserFactory(company=agent.company)
    shared = _company_wide(agent.company, "b-shared")
    own = _personal(agent, "a-own")
    _personal(colleague, "c-private")
    _company_wide(other_company, "foreign")
    resp = client.get(f"{prefix}/quick-messages", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 2 and body["hasMore"] is False
    assert [r["id"] for r in body["records"]] == [own.id, shared.id]
    assert body["records"][0]["geral"] is False and body["records"][1]["geral"] is True
    # Asking for a colleague's replies changes nothing for an agent.
    body = client.get(
        f"{prefix}/quick-messages?userId={colleague.id}", headers=auth(agent)
    ).get_json()
    assert [r["id"] for r in body["records"]] == [own.id, shared.id]


def test_admin_may_view_one_users_replies(client, prefix, admin, agent, auth):
    shared = _company_wide(admin.company, "b-shared")
    agents = _personal(agent, "a-agent")
    _personal(admin, "c-admin")
    body = client.get(f"{prefix}/quick-messages?userId={agent.id}", headers=auth(admin)).get_json()
    assert [r["id"] for r in body["records"]] == [agents.id, shared.id]


def test_list_searches_shortcode_and_paginates(client, prefix, agent, auth):
    for i in range(21):
        _company_wide(agent.company, f"greet{i:02d}", message="unrelated")
    _company_wide(agent.company, "bye", message="greet in the text only")
    body = client.get(f"{prefix}/quick-messages?searchParam=GREET", headers=auth(agent)).get_json()
    assert body["count"] == 21 and body["hasMore"] is True and len(body["records"]) == 20
    page2 = client.get(
        f"{prefix}/quick-messages?searchParam=greet&pageNumber=2", headers=auth(agent)
    ).get_json()
    assert [r["shortcode"] for r in page2["records"]] == ["greet20"]


def test_list_validation_and_token(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/quick-messages?pageNumber=x&userId=y", headers=auth(agent))
    assert resp.status_code == 400
    assert {"pageNumber", "userId"} <= set(resp.get_json()["fields"])
    assert client.get(f"{prefix}/quick-messages").status_code == 401


def test_plain_list_has_same_visibility_and_ignores_company_id(
    client, prefix, agent, auth, other_company
):
    colleague = factories.UserFactory(company=agent.company)
    shared = _company_wide(agent.company, "b-shared")
    own = _personal(agent, "a-own")
    _personal(colleague, "c-private")
    _company_wide(other_company, "foreign")
    resp = client.get(
        f"{prefix}/quick-messages/list?companyId={other_company.id}", headers=auth(agent)
    )
    assert resp.status_code == 200
    assert [r["id"] for r in resp.get_json()] == [own.id, shared.id]
    assert client.get(f"{prefix}/quick-messages/list").status_code == 401


# -- create -----------------------------------------------------------------------


def test_agent_creates_a_personal_reply_seen_only_by_them(
    client, prefix, agent, auth, other_admin, socket_client
):
    colleague = factories.UserFactory(company=agent.company)
    mine, peer, theirs = socket_client(agent), socket_client(colleague), socket_client(other_admin)
    for sock in (mine, peer, theirs):
        sock.get_received()
    resp = client.post(
        f"{prefix}/quick-messages",
        json={"shortcode": "/thanks", "message": "Thank you!"},
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["userId"] == agent.id and body["geral"] is False
    assert body["companyId"] == agent.company_id and body["mediaPath"] is None
    record = db.session.get(QuickMessage, body["id"])
    assert record.user_id == agent.id and record.message == "Thank you!"
    expected = {"action": "create", "record": body}
    assert _qm_events(mine) == [(name, expected) for name in _names(agent.company_id)]
    assert _qm_events(peer) == []
    assert _qm_events(theirs) == []


def test_admin_creates_a_company_wide_reply_for_everyone(
    client, prefix, admin, agent, auth, other_admin, socket_client
):
    peer, theirs = socket_client(agent), socket_client(other_admin)
    peer.get_received(), theirs.get_received()
    resp = client.post(
        f"{prefix}/quick-messages",
        json={"shortcode": "hours", "message": "We open at 9.", "geral": True},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["userId"] is None and body["geral"] is True
    assert db.session.get(QuickMessage, body["id"]).user_id is None
    expected = {"action": "create", "record": body}
    assert _qm_events(peer) == [(name, expected) for name in _names(admin.company_id)]
    assert _qm_events(theirs) == []


def test_agent_cannot_create_a_company_wide_reply(client, prefix, agent, auth):
    resp = client.post(
        f"{prefix}/quick-messages",
        json={"shortcode": "hours", "message": "Open", "geral": True},
        headers=auth(agent),
    )
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _count() == 0


def test_create_validation_names_each_field(client, prefix, agent, auth):
    resp = client.post(
        f"{prefix}/quick-messages",
        json={"shortcode": "two words", "message": "", "geral": "maybe"},
        headers=auth(agent),
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert {"shortcode", "message", "geral"} <= set(body["fields"])
    resp = client.post(
        f"{prefix}/quick-messages", json={"shortcode": "a", "message": "x"}, headers=auth(agent)
    )
    assert resp.status_code == 400 and "shortcode" in resp.get_json()["fields"]
    assert _count() == 0


def test_create_needs_a_token(client, prefix, app):
    resp = client.post(f"{prefix}/quick-messages", json={"shortcode": "hi", "message": "Hi"})
    assert resp.status_code == 401 and _count() == 0


# -- show -------------------------------------------------------------------------


def test_show_follows_visibility(client, prefix, admin, agent, auth, other_company):
    colleague = factories.UserFactory(company=agent.company)
    shared = _company_wide(agent.company)
    own = _personal(agent)
    private = _personal(colleague)
    foreign = _company_wide(other_company)
    for record in (shared, own):
        resp = client.get(f"{prefix}/quick-messages/{record.id}", headers=auth(agent))
        assert resp.status_code == 200 and resp.get_json()["id"] == record.id
    resp = client.get(f"{prefix}/quick-messages/{private.id}", headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_QUICKMESSAGE_FOUND"}
    assert (
        client.get(f"{prefix}/quick-messages/{private.id}", headers=auth(admin)).status_code == 200
    )
    assert (
        client.get(f"{prefix}/quick-messages/{foreign.id}", headers=auth(admin)).status_code == 404
    )
    assert client.get(f"{prefix}/quick-messages/{shared.id}").status_code == 401


# -- update -----------------------------------------------------------------------


def test_owner_updates_personal_reply_and_only_they_hear(
    client, prefix, agent, auth, socket_client
):
    colleague = factories.UserFactory(company=agent.company)
    own = _personal(agent, "old")
    mine, peer = socket_client(agent), socket_client(colleague)
    mine.get_received(), peer.get_received()
    resp = client.put(
        f"{prefix}/quick-messages/{own.id}",
        json={"shortcode": "new", "message": "New text"},
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["shortcode"] == "new" and body["userId"] == agent.id
    db.session.expire_all()
    assert db.session.get(QuickMessage, own.id).message == "New text"
    expected = {"action": "update", "record": body}
    assert _qm_events(mine) == [(name, expected) for name in _names(agent.company_id)]
    assert _qm_events(peer) == []


def test_admin_edit_keeps_the_owner(client, prefix, admin, agent, auth):
    own = _personal(agent)
    resp = client.put(
        f"{prefix}/quick-messages/{own.id}", json={"message": "Fixed typo"}, headers=auth(admin)
    )
    assert resp.status_code == 200 and resp.get_json()["userId"] == agent.id


def test_agent_cannot_edit_company_wide_or_make_own_geral(client, prefix, agent, auth):
    shared = _company_wide(agent.company, message="Original")
    own = _personal(agent)
    resp = client.put(
        f"{prefix}/quick-messages/{shared.id}", json={"message": "Hacked"}, headers=auth(agent)
    )
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    resp = client.put(
        f"{prefix}/quick-messages/{own.id}", json={"geral": True}, headers=auth(agent)
    )
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(QuickMessage, shared.id).message == "Original"
    assert db.session.get(QuickMessage, own.id).user_id == agent.id


def test_admin_makes_a_personal_reply_company_wide(
    client, prefix, admin, agent, auth, socket_client
):
    colleague = factories.UserFactory(company=agent.company)
    own = _personal(agent)
    owner_sock, peer = socket_client(agent), socket_client(colleague)
    owner_sock.get_received(), peer.get_received()
    resp = client.put(
        f"{prefix}/quick-messages/{own.id}", json={"geral": True}, headers=auth(admin)
    )
    assert resp.status_code == 200 and resp.get_json()["geral"] is True
    db.session.expire_all()
    assert db.session.get(QuickMessage, own.id).user_id is None
    # Everyone now hears the update; the owner also gets the delete of the personal copy first.
    assert [e[1]["action"] for e in _qm_events(peer)] == ["update", "update"]
    assert [e[1]["action"] for e in _qm_events(owner_sock)] == [
        "delete",
        "delete",
        "update",
        "update",
    ]


def test_update_colleagues_private_or_other_company_is_404(
    client, prefix, admin, agent, auth, other_company
):
    colleague = factories.UserFactory(company=agent.company)
    private = _personal(colleague, message="Private")
    foreign = _company_wide(other_company, message="Foreign")
    resp = client.put(
        f"{prefix}/quick-messages/{private.id}", json={"message": "Mine"}, headers=auth(agent)
    )
    assert resp.status_code == 404
    resp = client.put(
        f"{prefix}/quick-messages/{foreign.id}", json={"message": "Mine"}, headers=auth(admin)
    )
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(QuickMessage, private.id).message == "Private"
    assert db.session.get(QuickMessage, foreign.id).message == "Foreign"


def test_update_validation_and_token(client, prefix, agent, auth):
    own = _personal(agent, "keep")
    resp = client.put(
        f"{prefix}/quick-messages/{own.id}", json={"shortcode": "has space"}, headers=auth(agent)
    )
    assert resp.status_code == 400 and "shortcode" in resp.get_json()["fields"]
    assert client.put(f"{prefix}/quick-messages/{own.id}", json={"message": "x"}).status_code == 401
    db.session.expire_all()
    assert db.session.get(QuickMessage, own.id).shortcode == "keep"


# -- delete -----------------------------------------------------------------------


def test_owner_deletes_personal_reply_and_only_they_hear(
    client, prefix, agent, auth, socket_client
):
    colleague = factories.UserFactory(company=agent.company)
    own = _personal(agent)
    mine, peer = socket_client(agent), socket_client(colleague)
    mine.get_received(), peer.get_received()
    resp = client.delete(f"{prefix}/quick-messages/{own.id}", headers=auth(agent))
    assert resp.status_code == 200
    assert db.session.get(QuickMessage, own.id) is None
    expected = {"action": "delete", "id": own.id}
    assert _qm_events(mine) == [(name, expected) for name in _names(agent.company_id)]
    assert _qm_events(peer) == []


def test_admin_deletes_company_wide_reply_for_everyone(
    client, prefix, admin, agent, auth, other_admin, socket_client
):
    shared = _company_wide(admin.company)
    peer, theirs = socket_client(agent), socket_client(other_admin)
    peer.get_received(), theirs.get_received()
    resp = client.delete(f"{prefix}/quick-messages/{shared.id}", headers=auth(admin))
    assert resp.status_code == 200
    assert db.session.get(QuickMessage, shared.id) is None
    expected = {"action": "delete", "id": shared.id}
    assert _qm_events(peer) == [(name, expected) for name in _names(admin.company_id)]
    assert _qm_events(theirs) == []


def test_delete_rules_tenancy_and_token(client, prefix, admin, agent, auth, other_company):
    colleague = factories.UserFactory(company=agent.company)
    shared = _company_wide(agent.company)
    private = _personal(colleague)
    foreign = _company_wide(other_company)
    resp = client.delete(f"{prefix}/quick-messages/{shared.id}", headers=auth(agent))
    assert resp.status_code == 403
    assert (
        client.delete(f"{prefix}/quick-messages/{private.id}", headers=auth(agent)).status_code
        == 404
    )
    assert (
        client.delete(f"{prefix}/quick-messages/{foreign.id}", headers=auth(admin)).status_code
        == 404
    )
    assert client.delete(f"{prefix}/quick-messages/{shared.id}").status_code == 401
    assert _count() == 3
    # An admin may remove an agent's personal reply.
    assert (
        client.delete(f"{prefix}/quick-messages/{private.id}", headers=auth(admin)).status_code
        == 200
    )
    assert _count() == 2
