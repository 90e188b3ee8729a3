"""Contact merges end to end: merge, undo to the identical database, blocked undo, tenancy,
bad input, roles, and the suggested duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import (
    Contact,
    ContactCustomField,
    ContactIdentity,
    ContactList,
    ContactListItem,
    ContactMerge,
    Message,
    Schedule,
    Ticket,
    TicketTracking,
    ticket_tags,
)

#: Every table a merge may change: the round trip compares all their rows.
AFFECTED = (
    "contacts", "contact_identities", "contact_custom_fields", "tickets", "ticket_tags",
    "messages", "ticket_notes", "ticket_trackings", "user_ratings", "report_events",
    "schedules", "contact_list_items", "campaign_shipping",
)  # fmt: skip

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def snapshot() -> dict[str, list[tuple]]:
    """All rows of the affected tables, by primary key."""
    db.session.expire_all()
    out = {}
    conn = db.session.connection()
    for name in AFFECTED:
        tbl = db.metadata.tables[name]
        rows = conn.execute(sa.select(tbl).order_by(*tbl.primary_key.columns)).all()
        out[name] = [tuple(r) for r in rows]
    return out


@pytest.fixture
def world(company):
    """Ana (survivor) and her duplicate Ana2: both talk on connection 1, Ana2 on connection 2
    as well; Ana2 has tags, notes, a custom field, a LID, a list entry and a schedule."""
    w1 = factories.WhatsappFactory(company=company, name="one")
    w2 = factories.WhatsappFactory(company=company, name="two")
    ana = factories.ContactFactory(company=company, name="Ana", number="5511987650001")
    dup = factories.ContactFactory(
        company=company, name="Ana Souza", number="551187650001", email="ana@example.com"
    )
    t_ana = factories.TicketFactory(
        company=company, contact=ana, whatsapp=w1, status="closed", unread_messages=0
    )
    t_dup = factories.TicketFactory(
        company=company, contact=dup, whatsapp=w1, status="pending", unread_messages=2
    )
    t_dup2 = factories.TicketFactory(company=company, contact=dup, whatsapp=w2, status="open")
    for i, ticket in enumerate([t_ana, t_dup, t_ana, t_dup]):
        factories.MessageFactory(ticket=ticket, body=f"m{i}", created_at=T0 + timedelta(minutes=i))
    factories.MessageFactory(ticket=t_dup2, body="other connection")
    factories.TicketNoteFactory(ticket=t_dup, note="vip")
    tag = factories.TagFactory(company=company, name="VIP")
    db.session.execute(ticket_tags.insert().values(ticket_id=t_dup.id, tag_id=tag.id))
    db.session.add(
        ContactCustomField(company_id=company.id, contact_id=dup.id, name="cpf", value="1")
    )
    db.session.add(
        ContactIdentity(company_id=company.id, contact_id=dup.id, kind="lid", value="777")
    )
    db.session.add(
        ContactIdentity(company_id=company.id, contact_id=ana.id, kind="phone", value=ana.number)
    )
    db.session.add(TicketTracking(company_id=company.id, ticket_id=t_dup.id, whatsapp_id=w1.id))
    lists = [ContactList(company_id=company.id, name=n) for n in ("only dup", "both")]
    db.session.add_all(lists)
    db.session.flush()
    for list_, number in ((lists[0], dup.number), (lists[1], dup.number), (lists[1], ana.number)):
        db.session.add(
            ContactListItem(
                company_id=company.id, contact_list_id=list_.id, name="A", number=number
            )
        )
    db.session.add(
        Schedule(
            company_id=company.id, body="hi", send_at=T0, contact_id=dup.id, ticket_id=t_dup.id
        )
    )
    db.session.commit()
    return {"ana": ana.id, "dup": dup.id, "w1": w1.id, "w2": w2.id, "t_ana": t_ana.id,
            "t_dup": t_dup.id, "t_dup2": t_dup2.id}  # fmt: skip


def _merge(client, prefix, headers, survivor, body):
    return client.post(f"{prefix}/contacts/{survivor}/merge", json=body, headers=headers)


def test_merge_moves_everything_then_undo_restores_every_row(
    client, prefix, auth, admin, world, socket_client
):
    before = snapshot()
    sock = socket_client(admin)
    for status in ("pending", "open", "closed"):
        sock.emit("joinTickets", status)
    sock.get_received()
    resp = _merge(client, prefix, auth(admin), world["ana"], {"from": [world["dup"]]})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["contactId"] == world["ana"] and body["mergedIds"] == [world["dup"]]

    db.session.expire_all()
    assert db.session.get(Contact, world["dup"]) is None
    tickets = db.session.scalars(sa.select(Ticket).order_by(Ticket.id)).all()
    # One ticket per (connection, contact): the two on connection 1 became one.
    assert [(t.id, t.whatsapp_id, t.contact_id) for t in tickets] == [
        (world["t_ana"], world["w1"], world["ana"]),
        (world["t_dup2"], world["w2"], world["ana"]),
    ]
    merged = tickets[0]
    assert merged.status == "pending" and merged.unread_messages == 2  # the live one's state
    bodies = db.session.scalars(
        sa.select(Message.body).where(Message.ticket_id == merged.id).order_by(Message.created_at)
    ).all()
    assert bodies == ["m0", "m1", "m2", "m3"]  # one conversation, in time order
    assert [t.name for t in merged.tags] == ["VIP"]
    ana = db.session.get(Contact, world["ana"])
    assert ana.email == "ana@example.com" and [f.name for f in ana.extra_info] == ["cpf"]
    aliases = {(i.kind, i.value) for i in db.session.scalars(sa.select(ContactIdentity))}
    assert aliases == {("phone", "5511987650001"), ("lid", "777"), ("phone", "551187650001")}
    assert all(i.contact_id == ana.id for i in db.session.scalars(sa.select(ContactIdentity)))
    items = db.session.scalars(sa.select(ContactListItem.number)).all()
    assert sorted(items) == ["5511987650001", "5511987650001"]  # one entry per list
    assert db.session.scalar(sa.select(Schedule.contact_id)) == ana.id

    frames = [(f["name"], f["args"][0].get("action")) for f in sock.get_received()]
    cid = admin.company_id
    assert (f"company-{cid}-contact", "delete") in frames
    assert (f"company-{cid}-ticket", "delete") in frames  # the emptied ticket leaves
    assert (f"company-{cid}-ticket", "update") in frames

    resp = client.post(f"{prefix}/contacts/merges/{body['id']}/undo", headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["undoneAt"] is not None
    assert snapshot() == before
    again = client.post(f"{prefix}/contacts/merges/{body['id']}/undo", headers=auth(admin))
    assert (again.status_code, again.get_json()) == (409, {"error": "ERR_MERGE_ALREADY_UNDONE"})


def test_undo_refused_when_newer_rows_depend(client, prefix, auth, admin, world):
    merge_id = _merge(
        client, prefix, auth(admin), world["ana"], {"from": [world["dup"]]}
    ).get_json()["id"]
    # A new message lands in the merged conversation: whose is it after an undo?
    factories.MessageFactory(ticket=db.session.get(Ticket, world["t_ana"]), body="after")
    db.session.commit()
    state = snapshot()
    resp = client.post(f"{prefix}/contacts/merges/{merge_id}/undo", headers=auth(admin))
    assert (resp.status_code, resp.get_json()) == (409, {"error": "ERR_MERGE_UNDO_BLOCKED"})
    assert snapshot() == state
    assert db.session.get(ContactMerge, merge_id).undone_at is None


def test_undo_refused_after_a_later_merge_of_the_survivor(
    client, prefix, auth, admin, world, company
):
    # Made first: SQLite hands a new row the highest id again once that row is deleted.
    third = factories.ContactFactory(company=company, number="5521999990000")
    db.session.commit()
    first = _merge(client, prefix, auth(admin), world["ana"], {"from": [world["dup"]]}).get_json()
    second = _merge(client, prefix, auth(admin), world["ana"], {"from": [third.id]})
    assert second.status_code == 200
    resp = client.post(f"{prefix}/contacts/merges/{first['id']}/undo", headers=auth(admin))
    assert (resp.status_code, resp.get_json()) == (409, {"error": "ERR_MERGE_UNDO_BLOCKED"})
    # Undone newest first, both go back.
    assert (
        client.post(
            f"{prefix}/contacts/merges/{second.get_json()['id']}/undo", headers=auth(admin)
        ).status_code
        == 200
    )
    last = client.post(f"{prefix}/contacts/merges/{first['id']}/undo", headers=auth(admin))
    assert last.status_code == 200, last.get_json()


def test_other_company_gets_404_and_nothing_changes(
    client, prefix, auth, other_admin, admin, world
):
    state = snapshot()
    resp = _merge(client, prefix, auth(other_admin), world["ana"], {"from": [world["dup"]]})
    assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_NO_CONTACT_FOUND"})
    mine = factories.ContactFactory(company=other_admin.company)
    db.session.commit()
    # Their own survivor with our contact as the one merged: 404 as well.
    resp = _merge(client, prefix, auth(other_admin), mine.id, {"from": [world["dup"]]})
    assert resp.status_code == 404
    merge_id = _merge(
        client, prefix, auth(admin), world["ana"], {"from": [world["dup"]]}
    ).get_json()["id"]
    resp = client.post(f"{prefix}/contacts/merges/{merge_id}/undo", headers=auth(other_admin))
    assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_NO_MERGE_FOUND"})
    dup_page = client.get(f"{prefix}/contacts/duplicates", headers=auth(other_admin)).get_json()
    assert dup_page == {"groups": [], "count": 0, "hasMore": False}
    del state


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "ERR_VALIDATION"),
        ({"from": []}, "ERR_VALIDATION"),
        ({"from": ["x"]}, "ERR_VALIDATION"),
        ({"from": [2**40]}, "ERR_VALIDATION"),
        ({"from": "1"}, "ERR_VALIDATION"),
        ({"from": list(range(1, 60))}, "ERR_VALIDATION"),
        ("self", "ERR_MERGE_INVALID"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(client, prefix, auth, admin, world, body, code):
    state = snapshot()
    if body == "self":
        body = {"from": [world["ana"]]}
    resp = _merge(client, prefix, auth(admin), world["ana"], body)
    assert resp.status_code == 400 and resp.get_json()["error"] == code
    assert snapshot() == state


def test_agents_may_not_merge(client, prefix, auth, agent, world):
    resp = _merge(client, prefix, auth(agent), world["ana"], {"from": [world["dup"]]})
    assert resp.status_code == 403
    assert client.get(f"{prefix}/contacts/duplicates", headers=auth(agent)).status_code == 403
    assert client.post(f"{prefix}/contacts/merges/1/undo", headers=auth(agent)).status_code == 403


def test_duplicates_lists_suggested_groups(client, prefix, auth, admin, company, world):
    # Same name, number up to the ninth digit (a landline-looking range keeps both forms).
    factories.ContactFactory(company=company, name="Bia", number="551133334444")
    factories.ContactFactory(company=company, name="bia ", number="5511933334444")
    # Alias overlap: a new contact was made with a number another contact holds as alias.
    carl = factories.ContactFactory(company=company, name="Carl", number="5521988887777")
    db.session.add(
        ContactIdentity(
            company_id=company.id, contact_id=carl.id, kind="phone", value="5521977776666"
        )
    )
    factories.ContactFactory(company=company, name="Other", number="5521977776666")
    db.session.commit()
    resp = client.get(f"{prefix}/contacts/duplicates", headers=auth(admin))
    assert resp.status_code == 200
    page = resp.get_json()
    groups = {tuple(c["name"] for c in g["contacts"]): g["reasons"] for g in page["groups"]}
    assert "same_number" in groups[("Ana", "Ana Souza")]  # 12- and 13-digit forms
    assert groups[("Bia", "bia ")] == ["same_name_ninth_digit"]
    assert groups[("Carl", "Other")] == ["alias_overlap"]
    assert page["count"] == 3 and page["hasMore"] is False
    resp = client.get(f"{prefix}/contacts/duplicates?pageNumber=0", headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
