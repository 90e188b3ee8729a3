"""Internal chat events reach the chat's members only, never the company or another tenant."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories


def _chat_events(sock) -> list[tuple[str, dict[str, Any]]]:
    """Every chat-related event the socket received, in order."""
    return [(e["name"], e["args"][0]) for e in sock.get_received() if "chat" in e["name"]]


@pytest.fixture
def people(admin, agent, other_admin):
    """owner (agent), member (admin), outsider (same company), foreigner (other company)."""
    return {
        "owner": agent,
        "member": admin,
        "outsider": factories.UserFactory(company=agent.company),
        "foreigner": other_admin,
    }


@pytest.fixture
def sockets(people, socket_client):
    """A connected socket per person, with the connect events already drained."""
    socks = {role: socket_client(user) for role, user in people.items()}
    for sock in socks.values():
        assert sock.is_connected()
        sock.get_received()
    return socks


def _assert_silent(sockets, *roles: str) -> None:
    for role in roles:
        assert _chat_events(sockets[role]) == [], role


def test_create_notifies_each_member_on_their_own_event(client, prefix, auth, people, sockets):
    owner, member = people["owner"], people["member"]
    cid = owner.company_id
    resp = client.post(
        f"{prefix}/chats",
        json={"title": "Plantão", "users": [{"id": member.id}]},
        headers=auth(owner),
    )
    assert resp.status_code == 200
    record = resp.get_json()
    expected = {"action": "create", "record": record}
    assert _chat_events(sockets["owner"]) == [(f"company-{cid}-chat-user-{owner.id}", expected)]
    assert _chat_events(sockets["member"]) == [(f"company-{cid}-chat-user-{member.id}", expected)]
    _assert_silent(sockets, "outsider", "foreigner")


def test_new_message_goes_to_members_only(client, prefix, auth, people, sockets):
    owner, member = people["owner"], people["member"]
    cid = owner.company_id
    chat = factories.ChatFactory(company=owner.company, owner=owner, users=[member])
    resp = client.post(
        f"{prefix}/chats/{chat.id}/messages", json={"message": "Olá"}, headers=auth(member)
    )
    assert resp.status_code == 200
    new_message = resp.get_json()
    for role in ("owner", "member"):
        events = _chat_events(sockets[role])
        # The open conversation listens on the numeric id, the header popover on the other.
        assert [name for name, _ in events] == [
            f"company-{cid}-chat-{chat.id}",
            f"company-{cid}-chat",
        ]
        for _, data in events:
            assert data["action"] == "new-message"
            assert data["newMessage"] == new_message
            assert data["chat"] == new_message["chat"]
            assert data["chat"]["lastMessage"] == f"{member.name}: Olá"
            assert {u["userId"]: u["unreads"] for u in data["chat"]["users"]} == {
                owner.id: 1,
                member.id: 0,
            }
    _assert_silent(sockets, "outsider", "foreigner")


def test_read_updates_only_the_readers_own_views(client, prefix, auth, people, sockets):
    owner, member = people["owner"], people["member"]
    cid = owner.company_id
    chat = factories.ChatFactory(company=owner.company, owner=owner, users=[member])
    client.post(f"{prefix}/chats/{chat.id}/messages", json={"message": "x"}, headers=auth(owner))
    for sock in sockets.values():
        sock.get_received()
    resp = client.post(
        f"{prefix}/chats/{chat.id}/read", json={"userId": member.id}, headers=auth(member)
    )
    assert resp.status_code == 200
    expected = {"action": "update", "chat": resp.get_json()}
    assert _chat_events(sockets["member"]) == [
        (f"company-{cid}-chat-{chat.id}", expected),
        (f"company-{cid}-chat", expected),
    ]
    _assert_silent(sockets, "owner", "outsider", "foreigner")


def test_update_tells_kept_added_and_removed_members_apart(
    client, prefix, auth, people, sockets, socket_client
):
    owner, member, outsider = people["owner"], people["member"], people["outsider"]
    cid = owner.company_id
    leaving = factories.UserFactory(company=owner.company)
    chat = factories.ChatFactory(company=owner.company, owner=owner, users=[member, leaving])
    leaving_sock = socket_client(leaving)
    leaving_sock.get_received()
    resp = client.put(
        f"{prefix}/chats/{chat.id}",
        json={"title": "Renamed", "users": [{"id": member.id}, {"id": outsider.id}]},
        headers=auth(owner),
    )
    assert resp.status_code == 200
    record = resp.get_json()
    for role in ("owner", "member"):
        uid = people[role].id
        assert _chat_events(sockets[role]) == [
            (f"company-{cid}-chat-user-{uid}", {"action": "update", "record": record})
        ]
    # The new member has no such chat listed yet: it is a "create" for them.
    assert _chat_events(sockets["outsider"]) == [
        (f"company-{cid}-chat-user-{outsider.id}", {"action": "create", "record": record})
    ]
    assert _chat_events(leaving_sock) == [
        (f"company-{cid}-chat", {"action": "delete", "id": chat.id})
    ]
    _assert_silent(sockets, "foreigner")


def test_delete_goes_to_members_only(client, prefix, auth, people, sockets):
    owner, member = people["owner"], people["member"]
    cid = owner.company_id
    chat = factories.ChatFactory(company=owner.company, owner=owner, users=[member])
    assert client.delete(f"{prefix}/chats/{chat.uuid}", headers=auth(owner)).status_code == 200
    expected = [(f"company-{cid}-chat", {"action": "delete", "id": chat.id})]
    assert _chat_events(sockets["owner"]) == expected
    assert _chat_events(sockets["member"]) == expected
    _assert_silent(sockets, "outsider", "foreigner")


def test_failed_requests_emit_nothing(client, prefix, auth, people, sockets):
    owner, member, outsider = people["owner"], people["member"], people["outsider"]
    chat = factories.ChatFactory(company=owner.company, owner=owner, users=[member])
    attempts = [
        # A foreign member rolls the whole create back, events included.
        client.post(
            f"{prefix}/chats",
            json={"title": "x", "users": [{"id": member.id}, {"id": people["foreigner"].id}]},
            headers=auth(owner),
        ),
        client.put(
            f"{prefix}/chats/{chat.id}",
            json={"users": [{"id": people["foreigner"].id}]},
            headers=auth(owner),
        ),
        client.put(f"{prefix}/chats/{chat.id}", json={"title": "x"}, headers=auth(outsider)),
        client.post(
            f"{prefix}/chats/{chat.id}/messages", json={"message": "x"}, headers=auth(outsider)
        ),
        client.post(
            f"{prefix}/chats/{chat.id}/messages", json={"message": " "}, headers=auth(owner)
        ),
        client.post(
            f"{prefix}/chats/{chat.id}/read", json={"userId": owner.id}, headers=auth(member)
        ),
        client.delete(f"{prefix}/chats/{chat.id}", headers=auth(people["foreigner"])),
    ]
    assert [r.status_code for r in attempts] == [400, 400, 404, 404, 400, 403, 404]
    _assert_silent(sockets, "owner", "member", "outsider", "foreigner")
