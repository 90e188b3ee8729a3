"""Contacts screen: "Importar Contatos" (`POST /contacts/import`) reads the phone's address book."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import evolution as evolution_stubs
from tests.stubs.evolution import API_KEY, EvolutionStub
from whaticket.extensions import db
from whaticket.models import Contact
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.connections.gateway import gateway_for
from whaticket.services.contacts import phone_contacts
from whaticket.utils.crypto import encrypt_json

#: The stub's pytest fixture, made available to this module.
evolution_stub = evolution_stubs.evolution_stub
IMPORTED = {"message": "contacts imported"}


def _contacts(company_id: int) -> dict[str, Contact]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Contact).where(Contact.company_id == company_id))
    return {c.number: c for c in rows}


def _import(client, prefix, headers):
    """What src/pages/Contacts/index.js sends after its confirmation dialog (no body)."""
    return client.post(f"{prefix}/contacts/import", headers=headers)


@pytest.fixture
def phone(company):
    """The company's default connection on the fake provider, with an empty address book."""
    conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )
    fake.clear_outbox(conn.id)
    fake.clear_contacts(conn.id)
    return conn


def _seed(client, prefix, headers, conn, entries: list[dict]) -> None:
    resp = client.post(
        f"{prefix}/fake-gateway/{conn.id}/contacts", json={"contacts": entries}, headers=headers
    )
    assert resp.status_code == 200, resp.get_json()


def test_import_creates_and_completes_contacts_by_number(client, prefix, admin, auth, phone):
    """src/pages/Contacts/index.js posts /contacts/import and reloads the page: the phone's
    people are then in the list, once each, groups left out, names set by agents kept."""
    company_id = admin.company_id
    factories.ContactFactory(company=admin.company, number="5511999990002", name="5511999990002")
    factories.ContactFactory(company=admin.company, number="5511999990003", name="Dona Maria")
    _seed(
        client,
        prefix,
        auth(admin),
        phone,
        [
            {"number": "+55 11 99999-0001", "name": "Ana"},
            {"number": "5511999990002", "name": "Bruno"},  # known, placeholder name
            {"number": "5511999990003", "name": "Maria Silva"},  # known, named by an agent
            {"number": "120363025246125888", "name": "Equipe", "isGroup": True},
            {"number": "12345", "name": "Not a phone number"},
            {"number": "551199990004", "name": "Carla"},  # an old 8-digit mobile: gets its 9
        ],
    )
    resp = _import(client, prefix, auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == IMPORTED

    contacts = _contacts(company_id)
    assert set(contacts) == {"5511999990001", "5511999990002", "5511999990003", "5511999990004"}
    assert contacts["5511999990001"].name == "Ana"
    assert contacts["5511999990001"].whatsapp_id == phone.id
    assert contacts["5511999990002"].name == "Bruno"
    assert contacts["5511999990003"].name == "Dona Maria"
    assert contacts["5511999990004"].name == "Carla"
    assert not any(c.is_group for c in contacts.values())

    # Importing again changes nothing: every number is known by now.
    assert _import(client, prefix, auth(admin)).get_json() == IMPORTED
    assert set(_contacts(company_id)) == set(contacts)
    page = client.get(f"{prefix}/contacts", headers=auth(admin)).get_json()
    assert page["count"] == 4
    assert {c["number"] for c in page["contacts"]} == set(contacts)


def test_people_the_phone_talked_to_are_imported_too(client, prefix, admin, auth, phone):
    """The fake phone knows whom it sent to, as a real phone's contact list does."""
    gateway_for(phone).send_text(phone, "5511988887777", "oi")
    assert _import(client, prefix, auth(admin)).status_code == 200
    contact = _contacts(admin.company_id)["5511988887777"]
    assert contact.name == "5511988887777"  # no name known: the number stands in


def test_events_carry_each_contact_as_the_page_reads_it(
    client, prefix, admin, auth, phone, other_admin, socket_client
):
    """src/pages/Contacts/index.js (open in a colleague's browser) upserts `data.contact`
    from company-{cid}-contact create/update events; another company hears nothing."""
    factories.ContactFactory(company=admin.company, number="5511999990002", name="5511999990002")
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    _seed(
        client,
        prefix,
        auth(admin),
        phone,
        [{"number": "5511999990001", "name": "Ana"}, {"number": "5511999990002", "name": "Bia"}],
    )
    assert _import(client, prefix, auth(admin)).status_code == 200
    name = f"company-{admin.company_id}-contact"
    events = [e["args"][0] for e in mine.get_received() if e["name"] == name]
    assert sorted((e["action"], e["contact"]["name"]) for e in events) == [
        ("create", "Ana"),
        ("update", "Bia"),
    ]
    assert all({"id", "name", "number"} <= set(e["contact"]) for e in events)
    assert not [e for e in theirs.get_received() if e["name"].endswith("-contact")]


@pytest.fixture
def evolution_phone(company, evolution_stub: EvolutionStub):
    """The company's default connection on an Evolution bridge (the stub), connected."""
    evolution_stub.instances["inst1"] = "open"
    return factories.WhatsappFactory(
        company=company,
        provider="evolution",
        status="CONNECTED",
        is_default=True,
        provider_account_id="inst1",
        provider_config=encrypt_json(
            {
                "baseUrl": evolution_stub.url,
                "apiKey": API_KEY,
                "instance": "inst1",
                "webhookSecret": "secret-1",
            }
        ),
    )


def test_evolution_import_reads_find_contacts_outside_a_transaction(
    client, prefix, admin, auth, evolution_phone, evolution_stub
):
    """Through Evolution the address book is `POST /chat/findContacts/{instance}`; the call
    is made with no database transaction open (the list is fetched first, then written)."""
    evolution_stub.add_contact("inst1", "5531982968010@s.whatsapp.net", "Maria", "https://p/m.jpg")
    evolution_stub.add_contact("inst1", "120363025246125888@g.us", "Equipe")
    evolution_stub.add_contact("inst1", "13718@lid", "Rodrigo")
    session = db.session()
    open_during_call: list[bool] = []
    evolution_stub.on_request = lambda _req: open_during_call.append(session.in_transaction())

    resp = _import(client, prefix, auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == IMPORTED
    assert [r.path for r in evolution_stub.requests] == ["/chat/findContacts/inst1"]
    assert open_during_call == [False]
    contacts = _contacts(admin.company_id)
    assert list(contacts) == ["5531982968010"]
    assert contacts["5531982968010"].name == "Maria"
    assert contacts["5531982968010"].profile_pic_url == "https://p/m.jpg"


def test_a_failing_bridge_is_a_clear_error_and_changes_nothing(
    client, prefix, admin, auth, evolution_phone, evolution_stub
):
    evolution_stub.add_contact("inst1", "5531982968010@s.whatsapp.net", "Maria")
    evolution_stub.fail_next(500)
    resp = _import(client, prefix, auth(admin))
    assert resp.status_code == 503 and resp.get_json() == {"error": "ERR_IMPORT_CONTACTS_FAILED"}
    evolution_stub.fail_next(400, evolution_stubs.CONNECTION_CLOSED)
    resp = _import(client, prefix, auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_WAPP_NOT_INITIALIZED"}
    assert _contacts(admin.company_id) == {}


def test_providers_and_connections_that_cannot_import_answer_400(client, prefix, admin, auth):
    """src/pages/Contacts/index.js shows `error` as a toast: each refusal names its cause
    (the reference's ERR_NO_DEF_WAPP_FOUND and ERR_WAPP_NOT_INITIALIZED are translated)."""
    resp = _import(client, prefix, auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_NO_DEF_WAPP_FOUND"}

    cloud = factories.WhatsappFactory(
        company=admin.company, provider="cloud", status="CONNECTED", is_default=True
    )
    resp = _import(client, prefix, auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_IMPORT_NOT_SUPPORTED"}

    cloud.provider, cloud.status = "fake", "DISCONNECTED"
    db.session.commit()
    resp = _import(client, prefix, auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_WAPP_NOT_INITIALIZED"}


def test_agents_import_into_their_own_company_only(
    client, prefix, admin, agent, auth, phone, other_admin
):
    """Any user of the company may import (as with the spreadsheet upload); the import
    uses the caller's company's connection and writes only its contacts."""
    _seed(client, prefix, auth(admin), phone, [{"number": "5511999990001", "name": "Ana"}])
    assert _import(client, prefix, auth(agent)).get_json() == IMPORTED
    assert list(_contacts(admin.company_id)) == ["5511999990001"]

    # The other company has no default connection: ours is never used for it.
    resp = _import(client, prefix, auth(other_admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_NO_DEF_WAPP_FOUND"}
    assert _contacts(other_admin.company_id) == {}
    # Nor can it fill or read our fake phone's address book.
    resp = client.post(
        f"{prefix}/fake-gateway/{phone.id}/contacts",
        json={"contacts": [{"number": "5511999990009"}]},
        headers=auth(other_admin),
    )
    assert resp.status_code == 404
    resp = client.get(f"{prefix}/fake-gateway/{phone.id}/contacts", headers=auth(other_admin))
    assert resp.status_code == 404
    assert client.post(f"{prefix}/contacts/import").status_code == 401


def test_imports_are_rate_limited_per_company(client, prefix, admin, auth, phone, monkeypatch):
    monkeypatch.setattr(phone_contacts, "IMPORT_LIMIT", 2)
    for _ in range(2):
        assert _import(client, prefix, auth(admin)).status_code == 200
    resp = _import(client, prefix, auth(admin))
    assert resp.status_code == 429 and resp.get_json()["error"] == "ERR_TOO_MANY_ATTEMPTS"
    assert int(resp.headers["Retry-After"]) > 0


def test_fake_address_book_route(client, prefix, admin, agent, auth, phone):
    """`make run` exercises the import with the fake: its address book is filled and read
    through /fake-gateway (admins), and validated like every payload."""
    _seed(client, prefix, auth(admin), phone, [{"number": "5511999990001", "name": "Ana"}])
    listed = client.get(f"{prefix}/fake-gateway/{phone.id}/contacts", headers=auth(admin))
    assert listed.get_json() == [{"number": "5511999990001", "name": "Ana", "isGroup": False}]
    resp = client.post(
        f"{prefix}/fake-gateway/{phone.id}/contacts",
        json={"contacts": [{"number": "abc"}]},
        headers=auth(admin),
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    resp = client.post(
        f"{prefix}/fake-gateway/{phone.id}/contacts",
        json={"contacts": [{"number": "5511999990002"}]},
        headers=auth(agent),
    )
    assert resp.status_code == 403
