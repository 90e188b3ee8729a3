"""Contact list items: page and list of one list, find-or-create with the WhatsApp check,
update (re-check on a new number), delete, events and tenancy."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import ContactList, ContactListItem

ROW_KEYS = {
    "id",
    "name",
    "number",
    "email",
    "isWhatsappValid",
    "companyId",
    "contactListId",
    "createdAt",
    "updatedAt",
}


def _new_list(company, name: str = "Customers") -> ContactList:
    record = ContactList(company_id=company.id, name=name)
    db.session.add(record)
    db.session.commit()
    return record


def _item(record: ContactList, number: str, name: str = "Someone", **over) -> ContactListItem:
    item = ContactListItem(
        company_id=record.company_id, contact_list_id=record.id, name=name, number=number, **over
    )
    db.session.add(item)
    db.session.commit()
    return item


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(ContactListItem.id)))


def _stored(item_id: int) -> ContactListItem | None:
    db.session.expire_all()
    return db.session.get(ContactListItem, item_id)


def _default_conn(company):
    return factories.WhatsappFactory(
        company=company, is_default=True, provider="fake", status="CONNECTED"
    )


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


@pytest.fixture
def reject_rio(monkeypatch):
    """The fake gateway says Rio (55 21) numbers have no WhatsApp account."""
    from whaticket.whatsapp.fake import provider as fake

    monkeypatch.setattr(fake, "REJECTED_PREFIX", "5521")


# -- page and list ----------------------------------------------------------------


def test_page_of_one_list_by_name(client, prefix, agent, auth):
    record = _new_list(agent.company)
    other = _new_list(agent.company, "Other")
    for i in range(21):
        _item(record, f"55119111100{i:02d}", name=f"Person {20 - i:02d}")
    _item(other, "5511911119999", name="Elsewhere")
    resp = client.get(f"{prefix}/contact-list-items?contactListId={record.id}", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 21 and body["hasMore"] is True and len(body["contacts"]) == 20
    assert body["contacts"][0]["name"] == "Person 00" and set(body["contacts"][0]) == ROW_KEYS
    page2 = client.get(
        f"{prefix}/contact-list-items?contactListId={record.id}&pageNumber=2", headers=auth(agent)
    ).get_json()
    assert [c["name"] for c in page2["contacts"]] == ["Person 20"] and page2["hasMore"] is False


def test_page_searches_name_and_number(client, prefix, agent, auth):
    record = _new_list(agent.company)
    _item(record, "5511987654321", name="Zelda")
    _item(record, "5521988887777", name="Bob")

    def names(q: str) -> list[str]:
        url = f"{prefix}/contact-list-items?contactListId={record.id}&searchParam={q}"
        return [c["name"] for c in client.get(url, headers=auth(agent)).get_json()["contacts"]]

    assert names("zel") == ["Zelda"]
    assert names("88887") == ["Bob"]
    assert names("(21) 98888") == ["Bob"]


def test_page_and_list_need_a_list_of_the_company(client, prefix, agent, auth, other_company):
    theirs = _new_list(other_company)
    _item(theirs, "5511911110001")
    for path in ("", "/list"):
        resp = client.get(f"{prefix}/contact-list-items{path}", headers=auth(agent))
        assert resp.status_code == 400 and "contactListId" in resp.get_json()["fields"]
        resp = client.get(
            f"{prefix}/contact-list-items{path}?contactListId={theirs.id}", headers=auth(agent)
        )
        assert resp.status_code == 404 and resp.get_json() == {
            "error": "ERR_CONTACT_LIST_NOT_FOUND"
        }
        assert client.get(f"{prefix}/contact-list-items{path}?contactListId=1").status_code == 401


def test_list_returns_every_item_and_ignores_company_id(client, prefix, agent, auth, other_company):
    record = _new_list(agent.company)
    b = _item(record, "5511911110002", name="B")
    a = _item(record, "5511911110001", name="A")
    resp = client.get(
        f"{prefix}/contact-list-items/list?contactListId={record.id}&companyId={other_company.id}",
        headers=auth(agent),
    )
    assert resp.status_code == 200 and [r["id"] for r in resp.get_json()] == [a.id, b.id]


# -- create -----------------------------------------------------------------------


def test_create_normalises_checks_and_emits(
    client, prefix, admin, auth, other_admin, socket_client
):
    _default_conn(admin.company)
    record = _new_list(admin.company)
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.post(
        f"{prefix}/contact-list-items",
        json={
            "name": " Maria ",
            "number": "(11) 98765-4321",
            "email": "maria@example.com",
            "contactListId": record.id,
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == ROW_KEYS and body["name"] == "Maria"
    assert body["number"] == "5511987654321" and body["isWhatsappValid"] is True
    assert body["contactListId"] == record.id and body["companyId"] == admin.company_id
    name = f"company-{admin.company_id}-ContactListItem"
    assert _events(mine, name) == [{"action": "create", "record": body}]
    assert not [e for e in theirs.get_received() if "ContactListItem" in e["name"]]


def test_create_number_not_on_whatsapp_is_marked_invalid(client, prefix, admin, auth, reject_rio):
    _default_conn(admin.company)
    record = _new_list(admin.company)
    resp = client.post(
        f"{prefix}/contact-list-items",
        json={"name": "Rio", "number": "21987654321", "contactListId": record.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json()["isWhatsappValid"] is False


def test_create_without_connection_leaves_unchecked(client, prefix, admin, auth):
    record = _new_list(admin.company)
    resp = client.post(
        f"{prefix}/contact-list-items",
        json={"name": "Ana", "number": "11987654321", "contactListId": record.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json()["isWhatsappValid"] is None


def test_create_finds_an_existing_number(client, prefix, admin, auth):
    _default_conn(admin.company)
    record = _new_list(admin.company)
    old = _item(record, "5511987654321", name="Original")
    resp = client.post(
        f"{prefix}/contact-list-items",
        json={"name": "Another", "number": "+55 11 98765-4321", "contactListId": record.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    # Never checked before: found, kept as it was, and checked now.
    assert body["id"] == old.id and body["name"] == "Original" and body["isWhatsappValid"] is True
    assert _count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "ab", "number": "11987654321"}, "name"),
        ({"number": "11987654321"}, "name"),
        ({"name": "Ana", "number": "abc"}, "number"),
        ({"name": "Ana", "number": "123"}, "number"),
        ({"name": "Ana"}, "number"),
        ({"name": "Ana", "number": "11987654321", "email": "bad"}, "email"),
        ({"name": "Ana", "number": "11987654321", "contactListId": None}, "contactListId"),
    ],
)
def test_create_validation(client, prefix, admin, auth, payload, field):
    record = _new_list(admin.company)
    payload = {"contactListId": record.id, **payload}
    resp = client.post(f"{prefix}/contact-list-items", json=payload, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and field in body["fields"]
    assert _count() == 0


def test_create_in_another_companys_list_is_404(client, prefix, admin, auth, other_company):
    theirs = _new_list(other_company)
    resp = client.post(
        f"{prefix}/contact-list-items",
        json={"name": "Ana", "number": "11987654321", "contactListId": theirs.id},
        headers=auth(admin),
    )
    assert resp.status_code == 404 and _count() == 0
    resp = client.post(
        f"{prefix}/contact-list-items",
        json={"name": "Ana", "number": "11987654321", "contactListId": theirs.id},
    )
    assert resp.status_code == 401


# -- show / update / delete -------------------------------------------------------


def test_show_and_other_company_item_is_404(client, prefix, admin, auth, other_company):
    mine = _item(_new_list(admin.company), "5511911110001")
    theirs = _item(_new_list(other_company), "5511911110002", name="Theirs")
    resp = client.get(f"{prefix}/contact-list-items/{mine.id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["id"] == mine.id
    h = auth(admin)
    url = f"{prefix}/contact-list-items/{theirs.id}"
    assert client.get(url, headers=h).status_code == 404
    resp = client.put(url, json={"name": "Mine now"}, headers=h)
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_CONTACT_LIST_ITEM_NOT_FOUND"}
    assert client.delete(url, headers=h).status_code == 404
    assert _stored(theirs.id).name == "Theirs"
    assert client.get(url).status_code == 401


def test_update_rechecks_a_new_number_only(client, prefix, admin, auth, reject_rio, socket_client):
    _default_conn(admin.company)
    item = _item(_new_list(admin.company), "5511987654321", is_whatsapp_valid=False)
    sock = socket_client(admin)
    sock.get_received()
    url = f"{prefix}/contact-list-items/{item.id}"
    resp = client.put(url, json={"name": "Renamed", "email": "r@example.com"}, headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "Renamed" and body["isWhatsappValid"] is False
    name = f"company-{admin.company_id}-ContactListItem"
    assert _events(sock, name) == [{"action": "update", "record": body}]
    resp = client.put(url, json={"number": "11 98888-7777"}, headers=auth(admin))
    assert resp.status_code == 200
    assert resp.get_json()["number"] == "5511988887777"
    assert resp.get_json()["isWhatsappValid"] is True
    resp = client.put(url, json={"number": "21 98888-7777"}, headers=auth(admin))
    assert resp.get_json()["isWhatsappValid"] is False
    stored = _stored(item.id)
    assert (stored.number, stored.is_whatsapp_valid) == ("5521988887777", False)


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"name": "ab"}, "name"), ({"number": "12"}, "number"), ({"email": "bad"}, "email")],
)
def test_update_validation_leaves_row(client, prefix, admin, auth, payload, field):
    item = _item(_new_list(admin.company), "5511987654321", name="Keep")
    resp = client.put(f"{prefix}/contact-list-items/{item.id}", json=payload, headers=auth(admin))
    assert resp.status_code == 400 and field in resp.get_json()["fields"]
    stored = _stored(item.id)
    assert (stored.name, stored.number) == ("Keep", "5511987654321")


def test_update_to_a_number_taken_in_the_list_is_409(client, prefix, admin, auth):
    record = _new_list(admin.company)
    _item(record, "5511987654321")
    item = _item(record, "5511988887777")
    resp = client.put(
        f"{prefix}/contact-list-items/{item.id}",
        json={"number": "11987654321"},
        headers=auth(admin),
    )
    assert resp.status_code == 409
    assert resp.get_json() == {"error": "ERR_DUPLICATED_CONTACT_LIST_ITEM"}
    assert _stored(item.id).number == "5511988887777"


def test_delete_emits_to_the_company(client, prefix, admin, auth, other_admin, socket_client):
    item = _item(_new_list(admin.company), "5511987654321")
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.delete(f"{prefix}/contact-list-items/{item.id}", headers=auth(admin))
    assert resp.status_code == 200 and _stored(item.id) is None
    name = f"company-{admin.company_id}-ContactListItem"
    assert _events(mine, name) == [{"action": "delete", "id": item.id}]
    assert not [e for e in theirs.get_received() if "ContactListItem" in e["name"]]
