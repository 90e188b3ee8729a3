"""Internal chat: membership-only visibility, CRUD, messages, unread counters, plan flag."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Chat, ChatMessage, ChatUser, Plan, User

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Clock:
    """The app's FROZEN_NOW, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock(app) -> Clock:
    clk = Clock()
    app.config["FROZEN_NOW"] = clk
    return clk


def _chat(owner, *others, **over) -> Chat:
    return factories.ChatFactory(company=owner.company, owner=owner, users=list(others), **over)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _unreads(chat_id: int) -> dict[int, int]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(ChatUser.user_id, ChatUser.unreads).where(ChatUser.chat_id == chat_id)
    )
    return dict(rows.all())


def _member_ids(chat_id: int) -> list[int]:
    db.session.expire_all()
    return sorted(
        db.session.scalars(sa.select(ChatUser.user_id).where(ChatUser.chat_id == chat_id))
    )


def _refs(chat: Chat) -> list[str]:
    """Every path form of a chat: its uuid (SPA URLs) and numeric id (SPA API calls)."""
    return [chat.uuid, str(chat.id)]


def _every_chat_request(client, prefix, chat: Chat, headers) -> list:
    """One request per /chats/<id>* endpoint, each body valid."""
    responses = []
    for ref in _refs(chat):
        base = f"{prefix}/chats/{ref}"
        responses += [
            client.get(base, headers=headers),
            client.put(base, json={"title": "Hijack"}, headers=headers),
            client.get(f"{base}/messages", headers=headers),
            client.post(f"{base}/messages", json={"message": "hi"}, headers=headers),
            client.post(f"{base}/read", json={}, headers=headers),
            client.delete(base, headers=headers),
        ]
    return responses


# -- list ---------------------------------------------------------------------------


def test_list_shows_member_chats_most_recent_first_with_members(
    client, prefix, admin, agent, auth, other_admin, clock
):
    outsider = factories.UserFactory(company=admin.company)
    older = _chat(admin, agent, title="Older")
    clock.tick()
    newer = _chat(agent, title="Newer")
    clock.tick()
    _chat(outsider, admin, title="Not for agent")
    _chat(outsider, title="Private")
    _chat(other_admin, title="Foreign")

    resp = client.get(f"{prefix}/chats?searchParam=&pageNumber=1", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 2 and body["hasMore"] is False
    assert [r["id"] for r in body["records"]] == [newer.id, older.id]
    record = body["records"][1]
    assert record == {
        "id": older.id,
        "uuid": older.uuid,
        "title": "Older",
        "ownerId": admin.id,
        "lastMessage": "",
        "companyId": admin.company_id,
        "createdAt": "2026-03-02T12:00:00.000Z",
        "updatedAt": "2026-03-02T12:00:00.000Z",
        "owner": {"id": admin.id, "name": admin.name},
        "users": [
            {
                "chatId": older.id,
                "userId": admin.id,
                "unreads": 0,
                "user": {"id": admin.id, "name": admin.name, "email": admin.email},
            },
            {
                "chatId": older.id,
                "userId": agent.id,
                "unreads": 0,
                "user": {"id": agent.id, "name": agent.name, "email": agent.email},
            },
        ],
    }

    # A message makes the older chat the most recently active one.
    clock.tick()
    resp = client.post(
        f"{prefix}/chats/{older.id}/messages", json={"message": "ping"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    body = client.get(f"{prefix}/chats", headers=auth(agent)).get_json()
    assert [r["id"] for r in body["records"]] == [older.id, newer.id]
    assert body["records"][0]["updatedAt"] == "2026-03-02T12:03:00.000Z"

    # The other company's admin sees only their own chat.
    body = client.get(f"{prefix}/chats", headers=auth(other_admin)).get_json()
    assert [r["title"] for r in body["records"]] == ["Foreign"]


def test_list_ties_on_activity_break_by_newest_id(client, prefix, agent, auth, clock):
    first, second = _chat(agent), _chat(agent)
    body = client.get(f"{prefix}/chats", headers=auth(agent)).get_json()
    assert [r["id"] for r in body["records"]] == [second.id, first.id]


def test_list_searches_title_and_paginates_by_20(client, prefix, agent, auth, clock):
    for i in range(21):
        _chat(agent, title=f"Sales {i:02d}")
        clock.tick()
    _chat(agent, title="Support")
    body = client.get(f"{prefix}/chats?searchParam=sALes", headers=auth(agent)).get_json()
    assert body["count"] == 21 and body["hasMore"] is True and len(body["records"]) == 20
    assert body["records"][0]["title"] == "Sales 20"
    # The SPA's header popover asks with a trailing slash.
    page2 = client.get(
        f"{prefix}/chats/?searchParam=sales&pageNumber=2", headers=auth(agent)
    ).get_json()
    assert [r["title"] for r in page2["records"]] == ["Sales 00"] and page2["hasMore"] is False
    assert (
        client.get(f"{prefix}/chats?searchParam=%25", headers=auth(agent)).get_json()["count"] == 0
    )


def test_list_validation_and_token(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/chats?pageNumber=zero", headers=auth(agent))
    assert resp.status_code == 400 and "pageNumber" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/chats").status_code == 401
    assert client.get(f"{prefix}/chats/").status_code == 401


# -- show ---------------------------------------------------------------------------


def test_show_by_uuid_or_id_for_members_only(
    client, prefix, admin, agent, auth, other_admin, superuser
):
    chat = _chat(agent, factories.UserFactory(company=agent.company))
    for ref in _refs(chat):
        resp = client.get(f"{prefix}/chats/{ref}", headers=auth(agent))
        assert resp.status_code == 200 and resp.get_json()["uuid"] == chat.uuid
    # Not a member: the company's admin, a super user, another company's admin.
    for user in (admin, superuser, other_admin):
        for ref in _refs(chat):
            resp = client.get(f"{prefix}/chats/{ref}", headers=auth(user))
            assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_CHAT_FOUND"}
    for ref in ("nope", "0", "9" * 40, "a" * 37):
        assert client.get(f"{prefix}/chats/{ref}", headers=auth(agent)).status_code == 404
    assert client.get(f"{prefix}/chats/{chat.uuid}").status_code == 401


def test_non_members_get_404_on_every_chat_endpoint(
    client, prefix, admin, agent, auth, other_admin
):
    chat = _chat(agent)
    factories.ChatMessageFactory(chat=chat, message="secret")
    for user in (admin, factories.UserFactory(company=agent.company), other_admin):
        for resp in _every_chat_request(client, prefix, chat, auth(user)):
            assert resp.status_code == 404, (resp.request.method, resp.request.path)
            assert resp.get_json() == {"error": "ERR_NO_CHAT_FOUND"}
    db.session.expire_all()
    kept = db.session.get(Chat, chat.id)
    assert kept.title == chat.title and kept.last_message == ""
    assert _count(ChatMessage) == 1 and _member_ids(chat.id) == [agent.id]


# -- create -------------------------------------------------------------------------


def test_member_creates_a_chat_with_company_users(client, prefix, agent, auth, clock):
    colleague = factories.UserFactory(company=agent.company)
    boss = factories.AdminFactory(company=agent.company)
    resp = client.post(
        f"{prefix}/chats",
        json={
            "title": "  Plantão  ",
            # The SPA sends {id, name}; duplicates and the caller themself are harmless.
            "users": [
                {"id": colleague.id, "name": colleague.name},
                {"id": boss.id},
                {"id": colleague.id},
                {"id": agent.id},
            ],
        },
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["title"] == "Plantão" and body["ownerId"] == agent.id
    assert body["lastMessage"] == "" and body["companyId"] == agent.company_id
    assert len(body["uuid"]) == 36 and body["owner"] == {"id": agent.id, "name": agent.name}
    assert [u["userId"] for u in body["users"]] == [agent.id, colleague.id, boss.id]
    assert all(u["unreads"] == 0 for u in body["users"])
    chat = db.session.get(Chat, body["id"])
    assert chat.owner_id == agent.id and chat.company_id == agent.company_id
    assert _member_ids(chat.id) == sorted([agent.id, colleague.id, boss.id])
    # The creator now finds it, the others too.
    for user in (agent, colleague, boss):
        listed = client.get(f"{prefix}/chats", headers=auth(user)).get_json()["records"]
        assert [r["id"] for r in listed] == [chat.id]


def test_create_without_users_makes_a_chat_of_the_owner_alone(client, prefix, agent, auth):
    resp = client.post(f"{prefix}/chats", json={"title": "Notes"}, headers=auth(agent))
    assert resp.status_code == 200
    assert [u["userId"] for u in resp.get_json()["users"]] == [agent.id]


def test_create_refuses_users_of_another_company_or_missing(
    client, prefix, agent, auth, other_admin
):
    colleague = factories.UserFactory(company=agent.company)
    for bad_id in (other_admin.id, 999999):
        resp = client.post(
            f"{prefix}/chats",
            json={"title": "Leak", "users": [{"id": colleague.id}, {"id": bad_id}]},
            headers=auth(agent),
        )
        assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_INVALID_CHAT_MEMBER"}
    assert _count(Chat) == 0 and _count(ChatUser) == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"title": 12}, "title"),
        ({"title": "Ok", "users": "all"}, "users"),
        ({"title": "Ok", "users": [{"name": "no id"}]}, "users"),
        ({"title": "Ok", "users": [{"id": "abc"}]}, "users"),
        ({"title": "Ok", "users": [{"id": -3}]}, "users"),
        ({"title": "Ok", "users": [{"id": 1}] * 1001}, "users"),
    ],
)
def test_create_validation(client, prefix, agent, auth, payload, field):
    resp = client.post(f"{prefix}/chats", json=payload, headers=auth(agent))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and field in body["fields"]
    assert _count(Chat) == 0


def test_create_accepts_a_255_character_title_and_needs_a_token(client, prefix, agent, auth):
    resp = client.post(f"{prefix}/chats", json={"title": "t" * 255}, headers=auth(agent))
    assert resp.status_code == 200 and len(resp.get_json()["title"]) == 255
    assert client.post(f"{prefix}/chats", json={"title": "Hi"}).status_code == 401
    assert _count(Chat) == 1


# -- update -------------------------------------------------------------------------


def test_owner_rebuilds_members_and_kept_ones_keep_their_counters(
    client, prefix, agent, auth, clock
):
    kept = factories.UserFactory(company=agent.company)
    dropped = factories.UserFactory(company=agent.company)
    added = factories.UserFactory(company=agent.company)
    chat = _chat(agent, kept, dropped)
    for _ in range(3):
        factories.ChatMessageFactory(chat=chat)
    db.session.execute(
        sa.update(ChatUser).where(ChatUser.chat_id == chat.id).values(unreads=ChatUser.id)
    )
    db.session.commit()
    before = _unreads(chat.id)

    # The owner is left out of the list and stays anyway.
    resp = client.put(
        f"{prefix}/chats/{chat.id}",
        json={"title": " Renamed ", "users": [{"id": kept.id}, {"id": added.id}]},
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["title"] == "Renamed" and body["ownerId"] == agent.id
    assert [u["userId"] for u in body["users"]] == [agent.id, kept.id, added.id]
    after = _unreads(chat.id)
    assert after == {agent.id: before[agent.id], kept.id: before[kept.id], added.id: 0}
    assert _count(ChatMessage) == 3
    # The removed member lost access; the new one gained it.
    assert client.get(f"{prefix}/chats/{chat.uuid}", headers=auth(dropped)).status_code == 404
    assert client.get(f"{prefix}/chats/{chat.uuid}", headers=auth(added)).status_code == 200


def test_update_title_only_leaves_members_alone(client, prefix, agent, auth):
    colleague = factories.UserFactory(company=agent.company)
    chat = _chat(agent, colleague)
    resp = client.put(f"{prefix}/chats/{chat.uuid}", json={"title": "New"}, headers=auth(agent))
    assert resp.status_code == 200 and resp.get_json()["title"] == "New"
    assert _member_ids(chat.id) == sorted([agent.id, colleague.id])


def test_admin_member_may_edit_but_a_plain_member_may_not(client, prefix, admin, agent, auth):
    owner = factories.UserFactory(company=agent.company)
    chat = _chat(owner, agent, admin)
    resp = client.put(
        f"{prefix}/chats/{chat.id}",
        json={"title": "Mine now", "users": [{"id": agent.id}]},
        headers=auth(agent),
    )
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    db.session.expire_all()
    assert db.session.get(Chat, chat.id).title == chat.title
    assert _member_ids(chat.id) == sorted([owner.id, agent.id, admin.id])

    resp = client.put(
        f"{prefix}/chats/{chat.id}",
        json={"title": "By admin", "users": [{"id": admin.id}]},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    assert _member_ids(chat.id) == sorted([owner.id, admin.id])


def test_update_refuses_foreign_members_and_bad_input_changing_nothing(
    client, prefix, agent, auth, other_admin
):
    colleague = factories.UserFactory(company=agent.company)
    chat = _chat(agent, colleague, title="Stable")
    resp = client.put(
        f"{prefix}/chats/{chat.id}",
        json={"title": "Changed", "users": [{"id": other_admin.id}]},
        headers=auth(agent),
    )
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_INVALID_CHAT_MEMBER"}
    for payload in ({"title": ""}, {"title": "x" * 256}, {"users": [{"id": "x"}]}):
        resp = client.put(f"{prefix}/chats/{chat.id}", json=payload, headers=auth(agent))
        assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    db.session.expire_all()
    assert db.session.get(Chat, chat.id).title == "Stable"
    assert _member_ids(chat.id) == sorted([agent.id, colleague.id])
    assert client.put(f"{prefix}/chats/{chat.id}", json={"title": "x"}).status_code == 401


def test_an_ownerless_chat_never_ends_up_without_members(client, prefix, admin, agent, auth):
    owner = factories.UserFactory(company=agent.company)
    chat = _chat(owner, agent, admin)
    db.session.execute(sa.delete(User).where(User.id == owner.id))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Chat, chat.id).owner_id is None
    # Nobody owns it now: a plain member may not edit, an admin member may.
    resp = client.put(f"{prefix}/chats/{chat.id}", json={"title": "x"}, headers=auth(agent))
    assert resp.status_code == 403
    resp = client.put(f"{prefix}/chats/{chat.id}", json={"users": []}, headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ownerId"] is None and body["owner"] is None
    assert _member_ids(chat.id) == [admin.id]


# -- delete -------------------------------------------------------------------------


def test_owner_deletes_a_chat_with_its_members_and_messages(client, prefix, agent, auth):
    colleague = factories.UserFactory(company=agent.company)
    chat = _chat(agent, colleague)
    other = _chat(agent, colleague)
    factories.ChatMessageFactory(chat=chat)
    factories.ChatMessageFactory(chat=other)
    assert client.delete(f"{prefix}/chats/{chat.id}", headers=auth(colleague)).status_code == 403
    resp = client.delete(f"{prefix}/chats/{chat.uuid}", headers=auth(agent))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Chat deleted"}
    db.session.expire_all()
    assert db.session.get(Chat, chat.id) is None
    assert _member_ids(chat.id) == [] and _member_ids(other.id) == sorted([agent.id, colleague.id])
    assert list(db.session.scalars(sa.select(ChatMessage.chat_id))) == [other.id]
    assert client.delete(f"{prefix}/chats/{chat.uuid}", headers=auth(agent)).status_code == 404
    assert client.delete(f"{prefix}/chats/{other.uuid}").status_code == 401


def test_admin_member_may_delete(client, prefix, admin, agent, auth):
    chat = _chat(agent, admin)
    assert client.delete(f"{prefix}/chats/{chat.id}", headers=auth(admin)).status_code == 200
    assert _count(Chat) == 0


# -- messages -----------------------------------------------------------------------


def test_messages_page_newest_first_each_page_ascending(client, prefix, agent, auth):
    colleague = factories.UserFactory(company=agent.company)
    chat = _chat(agent, colleague)
    sent = [
        factories.ChatMessageFactory(
            chat=chat, sender_id=(agent.id if i % 2 else colleague.id), message=f"m{i:02d}"
        )
        for i in range(1, 46)
    ]
    # Another chat's messages never mix in.
    factories.ChatMessageFactory(chat=_chat(colleague), message="elsewhere")

    pages = []
    for number in (1, 2, 3, 4):
        resp = client.get(
            f"{prefix}/chats/{chat.id}/messages?pageNumber={number}", headers=auth(colleague)
        )
        assert resp.status_code == 200
        pages.append(resp.get_json())
    assert [p["count"] for p in pages] == [45] * 4
    assert [p["hasMore"] for p in pages] == [True, True, False, False]
    assert [r["message"] for r in pages[0]["records"]] == [f"m{i:02d}" for i in range(26, 46)]
    assert [r["message"] for r in pages[1]["records"]] == [f"m{i:02d}" for i in range(6, 26)]
    assert [r["message"] for r in pages[2]["records"]] == [f"m{i:02d}" for i in range(1, 6)]
    assert pages[3]["records"] == []
    last = pages[0]["records"][-1]
    assert last["id"] == sent[-1].id and last["chatId"] == chat.id
    assert last["senderId"] == agent.id and last["mediaPath"] is None
    assert last["mediaName"] is None and last["createdAt"].endswith("Z")
    assert last["sender"] == {"id": agent.id, "name": agent.name, "email": agent.email}
    # By uuid too; pageNumber defaults to 1.
    resp = client.get(f"{prefix}/chats/{chat.uuid}/messages", headers=auth(agent))
    assert [r["id"] for r in resp.get_json()["records"]] == [m.id for m in sent[25:]]


def test_messages_validation_and_token(client, prefix, agent, auth):
    chat = _chat(agent)
    resp = client.get(f"{prefix}/chats/{chat.id}/messages?pageNumber=0", headers=auth(agent))
    assert resp.status_code == 400 and "pageNumber" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/chats/{chat.id}/messages").status_code == 401


def test_posting_updates_summary_and_counters(client, prefix, agent, auth, clock):
    colleague = factories.UserFactory(company=agent.company, name="Bia")
    third = factories.UserFactory(company=agent.company)
    chat = _chat(agent, colleague, third)
    clock.tick(5)
    resp = client.post(
        f"{prefix}/chats/{chat.uuid}/messages",
        json={"message": "  Bom dia, equipe!  "},
        headers=auth(colleague),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["message"] == "Bom dia, equipe!" and body["senderId"] == colleague.id
    assert body["chatId"] == chat.id and body["sender"]["name"] == "Bia"
    # The SPA's popover reads newMessage.chat.users.
    assert body["chat"]["lastMessage"] == "Bia: Bom dia, equipe!"
    assert {u["userId"]: u["unreads"] for u in body["chat"]["users"]} == {
        agent.id: 1,
        colleague.id: 0,
        third.id: 1,
    }
    db.session.expire_all()
    stored = db.session.get(ChatMessage, body["id"])
    assert stored.message == "Bom dia, equipe!" and stored.company_id == agent.company_id
    row = db.session.get(Chat, chat.id)
    assert row.last_message == "Bia: Bom dia, equipe!" and row.updated_at == T0 + timedelta(
        minutes=5
    )
    assert _unreads(chat.id) == {agent.id: 1, colleague.id: 0, third.id: 1}


def test_unread_counters_follow_posts_and_reads(client, prefix, agent, auth):
    colleague = factories.UserFactory(company=agent.company)
    chat = _chat(agent, colleague)

    def post(user, text):
        resp = client.post(
            f"{prefix}/chats/{chat.id}/messages", json={"message": text}, headers=auth(user)
        )
        assert resp.status_code == 200

    post(agent, "one")
    post(agent, "two")
    assert _unreads(chat.id) == {agent.id: 0, colleague.id: 2}
    post(colleague, "three")  # posting also clears the sender's own counter
    assert _unreads(chat.id) == {agent.id: 1, colleague.id: 0}
    post(colleague, "four")
    assert _unreads(chat.id) == {agent.id: 2, colleague.id: 0}

    # Marking another member's messages read is refused, and changes nothing.
    resp = client.post(
        f"{prefix}/chats/{chat.id}/read", json={"userId": colleague.id}, headers=auth(agent)
    )
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _unreads(chat.id) == {agent.id: 2, colleague.id: 0}
    # The SPA sends its own userId.
    resp = client.post(
        f"{prefix}/chats/{chat.id}/read", json={"userId": agent.id}, headers=auth(agent)
    )
    assert resp.status_code == 200
    assert {u["userId"]: u["unreads"] for u in resp.get_json()["users"]} == {
        agent.id: 0,
        colleague.id: 0,
    }
    post(colleague, "five")
    # No body at all means the caller.
    assert client.post(f"{prefix}/chats/{chat.uuid}/read", headers=auth(agent)).status_code == 200
    assert _unreads(chat.id) == {agent.id: 0, colleague.id: 0}
    resp = client.post(f"{prefix}/chats/{chat.id}/read", json={"userId": "x"}, headers=auth(agent))
    assert resp.status_code == 400 and "userId" in resp.get_json()["fields"]
    assert client.post(f"{prefix}/chats/{chat.id}/read", json={}).status_code == 401


def test_increment_is_done_by_the_database_not_from_a_stale_read(client, prefix, agent, auth):
    colleague = factories.UserFactory(company=agent.company)
    chat = _chat(agent, colleague)
    # The request's session holds the members with unreads 0 ...
    assert {m.user_id: m.unreads for m in db.session.get(Chat, chat.id).members} == {
        agent.id: 0,
        colleague.id: 0,
    }
    # ... while another post has meanwhile raised the colleague's counter to 7.
    db.session.execute(
        sa.update(ChatUser)
        .where(ChatUser.chat_id == chat.id, ChatUser.user_id == colleague.id)
        .values(unreads=7)
        .execution_options(synchronize_session=False)
    )
    resp = client.post(
        f"{prefix}/chats/{chat.id}/messages", json={"message": "hi"}, headers=auth(agent)
    )
    assert resp.status_code == 200
    assert {u["userId"]: u["unreads"] for u in resp.get_json()["chat"]["users"]} == {
        agent.id: 0,
        colleague.id: 8,
    }
    assert _unreads(chat.id) == {agent.id: 0, colleague.id: 8}


@pytest.mark.real_db
@pytest.mark.shared_db
def test_concurrent_posts_lose_no_count(app, prefix, agent, auth):
    colleague = factories.UserFactory(company=agent.company)
    reader = factories.UserFactory(company=agent.company)
    chat_id = _chat(agent, colleague, reader).id
    headers = {agent.id: auth(agent), colleague.id: auth(colleague)}
    db.session.commit()
    errors: list[str] = []
    per_thread = 8

    def worker(user_id: int) -> None:
        with app.app_context():
            client = app.test_client()
            for i in range(per_thread):
                resp = client.post(
                    f"{prefix}/chats/{chat_id}/messages",
                    json={"message": f"{user_id}-{i}"},
                    headers=headers[user_id],
                )
                if resp.status_code != 200:
                    errors.append(f"{resp.status_code} {resp.get_data(as_text=True)}")

    threads = [threading.Thread(target=worker, args=(uid,)) for uid in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.rollback()
    assert _count(ChatMessage) == 2 * per_thread
    assert _unreads(chat_id)[reader.id] == 2 * per_thread


@pytest.mark.parametrize("payload", [{}, {"message": ""}, {"message": " \n "}, {"message": 5}])
def test_post_validation_changes_nothing(client, prefix, agent, auth, payload):
    colleague = factories.UserFactory(company=agent.company)
    chat = _chat(agent, colleague)
    resp = client.post(f"{prefix}/chats/{chat.id}/messages", json=payload, headers=auth(agent))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "message" in body["fields"]
    assert _count(ChatMessage) == 0 and _unreads(chat.id) == {agent.id: 0, colleague.id: 0}
    db.session.expire_all()
    assert db.session.get(Chat, chat.id).last_message == ""


def test_post_length_limit(client, prefix, agent, auth):
    chat = _chat(agent)
    url = f"{prefix}/chats/{chat.id}/messages"
    resp = client.post(url, json={"message": "x" * 10001}, headers=auth(agent))
    assert resp.status_code == 400 and "message" in resp.get_json()["fields"]
    resp = client.post(url, json={"message": "é" * 10000}, headers=auth(agent))
    assert resp.status_code == 200 and len(resp.get_json()["message"]) == 10000
    assert client.post(url, json={"message": "hi"}).status_code == 401
    assert _count(ChatMessage) == 1


# -- plan ---------------------------------------------------------------------------


def test_plan_without_internal_chat_is_403(client, prefix, agent, auth, company, other_admin):
    chat = _chat(agent)
    foreign = _chat(other_admin)
    plan = db.session.get(Plan, company.plan_id)
    plan.use_internal_chat = False
    db.session.commit()
    requests = [
        client.get(f"{prefix}/chats", headers=auth(agent)),
        client.post(f"{prefix}/chats", json={"title": "x"}, headers=auth(agent)),
        *_every_chat_request(client, prefix, chat, auth(agent)),
    ]
    for resp in requests:
        assert resp.status_code == 403, (resp.request.method, resp.request.path)
        assert resp.get_json() == {"error": "ERR_PLAN_FEATURE_DISABLED"}
    assert _count(Chat) == 2 and _count(ChatMessage) == 0
    # No token is still 401; another company's plan is its own.
    assert client.get(f"{prefix}/chats").status_code == 401
    body = client.get(f"{prefix}/chats", headers=auth(other_admin)).get_json()
    assert [r["id"] for r in body["records"]] == [foreign.id]
