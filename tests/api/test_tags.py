"""Tags: list with ticket counts (constant SQL), picker, Kanban, CRUD, sync; tenancy, events."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Tag, Ticket, ticket_tags


def _tag_ids_of(ticket_id: int) -> list[int]:
    stmt = sa.select(ticket_tags.c.tag_id).where(ticket_tags.c.ticket_id == ticket_id)
    return sorted(db.session.scalars(stmt))


def _count_tags(company_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(Tag.id)).where(Tag.company_id == company_id))


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


@contextmanager
def _sql_counter():
    """Count SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _count)


# -- list -------------------------------------------------------------------------


def test_list_rows_carry_ticket_counts_and_are_scoped(client, prefix, agent, auth, other_company):
    busy = factories.TagFactory(company=agent.company, name="Busy", color="#FF0000", kanban=1)
    idle = factories.TagFactory(company=agent.company, name="Idle")
    factories.TagFactory(company=other_company, name="Foreign")
    for _ in range(2):
        ticket = factories.TicketFactory(company=agent.company)
        ticket.tags = [busy]
    db.session.commit()
    resp = client.get(f"{prefix}/tags", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 2 and body["hasMore"] is False
    assert body["tags"] == [
        {"id": busy.id, "name": "Busy", "color": "#FF0000", "kanban": 1, "ticketsCount": 2},
        {"id": idle.id, "name": "Idle", "color": "#A4CCCC", "kanban": 0, "ticketsCount": 0},
    ]


def test_list_searches_name_and_color(client, prefix, agent, auth):
    factories.TagFactory(company=agent.company, name="Urgent", color="#111111")
    factories.TagFactory(company=agent.company, name="Later", color="#ABCDEF")
    factories.TagFactory(company=agent.company, name="Other", color="#222222")
    body = client.get(f"{prefix}/tags?searchParam=urg", headers=auth(agent)).get_json()
    assert [t["name"] for t in body["tags"]] == ["Urgent"]
    body = client.get(f"{prefix}/tags?searchParam=abcd", headers=auth(agent)).get_json()
    assert [t["name"] for t in body["tags"]] == ["Later"]


def _statements_for_tag_list(client, prefix, agent, auth, n_tags: int) -> int:
    company = agent.company
    tags = [factories.TagFactory(company=company) for _ in range(n_tags)]
    ticket = factories.TicketFactory(company=company)
    ticket.tags = tags
    db.session.commit()
    headers = auth(agent)
    db.session.expire_all()
    with _sql_counter() as statements:
        resp = client.get(f"{prefix}/tags", headers=headers)
    assert resp.status_code == 200
    assert len(resp.get_json()["tags"]) == _count_tags(company.id)
    assert all(t["ticketsCount"] == 1 for t in resp.get_json()["tags"])
    return len(statements)


def test_list_runs_a_constant_number_of_statements(client, prefix, agent, auth, other_company):
    few = _statements_for_tag_list(client, prefix, agent, auth, 3)
    other_agent = factories.UserFactory(company=other_company)
    many = _statements_for_tag_list(client, prefix, other_agent, auth, 30)
    assert few == many
    assert many <= 5  # user lookup, count, page, one grouped ticket count


def test_list_rejects_bad_page_number_and_needs_a_token(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/tags?pageNumber=zero", headers=auth(agent))
    assert resp.status_code == 400 and "pageNumber" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/tags").status_code == 401


def test_picker_list_is_a_plain_scoped_array(client, prefix, agent, auth, other_company):
    factories.TagFactory(company=agent.company, name="Beta")
    factories.TagFactory(company=agent.company, name="Alpha", color="#123456")
    factories.TagFactory(company=other_company, name="Alpha2")
    body = client.get(f"{prefix}/tags/list", headers=auth(agent)).get_json()
    assert [t["name"] for t in body] == ["Alpha", "Beta"]
    assert {"id", "name", "color", "kanban"} <= set(body[0])
    body = client.get(f"{prefix}/tags/list?searchParam=123", headers=auth(agent)).get_json()
    assert [t["name"] for t in body] == ["Alpha"]
    assert client.get(f"{prefix}/tags/list").status_code == 401


def test_kanban_lists_kanban_tags_by_id(client, prefix, agent, auth, other_company):
    second = factories.TagFactory(company=agent.company, name="Zeta lane", kanban=1)
    factories.TagFactory(company=agent.company, name="Not a lane", kanban=0)
    third = factories.TagFactory(company=agent.company, name="Alpha lane", kanban=1)
    factories.TagFactory(company=other_company, name="Foreign lane", kanban=1)
    resp = client.get(f"{prefix}/tags/kanban", headers=auth(agent))
    assert resp.status_code == 200
    assert [t["id"] for t in resp.get_json()["lista"]] == [second.id, third.id]
    assert client.get(f"{prefix}/tags/kanban").status_code == 401


# -- create -----------------------------------------------------------------------


def test_create_stores_the_tag_and_emits_to_own_company_only(
    client, prefix, agent, auth, other_admin, socket_client
):
    # Ticket events reach the rooms that list the ticket: this agent watches
    # queue-less pending tickets.
    agent.all_ticket = "enabled"
    db.session.commit()
    mine, theirs = socket_client(agent), socket_client(other_admin)
    mine.emit("joinTickets", "pending", callback=True)
    mine.get_received(), theirs.get_received()
    resp = client.post(
        f"{prefix}/tags", json={"name": " Lead ", "color": "#abc", "kanban": 1}, headers=auth(agent)
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "Lead" and body["color"] == "#abc" and body["kanban"] == 1
    assert body["companyId"] == agent.company_id
    tag = db.session.get(Tag, body["id"])
    assert tag.company_id == agent.company_id and tag.name == "Lead"
    events = _events(mine, f"company-{agent.company_id}-tag")
    assert events == [{"action": "create", "tag": body}]
    assert not [e for e in theirs.get_received() if e["name"].endswith("-tag")]


def test_create_defaults_color_and_kanban(client, prefix, agent, auth):
    body = client.post(f"{prefix}/tags", json={"name": "Plain"}, headers=auth(agent)).get_json()
    assert body["color"] == "#A4CCCC" and body["kanban"] == 0


def test_create_validation_names_each_field(client, prefix, agent, auth):
    resp = client.post(
        f"{prefix}/tags",
        json={"name": "ab", "color": "red", "kanban": 2},
        headers=auth(agent),
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert {"name", "color", "kanban"} <= set(body["fields"])
    resp = client.post(f"{prefix}/tags", json={}, headers=auth(agent))
    assert resp.status_code == 400 and "name" in resp.get_json()["fields"]
    assert _count_tags(agent.company_id) == 0


def test_create_duplicate_name_in_company_is_refused(client, prefix, agent, auth, other_company):
    factories.TagFactory(company=agent.company, name="Vip")
    factories.TagFactory(company=other_company, name="Gold")
    resp = client.post(f"{prefix}/tags", json={"name": "VIP"}, headers=auth(agent))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_DUPLICATED_TAG"}
    # Names are unique per company only.
    assert (
        client.post(f"{prefix}/tags", json={"name": "Gold"}, headers=auth(agent)).status_code == 200
    )
    assert _count_tags(agent.company_id) == 2


def test_create_needs_a_token(client, prefix, app):
    assert client.post(f"{prefix}/tags", json={"name": "Lead"}).status_code == 401


# -- show -------------------------------------------------------------------------


def test_show_own_tag_and_404_for_others(client, prefix, agent, auth, other_company):
    tag = factories.TagFactory(company=agent.company, name="Mine")
    foreign = factories.TagFactory(company=other_company)
    resp = client.get(f"{prefix}/tags/{tag.id}", headers=auth(agent))
    assert resp.status_code == 200 and resp.get_json()["name"] == "Mine"
    resp = client.get(f"{prefix}/tags/{foreign.id}", headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TAG_FOUND"}
    assert client.get(f"{prefix}/tags/999999", headers=auth(agent)).status_code == 404
    assert client.get(f"{prefix}/tags/{tag.id}").status_code == 401


# -- update -----------------------------------------------------------------------


def test_admin_updates_a_tag_and_event_is_emitted(client, prefix, admin, auth, socket_client):
    tag = factories.TagFactory(company=admin.company, name="Old")
    sock = socket_client(admin)
    sock.get_received()
    resp = client.put(
        f"{prefix}/tags/{tag.id}",
        json={"name": "New", "color": "#000000", "kanban": True},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "New" and body["color"] == "#000000" and body["kanban"] == 1
    db.session.expire_all()
    assert db.session.get(Tag, tag.id).name == "New"
    assert _events(sock, f"company-{admin.company_id}-tag") == [{"action": "update", "tag": body}]


def test_agent_cannot_update(client, prefix, agent, auth):
    tag = factories.TagFactory(company=agent.company, name="Keep")
    resp = client.put(f"{prefix}/tags/{tag.id}", json={"name": "Changed"}, headers=auth(agent))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    db.session.expire_all()
    assert db.session.get(Tag, tag.id).name == "Keep"


def test_update_other_company_tag_is_404(client, prefix, admin, auth, other_company):
    foreign = factories.TagFactory(company=other_company, name="Theirs")
    resp = client.put(f"{prefix}/tags/{foreign.id}", json={"name": "Mine now"}, headers=auth(admin))
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(Tag, foreign.id).name == "Theirs"


def test_update_validation_and_duplicate(client, prefix, admin, auth):
    tag = factories.TagFactory(company=admin.company, name="First")
    factories.TagFactory(company=admin.company, name="Second")
    resp = client.put(f"{prefix}/tags/{tag.id}", json={"color": "#12"}, headers=auth(admin))
    assert resp.status_code == 400 and "color" in resp.get_json()["fields"]
    resp = client.put(f"{prefix}/tags/{tag.id}", json={"name": "second"}, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_DUPLICATED_TAG"}
    # Keeping its own name is not a duplicate.
    resp = client.put(f"{prefix}/tags/{tag.id}", json={"name": "First"}, headers=auth(admin))
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(Tag, tag.id).color == "#A4CCCC"


def test_update_needs_a_token(client, prefix, admin):
    tag = factories.TagFactory(company=admin.company)
    assert client.put(f"{prefix}/tags/{tag.id}", json={"name": "Nope"}).status_code == 401


# -- delete -----------------------------------------------------------------------


def test_admin_deletes_tag_with_its_links(client, prefix, admin, auth, socket_client):
    tag = factories.TagFactory(company=admin.company)
    ticket = factories.TicketFactory(company=admin.company)
    ticket.tags = [tag]
    db.session.commit()
    sock = socket_client(admin)
    sock.get_received()
    resp = client.delete(f"{prefix}/tags/{tag.id}", headers=auth(admin))
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(Tag, tag.id) is None
    assert _tag_ids_of(ticket.id) == []
    assert _events(sock, f"company-{admin.company_id}-tag") == [
        {"action": "delete", "tagId": tag.id}
    ]


def test_agent_cannot_delete_and_other_company_is_404(
    client, prefix, admin, agent, auth, other_company
):
    tag = factories.TagFactory(company=agent.company)
    foreign = factories.TagFactory(company=other_company)
    assert client.delete(f"{prefix}/tags/{tag.id}", headers=auth(agent)).status_code == 403
    assert client.delete(f"{prefix}/tags/{foreign.id}", headers=auth(admin)).status_code == 404
    assert client.delete(f"{prefix}/tags/{tag.id}").status_code == 401
    assert db.session.get(Tag, tag.id) is not None
    assert db.session.get(Tag, foreign.id) is not None


# -- sync -------------------------------------------------------------------------


def test_sync_replaces_all_tags_and_emits_ticket_update(
    client, prefix, agent, auth, other_admin, socket_client
):
    old, keep, new = (factories.TagFactory(company=agent.company) for _ in range(3))
    ticket = factories.TicketFactory(company=agent.company)
    ticket.tags = [old, keep]
    db.session.commit()
    # Ticket events reach the rooms that list the ticket: this agent watches
    # queue-less pending tickets.
    agent.all_ticket = "enabled"
    db.session.commit()
    mine, theirs = socket_client(agent), socket_client(other_admin)
    mine.emit("joinTickets", "pending", callback=True)
    mine.get_received(), theirs.get_received()
    resp = client.post(
        f"{prefix}/tags/sync",
        json={"ticketId": ticket.id, "tags": [{"id": new.id, "name": new.name}, {"id": keep.id}]},
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ticketId"] == ticket.id
    assert [t["id"] for t in body["tags"]] == sorted([keep.id, new.id])
    assert _tag_ids_of(ticket.id) == sorted([keep.id, new.id])
    events = _events(mine, f"company-{agent.company_id}-ticket")
    assert len(events) == 1 and events[0]["action"] == "update"
    assert events[0]["ticket"]["id"] == ticket.id
    assert [t["id"] for t in events[0]["ticket"]["tags"]] == sorted([keep.id, new.id])
    assert not [e for e in theirs.get_received() if e["name"].endswith("-ticket")]


def test_sync_with_empty_list_clears(client, prefix, agent, auth):
    tag = factories.TagFactory(company=agent.company)
    ticket = factories.TicketFactory(company=agent.company)
    ticket.tags = [tag]
    db.session.commit()
    resp = client.post(
        f"{prefix}/tags/sync", json={"ticketId": ticket.id, "tags": []}, headers=auth(agent)
    )
    assert resp.status_code == 200 and resp.get_json()["tags"] == []
    assert _tag_ids_of(ticket.id) == []


def test_sync_refuses_another_companys_tag(client, prefix, agent, auth, other_company):
    mine = factories.TagFactory(company=agent.company)
    foreign = factories.TagFactory(company=other_company)
    ticket = factories.TicketFactory(company=agent.company)
    ticket.tags = [mine]
    db.session.commit()
    resp = client.post(
        f"{prefix}/tags/sync",
        json={"ticketId": ticket.id, "tags": [{"id": mine.id}, {"id": foreign.id}]},
        headers=auth(agent),
    )
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_VALIDATION", "fields": {"tags": ["Unknown tag."]}}
    assert _tag_ids_of(ticket.id) == [mine.id]


def test_sync_on_another_companys_ticket_is_404(client, prefix, agent, auth, other_company):
    foreign_tag = factories.TagFactory(company=other_company)
    foreign_ticket = factories.TicketFactory(company=other_company)
    mine = factories.TagFactory(company=agent.company)
    resp = client.post(
        f"{prefix}/tags/sync",
        json={"ticketId": foreign_ticket.id, "tags": [{"id": mine.id}]},
        headers=auth(agent),
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TICKET_FOUND"}
    resp = client.post(
        f"{prefix}/tags/sync",
        json={"ticketId": foreign_ticket.id, "tags": [{"id": foreign_tag.id}]},
        headers=auth(agent),
    )
    assert resp.status_code == 404
    assert _tag_ids_of(foreign_ticket.id) == []


def test_sync_validation_and_token(client, prefix, agent, auth):
    resp = client.post(f"{prefix}/tags/sync", json={"tags": "x"}, headers=auth(agent))
    assert resp.status_code == 400
    assert {"ticketId", "tags"} <= set(resp.get_json()["fields"])
    resp = client.post(
        f"{prefix}/tags/sync",
        json={"ticketId": 1, "tags": [{"name": "no id"}]},
        headers=auth(agent),
    )
    assert resp.status_code == 400 and "tags" in resp.get_json()["fields"]
    assert client.post(f"{prefix}/tags/sync", json={"ticketId": 1, "tags": []}).status_code == 401
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ticket_tags)) == 0
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
