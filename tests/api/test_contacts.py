"""Contacts: list, picker, show, create, update, delete, find-or-create, CSV/XLSX upload."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests import factories
from whaticket.extensions import db
from whaticket.models import Contact, ContactCustomField, Ticket
from whaticket.services.contacts import uploads as contact_uploads

ROW_KEYS = {
    "id",
    "name",
    "number",
    "email",
    "profilePicUrl",
    "isGroup",
    "companyId",
    "whatsappId",
    "createdAt",
    "updatedAt",
    "extraInfo",
}


def _count(company_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Contact.id)).where(Contact.company_id == company_id)
    )


def _numbers(company_id: int) -> set[str]:
    return set(
        db.session.scalars(sa.select(Contact.number).where(Contact.company_id == company_id))
    )


def _events(sock, company_id: int) -> list[dict]:
    name = f"company-{company_id}-contact"
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def _contact_events(sock) -> list[dict]:
    return [e for e in sock.get_received() if e["name"].endswith("-contact")]


# -- list -------------------------------------------------------------------------


def test_list_is_paginated_by_name_and_scoped(client, prefix, agent, auth, other_company):
    for i in range(31):
        factories.ContactFactory(company=agent.company, name=f"Person {30 - i:02d}")
    factories.ContactFactory(company=other_company, name="Person 00 elsewhere")
    resp = client.get(f"{prefix}/contacts", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 31 and body["hasMore"] is True and len(body["contacts"]) == 30
    assert [c["name"] for c in body["contacts"][:2]] == ["Person 00", "Person 01"]
    assert set(body["contacts"][0]) == ROW_KEYS
    assert all(c["companyId"] == agent.company_id for c in body["contacts"])
    page2 = client.get(f"{prefix}/contacts?pageNumber=2", headers=auth(agent)).get_json()
    assert [c["name"] for c in page2["contacts"]] == ["Person 30"] and page2["hasMore"] is False


def test_list_searches_name_and_number(client, prefix, agent, auth):
    factories.ContactFactory(company=agent.company, name="Zelda", number="5511911112222")
    factories.ContactFactory(company=agent.company, name="Bob", number="5521987650000")
    factories.ContactFactory(company=agent.company, name="Carl", number="5531911113333")
    names = lambda q: sorted(  # noqa: E731
        c["name"]
        for c in client.get(f"{prefix}/contacts?searchParam={q}", headers=auth(agent)).get_json()[
            "contacts"
        ]
    )
    assert names("zel") == ["Zelda"]
    assert names("98765") == ["Bob"]
    # A formatted search still finds the stored digits.
    assert names("(21) 98765") == ["Bob"]


def test_list_rows_carry_extra_info(client, prefix, agent, auth):
    contact = factories.ContactFactory(company=agent.company)
    db.session.add(
        ContactCustomField(company_id=agent.company_id, contact=contact, name="cpf", value="1")
    )
    db.session.commit()
    body = client.get(f"{prefix}/contacts", headers=auth(agent)).get_json()
    info = body["contacts"][0]["extraInfo"]
    assert [(i["name"], i["value"]) for i in info] == [("cpf", "1")] and info[0]["id"]


def test_list_rejects_bad_page_and_needs_token(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/contacts?pageNumber=x", headers=auth(agent))
    assert resp.status_code == 400 and "pageNumber" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/contacts").status_code == 401


def test_list_with_bad_token_is_403(client, prefix, app):
    resp = client.get(f"{prefix}/contacts", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 403


# -- picker list ------------------------------------------------------------------


def test_picker_list_filters_by_name_and_is_scoped(client, prefix, agent, auth, other_company):
    factories.ContactFactory(company=agent.company, name="Ana Maria")
    factories.ContactFactory(company=agent.company, name="MARIANA")
    factories.ContactFactory(company=agent.company, name="Bob")
    factories.ContactFactory(company=other_company, name="Maria elsewhere")
    resp = client.get(f"{prefix}/contacts/list?name=maria", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert isinstance(body, list)
    assert [c["name"] for c in body] == ["Ana Maria", "MARIANA"]
    assert "extraInfo" not in body[0] and body[0]["number"]
    every = client.get(f"{prefix}/contacts/list", headers=auth(agent)).get_json()
    assert len(every) == 3


def test_picker_list_is_capped(client, prefix, agent, auth, monkeypatch):
    from whaticket.services.contacts import contacts as svc

    monkeypatch.setattr(svc, "LIST_ALL_CAP", 2)
    for _ in range(3):
        factories.ContactFactory(company=agent.company)
    assert len(client.get(f"{prefix}/contacts/list", headers=auth(agent)).get_json()) == 2


def test_picker_list_validation_and_401(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/contacts/list?name={'x' * 300}", headers=auth(agent))
    assert resp.status_code == 400 and "name" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/contacts/list").status_code == 401


# -- show -------------------------------------------------------------------------


def test_show_returns_contact_with_extra_info_and_connection(client, prefix, agent, auth):
    wpp = factories.WhatsappFactory(company=agent.company)
    contact = factories.ContactFactory(company=agent.company, whatsapp_id=wpp.id)
    db.session.add(
        ContactCustomField(company_id=agent.company_id, contact=contact, name="a", value="b")
    )
    db.session.commit()
    resp = client.get(f"{prefix}/contacts/{contact.id}", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["id"] == contact.id and body["number"] == contact.number
    assert body["whatsappId"] == wpp.id and body["whatsapp"] == {"id": wpp.id, "name": wpp.name}
    assert [(i["name"], i["value"]) for i in body["extraInfo"]] == [("a", "b")]


def test_show_other_company_contact_is_404(client, prefix, agent, auth, other_company):
    theirs = factories.ContactFactory(company=other_company)
    resp = client.get(f"{prefix}/contacts/{theirs.id}", headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_CONTACT_FOUND"}
    assert client.get(f"{prefix}/contacts/999999", headers=auth(agent)).status_code == 404
    assert client.get(f"{prefix}/contacts/{theirs.id}").status_code == 401


# -- create -----------------------------------------------------------------------


def test_agent_creates_contact_with_normalised_number(client, prefix, agent, auth):
    resp = client.post(
        f"{prefix}/contacts",
        json={
            "name": "  Maria  ",
            "number": "+55 (11) 8765-4321",
            "email": "maria@example.com",
            "extraInfo": [{"name": "cpf", "value": "123"}, {"name": "city", "value": "SP"}],
        },
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == ROW_KEYS
    assert body["name"] == "Maria" and body["number"] == "5511987654321"
    assert body["email"] == "maria@example.com" and body["isGroup"] is False
    assert body["companyId"] == agent.company_id and body["whatsappId"] is None
    assert [(i["name"], i["value"]) for i in body["extraInfo"]] == [("cpf", "123"), ("city", "SP")]
    stored = db.session.get(Contact, body["id"])
    assert stored.number == "5511987654321" and len(stored.extra_info) == 2


def test_create_ignores_company_id_in_body(client, prefix, agent, auth, other_company):
    resp = client.post(
        f"{prefix}/contacts",
        json={"name": "X", "number": "11987654321", "companyId": other_company.id},
        headers=auth(agent),
    )
    assert resp.status_code == 200 and resp.get_json()["companyId"] == agent.company_id
    assert _count(other_company.id) == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "number": "abc"}, "number"),
        ({"name": "X", "number": "123"}, "number"),
        ({"name": "X"}, "number"),
        ({"number": "11987654321"}, "name"),
        ({"name": "", "number": "11987654321"}, "name"),
        ({"name": "   ", "number": "11987654321"}, "name"),
        ({"name": "x" * 256, "number": "11987654321"}, "name"),
        ({"name": "X", "number": "11987654321", "email": "not-an-email"}, "email"),
        ({"name": "X", "number": "11987654321", "extraInfo": [{"value": "v"}]}, "extraInfo"),
    ],
)
def test_create_validation(client, prefix, agent, auth, payload, field):
    resp = client.post(f"{prefix}/contacts", json=payload, headers=auth(agent))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and field in body["fields"]
    assert _count(agent.company_id) == 0


def test_create_accepts_empty_or_null_email(client, prefix, agent, auth):
    for number, email in (("11987654321", ""), ("11987654322", None)):
        resp = client.post(
            f"{prefix}/contacts",
            json={"name": "X", "number": number, "email": email},
            headers=auth(agent),
        )
        assert resp.status_code == 200 and resp.get_json()["email"] == ""


def test_create_duplicate_number_in_any_form_is_409(client, prefix, agent, auth):
    factories.ContactFactory(company=agent.company, number="5511987654321")
    resp = client.post(
        f"{prefix}/contacts", json={"name": "Dup", "number": "551187654321"}, headers=auth(agent)
    )
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_DUPLICATED_CONTACT"}
    assert _count(agent.company_id) == 1


def test_same_number_in_another_company_is_fine(client, prefix, agent, auth, other_company):
    factories.ContactFactory(company=other_company, number="5511987654321")
    resp = client.post(
        f"{prefix}/contacts", json={"name": "Mine", "number": "11987654321"}, headers=auth(agent)
    )
    assert resp.status_code == 200


def test_create_race_is_converted_to_409(client, prefix, agent, auth, monkeypatch):
    """The pre-check misses a concurrent insert: the savepoint turns it into a 409."""
    from whaticket.services.contacts import contacts as svc

    factories.ContactFactory(company=agent.company, number="5511987654321")
    real = svc._by_number
    monkeypatch.setattr(svc, "_by_number", lambda *a, **kw: None if not kw else real(*a, **kw))
    resp = client.post(
        f"{prefix}/contacts", json={"name": "Dup", "number": "11987654321"}, headers=auth(agent)
    )
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_DUPLICATED_CONTACT"}
    assert _count(agent.company_id) == 1


def test_create_needs_token(client, prefix, app):
    assert client.post(f"{prefix}/contacts", json={"name": "X", "number": "1"}).status_code == 401


def test_create_emits_contact_event_to_own_company_only(
    client, prefix, admin, auth, other_admin, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    client.post(
        f"{prefix}/contacts", json={"name": "Maria", "number": "11987654321"}, headers=auth(admin)
    )
    events = _events(mine, admin.company_id)
    assert len(events) == 1 and events[0]["action"] == "create"
    assert events[0]["contact"]["number"] == "5511987654321"
    assert set(events[0]["contact"]) == ROW_KEYS
    assert not _contact_events(theirs)


def test_failed_create_emits_nothing(client, prefix, admin, auth, socket_client):
    mine = socket_client(admin)
    mine.get_received()
    client.post(f"{prefix}/contacts", json={"name": "X", "number": "abc"}, headers=auth(admin))
    assert not _contact_events(mine)


# -- update -----------------------------------------------------------------------


def _with_fields(company, *pairs):
    contact = factories.ContactFactory(company=company, name="Old", email="old@example.com")
    for name, value in pairs:
        db.session.add(
            ContactCustomField(company_id=company.id, contact=contact, name=name, value=value)
        )
    db.session.commit()
    return contact


def test_update_upserts_and_deletes_extra_info(client, prefix, agent, auth):
    contact = _with_fields(agent.company, ("keep", "1"), ("rename-me", "2"), ("drop", "3"))
    keep, renamed, drop = contact.extra_info
    resp = client.put(
        f"{prefix}/contacts/{contact.id}",
        json={
            "name": "New",
            "number": "+55 11 98765-4321",
            "email": "",
            "extraInfo": [
                {"name": "keep", "value": "1b"},  # matched by name
                {"id": renamed.id, "name": "renamed", "value": "2b"},  # matched by id
                {"name": "new", "value": "4"},
            ],
        },
        headers=auth(agent),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "New" and body["number"] == "5511987654321" and body["email"] == ""
    info = {i["name"]: (i["id"], i["value"]) for i in body["extraInfo"]}
    assert info["keep"] == (keep.id, "1b") and info["renamed"] == (renamed.id, "2b")
    assert set(info) == {"keep", "renamed", "new"}
    db.session.expire_all()
    assert db.session.get(ContactCustomField, drop.id) is None
    assert len(db.session.get(Contact, contact.id).extra_info) == 3


def test_update_without_extra_info_leaves_fields(client, prefix, agent, auth):
    contact = _with_fields(agent.company, ("a", "1"))
    resp = client.put(f"{prefix}/contacts/{contact.id}", json={"name": "N"}, headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "N" and body["email"] == "old@example.com"
    assert [i["name"] for i in body["extraInfo"]] == ["a"]


def test_update_with_empty_extra_info_clears_fields(client, prefix, agent, auth):
    contact = _with_fields(agent.company, ("a", "1"), ("b", "2"))
    resp = client.put(
        f"{prefix}/contacts/{contact.id}", json={"extraInfo": []}, headers=auth(agent)
    )
    assert resp.status_code == 200 and resp.get_json()["extraInfo"] == []
    assert db.session.scalar(sa.select(sa.func.count(ContactCustomField.id))) == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"number": "12"}, "number"),
        ({"name": ""}, "name"),
        ({"email": "bad"}, "email"),
        ({"extraInfo": [{"name": ""}]}, "extraInfo"),
    ],
)
def test_update_validation_leaves_row(client, prefix, agent, auth, payload, field):
    contact = _with_fields(agent.company, ("a", "1"))
    before = (contact.name, contact.number, contact.email)
    resp = client.put(f"{prefix}/contacts/{contact.id}", json=payload, headers=auth(agent))
    assert resp.status_code == 400 and field in resp.get_json()["fields"]
    db.session.expire_all()
    row = db.session.get(Contact, contact.id)
    assert (row.name, row.number, row.email) == before and len(row.extra_info) == 1


def test_update_to_taken_number_is_409(client, prefix, agent, auth):
    factories.ContactFactory(company=agent.company, number="5511987654321")
    other = factories.ContactFactory(company=agent.company, number="5511911112222")
    resp = client.put(
        f"{prefix}/contacts/{other.id}", json={"number": "11987654321"}, headers=auth(agent)
    )
    assert resp.status_code == 409 and resp.get_json()["error"] == "ERR_DUPLICATED_CONTACT"
    db.session.expire_all()
    assert db.session.get(Contact, other.id).number == "5511911112222"


def test_update_keeping_own_number_is_fine(client, prefix, agent, auth):
    contact = factories.ContactFactory(company=agent.company, number="5511987654321")
    resp = client.put(
        f"{prefix}/contacts/{contact.id}",
        json={"number": "(11) 98765-4321", "name": "Same"},
        headers=auth(agent),
    )
    assert resp.status_code == 200 and resp.get_json()["number"] == "5511987654321"


def test_update_other_company_contact_is_404(client, prefix, agent, auth, other_company):
    theirs = factories.ContactFactory(company=other_company, name="Theirs")
    resp = client.put(f"{prefix}/contacts/{theirs.id}", json={"name": "Mine"}, headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json()["error"] == "ERR_NO_CONTACT_FOUND"
    db.session.expire_all()
    assert db.session.get(Contact, theirs.id).name == "Theirs"
    assert client.put(f"{prefix}/contacts/{theirs.id}", json={"name": "x"}).status_code == 401


def test_update_emits_event(client, prefix, admin, auth, other_admin, socket_client):
    contact = factories.ContactFactory(company=admin.company)
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    client.put(f"{prefix}/contacts/{contact.id}", json={"name": "Renamed"}, headers=auth(admin))
    events = _events(mine, admin.company_id)
    assert len(events) == 1 and events[0]["action"] == "update"
    assert events[0]["contact"]["name"] == "Renamed"
    assert not _contact_events(theirs)


# -- delete -----------------------------------------------------------------------


def test_admin_deletes_contact_with_its_tickets(client, prefix, admin, auth):
    contact = _with_fields(admin.company, ("a", "1"))
    ticket = factories.TicketFactory(company=admin.company, contact=contact)
    ticket_id, contact_id = ticket.id, contact.id
    resp = client.delete(f"{prefix}/contacts/{contact_id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Contact deleted"}
    db.session.expire_all()
    assert db.session.get(Contact, contact_id) is None
    assert db.session.get(Ticket, ticket_id) is None
    assert db.session.scalar(sa.select(sa.func.count(ContactCustomField.id))) == 0


def test_agent_cannot_delete(client, prefix, agent, auth):
    contact = factories.ContactFactory(company=agent.company)
    resp = client.delete(f"{prefix}/contacts/{contact.id}", headers=auth(agent))
    assert resp.status_code == 403 and resp.get_json()["error"] == "ERR_NO_PERMISSION"
    assert _count(agent.company_id) == 1


def test_delete_other_company_contact_is_404(client, prefix, admin, auth, other_company):
    theirs = factories.ContactFactory(company=other_company)
    resp = client.delete(f"{prefix}/contacts/{theirs.id}", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json()["error"] == "ERR_NO_CONTACT_FOUND"
    assert _count(other_company.id) == 1
    assert client.delete(f"{prefix}/contacts/{theirs.id}").status_code == 401


def test_delete_emits_event(client, prefix, admin, auth, other_admin, socket_client):
    contact = factories.ContactFactory(company=admin.company)
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    client.delete(f"{prefix}/contacts/{contact.id}", headers=auth(admin))
    assert _events(mine, admin.company_id) == [{"action": "delete", "contactId": contact.id}]
    assert not _contact_events(theirs)


# -- GET /contact (find or create) ------------------------------------------------


def test_find_or_create_creates_then_finds(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/contact?number=%2B55 11 98765-4321", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["number"] == "5511987654321" and body["name"] == "5511987654321"
    again = client.get(f"{prefix}/contact?number=551187654321&name=Other", headers=auth(agent))
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    assert again.get_json()["name"] == "5511987654321"  # an existing contact is not renamed
    assert _count(agent.company_id) == 1


def test_find_or_create_uses_name(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/contact?number=11987654321&name=Maria", headers=auth(agent))
    assert resp.status_code == 200 and resp.get_json()["name"] == "Maria"


def test_find_or_create_finds_own_company_only(client, prefix, agent, auth, other_company):
    theirs = factories.ContactFactory(company=other_company, number="5511987654321")
    body = client.get(f"{prefix}/contact?number=11987654321", headers=auth(agent)).get_json()
    assert body["id"] != theirs.id and body["companyId"] == agent.company_id


def test_find_or_create_validation(client, prefix, agent, auth):
    for query in ("", "?number=abc", "?number="):
        resp = client.get(f"{prefix}/contact{query}", headers=auth(agent))
        assert resp.status_code == 400 and "number" in resp.get_json()["fields"]
    assert _count(agent.company_id) == 0
    assert client.get(f"{prefix}/contact?number=11987654321").status_code == 401


def test_find_or_create_emits_only_on_create(
    client, prefix, admin, auth, other_admin, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    client.get(f"{prefix}/contact?number=11987654321", headers=auth(admin))
    client.get(f"{prefix}/contact?number=11987654321", headers=auth(admin))
    events = _events(mine, admin.company_id)
    assert len(events) == 1 and events[0]["action"] == "create"
    assert not _contact_events(theirs)


# -- upload -----------------------------------------------------------------------


def _csv(text: str, *, bom: bool = False, encoding: str = "utf-8") -> io.BytesIO:
    data = text.encode(encoding)
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + data)


def _xlsx(rows: list[list]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def _upload(client, prefix, headers, data: io.BytesIO, filename: str):
    return client.post(
        f"{prefix}/contacts/upload",
        data={"file": (data, filename)},
        headers=headers,
        content_type="multipart/form-data",
    )


CSV_ROWS = (
    "Nome;Número;E-mail\n"
    "Maria;(11) 98765-4321;maria@example.com\n"  # row 2: new
    "Existing;5511911112222;\n"  # row 3: already a contact
    "Bad;abc;\n"  # row 4: invalid number
    ";;\n"  # row 5: blank, skipped
    "NoNumber;;x@example.com\n"  # row 6: missing number
    "Landline;11 3333-4444;\n"  # row 7: new landline
    "Maria again;551187654321;\n"  # row 8: same person as row 2
    "Bad mail;21987654321;nope\n"  # row 9: invalid e-mail
)


def _check_result(body: dict, company_id: int) -> None:
    assert sorted(c["number"] for c in body["created"]) == ["551133334444", "5511987654321"]
    maria = next(c for c in body["created"] if c["number"] == "5511987654321")
    assert maria["name"] == "Maria" and maria["email"] == "maria@example.com"
    assert set(maria) == ROW_KEYS
    assert body["existing"] == 2
    assert body["errors"] == [
        {"row": 4, "error": "ERR_INVALID_NUMBER", "value": "abc"},
        {"row": 6, "error": "ERR_MISSING_NUMBER", "value": None},
        {"row": 9, "error": "ERR_INVALID_EMAIL", "value": "nope"},
    ]
    assert _numbers(company_id) == {"5511911112222", "5511987654321", "551133334444"}


@pytest.mark.parametrize("bom", [False, True])
def test_upload_csv_semicolon(client, prefix, agent, auth, bom):
    factories.ContactFactory(company=agent.company, number="5511911112222", name="Keep me")
    resp = _upload(client, prefix, auth(agent), _csv(CSV_ROWS, bom=bom), "contatos.csv")
    assert resp.status_code == 200, resp.get_json()
    _check_result(resp.get_json(), agent.company_id)
    # Existing contacts are left as they are.
    kept = db.session.scalar(sa.select(Contact).where(Contact.number == "5511911112222"))
    assert kept.name == "Keep me"


def test_upload_csv_comma_and_english_headers(client, prefix, agent, auth):
    text = 'name,number,email\n"Silva, Maria",+55 11 98765-4321,maria@example.com\nBob,999,\n'
    resp = _upload(client, prefix, auth(agent), _csv(text), "list.CSV")
    assert resp.status_code == 200
    body = resp.get_json()
    assert [(c["name"], c["number"]) for c in body["created"]] == [
        ("Silva, Maria", "5511987654321")
    ]
    assert body["errors"] == [{"row": 3, "error": "ERR_INVALID_NUMBER", "value": "999"}]


def test_upload_csv_windows_1252(client, prefix, agent, auth):
    text = "NOME;NUMERO\nJoão;11987654321\n"
    resp = _upload(client, prefix, auth(agent), _csv(text, encoding="cp1252"), "c.csv")
    assert resp.status_code == 200 and resp.get_json()["created"][0]["name"] == "João"


def test_upload_number_only_csv_names_contacts_by_number(client, prefix, agent, auth):
    resp = _upload(client, prefix, auth(agent), _csv("numero\n11987654321\n"), "c.csv")
    assert resp.status_code == 200
    assert resp.get_json()["created"][0]["name"] == "5511987654321"


def test_upload_xlsx(client, prefix, agent, auth):
    factories.ContactFactory(company=agent.company, number="5511911112222")
    rows = [
        ["nome", "numero", "email"],
        ["Maria", 5511987654321, "maria@example.com"],  # numeric cell
        ["Existing", "5511911112222", None],
        ["Bad", "abc", None],
        [None, None, None],
        ["NoNumber", None, "x@example.com"],
        ["Landline", "11 3333-4444", None],
        ["Maria again", "551187654321", None],
        ["Bad mail", "21987654321", "nope"],
    ]
    resp = _upload(client, prefix, auth(agent), _xlsx(rows), "contatos.xlsx")
    assert resp.status_code == 200, resp.get_json()
    _check_result(resp.get_json(), agent.company_id)


def test_upload_xlsx_float_number_cell(client, prefix, agent, auth):
    resp = _upload(client, prefix, auth(agent), _xlsx([["Número"], [5511987654321.0]]), "c.xlsx")
    assert resp.status_code == 200
    assert [c["number"] for c in resp.get_json()["created"]] == ["5511987654321"]


def test_upload_emits_one_create_per_new_contact(
    client, prefix, admin, auth, other_admin, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    _upload(client, prefix, auth(admin), _csv(CSV_ROWS), "c.csv")
    events = _events(mine, admin.company_id)
    # src/pages/Contacts reads data.contact of each create (never a `records` batch).
    assert [e["action"] for e in events] == ["create"] * 3
    numbers = sorted(e["contact"]["number"] for e in events)
    assert numbers == ["551133334444", "5511911112222", "5511987654321"]
    assert all("records" not in e for e in events)
    assert not _contact_events(theirs)


def test_big_upload_emits_one_reload(client, prefix, admin, auth, socket_client, monkeypatch):
    monkeypatch.setattr(contact_uploads, "UPLOAD_EVENTS_MAX", 2)
    mine = socket_client(admin)
    mine.get_received()
    _upload(client, prefix, auth(admin), _csv(CSV_ROWS), "c.csv")
    assert _events(mine, admin.company_id) == [{"action": "reload", "count": 3}]


def test_upload_with_nothing_new_emits_nothing(client, prefix, admin, auth, socket_client):
    factories.ContactFactory(company=admin.company, number="5511987654321")
    mine = socket_client(admin)
    mine.get_received()
    resp = _upload(client, prefix, auth(admin), _csv("numero\n11987654321\n"), "c.csv")
    assert resp.get_json() == {"created": [], "existing": 1, "errors": []}
    assert not _contact_events(mine)


def test_upload_scoped_to_own_company(client, prefix, agent, auth, other_company):
    factories.ContactFactory(company=other_company, number="5511987654321")
    resp = _upload(client, prefix, auth(agent), _csv("numero\n11987654321\n"), "c.csv")
    assert len(resp.get_json()["created"]) == 1
    assert resp.get_json()["created"][0]["companyId"] == agent.company_id
    assert _count(other_company.id) == 1


def test_upload_without_file_is_400(client, prefix, agent, auth):
    resp = client.post(
        f"{prefix}/contacts/upload",
        data={},
        headers=auth(agent),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and "file" in resp.get_json()["fields"]


def test_upload_without_number_column_is_400(client, prefix, agent, auth):
    resp = _upload(client, prefix, auth(agent), _csv("nome;email\nMaria;m@example.com\n"), "c.csv")
    assert resp.status_code == 400 and "file" in resp.get_json()["fields"]
    assert _count(agent.company_id) == 0


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"numero\n11987654321\n", "c.txt"),
        (b"numero\n11987654321\n", "noext"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "c.csv"),  # binary content named .csv
        (b"numero\n11987654321\n", "c.xlsx"),  # text named .xlsx
        (b"PK\x03\x04garbage", "c.xlsx"),  # a broken zip
        (b"numero\n", "c.xls"),
    ],
)
def test_upload_unsupported_type_is_415(client, prefix, agent, auth, content, filename):
    resp = _upload(client, prefix, auth(agent), io.BytesIO(content), filename)
    assert resp.status_code == 415 and resp.get_json() == {"error": "ERR_UNSUPPORTED_MEDIA_TYPE"}
    assert _count(agent.company_id) == 0


def test_upload_zip_that_is_not_a_workbook_is_415(client, prefix, agent, auth):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    buf.seek(0)
    resp = _upload(client, prefix, auth(agent), buf, "c.xlsx")
    assert resp.status_code == 415


def test_upload_too_large_is_413(client, prefix, agent, auth, app):
    app.config["CONTACTS_UPLOAD_MAX_BYTES"] = 1024
    big = "numero\n" + "11987654321\n" * 200
    resp = _upload(client, prefix, auth(agent), _csv(big), "c.csv")
    assert resp.status_code == 413 and resp.get_json() == {"error": "ERR_FILE_TOO_LARGE"}
    assert _count(agent.company_id) == 0


def test_upload_default_limit_is_5_mib(client, prefix, agent, auth):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    big = io.BytesIO(b"numero\n" + b"1" * (5 * 1024 * 1024))
    # Encoded in memory: the test client would spool this size to a temp file that an
    # early 413 (the body is never read) leaves unclosed.
    boundary, body = encode_multipart({"file": FileStorage(big, filename="c.csv")})
    resp = client.post(
        f"{prefix}/contacts/upload",
        data=body,
        headers=auth(agent),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert resp.status_code == 413 and resp.get_json() == {"error": "ERR_FILE_TOO_LARGE"}


def test_upload_one_byte_over_5_mib_is_413(client, prefix, agent, auth):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    content = b"numero\n" + b"1" * (5 * 1024 * 1024 - 6)  # 5 MiB + 1 byte
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), filename="c.csv")})
    resp = client.post(
        f"{prefix}/contacts/upload",
        data=body,
        headers=auth(agent),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert resp.status_code == 413 and resp.get_json() == {"error": "ERR_FILE_TOO_LARGE"}


def test_upload_needs_token(client, prefix, app):
    assert _upload(client, prefix, {}, _csv("numero\n1\n"), "c.csv").status_code == 401
