"""Tickets: list filters and visibility, show, create, accept/transfer/close/reopen, delete."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import QueueOption, Ticket, TicketTracking, UserRating


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )


def _ticket(company, conn, **kw):
    return factories.TicketFactory(company=company, whatsapp=conn, **kw)


def _list(client, prefix, user, auth, **params):
    resp = client.get(f"{prefix}/tickets", query_string=params, headers=auth(user))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


# -- list -------------------------------------------------------------------------


def test_list_shape_order_and_page_size(client, prefix, admin, auth, company, conn):
    tickets = [_ticket(company, conn, status="pending") for _ in range(41)]
    body = _list(client, prefix, admin, auth, status="pending", pageNumber=1)
    assert body["count"] == 41 and body["hasMore"] is True and len(body["tickets"]) == 40
    first = body["tickets"][0]
    assert first["id"] == tickets[-1].id  # most recently updated first
    assert set(first["contact"]) >= {"id", "name", "number"}
    assert first["whatsapp"]["id"] == conn.id and first["tags"] == []
    assert _list(client, prefix, admin, auth, status="pending", pageNumber=2)["hasMore"] is False


def test_list_is_scoped_to_the_company(client, prefix, admin, auth, company, conn, other_company):
    _ticket(other_company, factories.WhatsappFactory(company=other_company), status="pending")
    mine = _ticket(company, conn, status="pending")
    body = _list(client, prefix, admin, auth, showAll="true")
    assert [t["id"] for t in body["tickets"]] == [mine.id]


def test_agent_sees_own_and_pending_of_own_queues(client, prefix, agent, auth, company, conn):
    mine_q = factories.QueueFactory(company=company)
    other_q = factories.QueueFactory(company=company)
    agent.queues = [mine_q]
    db.session.commit()
    visible = _ticket(company, conn, status="pending", queue_id=mine_q.id)
    hidden = _ticket(company, conn, status="pending", queue_id=other_q.id)
    own_open = _ticket(company, conn, status="open", user_id=agent.id, queue_id=other_q.id)
    someone_open = _ticket(company, conn, status="open", queue_id=mine_q.id)
    ids = {t["id"] for t in _list(client, prefix, agent, auth, showAll="true")["tickets"]}
    assert visible.id in ids and own_open.id in ids
    assert hidden.id not in ids and someone_open.id not in ids


def test_admin_without_show_all_sees_own_and_pending(
    client, prefix, admin, agent, auth, company, conn
):
    pending = _ticket(company, conn, status="pending")
    theirs = _ticket(company, conn, status="open", user_id=agent.id)
    ids = {t["id"] for t in _list(client, prefix, admin, auth)["tickets"]}
    assert pending.id in ids and theirs.id not in ids
    ids = {t["id"] for t in _list(client, prefix, admin, auth, showAll="true")["tickets"]}
    assert theirs.id in ids


def test_search_matches_contact_and_message_body(client, prefix, admin, auth, company, conn):
    by_name = _ticket(
        company, conn, contact=factories.ContactFactory(company=company, name="Zacarias")
    )
    by_body = _ticket(company, conn)
    factories.MessageFactory(ticket=by_body, body="preciso do boleto urgente")
    _ticket(company, conn)
    ids = {
        t["id"]
        for t in _list(client, prefix, admin, auth, searchParam="zacar", showAll="true")["tickets"]
    }
    assert ids == {by_name.id}
    ids = {
        t["id"]
        for t in _list(client, prefix, admin, auth, searchParam="BOLETO", showAll="true")["tickets"]
    }
    assert ids == {by_body.id}


def test_filters_unread_tags_users_and_queue_ids(client, prefix, admin, agent, auth, company, conn):
    queue = factories.QueueFactory(company=company)
    tag_a, tag_b = factories.TagFactory(company=company), factories.TagFactory(company=company)
    unread = _ticket(company, conn, unread_messages=2)
    both_tags = _ticket(company, conn)
    both_tags.tags = [tag_a, tag_b]
    one_tag = _ticket(company, conn)
    one_tag.tags = [tag_a]
    by_agent = _ticket(company, conn, status="open", user_id=agent.id)
    in_queue = _ticket(company, conn, queue_id=queue.id)
    db.session.commit()
    q = {"showAll": "true"}
    got = _list(client, prefix, admin, auth, withUnreadMessages="true", **q)["tickets"]
    assert [t["id"] for t in got] == [unread.id]
    got = _list(client, prefix, admin, auth, tags=f"[{tag_a.id},{tag_b.id}]", **q)["tickets"]
    assert [t["id"] for t in got] == [both_tags.id]
    got = _list(client, prefix, admin, auth, users=f"[{agent.id}]", **q)["tickets"]
    assert [t["id"] for t in got] == [by_agent.id]
    got = _list(client, prefix, admin, auth, queueIds=f"[{queue.id}]", **q)["tickets"]
    assert in_queue.id in {t["id"] for t in got}


def test_list_validation_and_auth(client, prefix, admin, auth):
    resp = client.get(f"{prefix}/tickets?status=archived", headers=auth(admin))
    assert resp.status_code == 400 and "status" in resp.get_json()["fields"]
    resp = client.get(f"{prefix}/tickets?tags=[x]", headers=auth(admin))
    assert resp.status_code == 400 and "tags" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/tickets").status_code == 401


def test_kanban_lists_open_and_pending(client, prefix, admin, auth, company, conn):
    open_t = _ticket(company, conn, status="open", user_id=admin.id)
    pending = _ticket(company, conn, status="pending")
    _ticket(company, conn, status="closed")
    body = client.get(f"{prefix}/ticket/kanban", headers=auth(admin)).get_json()
    assert {t["id"] for t in body["tickets"]} == {open_t.id, pending.id}
    assert body["count"] == 2 and body["hasMore"] is False


# -- show -------------------------------------------------------------------------


def test_show_by_id_and_uuid_company_checked(
    client, prefix, admin, auth, company, conn, other_admin
):
    ticket = _ticket(company, conn)
    assert (
        client.get(f"{prefix}/tickets/{ticket.id}", headers=auth(admin)).get_json()["id"]
        == ticket.id
    )
    resp = client.get(f"{prefix}/tickets/u/{ticket.uuid}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["uuid"] == ticket.uuid
    assert client.get(f"{prefix}/tickets/{ticket.id}", headers=auth(other_admin)).status_code == 404
    resp = client.get(f"{prefix}/tickets/u/{ticket.uuid}", headers=auth(other_admin))
    assert resp.status_code == 404
    assert client.get(f"{prefix}/tickets/{ticket.id}").status_code == 401


def test_agent_cannot_open_another_queues_ticket(client, prefix, agent, auth, company, conn):
    queue = factories.QueueFactory(company=company)
    agent.queues = [factories.QueueFactory(company=company)]
    db.session.commit()
    ticket = _ticket(company, conn, queue_id=queue.id)
    assert client.get(f"{prefix}/tickets/{ticket.id}", headers=auth(agent)).status_code == 404


# -- create -----------------------------------------------------------------------


def test_create_opens_a_ticket_for_the_agent(client, prefix, admin, auth, company, conn):
    contact = factories.ContactFactory(company=company)
    resp = client.post(
        f"{prefix}/tickets", json={"contactId": contact.id, "status": "open"}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "open" and body["userId"] == admin.id
    assert body["whatsappId"] == conn.id
    tracking = db.session.scalar(
        sa.select(TicketTracking).where(TicketTracking.ticket_id == body["id"])
    )
    assert tracking.started_at is not None and tracking.user_id == admin.id


def test_create_refuses_a_second_active_ticket(client, prefix, admin, auth, company, conn):
    contact = factories.ContactFactory(company=company)
    _ticket(company, conn, contact=contact, status="pending")
    resp = client.post(f"{prefix}/tickets", json={"contactId": contact.id}, headers=auth(admin))
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_OTHER_OPEN_TICKET"}


def test_create_reuses_a_closed_ticket(client, prefix, admin, auth, company, conn):
    contact = factories.ContactFactory(company=company)
    closed = _ticket(company, conn, contact=contact, status="closed")
    resp = client.post(f"{prefix}/tickets", json={"contactId": contact.id}, headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["id"] == closed.id
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_create_validation_and_other_company_contact(
    client, prefix, admin, auth, conn, other_company
):
    resp = client.post(f"{prefix}/tickets", json={}, headers=auth(admin))
    assert resp.status_code == 400 and "contactId" in resp.get_json()["fields"]
    foreign = factories.ContactFactory(company=other_company)
    resp = client.post(f"{prefix}/tickets", json={"contactId": foreign.id}, headers=auth(admin))
    assert resp.status_code == 404
    assert client.post(f"{prefix}/tickets", json={"contactId": 1}).status_code == 401


# -- update -----------------------------------------------------------------------


def test_accept_opens_marks_read_and_moves_rooms(
    client, prefix, admin, auth, company, conn, socket_client
):
    ticket = _ticket(company, conn, status="pending", unread_messages=3)
    inbound = factories.MessageFactory(ticket=ticket, from_me=False, read=False)
    sock = socket_client(admin)
    sock.emit("joinTickets", "pending", callback=True)
    sock.emit("joinTickets", "open", callback=True)
    sock.get_received()
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}",
        json={"status": "open", "userId": admin.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "open" and body["userId"] == admin.id and body["unreadMessages"] == 0
    db.session.expire_all()
    assert db.session.get(type(inbound), inbound.id).read is True
    events = [
        e["args"][0] for e in sock.get_received() if e["name"] == f"company-{company.id}-ticket"
    ]
    actions = [e["action"] for e in events]
    assert "updateUnread" in actions and "delete" in actions and "update" in actions
    outbox = client.get(f"{prefix}/fake-gateway/{conn.id}/outbox", headers=auth(admin))
    if outbox.status_code == 200:  # the fake's read receipt
        assert any(item["type"] == "read" for item in outbox.get_json())


def test_transfer_keeps_absent_keys(client, prefix, admin, agent, auth, company, conn):
    queue = factories.QueueFactory(company=company)
    ticket = _ticket(company, conn, status="open", user_id=admin.id)
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}",
        json={"queueId": queue.id, "userId": agent.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "open" and body["queueId"] == queue.id and body["userId"] == agent.id


def test_transfer_notice_when_enabled(client, prefix, admin, agent, auth, company, conn):
    from whaticket.services.team import settings as settings_service

    settings_service.update_setting(company.id, "sendMsgTransfTicket", "enabled")
    db.session.commit()
    ticket = _ticket(company, conn, status="open", user_id=admin.id)
    client.put(f"{prefix}/tickets/{ticket.id}", json={"userId": agent.id}, headers=auth(admin))
    from whaticket.models import Message

    bodies = db.session.scalars(sa.select(Message.body).where(Message.ticket_id == ticket.id)).all()
    assert any(agent.name in b and "transferido" in b for b in bodies)


def test_close_without_rating_sends_farewell_and_finishes(
    client, prefix, admin, auth, company, conn
):
    conn.complation_message = "Obrigado, {{name}}!"
    db.session.commit()
    ticket = _ticket(company, conn, status="open", user_id=admin.id)
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}", json={"status": "closed"}, headers=auth(admin)
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "closed"
    from whaticket.models import Message

    farewell = db.session.scalar(sa.select(Message).where(Message.ticket_id == ticket.id))
    assert farewell.body == f"Obrigado, {ticket.contact.name}!" and farewell.origin == "bot"
    tracking = db.session.scalar(
        sa.select(TicketTracking).where(TicketTracking.ticket_id == ticket.id)
    )
    assert tracking.finished_at is not None


def test_close_with_rating_asks_then_stores_the_rating(client, prefix, admin, auth, company, conn):
    from whaticket.services.team import settings as settings_service

    settings_service.update_setting(company.id, "userRating", "enabled")
    db.session.commit()
    ticket = _ticket(company, conn, status="open", user_id=admin.id)
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}", json={"status": "closed"}, headers=auth(admin)
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "open"
    db.session.expire_all()
    tracking = db.session.scalar(
        sa.select(TicketTracking).where(TicketTracking.ticket_id == ticket.id)
    )
    assert tracking.rating_at is not None and tracking.finished_at is None
    # Closing again before the answer closes it for good.
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}", json={"status": "closed"}, headers=auth(admin)
    )
    assert resp.get_json()["status"] == "closed"
    assert db.session.scalar(sa.select(sa.func.count(UserRating.id))) == 0


def test_reopen_refused_when_another_ticket_is_active(client, prefix, admin, auth, company, conn):
    contact = factories.ContactFactory(company=company)
    closed = _ticket(company, conn, contact=contact, status="closed")
    other_conn = factories.WhatsappFactory(company=company)
    _ticket(company, other_conn, contact=contact, status="open")
    resp = client.put(
        f"{prefix}/tickets/{closed.id}",
        json={"status": "open", "whatsappId": other_conn.id},
        headers=auth(admin),
    )
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_OTHER_OPEN_TICKET"}


def test_update_validation_other_company_and_auth(
    client, prefix, admin, auth, company, conn, other_admin
):
    ticket = _ticket(company, conn)
    resp = client.put(f"{prefix}/tickets/{ticket.id}", json={"status": "lost"}, headers=auth(admin))
    assert resp.status_code == 400 and "status" in resp.get_json()["fields"]
    foreign_queue = factories.QueueFactory(company=other_admin.company)
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}", json={"queueId": foreign_queue.id}, headers=auth(admin)
    )
    assert resp.status_code == 400
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}", json={"status": "open"}, headers=auth(other_admin)
    )
    assert resp.status_code == 404
    assert client.put(f"{prefix}/tickets/{ticket.id}", json={}).status_code == 401


def _option(company) -> QueueOption:
    queue = factories.QueueFactory(company=company)
    option = QueueOption(company_id=company.id, queue_id=queue.id, option="1", title="Sales")
    db.session.add(option)
    db.session.commit()
    return option


def test_update_refuses_another_companys_or_a_missing_queue_option(
    client, prefix, admin, auth, company, conn, other_company
):
    ticket = _ticket(company, conn, status="pending")
    mine, theirs = _option(company), _option(other_company)
    url = f"{prefix}/tickets/{ticket.id}"
    for option_id in (theirs.id, theirs.id + mine.id + 1000):
        resp = client.put(url, json={"queueOptionId": option_id}, headers=auth(admin))
        assert resp.status_code == 400, resp.get_json()
        body = resp.get_json()
        assert body["error"] == "ERR_VALIDATION" and "queueOptionId" in body["fields"]
        db.session.expire_all()
        assert db.session.get(Ticket, ticket.id).queue_option_id is None
    resp = client.put(url, json={"queueOptionId": mine.id}, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).queue_option_id == mine.id
    # 0/null clear it, as the SPA sends them.
    assert client.put(url, json={"queueOptionId": None}, headers=auth(admin)).status_code == 200
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).queue_option_id is None


def test_agent_cannot_update_a_ticket_outside_their_queues(
    client, prefix, agent, auth, company, conn
):
    agent.queues = [factories.QueueFactory(company=company)]
    db.session.commit()
    ticket = _ticket(company, conn, queue_id=factories.QueueFactory(company=company).id)
    resp = client.put(f"{prefix}/tickets/{ticket.id}", json={"status": "open"}, headers=auth(agent))
    assert resp.status_code == 403


# -- delete -----------------------------------------------------------------------


def test_delete_is_admin_only_and_company_checked(
    client, prefix, admin, agent, auth, company, conn, other_admin
):
    ticket = _ticket(company, conn)
    factories.MessageFactory(ticket=ticket)
    assert client.delete(f"{prefix}/tickets/{ticket.id}", headers=auth(agent)).status_code == 403
    assert (
        client.delete(f"{prefix}/tickets/{ticket.id}", headers=auth(other_admin)).status_code == 404
    )
    assert client.delete(f"{prefix}/tickets/{ticket.id}").status_code == 401
    assert client.delete(f"{prefix}/tickets/{ticket.id}", headers=auth(admin)).status_code == 200
    assert db.session.get(Ticket, ticket.id) is None


def test_deleting_a_user_returns_their_tickets_to_pending(
    client, prefix, admin, agent, auth, company, conn
):
    ticket = _ticket(company, conn, status="open", user_id=agent.id)
    assert client.delete(f"{prefix}/users/{agent.id}", headers=auth(admin)).status_code == 200
    db.session.expire_all()
    reloaded = db.session.get(Ticket, ticket.id)
    assert reloaded.status == "pending" and reloaded.user_id is None
