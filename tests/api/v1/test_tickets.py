"""Public API v1 tickets: the feed with its filters, one ticket, close and transfer; a
token never reaches another company's tickets (404) nor those its limits leave out."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.v1.conftest import bearer
from whaticket.extensions import db
from whaticket.models import Ticket


@pytest.fixture
def ticket(company, conn, admin):
    record = factories.TicketFactory(company=company, whatsapp=conn, status="open", user=admin)
    db.session.commit()
    return record


def test_the_feed_filters_and_one_ticket(client, prefix, company, conn, ticket, token):
    pending = factories.TicketFactory(company=company, whatsapp=conn, status="pending")
    db.session.commit()
    headers = bearer(token("tickets:read"))
    url = f"{prefix}/v1/tickets"
    body = client.get(url, query_string={"status": "pending"}, headers=headers).get_json()
    assert [t["id"] for t in body["tickets"]] == [pending.id]
    body = client.get(url, query_string={"contactId": ticket.contact_id}, headers=headers)
    assert [t["id"] for t in body.get_json()["tickets"]] == [ticket.id]
    one = client.get(f"{url}/{ticket.id}", headers=headers).get_json()
    assert one["contact"]["number"] == ticket.contact.number and one["status"] == "open"
    assert one["user"]["id"] == ticket.user_id and one["whatsapp"]["id"] == conn.id
    bad = client.get(url, query_string={"status": "lost", "limit": 1000}, headers=headers)
    assert bad.status_code == 400 and set(bad.get_json()["fields"]) == {"status", "limit"}


def test_close_and_transfer(client, prefix, company, ticket, token, agent):
    queue = factories.QueueFactory(company=company)
    db.session.commit()
    headers = bearer(token("tickets:write"))
    url = f"{prefix}/v1/tickets/{ticket.id}"

    resp = client.post(
        f"{url}/transfer", json={"queueId": queue.id, "userId": agent.id}, headers=headers
    )
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["queueId"], resp.get_json()["userId"]) == (queue.id, agent.id)
    resp = client.post(f"{url}/transfer", json={}, headers=headers)
    assert resp.status_code == 400
    resp = client.post(f"{url}/transfer", json={"queueId": 2**31 - 1}, headers=headers)
    assert resp.status_code == 400 and "queueId" in resp.get_json()["fields"]

    resp = client.post(f"{url}/close", headers=headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "closed"
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "closed"


def test_another_companys_tickets_are_not_found(client, prefix, ticket, token, other_company):
    factories.AdminFactory(company=other_company)
    db.session.commit()
    headers = bearer(token(company=other_company))
    url = f"{prefix}/v1/tickets/{ticket.id}"
    for method, path, body in (
        ("GET", "", None),
        ("POST", "/close", None),
        ("POST", "/transfer", {"userId": None}),
    ):
        resp = client.open(f"{url}{path}", method=method, json=body, headers=headers)
        assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_NO_TICKET_FOUND"})
    assert client.get(f"{prefix}/v1/tickets", headers=headers).get_json()["tickets"] == []
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "open"


def test_connection_and_queue_limits_narrow_what_a_token_sees(client, prefix, company, conn, token):
    other = factories.WhatsappFactory(company=company)
    sales, support = (
        factories.QueueFactory(company=company),
        factories.QueueFactory(company=company),
    )
    here_sales = factories.TicketFactory(company=company, whatsapp=conn, queue=sales)
    here_support = factories.TicketFactory(company=company, whatsapp=conn, queue=support)
    here_none = factories.TicketFactory(company=company, whatsapp=conn)
    there_sales = factories.TicketFactory(company=company, whatsapp=other, queue=sales)
    db.session.commit()

    everyone = (here_sales, here_support, here_none, there_sales)

    def seen(**limits) -> set[int]:
        """What a token with `limits` lists; each ticket it does not list is 404 to it."""
        headers = bearer(token("tickets:read", **limits))
        body = client.get(f"{prefix}/v1/tickets", headers=headers).get_json()
        listed = {row["id"] for row in body["tickets"]}
        for hidden in (t for t in everyone if t.id not in listed):
            assert (
                client.get(f"{prefix}/v1/tickets/{hidden.id}", headers=headers).status_code == 404
            )
        return listed

    assert seen() == {here_sales.id, here_support.id, here_none.id, there_sales.id}
    assert seen(whatsapp_ids=[conn.id]) == {here_sales.id, here_support.id, here_none.id}
    assert seen(queue_ids=[sales.id]) == {here_sales.id, there_sales.id}
    assert seen(whatsapp_ids=[conn.id], queue_ids=[sales.id]) == {here_sales.id}


def test_a_queue_limited_token_transfers_only_between_its_queues(
    client, prefix, company, conn, token
):
    sales, support = (
        factories.QueueFactory(company=company),
        factories.QueueFactory(company=company),
    )
    vip = factories.QueueFactory(company=company)
    ticket = factories.TicketFactory(company=company, whatsapp=conn, queue=sales, status="open")
    db.session.commit()
    headers = bearer(token("tickets:write", queue_ids=[sales.id, vip.id]))
    url = f"{prefix}/v1/tickets/{ticket.id}/transfer"
    resp = client.post(url, json={"queueId": support.id}, headers=headers)
    assert resp.status_code == 400 and "queueId" in resp.get_json()["fields"]
    resp = client.post(url, json={"queueId": vip.id}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["queueId"] == vip.id
