"""Contact lists: page with counts, picker, CRUD, CSV/XLSX import with the WhatsApp check,
fill from a tag, build_from_tag for campaigns, events and tenancy."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests import factories
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import ContactList, ContactListItem, ticket_tags
from whaticket.services.campaigns import contact_lists as list_service
from whaticket.services.campaigns import list_import


def _lists(company_id: int) -> list[ContactList]:
    return list(
        db.session.scalars(sa.select(ContactList).where(ContactList.company_id == company_id))
    )


def _items(list_id: int) -> dict[str, ContactListItem]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(ContactListItem).where(ContactListItem.contact_list_id == list_id)
    )
    return {i.number: i for i in rows}


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


def _default_conn(company, provider: str = "fake"):
    return factories.WhatsappFactory(
        company=company, is_default=True, provider=provider, status="CONNECTED"
    )


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def _csv(text: str) -> bytes:
    return text.encode()


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, url: str, headers: dict, content: bytes, filename: str):
    return client.post(
        url,
        data={"file": (io.BytesIO(content), filename)},
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.fixture
def reject_rio(monkeypatch):
    """The fake gateway says Rio (55 21) numbers have no WhatsApp account."""
    from whaticket.whatsapp.fake import provider as fake

    monkeypatch.setattr(fake, "REJECTED_PREFIX", "5521")


# -- page and picker --------------------------------------------------------------


def test_page_is_by_name_with_counts_and_scoped(client, prefix, agent, auth, other_company):
    second = _new_list(agent.company, "B list")
    first = _new_list(agent.company, "A list")
    _item(second, "5511911110001", is_whatsapp_valid=True)
    _item(second, "5511911110002", is_whatsapp_valid=False)
    _item(second, "5511911110003")
    _new_list(other_company, "A foreign")
    resp = client.get(f"{prefix}/contact-lists", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 2 and body["hasMore"] is False
    assert [r["id"] for r in body["records"]] == [first.id, second.id]
    row = body["records"][1]
    assert set(row) == {"id", "name", "contactsCount", "validCount", "createdAt", "updatedAt"}
    assert (row["contactsCount"], row["validCount"]) == (3, 1)
    assert (body["records"][0]["contactsCount"], body["records"][0]["validCount"]) == (0, 0)


def test_page_searches_and_paginates(client, prefix, agent, auth):
    for i in range(21):
        _new_list(agent.company, f"Promo {i:02d}")
    _new_list(agent.company, "Other")
    body = client.get(f"{prefix}/contact-lists?searchParam=PROMO", headers=auth(agent)).get_json()
    assert body["count"] == 21 and body["hasMore"] is True and len(body["records"]) == 20
    page2 = client.get(
        f"{prefix}/contact-lists?searchParam=promo&pageNumber=2", headers=auth(agent)
    ).get_json()
    assert [r["name"] for r in page2["records"]] == ["Promo 20"] and page2["hasMore"] is False


def test_page_validation_and_token(client, prefix, agent, auth):
    resp = client.get(f"{prefix}/contact-lists?pageNumber=x", headers=auth(agent))
    assert resp.status_code == 400 and "pageNumber" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/contact-lists").status_code == 401


def test_picker_ignores_company_id(client, prefix, agent, auth, other_company):
    mine = _new_list(agent.company, "Mine")
    _new_list(other_company, "Theirs")
    resp = client.get(
        f"{prefix}/contact-lists/list?companyId={other_company.id}", headers=auth(agent)
    )
    assert resp.status_code == 200
    assert [(r["id"], r["companyId"]) for r in resp.get_json()] == [(mine.id, agent.company_id)]
    assert client.get(f"{prefix}/contact-lists/list").status_code == 401


# -- create / show / update / delete ----------------------------------------------


def test_admin_creates_list_and_company_hears(
    client, prefix, admin, auth, other_admin, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.post(f"{prefix}/contact-lists", json={"name": "  VIPs  "}, headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "VIPs" and body["companyId"] == admin.company_id
    assert [r.name for r in _lists(admin.company_id)] == ["VIPs"]
    name = f"company-{admin.company_id}-ContactList"
    assert _events(mine, name) == [{"action": "create", "record": body}]
    assert not [e for e in theirs.get_received() if "ContactList" in e["name"]]


@pytest.mark.parametrize("payload", [{}, {"name": "ab"}, {"name": "   abc  "[:5]}, {"name": 5}])
def test_create_validation(client, prefix, admin, auth, payload):
    resp = client.post(f"{prefix}/contact-lists", json=payload, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "name" in body["fields"]
    assert _lists(admin.company_id) == []


def test_create_duplicate_name_is_400(client, prefix, admin, auth, other_company):
    _new_list(admin.company, "Customers")
    _new_list(other_company, "Shared name")
    resp = client.post(f"{prefix}/contact-lists", json={"name": "CUSTOMERS"}, headers=auth(admin))
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_DUPLICATED_CONTACT_LIST"
    assert "name" in resp.get_json()["fields"]
    resp = client.post(f"{prefix}/contact-lists", json={"name": "Shared name"}, headers=auth(admin))
    assert resp.status_code == 200
    assert client.post(f"{prefix}/contact-lists", json={"name": "abc"}).status_code == 401


def test_show_update_delete(client, prefix, admin, auth, socket_client):
    record = _new_list(admin.company, "Old name")
    _item(record, "5511911110001")
    sock = socket_client(admin)
    sock.get_received()
    resp = client.get(f"{prefix}/contact-lists/{record.id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["name"] == "Old name"
    resp = client.put(
        f"{prefix}/contact-lists/{record.id}", json={"name": "New name"}, headers=auth(admin)
    )
    assert resp.status_code == 200 and resp.get_json()["name"] == "New name"
    name = f"company-{admin.company_id}-ContactList"
    assert _events(sock, name) == [{"action": "update", "record": resp.get_json()}]
    resp = client.delete(f"{prefix}/contact-lists/{record.id}", headers=auth(admin))
    assert resp.status_code == 200
    assert _events(sock, name) == [{"action": "delete", "id": record.id}]
    assert _lists(admin.company_id) == [] and _items(record.id) == {}


def test_update_validation_and_duplicate_leave_row(client, prefix, admin, auth):
    record = _new_list(admin.company, "Keep me")
    _new_list(admin.company, "Taken")
    for payload, code in (({"name": "ab"}, "ERR_VALIDATION"), ({"name": "taken"}, None)):
        resp = client.put(f"{prefix}/contact-lists/{record.id}", json=payload, headers=auth(admin))
        assert resp.status_code == 400 and "name" in resp.get_json()["fields"]
        if code:
            assert resp.get_json()["error"] == code
    db.session.expire_all()
    assert db.session.get(ContactList, record.id).name == "Keep me"


def test_other_company_list_is_404_everywhere(client, prefix, admin, auth, other_company):
    theirs = _new_list(other_company, "Theirs")
    _item(theirs, "5511911110001")
    tag = factories.TagFactory(company=admin.company)
    base = f"{prefix}/contact-lists/{theirs.id}"
    h = auth(admin)
    assert client.get(base, headers=h).status_code == 404
    assert client.put(base, json={"name": "Mine now"}, headers=h).status_code == 404
    assert client.delete(base, headers=h).status_code == 404
    resp = _upload(client, f"{base}/upload", h, _csv("numero\n11987654321\n"), "a.csv")
    assert resp.status_code == 404
    resp = client.post(f"{base}/from-tag", json={"tagId": tag.id}, headers=h)
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_CONTACT_LIST_NOT_FOUND"}
    db.session.expire_all()
    assert db.session.get(ContactList, theirs.id).name == "Theirs"
    assert set(_items(theirs.id)) == {"5511911110001"}
    assert client.get(f"{prefix}/contact-lists/999999", headers=h).status_code == 404
    assert client.get(base).status_code == 401


# -- upload -----------------------------------------------------------------------

CSV = """nome;numero;email
Ana;(11) 98765-4321;ana@example.com
Bad;123;
NoNumber;;
Eve;21987654322;not-an-email
Rio;21 98765-1111;
Ana again;+55 11 98765-4321;
"""


def test_csv_upload_reports_bad_rows_and_checks_numbers(
    client, prefix, admin, auth, reject_rio, other_admin, socket_client
):
    _default_conn(admin.company)
    record = _new_list(admin.company)
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = _upload(
        client, f"{prefix}/contact-lists/{record.id}/upload", auth(admin), _csv(CSV), "l.csv"
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["created"] == 2 and body["updated"] == 0
    assert body["invalid"] == [
        {"row": 3, "reason": "ERR_INVALID_NUMBER"},
        {"row": 4, "reason": "ERR_MISSING_NUMBER"},
        {"row": 5, "reason": "ERR_INVALID_EMAIL"},
    ]
    items = _items(record.id)
    assert set(items) == {"5511987654321", "5521987651111"}
    ana, rio = items["5511987654321"], items["5521987651111"]
    # The same number twice in a file: one item, the last row wins.
    assert ana.name == "Ana again" and ana.email == "ana@example.com"
    assert ana.is_whatsapp_valid is True and rio.is_whatsapp_valid is False
    assert {r["number"]: r["isWhatsappValid"] for r in body["records"]} == {
        "5511987654321": True,
        "5521987651111": False,
    }
    name = f"company-{admin.company_id}-ContactListItem-{record.id}"
    assert _events(mine, name) == [{"action": "reload", "records": body["records"]}]
    assert not [e for e in theirs.get_received() if "ContactListItem" in e["name"]]


def test_xlsx_upload_updates_existing_items(client, prefix, admin, auth):
    _default_conn(admin.company)
    record = _new_list(admin.company)
    old = _item(record, "5511987654321", name="Old name", is_whatsapp_valid=True)
    content = _xlsx(
        [
            ["Nome", "Número", "E-mail"],
            ["New name", 5511987654321, "new@example.com"],
            ["Bruno", "11 98888-7777", None],
            ["Broken", "abc", None],
        ]
    )
    resp = _upload(
        client, f"{prefix}/contact-lists/{record.id}/upload", auth(admin), content, "l.xlsx"
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["created"], body["updated"]) == (1, 1)
    assert body["invalid"] == [{"row": 4, "reason": "ERR_INVALID_NUMBER"}]
    items = _items(record.id)
    assert items["5511987654321"].id == old.id and items["5511987654321"].name == "New name"
    assert items["5511987654321"].email == "new@example.com"
    assert items["5511988887777"].is_whatsapp_valid is True
    assert [r["number"] for r in body["records"]] == ["5511987654321", "5511988887777"]


@pytest.mark.parametrize("provider", [None, "cloud"])
def test_upload_without_a_checking_connection_leaves_numbers_unchecked(
    client, prefix, admin, auth, provider
):
    if provider:
        _default_conn(admin.company, provider)
    record = _new_list(admin.company)
    resp = _upload(
        client,
        f"{prefix}/contact-lists/{record.id}/upload",
        auth(admin),
        _csv("numero\n11987654321\n"),
        "l.csv",
    )
    assert resp.status_code == 200
    assert _items(record.id)["5511987654321"].is_whatsapp_valid is None


def test_gateway_error_leaves_numbers_unchecked(client, prefix, admin, auth, monkeypatch):
    from whaticket.whatsapp.base import GatewayError
    from whaticket.whatsapp.fake import FakeGateway

    def _down(self, conn, number):
        raise GatewayError("ERR_SESSION", "down", retryable=True)

    monkeypatch.setattr(FakeGateway, "check_number", _down)
    _default_conn(admin.company)
    record = _new_list(admin.company)
    resp = _upload(
        client,
        f"{prefix}/contact-lists/{record.id}/upload",
        auth(admin),
        _csv("numero\n11987654321\n11987654322\n"),
        "l.csv",
    )
    assert resp.status_code == 200
    assert {i.is_whatsapp_valid for i in _items(record.id).values()} == {None}


def test_gateway_canonical_number_is_stored(client, prefix, admin, auth, monkeypatch):
    from whaticket.whatsapp.fake import FakeGateway

    answers = {"5511987654321": "551187654321", "5511911112222": "5511987650000"}
    monkeypatch.setattr(FakeGateway, "check_number", lambda self, conn, n: answers[n])
    _default_conn(admin.company)
    record = _new_list(admin.company)
    resp = _upload(
        client,
        f"{prefix}/contact-lists/{record.id}/upload",
        auth(admin),
        _csv("numero\n11987654321\n11911112222\n"),
        "l.csv",
    )
    assert resp.status_code == 200
    # The provider's form replaces ours; an answer without Brazil's 9th digit gets it back.
    assert set(_items(record.id)) == {"5511987654321", "5511987650000"}


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        (b"numero\n11987654321\n", "list.txt", "ERR_INVALID_SPREADSHEET"),
        (b"PK\x03\x04 not really a workbook", "list.xlsx", "ERR_INVALID_SPREADSHEET"),
        (b"nome;email\nAna;a@example.com\n", "list.csv", "ERR_INVALID_SPREADSHEET"),
        (b"numero\n11987\x0054321\n", "list.csv", "ERR_INVALID_SPREADSHEET"),
    ],
)
def test_bad_file_is_400_and_changes_nothing(client, prefix, admin, auth, content, filename, code):
    record = _new_list(admin.company)
    resp = _upload(
        client, f"{prefix}/contact-lists/{record.id}/upload", auth(admin), content, filename
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == code and "file" in body["fields"]
    assert _items(record.id) == {}


def test_upload_missing_file_and_too_large(client, app, prefix, admin, auth):
    record = _new_list(admin.company)
    url = f"{prefix}/contact-lists/{record.id}/upload"
    resp = client.post(url, data={}, headers=auth(admin), content_type="multipart/form-data")
    assert resp.status_code == 400 and "file" in resp.get_json()["fields"]
    app.config["CONTACTS_UPLOAD_MAX_BYTES"] = 10
    resp = _upload(client, url, auth(admin), _csv("numero\n11987654321\n"), "l.csv")
    assert resp.status_code == 413 and _items(record.id) == {}
    assert _upload(client, url, {}, b"numero\n1\n", "l.csv").status_code == 401


# -- from a tag -------------------------------------------------------------------


def _tag_ticket(tag, contact) -> None:
    ticket = factories.TicketFactory(company=contact.company, contact=contact)
    db.session.execute(ticket_tags.insert().values(ticket_id=ticket.id, tag_id=tag.id))
    db.session.commit()


def test_fill_from_tag_adds_contacts_marked_valid(
    client, prefix, admin, auth, other_company, socket_client
):
    tag = factories.TagFactory(company=admin.company)
    ana = factories.ContactFactory(company=admin.company, name="Ana", number="5511987654321")
    bob = factories.ContactFactory(company=admin.company, name="Bob", number="5511988887777")
    group = factories.ContactFactory(
        company=admin.company, name="Group", number="120363012345678901", is_group=True
    )
    factories.ContactFactory(company=admin.company, name="Untagged", number="5511977776666")
    foreign = factories.ContactFactory(company=other_company, number="5511966665555")
    for contact in (ana, bob, group):
        _tag_ticket(tag, contact)
    # A cross-tenant link that must never leak into the list.
    _tag_ticket(tag, foreign)
    record = _new_list(admin.company)
    _item(record, "5511988887777", name="Bob old", is_whatsapp_valid=False)
    sock = socket_client(admin)
    sock.get_received()
    resp = client.post(
        f"{prefix}/contact-lists/{record.id}/from-tag", json={"tagId": tag.id}, headers=auth(admin)
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["created"], body["updated"], body["invalid"]) == (1, 1, [])
    items = _items(record.id)
    assert set(items) == {"5511987654321", "5511988887777"}
    assert all(i.is_whatsapp_valid is True for i in items.values())
    assert items["5511988887777"].name == "Bob"
    name = f"company-{admin.company_id}-ContactListItem-{record.id}"
    assert _events(sock, name) == [{"action": "reload", "records": body["records"]}]


def test_fill_from_tag_validation_and_foreign_tag(client, prefix, admin, auth, other_company):
    record = _new_list(admin.company)
    url = f"{prefix}/contact-lists/{record.id}/from-tag"
    resp = client.post(url, json={}, headers=auth(admin))
    assert resp.status_code == 400 and "tagId" in resp.get_json()["fields"]
    resp = client.post(url, json={"tagId": "x"}, headers=auth(admin))
    assert resp.status_code == 400 and "tagId" in resp.get_json()["fields"]
    theirs = factories.TagFactory(company=other_company)
    resp = client.post(url, json={"tagId": theirs.id}, headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_TAG_FOUND"}
    assert _items(record.id) == {}
    assert client.post(url, json={"tagId": theirs.id}).status_code == 401


def test_build_from_tag_creates_a_named_list(app, company, other_company):
    tag = factories.TagFactory(company=company)
    ana = factories.ContactFactory(company=company, number="5511987654321")
    _tag_ticket(tag, ana)
    record = list_import.build_from_tag(company.id, tag.id, "Promo | TAG: 1 - 2026-01-01")
    db.session.commit()
    assert record.name == "Promo | TAG: 1 - 2026-01-01" and record.company_id == company.id
    valid = list_service.valid_items(company.id, record.id)
    assert [i.number for i in valid] == ["5511987654321"]
    foreign_tag = factories.TagFactory(company=other_company)
    with pytest.raises(AppError) as err:
        list_import.build_from_tag(company.id, foreign_tag.id, "Nope")
    assert err.value.status == 404
    db.session.rollback()
    assert [r.name for r in _lists(company.id)] == ["Promo | TAG: 1 - 2026-01-01"]


def test_valid_items_filters_and_is_scoped(app, company, other_company):
    record = _new_list(company)
    good = _item(record, "5511911110001", is_whatsapp_valid=True)
    _item(record, "5511911110002", is_whatsapp_valid=False)
    unchecked = _item(record, "5511911110003")
    assert [i.id for i in list_service.valid_items(company.id, record.id)] == [good.id]
    both = list_service.valid_items(company.id, record.id, include_unchecked=True)
    assert [i.id for i in both] == [good.id, unchecked.id]
    with pytest.raises(AppError):
        list_service.valid_items(other_company.id, record.id)
