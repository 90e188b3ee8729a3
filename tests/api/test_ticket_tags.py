"""Ticket tags: add one tag (idempotent, 201), remove the kanban tags only; tenancy, events."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import ticket_tags


def _tag_ids_of(ticket_id: int) -> list[int]:
    stmt = sa.select(ticket_tags.c.tag_id).where(ticket_tags.c.ticket_id == ticket_id)
    return sorted(db.session.scalars(stmt))


def _ticket_events(sock, company_id: int) -> list[dict]:
    name = f"company-{company_id}-ticket"
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


# -- add --------------------------------------------------------------------------


def test_add_tag_is_201_and_idempotent(client, prefix, agent, auth):
    lane = factories.TagFactory(company=agent.company, kanban=1)
    ticket = factories.TicketFactory(company=agent.company)
    for _ in range(2):
        resp = client.put(f"{prefix}/ticket-tags/{ticket.id}/{lane.id}", headers=auth(agent))
        assert resp.status_code == 201
        assert resp.get_json() == {"ticketId": ticket.id, "tagId": lane.id}
    assert _tag_ids_of(ticket.id) == [lane.id]


def test_add_tag_keeps_existing_tags_and_emits_ticket_update(
    client, prefix, agent, auth, other_admin, socket_client
):
    plain = factories.TagFactory(company=agent.company)
    lane = factories.TagFactory(company=agent.company, kanban=1)
    ticket = factories.TicketFactory(company=agent.company)
    ticket.tags = [plain]
    db.session.commit()
    # Ticket events reach the rooms that list the ticket: this agent watches
    # queue-less pending tickets.
    agent.all_ticket = "enabled"
    db.session.commit()
    mine, theirs = socket_client(agent), socket_client(other_admin)
    mine.emit("joinTickets", "pending", callback=True)
    mine.get_received(), theirs.get_received()
    resp = client.put(f"{prefix}/ticket-tags/{ticket.id}/{lane.id}", headers=auth(agent))
    assert resp.status_code == 201
    assert _tag_ids_of(ticket.id) == sorted([plain.id, lane.id])
    events = _ticket_events(mine, agent.company_id)
    assert len(events) == 1 and events[0]["action"] == "update"
    assert events[0]["ticket"]["id"] == ticket.id
    assert sorted(t["id"] for t in events[0]["ticket"]["tags"]) == sorted([plain.id, lane.id])
    assert events[0]["ticket"]["contact"]["id"] == ticket.contact_id
    assert not [e for e in theirs.get_received() if e["name"].endswith("-ticket")]


def test_add_with_another_companys_ticket_or_tag_is_404(client, prefix, agent, auth, other_company):
    mine_tag = factories.TagFactory(company=agent.company)
    mine_ticket = factories.TicketFactory(company=agent.company)
    foreign_tag = factories.TagFactory(company=other_company)
    foreign_ticket = factories.TicketFactory(company=other_company)
    resp = client.put(
        f"{prefix}/ticket-tags/{foreign_ticket.id}/{mine_tag.id}", headers=auth(agent)
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TICKET_FOUND"}
    resp = client.put(
        f"{prefix}/ticket-tags/{mine_ticket.id}/{foreign_tag.id}", headers=auth(agent)
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TAG_FOUND"}
    resp = client.put(f"{prefix}/ticket-tags/{mine_ticket.id}/999999", headers=auth(agent))
    assert resp.status_code == 404
    assert _tag_ids_of(mine_ticket.id) == [] and _tag_ids_of(foreign_ticket.id) == []


def test_add_needs_a_token(client, prefix, agent):
    tag = factories.TagFactory(company=agent.company)
    ticket = factories.TicketFactory(company=agent.company)
    assert client.put(f"{prefix}/ticket-tags/{ticket.id}/{tag.id}").status_code == 401
    assert _tag_ids_of(ticket.id) == []


def test_add_with_non_numeric_ids_is_404(client, prefix, agent, auth):
    assert client.put(f"{prefix}/ticket-tags/abc/1", headers=auth(agent)).status_code == 404


# -- remove kanban tags -----------------------------------------------------------


def test_delete_removes_only_kanban_tags_and_emits(
    client, prefix, agent, auth, other_admin, socket_client
):
    plain = factories.TagFactory(company=agent.company, kanban=0)
    lane_a = factories.TagFactory(company=agent.company, kanban=1)
    lane_b = factories.TagFactory(company=agent.company, kanban=1)
    ticket = factories.TicketFactory(company=agent.company)
    other_ticket = factories.TicketFactory(company=agent.company)
    ticket.tags = [plain, lane_a, lane_b]
    other_ticket.tags = [lane_a]
    db.session.commit()
    # Ticket events reach the rooms that list the ticket: this agent watches
    # queue-less pending tickets.
    agent.all_ticket = "enabled"
    db.session.commit()
    mine, theirs = socket_client(agent), socket_client(other_admin)
    mine.emit("joinTickets", "pending", callback=True)
    mine.get_received(), theirs.get_received()
    resp = client.delete(f"{prefix}/ticket-tags/{ticket.id}", headers=auth(agent))
    assert resp.status_code == 200
    assert _tag_ids_of(ticket.id) == [plain.id]
    assert _tag_ids_of(other_ticket.id) == [lane_a.id]
    events = _ticket_events(mine, agent.company_id)
    assert len(events) == 1 and events[0]["action"] == "update"
    assert [t["id"] for t in events[0]["ticket"]["tags"]] == [plain.id]
    assert not [e for e in theirs.get_received() if e["name"].endswith("-ticket")]


def test_delete_on_another_companys_ticket_is_404(client, prefix, agent, auth, other_company):
    lane = factories.TagFactory(company=other_company, kanban=1)
    foreign = factories.TicketFactory(company=other_company)
    foreign.tags = [lane]
    db.session.commit()
    resp = client.delete(f"{prefix}/ticket-tags/{foreign.id}", headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TICKET_FOUND"}
    assert _tag_ids_of(foreign.id) == [lane.id]


def test_delete_needs_a_token(client, prefix, agent):
    lane = factories.TagFactory(company=agent.company, kanban=1)
    ticket = factories.TicketFactory(company=agent.company)
    ticket.tags = [lane]
    db.session.commit()
    assert client.delete(f"{prefix}/ticket-tags/{ticket.id}").status_code == 401
    assert _tag_ids_of(ticket.id) == [lane.id]
