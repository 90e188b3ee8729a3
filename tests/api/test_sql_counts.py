"""The hot pages (ticket list, a ticket's history, contacts) run a fixed, small number of SQL
statements whatever the page or data size, and their JSON, built from selected columns, is
byte for byte what the documented marshmallow schemas dump from the ORM rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Contact, ContactCustomField, Message, Queue, Ticket
from whaticket.schemas.contacts import ContactSchema
from whaticket.schemas.messages import MessagePageSchema
from whaticket.schemas.tickets import TicketRowSchema
from whaticket.services.team import settings as settings_service

#: The two data sizes each statement count is measured at (rows of the page's kind).
SIZES = (5, 40)
#: What loading the caller's token was allowed when these budgets were set (its user with
#: its company, then its queues): each budget is that plus the page's own statements, so
#: the issue's totals (4 for the lists, 5 for a chat) hold, and a cheaper token load only
#: leaves room.
AUTH = 2
#: The test database runs each request inside a SAVEPOINT of the test's transaction
#: (tests/conftest.py): those statements are the harness's, not the page's.
_HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block (a listener on the engine's cursors)."""
    engine = db.session.get_bind().engine
    seen: list[str] = []

    def _on(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        if not statement.lstrip().upper().startswith(_HARNESS):
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", _on)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", _on)


def _get(client, url: str, headers: dict) -> tuple[object, list[str]]:
    """One request on a fresh session (as a server request has), and its statements."""
    db.session.expunge_all()
    with statements() as seen:
        resp = client.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp, list(seen)


def _workspace(company, admin, n: int) -> list[Ticket]:
    """`n` tickets on varied connections, queues, agents and tags, each contact with custom
    fields and each ticket with two messages (the second quoting the first)."""
    conns = [factories.WhatsappFactory(company=company, provider="fake") for _ in range(2)]
    queues = [factories.QueueFactory(company=company) for _ in range(2)]
    agents = [admin, factories.UserFactory(company=company)]
    tags = [factories.TagFactory(company=company, kanban=i % 2) for i in range(3)]
    tickets = []
    for i in range(n):
        contact = factories.ContactFactory(
            company=company,
            name=f"Cliente {i:03d}",
            profile_pic_url=None if i % 2 else f"https://pics.example/{i}.jpg",
            email="" if i % 3 else f"c{i}@example.com",
        )
        for k in range(i % 3):
            db.session.add(
                ContactCustomField(
                    company_id=company.id, contact_id=contact.id, name=f"f{k}", value=f"v{k}"
                )
            )
        ticket = factories.TicketFactory(
            company=company,
            contact=contact,
            whatsapp=conns[i % 2] if i % 5 else None,
            status=("open", "pending")[i % 2],
            user_id=agents[i % 2].id if i % 2 == 0 else None,
            queue_id=queues[i % 2].id if i % 3 else None,
            unread_messages=i % 4,
            last_message=f"last {i}",
        )
        ticket.tags.extend(tags[: i % 4])
        first = factories.MessageFactory(ticket=ticket, from_me=False, read=True)
        factories.MessageFactory(ticket=ticket, from_me=True, read=True, quoted_msg_id=first.id)
        tickets.append(ticket)
    db.session.commit()
    return tickets


def _tenant():
    """A company of its own (with its default settings) and its admin: one per data size."""
    company = factories.CompanyFactory()
    settings_service.create_defaults(company.id)
    return company, factories.AdminFactory(company=company)


def _per_size(measure) -> list[list[str]]:
    """`measure(company, admin, n)` -> statements, for 5 and then 40 rows, each in a
    company of its own; both runs must cost the same statements (no N+1, no growth)."""
    runs = [measure(*_tenant(), n) for n in SIZES]
    assert len(runs[0]) == len(runs[1]), runs
    return runs


def _wire(app, body: object) -> bytes:
    """`body` as the app writes JSON (key order kept, compact)."""
    with app.test_request_context():
        return app.json.response(body).get_data()


# -- GET /tickets -------------------------------------------------------------------

TICKET_PAGES = [
    "status=open&showAll=true",
    "status=pending",
    "showAll=true",
    "queueIds=[{queue}]&showAll=true",
    "searchParam=cliente&showAll=true",
    "searchParam=message&status=open",
]


@pytest.mark.parametrize("query", TICKET_PAGES)
def test_ticket_list_statements(client, prefix, auth, query):
    def measure(company, admin, n):
        tickets = _workspace(company, admin, n)
        url = f"{prefix}/tickets?" + query.format(queue=tickets[1].queue_id)
        resp, seen = _get(client, url, auth(admin))
        assert resp.get_json()["tickets"], "the page must not be empty"
        return seen

    for seen in _per_size(measure):
        # The COUNT and the page (with its contacts, agents, queues, connections and tags).
        assert len(seen) <= AUTH + 2, seen


def test_ticket_list_statements_for_an_agent(client, prefix, auth):
    def measure(company, admin, n):
        agent = factories.UserFactory(company=company)
        tickets = _workspace(company, admin, n)
        for queue_id in {t.queue_id for t in tickets if t.queue_id}:
            agent.queues.append(db.session.get(Queue, queue_id))
        for ticket in tickets[::3]:
            ticket.user_id = agent.id
        db.session.commit()
        resp, seen = _get(client, f"{prefix}/tickets?status=pending", auth(agent))
        assert resp.get_json()["tickets"]
        return seen

    for seen in _per_size(measure):
        assert len(seen) <= AUTH + 2, seen


@pytest.mark.parametrize("query", TICKET_PAGES)
def test_ticket_list_json_is_the_schemas(app, client, prefix, admin, auth, company, query):
    tickets = _workspace(company, admin, 12)
    url = f"{prefix}/tickets?" + query.format(queue=tickets[1].queue_id)
    resp, _ = _get(client, url, auth(admin))
    body = resp.get_json()
    db.session.expire_all()
    schema = TicketRowSchema()
    expected = {
        "tickets": [schema.dump(db.session.get(Ticket, row["id"])) for row in body["tickets"]],
        "count": body["count"],
        "hasMore": body["hasMore"],
    }
    assert resp.get_data() == _wire(app, expected)
    # The rows are the ones the filters select, newest activity first.
    ids = [row["id"] for row in body["tickets"]]
    updated = [db.session.get(Ticket, i).updated_at for i in ids]
    assert updated == sorted(updated, reverse=True)


def test_ticket_list_later_pages_and_past_the_end(client, prefix, admin, auth, company):
    _workspace(company, admin, 45)
    first = client.get(f"{prefix}/tickets?showAll=true", headers=auth(admin)).get_json()
    second = client.get(f"{prefix}/tickets?showAll=true&pageNumber=2", headers=auth(admin))
    second = second.get_json()
    assert (first["count"], len(first["tickets"]), first["hasMore"]) == (45, 40, True)
    assert (second["count"], len(second["tickets"]), second["hasMore"]) == (45, 5, False)
    assert not {t["id"] for t in first["tickets"]} & {t["id"] for t in second["tickets"]}
    resp, seen = _get(client, f"{prefix}/tickets?showAll=true&pageNumber=3", auth(admin))
    assert resp.get_json() == {"tickets": [], "count": 45, "hasMore": False}
    assert len(seen) <= AUTH + 1, seen  # the COUNT says there is no such page


# -- GET /messages/:ticketId ----------------------------------------------------------


def _history(company, admin, n: int) -> Ticket:
    """An open ticket with tags, a contact with custom fields, and `n` read messages (some
    quoting, some with media)."""
    ticket = _workspace(company, admin, 3)[2]
    previous = None
    for i in range(n):
        previous = factories.MessageFactory(
            ticket=ticket,
            from_me=i % 2 == 1,
            read=True,
            quoted_msg_id=previous.id if previous is not None and i % 3 == 0 else None,
            media_type="image" if i % 4 == 0 else "chat",
            media_path=f"img/{i}.png" if i % 4 == 0 else None,
            media_name=f"{i}.png" if i % 4 == 0 else None,
            reactions=[{"from": "me", "emoji": "+1", "at": "2024-01-01T00:00:00Z"}]
            if i % 5 == 0
            else None,
        )
    ticket.unread_messages = 0
    db.session.commit()
    return ticket


def _expected_history(app, ticket_id: int, page_number: int) -> dict:
    """What the history answered before: the ORM rows dumped by MessagePageSchema (in a
    request to the test client's host, which media URLs are signed for)."""
    db.session.expire_all()
    base = sa.select(Message).where(Message.ticket_id == ticket_id)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    offset = (page_number - 1) * 20
    rows = list(
        db.session.scalars(
            base.order_by(Message.created_at.desc(), Message.id.desc()).limit(20).offset(offset)
        )
    )[::-1]
    with app.test_request_context():
        return MessagePageSchema().dump(
            {
                "count": count,
                "messages": rows,
                "ticket": db.session.get(Ticket, ticket_id),
                "has_more": count > offset + len(rows),
            }
        )


def test_history_statements_of_a_read_ticket(client, prefix, auth):
    def measure(company, admin, n):
        ticket = _history(company, admin, n)
        resp, seen = _get(client, f"{prefix}/messages/{ticket.id}", auth(admin))
        assert len(resp.get_json()["messages"]) == min(n + 2, 20)
        return seen

    for seen in _per_size(measure):
        # The ticket (with its tags, custom fields and both counts), then the page.
        assert len(seen) <= AUTH + 2, seen


def test_history_statements_of_an_unread_ticket(client, prefix, auth):
    def measure(company, admin, n):
        ticket = _history(company, admin, n)
        for i in range(3):
            factories.MessageFactory(ticket=ticket, from_me=False, read=False, body=f"new {i}")
        ticket.unread_messages = 3
        db.session.commit()
        resp, seen = _get(client, f"{prefix}/messages/{ticket.id}", auth(admin))
        body = resp.get_json()
        assert body["ticket"]["unreadMessages"] == 0
        assert all(m["read"] for m in body["messages"] if not m["fromMe"])
        return seen

    for seen in _per_size(measure):
        # + the two UPDATEs (messages read, unread 0) and, after the commit, the read
        # receipt's connection.
        assert len(seen) <= AUTH + 2 + 2 + 1, seen


def test_history_json_is_the_schemas(app, client, prefix, admin, auth, company):
    ticket = _history(company, admin, 30)
    for page_number in (1, 2):
        url = f"{prefix}/messages/{ticket.id}?pageNumber={page_number}"
        resp, _ = _get(client, url, auth(admin))
        assert resp.get_data() == _wire(app, _expected_history(app, ticket.id, page_number))


def test_history_marks_read_as_before(app, client, prefix, admin, auth, company):
    ticket = _history(company, admin, 30)
    # One unread message off the first page (it had been missed), three on it.
    old = db.session.scalars(
        sa.select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id).limit(1)
    ).one()
    old.read, old.from_me = False, False
    for i in range(3):
        factories.MessageFactory(ticket=ticket, from_me=False, read=False, body=f"new {i}")
    ticket.unread_messages = 4
    db.session.commit()
    resp, _ = _get(client, f"{prefix}/messages/{ticket.id}", auth(admin))
    # What the page says is what is stored now, dumped as before.
    assert resp.get_data() == _wire(app, _expected_history(app, ticket.id, 1))
    unread = db.session.scalar(
        sa.select(sa.func.count()).where(Message.ticket_id == ticket.id, Message.read.is_(False))
    )
    assert unread == 0
    assert db.session.get(Ticket, ticket.id).unread_messages == 0


def test_history_of_a_ticket_without_messages(app, client, prefix, admin, auth, company):
    ticket = factories.TicketFactory(company=company, status="pending", unread_messages=0)
    resp, seen = _get(client, f"{prefix}/messages/{ticket.id}", auth(admin))
    assert resp.get_data() == _wire(app, _expected_history(app, ticket.id, 1))
    assert resp.get_json()["count"] == 0 and resp.get_json()["messages"] == []
    assert len(seen) <= AUTH + 2, seen


def test_history_of_another_company_or_queue_is_404(
    client, prefix, admin, agent, auth, company, other_admin
):
    ticket = _history(company, admin, 3)
    ticket.queue_id = factories.QueueFactory(company=company).id
    db.session.commit()
    for user in (other_admin, agent):
        resp = client.get(f"{prefix}/messages/{ticket.id}", headers=auth(user))
        assert resp.status_code == 404
        assert resp.get_json() == {"error": "ERR_NO_TICKET_FOUND"}


# -- GET /contacts ---------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "searchParam=cliente", "searchParam=5511&pageNumber=1"])
def test_contacts_statements(client, prefix, auth, query):
    def measure(company, admin, n):
        _workspace(company, admin, n)
        resp, seen = _get(client, f"{prefix}/contacts?{query}", auth(admin))
        assert resp.get_json()["contacts"]
        return seen

    for seen in _per_size(measure):
        # The COUNT and the page with its custom fields.
        assert len(seen) <= AUTH + 2, seen


@pytest.mark.parametrize("page_number", [1, 2])
def test_contacts_json_is_the_schemas(app, client, prefix, admin, auth, company, page_number):
    _workspace(company, admin, 40)
    resp, _ = _get(client, f"{prefix}/contacts?pageNumber={page_number}", auth(admin))
    body = resp.get_json()
    db.session.expire_all()
    schema = ContactSchema()
    expected = {
        "contacts": [schema.dump(db.session.get(Contact, c["id"])) for c in body["contacts"]],
        "count": body["count"],
        "hasMore": body["hasMore"],
    }
    assert resp.get_data() == _wire(app, expected)
    names = [(c["name"], c["id"]) for c in body["contacts"]]
    assert names == sorted(names) and len(names) == (30 if page_number == 1 else 10)
    assert json.loads(resp.get_data())["count"] == 40


def _with_sla(company, tickets: list[Ticket]) -> None:
    """Every other ticket shows an SLA episode (one breached, the rest on track)."""
    from datetime import UTC, datetime

    from whaticket.models import SlaPolicy, TicketTracking

    policy = SlaPolicy(company_id=company.id, name="Gold", first_response_minutes=30)
    db.session.add(policy)
    db.session.flush()
    due = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for i, ticket in enumerate(tickets[::2]):
        tracking = TicketTracking(
            company_id=company.id,
            ticket_id=ticket.id,
            sla_policy_id=policy.id,
            sla_status="breached" if i == 0 else "ok",
            first_response_due_at=due,
            resolution_due_at=None,
        )
        db.session.add(tracking)
        db.session.flush()
        ticket.sla_tracking_id = tracking.id
    db.session.commit()


def test_ticket_list_with_sla_statements_and_json(app, client, prefix, auth):
    def measure(company, admin, n):
        tickets = _workspace(company, admin, n)
        _with_sla(company, tickets)
        resp, seen = _get(client, f"{prefix}/tickets?showAll=true", auth(admin))
        body = resp.get_json()
        assert any(t["sla"] for t in body["tickets"]) and any(
            t["sla"] is None for t in body["tickets"]
        )
        db.session.expire_all()
        expected = {
            "tickets": [
                TicketRowSchema().dump(db.session.get(Ticket, row["id"])) for row in body["tickets"]
            ],
            "count": body["count"],
            "hasMore": body["hasMore"],
        }
        assert resp.get_data() == _wire(app, expected)
        resp, filtered = _get(client, f"{prefix}/tickets?showAll=true&sla=breached", auth(admin))
        assert [t["sla"]["status"] for t in resp.get_json()["tickets"]] == ["breached"]
        assert len(filtered) <= AUTH + 2, filtered
        return seen

    for seen in _per_size(measure):
        assert len(seen) <= AUTH + 2, seen
