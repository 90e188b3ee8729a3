"""Cursor pagination of the v1 lists, on (updated_at, id) (services/integrations/api_feed):
while records are being updated, a scan returns each record once; what changed after the
scan began comes, once and in its new version, in the next scan its last cursor starts."""

from __future__ import annotations

from tests import factories
from tests.api.v1.conftest import bearer
from whaticket.extensions import db
from whaticket.models import Contact, Ticket


def _scan(client, url: str, headers: dict, cursor: str | None = None, limit: int = 3):
    """Every page of one scan: (the records in order, the cursor its last page gave)."""
    seen, pages = [], 0
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get(url, query_string=params, headers=headers).get_json()
        seen.extend(body["contacts"])
        cursor, pages = body["nextCursor"], pages + 1
        if not body["hasMore"]:
            return seen, cursor
        assert pages < 20


def _contacts(company, clock, count: int) -> list[Contact]:
    """`count` contacts, two written per instant (ties the id must break)."""
    made = []
    for index in range(count):
        if index % 2 == 0:
            clock.advance(1)
        made.append(factories.ContactFactory(company=company, name=f"C{index}"))
    db.session.commit()
    return made


def test_a_scan_returns_each_record_once_while_records_are_updated(
    app, client, prefix, company, token, clock
):
    contacts = _contacts(company, clock, 9)
    clock.advance(5)
    headers = bearer(token("contacts:read", "contacts:write"))
    url = f"{prefix}/v1/contacts"

    first = client.get(url, query_string={"limit": 3}, headers=headers).get_json()
    assert [c["id"] for c in first["contacts"]] == [c.id for c in contacts[:3]]
    assert first["hasMore"] is True

    # Meanwhile a record of page 1 and one of page 3 change.
    clock.advance(1)
    early, late = contacts[1], contacts[7]
    for contact, name in ((early, "Early, renamed"), (late, "Late, renamed")):
        resp = client.patch(f"{url}/{contact.id}", json={"name": name}, headers=headers)
        assert resp.status_code == 200

    rest, resume = _scan(client, url, headers, first["nextCursor"])
    scan = [c["id"] for c in first["contacts"] + rest]
    # Once each; the record that changed before its page came is left to the next scan.
    assert len(scan) == len(set(scan))
    assert set(scan) == {c.id for c in contacts} - {late.id}

    clock.advance(5)
    changes, resume = _scan(client, url, headers, resume)
    assert {(c["id"], c["name"]) for c in changes} == {
        (early.id, "Early, renamed"),
        (late.id, "Late, renamed"),
    }
    # Nothing changed since: the next scan is empty.
    clock.advance(5)
    assert _scan(client, url, headers, resume)[0] == []


def test_updated_since_starts_at_that_time(client, prefix, company, token, clock):
    old = _contacts(company, clock, 2)
    since = clock.advance(60)
    new = _contacts(company, clock, 3)
    clock.advance(5)
    headers = bearer(token("contacts:read"))
    body = client.get(
        f"{prefix}/v1/contacts",
        query_string={"updatedSince": since.isoformat()},
        headers=headers,
    ).get_json()
    assert [c["id"] for c in body["contacts"]] == [c.id for c in new]
    assert not {c.id for c in old} & {c["id"] for c in body["contacts"]}


def test_a_scan_stops_short_of_writes_that_may_not_be_committed_yet(
    app, client, prefix, company, token, clock
):
    app.config["API_V1_FEED_SETTLE_SECONDS"] = 2
    [contact] = _contacts(company, clock, 1)
    headers = bearer(token("contacts:read"))
    url = f"{prefix}/v1/contacts"
    body = client.get(url, headers=headers).get_json()
    assert body["contacts"] == []  # written this very second
    clock.advance(3)
    again = client.get(url, query_string={"cursor": body["nextCursor"]}, headers=headers)
    assert [c["id"] for c in again.get_json()["contacts"]] == [contact.id]


def test_the_ticket_and_message_feeds_page_the_same_way(
    client, prefix, company, conn, token, clock
):
    tickets = []
    for _ in range(4):
        clock.advance(1)
        tickets.append(factories.TicketFactory(company=company, whatsapp=conn))
    ticket = tickets[0]
    messages = [factories.MessageFactory(ticket=ticket) for _ in range(3)]
    db.session.commit()
    clock.advance(5)
    headers = bearer(token("tickets:read"))

    ids, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{prefix}/v1/tickets", query_string=params, headers=headers).get_json()
        ids += [t["id"] for t in body["tickets"]]
        cursor = body["nextCursor"]
        if not body["hasMore"]:
            break
    assert ids == [t.id for t in tickets]

    body = client.get(
        f"{prefix}/v1/messages", query_string={"ticketId": ticket.id}, headers=headers
    ).get_json()
    assert [m["id"] for m in body["messages"]] == [m.id for m in messages]
    assert body["hasMore"] is False


def test_a_bad_cursor_is_a_validation_error(client, prefix, token):
    headers = bearer(token("contacts:read"))
    for cursor in ("not-a-cursor", "eyJhIjoxfQ", "e30"):
        resp = client.get(f"{prefix}/v1/contacts", query_string={"cursor": cursor}, headers=headers)
        assert resp.status_code == 400, cursor
        assert resp.get_json()["fields"] == {"cursor": ["Invalid cursor."]}


def test_a_closed_ticket_moves_to_the_end_of_the_feed(client, prefix, company, conn, token, clock):
    first = factories.TicketFactory(company=company, whatsapp=conn)
    clock.advance(1)
    second = factories.TicketFactory(company=company, whatsapp=conn)
    db.session.commit()
    clock.advance(1)
    db.session.get(Ticket, first.id).status = "closed"
    db.session.commit()
    clock.advance(5)
    body = client.get(f"{prefix}/v1/tickets", headers=bearer(token("tickets:read"))).get_json()
    assert [(t["id"], t["status"]) for t in body["tickets"]] == [
        (second.id, "pending"),
        (first.id, "closed"),
    ]
