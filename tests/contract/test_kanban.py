"""Kanban screen: the user's queues carry the `UserQueue` join object, `/ticket/kanban` pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests import factories
from tests.factories import PASSWORD
from whaticket.extensions import db

JOIN_KEYS = {"userId", "queueId", "createdAt", "updatedAt"}


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )


def _queues(user, count: int = 2) -> list:
    queues = [factories.QueueFactory(company=user.company) for _ in range(count)]
    user.queues = queues
    db.session.commit()
    return queues


def _assert_join(rows: list[dict], user_id: int, queue_ids: list[int]) -> None:
    """Each queue row has {id, name, color, UserQueue{userId, queueId, createdAt, updatedAt}}."""
    assert [q["id"] for q in rows] == queue_ids
    for row in rows:
        join = row["UserQueue"]
        assert set(join) == JOIN_KEYS
        assert join["userId"] == user_id and join["queueId"] == row["id"]
        assert join["createdAt"].endswith("Z") and join["updatedAt"].endswith("Z")
        assert {"name", "color"} <= set(row)


def _login(client, prefix, user) -> dict:
    resp = client.post(f"{prefix}/auth/login", json={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _kanban_params(user_body: dict) -> dict:
    """The query the page builds: queueIds from user.queues[].UserQueue.queueId, teste=true."""
    ids = [q["UserQueue"]["queueId"] for q in user_body["queues"]]
    return {"queueIds": json.dumps(ids), "teste": "true"}


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block (counted, not timed)."""
    seen: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _record)


# -- item 1: user.queues[].UserQueue ------------------------------------------------


def test_login_and_refresh_give_each_queue_its_user_queue(client, prefix, agent):
    """src/pages/Kanban/index.js reads user.queues[].UserQueue.queueId (from AuthContext,
    filled by src/hooks/useAuth.js from POST /auth/login and POST /auth/refresh_token)."""
    queues = _queues(agent)
    body = _login(client, prefix, agent)
    _assert_join(body["user"]["queues"], agent.id, [q.id for q in queues])
    resp = client.post(f"{prefix}/auth/refresh_token")  # the test client sends the jrt cookie
    assert resp.status_code == 200, resp.get_json()
    _assert_join(resp.get_json()["user"]["queues"], agent.id, [q.id for q in queues])


def test_show_user_gives_each_queue_its_user_queue(client, prefix, admin, agent, auth):
    """src/pages/Kanban/index.js reads user.queues[].UserQueue.queueId; the user is also
    fetched by src/hooks/useAuth.js with GET /users/:id."""
    queues = _queues(agent)
    body = client.get(f"{prefix}/users/{agent.id}", headers=auth(agent)).get_json()
    _assert_join(body["queues"], agent.id, [q.id for q in queues])


def test_user_lists_give_each_queue_its_user_queue(client, prefix, admin, agent, auth):
    """src/pages/Users/index.js and src/components/UsersFilter/index.js list users whose
    queues are Sequelize rows with their UserQueue join object."""
    queues = _queues(agent)
    page = client.get(f"{prefix}/users", headers=auth(admin)).get_json()
    row = next(u for u in page["users"] if u["id"] == agent.id)
    _assert_join(row["queues"], agent.id, [q.id for q in queues])
    picker = client.get(f"{prefix}/users/list", headers=auth(admin)).get_json()
    row = next(u for u in picker if u["id"] == agent.id)
    _assert_join(row["queues"], agent.id, [q.id for q in queues])
    admin_row = next(u for u in picker if u["id"] == admin.id)
    assert admin_row["queues"] == []


def test_user_event_gives_each_queue_its_user_queue(
    client, prefix, admin, agent, auth, socket_client
):
    """src/pages/Users/index.js and src/context/Auth (useAuth.js) replace the user from the
    company-{cid}-user event: its queues must carry UserQueue too, including new links."""
    old = _queues(agent, 1)
    new = factories.QueueFactory(company=admin.company)
    sock = socket_client(admin)
    sock.get_received()
    resp = client.put(
        f"{prefix}/users/{agent.id}",
        json={"queueIds": [old[0].id, new.id]},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    _assert_join(resp.get_json()["queues"], agent.id, sorted([old[0].id, new.id]))
    events = [
        e["args"][0] for e in sock.get_received() if e["name"] == f"company-{admin.company_id}-user"
    ]
    assert [e["action"] for e in events] == ["update"]
    _assert_join(events[0]["user"]["queues"], agent.id, sorted([old[0].id, new.id]))


def test_user_queue_costs_no_query_per_queue(client, prefix, admin, auth):
    """src/pages/Users/index.js pages users with their queues: the UserQueue objects are
    loaded in one batch, so more users and queues do not mean more SQL statements."""

    def _count_list() -> int:
        with _statements() as seen:
            resp = client.get(f"{prefix}/users", headers=auth(admin))
            assert resp.status_code == 200
        return len(seen)

    first = factories.UserFactory(company=admin.company)
    _queues(first, 1)
    small = _count_list()
    for _ in range(3):
        _queues(factories.UserFactory(company=admin.company), 3)
    _queues(first, 4)
    assert _count_list() == small


# -- item 2: GET /ticket/kanban ------------------------------------------------------


def test_kanban_answers_a_page_with_what_the_cards_read(client, prefix, admin, auth, conn):
    """src/pages/Kanban/index.js reads data.tickets and, per card, ticket.id, uuid,
    contact.name, contact.number, lastMessage and tags[].id (lanes from /tags/kanban)."""
    company = admin.company
    lane = factories.TagFactory(company=company, kanban=1)
    tagged = factories.TicketFactory(
        company=company, whatsapp=conn, status="open", user_id=admin.id, last_message="Hi"
    )
    tagged.tags = [lane]
    untagged = factories.TicketFactory(company=company, whatsapp=conn, status="pending")
    factories.TicketFactory(company=company, whatsapp=conn, status="closed")
    db.session.commit()
    me = _login(client, prefix, admin)["user"]
    resp = client.get(
        f"{prefix}/ticket/kanban", query_string=_kanban_params(me), headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"tickets", "count", "hasMore"}
    assert body["count"] == 2 and body["hasMore"] is False
    rows = {t["id"]: t for t in body["tickets"]}
    assert set(rows) == {tagged.id, untagged.id}
    card = rows[tagged.id]
    assert card["uuid"] == tagged.uuid and card["lastMessage"] == "Hi"
    assert card["contact"]["name"] == tagged.contact.name
    assert card["contact"]["number"] == tagged.contact.number
    assert [t["id"] for t in card["tags"]] == [lane.id]
    assert rows[untagged.id]["tags"] == []
    lanes = client.get(f"{prefix}/tags/kanban", headers=auth(admin)).get_json()["lista"]
    assert [t["id"] for t in lanes] == [lane.id]


def test_kanban_for_an_agent_without_queues(client, prefix, agent, auth, conn):
    """src/pages/Kanban/index.js: a user with no queue sends queueIds=[] and still reads
    data.tickets (a bare array blanked the page)."""
    company = agent.company
    mine = factories.TicketFactory(company=company, whatsapp=conn, status="open", user_id=agent.id)
    queueless = factories.TicketFactory(company=company, whatsapp=conn, status="pending")
    queued = factories.TicketFactory(
        company=company,
        whatsapp=conn,
        status="pending",
        queue_id=factories.QueueFactory(company=company).id,
    )
    me = _login(client, prefix, agent)["user"]
    assert me["queues"] == []
    resp = client.get(
        f"{prefix}/ticket/kanban", query_string=_kanban_params(me), headers=auth(agent)
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    ids = {t["id"] for t in body["tickets"]}
    assert ids == {mine.id, queueless.id} and queued.id not in ids
    assert body["count"] == 2 and body["hasMore"] is False


def test_kanban_for_an_agent_with_a_queue(client, prefix, agent, auth, conn):
    """src/pages/Kanban/index.js sends the UserQueue.queueId of the user's queues: the agent
    sees pending tickets of those queues and their own, not other queues' pending ones."""
    company = agent.company
    [mine_q] = _queues(agent, 1)
    other_q = factories.QueueFactory(company=company)
    visible = factories.TicketFactory(
        company=company, whatsapp=conn, status="pending", queue_id=mine_q.id
    )
    hidden = factories.TicketFactory(
        company=company, whatsapp=conn, status="pending", queue_id=other_q.id
    )
    me = _login(client, prefix, agent)["user"]
    assert _kanban_params(me)["queueIds"] == json.dumps([mine_q.id])
    body = client.get(
        f"{prefix}/ticket/kanban", query_string=_kanban_params(me), headers=auth(agent)
    ).get_json()
    ids = {t["id"] for t in body["tickets"]}
    assert visible.id in ids and hidden.id not in ids
    assert body["tickets"][0]["queue"]["id"] == mine_q.id


def test_kanban_is_scoped_to_the_company(client, prefix, admin, auth, conn, other_admin):
    """src/pages/Kanban/index.js shows only the caller's company's tickets."""
    theirs = factories.TicketFactory(
        company=other_admin.company,
        whatsapp=factories.WhatsappFactory(company=other_admin.company),
        status="pending",
    )
    mine = factories.TicketFactory(company=admin.company, whatsapp=conn, status="pending")
    body = client.get(
        f"{prefix}/ticket/kanban", query_string={"showAll": "true"}, headers=auth(admin)
    ).get_json()
    assert [t["id"] for t in body["tickets"]] == [mine.id] and theirs.id != mine.id
    assert body["count"] == 1


def test_kanban_needs_a_token_and_valid_filters(client, prefix, admin, auth):
    """src/services/api.js logs out on 401 and shows err.response.data.error otherwise."""
    assert client.get(f"{prefix}/ticket/kanban").status_code == 401
    resp = client.get(f"{prefix}/ticket/kanban?queueIds=[x]", headers=auth(admin))
    assert resp.status_code == 400 and "queueIds" in resp.get_json()["fields"]
