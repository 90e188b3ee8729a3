"""Open ticket screen: `GET /tickets/u/:uuid` feeds the header, the actions and the contact
drawer, whose "extra info" lists the contact's custom fields (`contact.extraInfo`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import ContactCustomField

#: The keys components/Ticket, TicketInfo, TicketActionButtonsCustom, TagsContainer and
#: ContactNotes read from the ticket itself.
TICKET_KEYS = {
    "id",
    "uuid",
    "status",
    "queueId",
    "isGroup",
    "user",
    "tags",
    "contactId",
    "contact",
    "useIntegration",
    "promptId",
    "integrationId",
}
#: The contact keys TicketInfo and ContactDrawer read.
CONTACT_KEYS = {"id", "name", "number", "email", "profilePicUrl", "extraInfo"}


@pytest.fixture
def ticket(company, admin):
    """An open ticket of the admin, in a queue, whose contact has two custom fields."""
    queue = factories.QueueFactory(company=company)
    ticket = factories.TicketFactory(company=company, status="open", user=admin, queue=queue)
    _fields(ticket.contact, [("CPF", "123.456.789-00"), ("Plano", "**Ouro**")])
    return ticket


def _fields(contact, pairs: list[tuple[str, str]]) -> None:
    for name, value in pairs:
        db.session.add(
            ContactCustomField(
                company_id=contact.company_id, contact_id=contact.id, name=name, value=value
            )
        )
    db.session.commit()


def _show(client, prefix, auth, user, path: str) -> dict:
    resp = client.get(f"{prefix}/tickets/{path}", headers=auth(user))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


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


def test_drawer_lists_the_contacts_custom_fields(client, prefix, auth, admin, ticket):
    """src/components/ContactDrawer/index.js:178 maps contact.extraInfo[] to {id (key), name,
    value} panels; src/components/Ticket/index.js:78-89 takes `contact` from GET
    /tickets/u/:uuid."""
    body = _show(client, prefix, auth, admin, f"u/{ticket.uuid}")
    extra = body["contact"]["extraInfo"]
    assert [(f["name"], f["value"]) for f in extra] == [
        ("CPF", "123.456.789-00"),
        ("Plano", "**Ouro**"),
    ]
    assert all(set(f) == {"id", "name", "value"} and isinstance(f["id"], int) for f in extra)
    assert len({f["id"] for f in extra}) == 2  # React keys


def test_show_by_id_carries_them_too(client, prefix, auth, admin, ticket):
    """src/components/TicketMessagesDialog/index.js:79 ("Espiar") GETs /tickets/:id and
    keeps data.contact like the open ticket does."""
    by_id = _show(client, prefix, auth, admin, str(ticket.id))
    by_uuid = _show(client, prefix, auth, admin, f"u/{ticket.uuid}")
    assert by_id == by_uuid
    assert len(by_id["contact"]["extraInfo"]) == 2


def test_header_and_actions_read_the_rest_of_the_answer(client, prefix, auth, admin, ticket):
    """src/components/Ticket/index.js renders TicketInfo only when `user` is not undefined
    (null for an unassigned ticket), checks `queueId` against the agent's queues;
    TicketInfo reads contact.{name,profilePicUrl} and user.name; TicketActionButtonsCustom
    reads status and sends useIntegration/promptId/integrationId back; TagsContainer reads
    tags[]; ContactNotes reads id and contactId."""
    body = _show(client, prefix, auth, admin, f"u/{ticket.uuid}")
    assert set(body) >= TICKET_KEYS
    assert set(body["contact"]) >= CONTACT_KEYS
    assert body["user"] == {"id": admin.id, "name": admin.name}
    assert body["queueId"] == ticket.queue_id and body["contactId"] == ticket.contact_id
    assert body["status"] == "open" and body["isGroup"] is False and body["tags"] == []
    assert body["useIntegration"] is False
    assert body["promptId"] is None and body["integrationId"] is None

    pending = factories.TicketFactory(company=admin.company, status="pending")
    body = _show(client, prefix, auth, admin, f"u/{pending.uuid}")
    assert "user" in body and body["user"] is None  # `!== undefined`: the header renders
    assert body["contact"]["extraInfo"] == []  # the drawer maps an empty list


def test_fields_cost_no_query_each(client, prefix, auth, admin, ticket):
    """A contact with many custom fields costs the same SQL statements as one with two."""
    many = factories.TicketFactory(company=admin.company, status="open", user=admin)
    _fields(many.contact, [(f"Campo {i}", str(i)) for i in range(12)])

    def _cost(uuid: str) -> tuple[int, int]:
        db.session.expire_all()  # both read from the database, nothing from the session
        with _statements() as seen:
            body = _show(client, prefix, auth, admin, f"u/{uuid}")
        return len(seen), len(body["contact"]["extraInfo"])

    few_sql, few = _cost(ticket.uuid)
    many_sql, lots = _cost(many.uuid)
    assert (few, lots) == (2, 12)
    assert many_sql == few_sql


def test_live_frames_show_the_same_contact(client, prefix, auth, admin, ticket, socket_client):
    """src/components/TicketsListCustom replaces its row with data.ticket of a
    company-{cid}-ticket update: the frame's contact is the one GET answers."""
    sock = socket_client(admin)
    sock.get_received()
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}", json={"status": "pending"}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    frames = [
        e["args"][0]["ticket"]
        for e in sock.get_received()
        if e["name"] == f"company-{admin.company_id}-ticket" and e["args"][0]["action"] == "update"
    ]
    shown = _show(client, prefix, auth, admin, f"u/{ticket.uuid}")
    assert frames and all(f["contact"] == shown["contact"] for f in frames)


def test_editing_fields_updates_the_open_drawer(client, prefix, auth, admin, ticket, socket_client):
    """src/components/Ticket/index.js:119 merges data.contact of a company-{cid}-contact
    update into the drawer's contact: the event carries the new extraInfo."""
    sock = socket_client(admin)
    sock.get_received()
    contact = _show(client, prefix, auth, admin, f"u/{ticket.uuid}")["contact"]
    # ContactModal PUTs the whole contact with its edited custom fields.
    edited = [*contact["extraInfo"][1:], {"name": "Cidade", "value": "Recife"}]
    resp = client.put(
        f"{prefix}/contacts/{contact['id']}",
        json={**contact, "extraInfo": edited},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    events = [
        e["args"][0]
        for e in sock.get_received()
        if e["name"] == f"company-{admin.company_id}-contact"
    ]
    assert [e["action"] for e in events] == ["update"]
    assert [(f["name"], f["value"]) for f in events[0]["contact"]["extraInfo"]] == [
        ("Plano", "**Ouro**"),
        ("Cidade", "Recife"),
    ]


def test_inline_form_saves_the_drawer_contact_as_is(client, prefix, auth, admin, ticket):
    """src/components/ContactForm/index.js:74 (the drawer's pencil) PUTs the drawer's
    contact, extraInfo included: saving a new name keeps every custom field, ids intact."""
    contact = _show(client, prefix, auth, admin, f"u/{ticket.uuid}")["contact"]
    resp = client.put(
        f"{prefix}/contacts/{contact['id']}",
        json={**contact, "name": "Maria Souza"},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    after = _show(client, prefix, auth, admin, f"u/{ticket.uuid}")["contact"]
    assert after["name"] == "Maria Souza"
    assert after["extraInfo"] == contact["extraInfo"]


def test_another_companys_ticket_is_404(client, prefix, auth, other_admin, ticket):
    """The uuid of another company's ticket reveals nothing (the reference did not check)."""
    for path in (f"u/{ticket.uuid}", str(ticket.id)):
        resp = client.get(f"{prefix}/tickets/{path}", headers=auth(other_admin))
        assert resp.status_code == 404
        assert resp.get_json() == {"error": "ERR_NO_TICKET_FOUND"}
