"""Contact Lists screen: the `company-{cid}-ContactList` events carry the row's contact count."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import ContactList, ContactListItem

ROW_KEYS = {"id", "name", "contactsCount", "validCount", "createdAt", "updatedAt"}


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def _new_list(company, name: str = "Clientes", items: int = 0) -> ContactList:
    record = ContactList(company_id=company.id, name=name)
    db.session.add(record)
    db.session.flush()
    for n in range(items):
        db.session.add(
            ContactListItem(
                company_id=company.id,
                contact_list_id=record.id,
                name=f"Pessoa {n}",
                number=f"55119{n:08d}",
                is_whatsapp_valid=n % 2 == 0,
            )
        )
    db.session.commit()
    return record


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


def test_list_events_carry_the_contacts_count(client, prefix, admin, auth, socket_client):
    """src/pages/ContactLists/index.js:137 replaces its row with data.record on a
    create/update event, and the row (:282) shows record.contactsCount."""
    sock = socket_client(admin)
    sock.get_received()
    headers = auth(admin)
    name = f"company-{admin.company_id}-ContactList"
    created = client.post(f"{prefix}/contact-lists", json={"name": "VIPs"}, headers=headers)
    assert created.status_code == 200
    list_id = created.get_json()["id"]
    (event,) = _events(sock, name)
    assert event["action"] == "create" and set(event["record"]) >= ROW_KEYS
    assert event["record"]["contactsCount"] == 0
    for n, number in enumerate(["5511911110001", "5511911110002"], start=1):
        item = {"name": f"Pessoa {n}", "number": number, "contactListId": list_id}
        resp = client.post(f"{prefix}/contact-list-items", json=item, headers=headers)
        assert resp.status_code == 200, resp.get_json()
        (event,) = _events(sock, name)
        assert event == {"action": "update", "record": event["record"]}
        assert event["record"]["id"] == list_id and event["record"]["contactsCount"] == n
    renamed = client.put(f"{prefix}/contact-lists/{list_id}", json={"name": "VIP"}, headers=headers)
    assert renamed.status_code == 200
    (event,) = _events(sock, name)
    assert event["record"]["name"] == "VIP" and event["record"]["contactsCount"] == 2
    assert renamed.get_json()["contactsCount"] == 2
    item_id = resp.get_json()["id"]
    assert (
        client.delete(f"{prefix}/contact-list-items/{item_id}", headers=headers).status_code == 200
    )
    (event,) = _events(sock, name)
    assert event["record"]["contactsCount"] == 1


def test_import_announces_the_new_count(client, prefix, admin, auth, socket_client):
    """An upload into a list changes its row's count on the Contact Lists page."""
    record = _new_list(admin.company)
    sock = socket_client(admin)
    sock.get_received()
    csv = b"name,number\nAna,5511911110001\nBia,5511911110002\nCaio,5511911110003\n"
    resp = client.post(
        f"{prefix}/contact-lists/{record.id}/upload",
        data={"file": (io.BytesIO(csv), "lista.csv")},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_json()
    (event,) = _events(sock, f"company-{admin.company_id}-ContactList")
    assert event["action"] == "update" and event["record"]["contactsCount"] == 3


def test_counts_cost_one_query_whatever_the_list_size(client, prefix, admin, auth):
    """The record's counts come from one grouped query, not one per item."""
    headers = auth(admin)

    def _rename_statements(items: int) -> tuple[int, dict]:
        record = _new_list(admin.company, f"Lista {items}", items=items)
        with _statements() as seen:
            resp = client.put(
                f"{prefix}/contact-lists/{record.id}",
                json={"name": f"Renamed {items}"},
                headers=headers,
            )
        assert resp.status_code == 200
        return len(seen), resp.get_json()

    few, small = _rename_statements(1)
    many, large = _rename_statements(30)
    assert (small["contactsCount"], small["validCount"]) == (1, 1)
    assert (large["contactsCount"], large["validCount"]) == (30, 15)
    assert many == few


def test_other_companies_neither_hear_nor_rename(
    client, prefix, admin, auth, other_admin, socket_client
):
    record = _new_list(admin.company, items=2)
    theirs = socket_client(other_admin)
    theirs.get_received()
    resp = client.put(
        f"{prefix}/contact-lists/{record.id}", json={"name": "Nova"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert not _events(theirs, f"company-{admin.company_id}-ContactList")
    assert not [e for e in theirs.get_received() if "ContactList" in e["name"]]
    resp = client.put(
        f"{prefix}/contact-lists/{record.id}", json={"name": "Hack"}, headers=auth(other_admin)
    )
    assert resp.status_code == 404
