"""Ticket notes: company page, per contact/ticket list, CRUD; author-or-admin rules, tenancy."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests import factories
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import TicketNote


def _count_notes() -> int:
    return db.session.scalar(sa.select(sa.func.count(TicketNote.id)))


def _note(ticket, user=None, minutes_ago: int = 0, **over) -> TicketNote:
    when = utcnow() - timedelta(minutes=minutes_ago)
    return factories.TicketNoteFactory(
        ticket=ticket, user_id=user.id if user else None, created_at=when, **over
    )


# -- page -------------------------------------------------------------------------


def test_page_is_company_scoped_newest_first(client, prefix, agent, auth, other_company):
    ticket = factories.TicketFactory(company=agent.company)
    for i in range(21):
        _note(ticket, agent, minutes_ago=100 - i, note=f"note {i:02d}")
    _note(factories.TicketFactory(company=other_company), note="foreign note")
    resp = client.get(f"{prefix}/ticket-notes", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 21 and body["hasMore"] is True and len(body["notes"]) == 20
    assert body["notes"][0]["note"] == "note 20"
    assert body["notes"][0]["user"] == {"id": agent.id, "name": agent.name, "email": agent.email}
    page2 = client.get(f"{prefix}/ticket-notes?pageNumber=2", headers=auth(agent)).get_json()
    assert [n["note"] for n in page2["notes"]] == ["note 00"] and page2["hasMore"] is False


def test_page_searches_note_text(client, prefix, agent, auth):
    ticket = factories.TicketFactory(company=agent.company)
    _note(ticket, note="Customer wants a REFUND")
    _note(ticket, note="Called back")
    body = client.get(f"{prefix}/ticket-notes?searchParam=refund", headers=auth(agent)).get_json()
    assert [n["note"] for n in body["notes"]] == ["Customer wants a REFUND"]


def test_page_validation_and_token(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/ticket-notes?pageNumber=-1", headers=auth(agent))
    assert resp.status_code == 400 and "pageNumber" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/ticket-notes").status_code == 401


# -- list -------------------------------------------------------------------------


def test_list_by_contact_and_ticket_newest_first_with_relations(client, prefix, agent, auth):
    ticket = factories.TicketFactory(company=agent.company)
    other = factories.TicketFactory(company=agent.company)
    older = _note(ticket, agent, minutes_ago=10, note="older")
    newer = _note(ticket, agent, minutes_ago=1, note="newer")
    _note(other, agent, note="elsewhere")
    resp = client.get(
        f"{prefix}/ticket-notes/list?contactId={ticket.contact_id}&ticketId={ticket.id}",
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert [n["id"] for n in body] == [newer.id, older.id]
    assert body[0]["user"] == {"id": agent.id, "name": agent.name, "email": agent.email}
    assert body[0]["contact"] == {"id": ticket.contact_id, "name": ticket.contact.name}
    assert set(body[0]["ticket"]) == {"id", "status", "createdAt"}
    assert body[0]["ticket"]["id"] == ticket.id and body[0]["ticket"]["status"] == "pending"


def test_list_of_another_companys_ticket_is_404(client, prefix, agent, auth, other_company):
    foreign = factories.TicketFactory(company=other_company)
    _note(foreign, note="secret")
    resp = client.get(f"{prefix}/ticket-notes/list?ticketId={foreign.id}", headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TICKET_FOUND"}
    resp = client.get(
        f"{prefix}/ticket-notes/list?contactId={foreign.contact_id}", headers=auth(agent)
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_CONTACT_FOUND"}


def test_list_validation_and_token(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/ticket-notes/list?ticketId=abc", headers=auth(agent))
    assert resp.status_code == 400 and "ticketId" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/ticket-notes/list?ticketId=1").status_code == 401


# -- create -----------------------------------------------------------------------


def test_create_note_by_the_requester(client, prefix, agent, auth):
    ticket = factories.TicketFactory(company=agent.company)
    resp = client.post(
        f"{prefix}/ticket-notes",
        json={"note": "Call after 5pm", "contactId": ticket.contact_id, "ticketId": ticket.id},
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["note"] == "Call after 5pm" and body["userId"] == agent.id
    assert body["user"]["id"] == agent.id and body["ticket"]["id"] == ticket.id
    note = db.session.get(TicketNote, body["id"])
    assert note.company_id == agent.company_id and note.user_id == agent.id
    assert note.ticket_id == ticket.id and note.contact_id == ticket.contact_id


def test_create_validation_leaves_nothing(client, prefix, agent, auth):
    ticket = factories.TicketFactory(company=agent.company)
    resp = client.post(
        f"{prefix}/ticket-notes",
        json={"note": "ab", "ticketId": "x"},
        headers=auth(agent),
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert {"note", "ticketId", "contactId"} <= set(body["fields"])
    resp = client.post(
        f"{prefix}/ticket-notes",
        json={"note": "x" * 5001, "contactId": ticket.contact_id, "ticketId": ticket.id},
        headers=auth(agent),
    )
    assert resp.status_code == 400 and "note" in resp.get_json()["fields"]
    assert _count_notes() == 0


def test_create_with_a_contact_not_of_the_ticket_is_400(client, prefix, agent, auth):
    ticket = factories.TicketFactory(company=agent.company)
    stranger = factories.ContactFactory(company=agent.company)
    resp = client.post(
        f"{prefix}/ticket-notes",
        json={"note": "Wrong person", "contactId": stranger.id, "ticketId": ticket.id},
        headers=auth(agent),
    )
    assert resp.status_code == 400
    assert resp.get_json()["fields"] == {"contactId": ["Not the ticket's contact."]}
    assert _count_notes() == 0


def test_create_on_another_companys_ticket_or_contact_is_404(
    client, prefix, agent, auth, other_company
):
    mine = factories.TicketFactory(company=agent.company)
    foreign = factories.TicketFactory(company=other_company)
    resp = client.post(
        f"{prefix}/ticket-notes",
        json={"note": "Sneaky", "contactId": foreign.contact_id, "ticketId": foreign.id},
        headers=auth(agent),
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TICKET_FOUND"}
    resp = client.post(
        f"{prefix}/ticket-notes",
        json={"note": "Sneaky", "contactId": foreign.contact_id, "ticketId": mine.id},
        headers=auth(agent),
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_CONTACT_FOUND"}
    assert _count_notes() == 0


def test_create_needs_a_token(client, prefix, agent):
    ticket = factories.TicketFactory(company=agent.company)
    resp = client.post(
        f"{prefix}/ticket-notes",
        json={"note": "Hello", "contactId": ticket.contact_id, "ticketId": ticket.id},
    )
    assert resp.status_code == 401 and _count_notes() == 0


# -- show -------------------------------------------------------------------------


def test_show_own_company_note_and_404_for_others(client, prefix, agent, auth, other_company):
    note = _note(factories.TicketFactory(company=agent.company), note="visible")
    foreign = _note(factories.TicketFactory(company=other_company), note="hidden")
    resp = client.get(f"{prefix}/ticket-notes/{note.id}", headers=auth(agent))
    assert resp.status_code == 200 and resp.get_json()["note"] == "visible"
    resp = client.get(f"{prefix}/ticket-notes/{foreign.id}", headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TICKETNOTE_FOUND"}
    assert client.get(f"{prefix}/ticket-notes/999999", headers=auth(agent)).status_code == 404
    assert client.get(f"{prefix}/ticket-notes/{note.id}").status_code == 401


# -- update -----------------------------------------------------------------------


def test_author_and_admin_update_a_note(client, prefix, agent, admin, auth):
    note = _note(factories.TicketFactory(company=agent.company), agent, note="first")
    resp = client.put(
        f"{prefix}/ticket-notes/{note.id}",
        json={"id": 999, "note": "by author"},
        headers=auth(agent),
    )
    assert resp.status_code == 200 and resp.get_json()["id"] == note.id
    resp = client.put(
        f"{prefix}/ticket-notes/{note.id}", json={"note": "by admin"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    db.session.expire_all()
    stored = db.session.get(TicketNote, note.id)
    assert stored.note == "by admin" and stored.user_id == agent.id


def test_another_agent_cannot_update(client, prefix, agent, admin, auth):
    colleague = factories.UserFactory(company=agent.company)
    note = _note(factories.TicketFactory(company=agent.company), admin, note="admin's")
    for who in (agent, colleague):
        resp = client.put(
            f"{prefix}/ticket-notes/{note.id}", json={"note": "changed"}, headers=auth(who)
        )
        assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    db.session.expire_all()
    assert db.session.get(TicketNote, note.id).note == "admin's"


def test_update_validation_other_company_and_token(client, prefix, agent, auth, other_company):
    note = _note(factories.TicketFactory(company=agent.company), agent, note="keep me")
    foreign = _note(factories.TicketFactory(company=other_company), note="theirs")
    resp = client.put(f"{prefix}/ticket-notes/{note.id}", json={"note": "x"}, headers=auth(agent))
    assert resp.status_code == 400 and "note" in resp.get_json()["fields"]
    resp = client.put(
        f"{prefix}/ticket-notes/{foreign.id}", json={"note": "mine now"}, headers=auth(agent)
    )
    assert resp.status_code == 404
    assert client.put(f"{prefix}/ticket-notes/{note.id}", json={"note": "abc"}).status_code == 401
    db.session.expire_all()
    assert db.session.get(TicketNote, note.id).note == "keep me"
    assert db.session.get(TicketNote, foreign.id).note == "theirs"


# -- delete -----------------------------------------------------------------------


def test_author_deletes_own_note(client, prefix, agent, auth):
    note = _note(factories.TicketFactory(company=agent.company), agent)
    assert client.delete(f"{prefix}/ticket-notes/{note.id}", headers=auth(agent)).status_code == 200
    assert db.session.get(TicketNote, note.id) is None


def test_admin_deletes_anyones_note(client, prefix, agent, admin, auth):
    note = _note(factories.TicketFactory(company=agent.company), agent)
    assert client.delete(f"{prefix}/ticket-notes/{note.id}", headers=auth(admin)).status_code == 200
    assert db.session.get(TicketNote, note.id) is None


def test_delete_by_another_agent_is_403_and_other_company_404(
    client, prefix, agent, admin, auth, other_company
):
    note = _note(factories.TicketFactory(company=agent.company), admin)
    foreign = _note(factories.TicketFactory(company=other_company))
    resp = client.delete(f"{prefix}/ticket-notes/{note.id}", headers=auth(agent))
    assert resp.status_code == 403
    assert (
        client.delete(f"{prefix}/ticket-notes/{foreign.id}", headers=auth(admin)).status_code == 404
    )
    assert client.delete(f"{prefix}/ticket-notes/{note.id}").status_code == 401
    assert db.session.get(TicketNote, note.id) is not None
    assert db.session.get(TicketNote, foreign.id) is not None
