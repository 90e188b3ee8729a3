"""Public API v1 contacts: create, update, the feed (and by number), one contact; another
company's contacts are not found."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from tests.api.v1.conftest import bearer
from whaticket.extensions import db
from whaticket.models import Contact


def test_create_update_and_read(client, prefix, token):
    headers = bearer(token("contacts:read", "contacts:write"))
    url = f"{prefix}/v1/contacts"
    resp = client.post(
        url,
        json={
            "name": "Ana",
            "number": "+55 11 98888-7777",
            "extraInfo": [{"name": "CPF", "value": "1"}],
        },
        headers=headers,
    )
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert created["number"] == "5511988887777" and created["extraInfo"][0]["name"] == "CPF"
    dup = client.post(url, json={"name": "Ana 2", "number": "5511988887777"}, headers=headers)
    assert (dup.status_code, dup.get_json()) == (409, {"error": "ERR_DUPLICATED_CONTACT"})
    bad = client.post(url, json={"name": "", "number": "x"}, headers=headers)
    assert bad.status_code == 400

    resp = client.patch(
        f"{url}/{created['id']}", json={"email": "ana@example.com"}, headers=headers
    )
    assert resp.status_code == 200
    assert (resp.get_json()["email"], resp.get_json()["name"]) == ("ana@example.com", "Ana")

    found = client.get(url, query_string={"number": "(11) 98888-7777"}, headers=headers)
    assert [c["id"] for c in found.get_json()["contacts"]] == [created["id"]]
    one = client.get(f"{url}/{created['id']}", headers=headers).get_json()
    assert one["email"] == "ana@example.com"


def test_another_companys_contacts_are_not_found(client, prefix, company, token, other_company):
    contact = factories.ContactFactory(company=company)
    factories.AdminFactory(company=other_company)
    db.session.commit()
    headers = bearer(token(company=other_company))
    url = f"{prefix}/v1/contacts/{contact.id}"
    not_found = (404, {"error": "ERR_NO_CONTACT_FOUND"})
    resp = client.get(url, headers=headers)
    assert (resp.status_code, resp.get_json()) == not_found
    resp = client.patch(url, json={"name": "Mine now"}, headers=headers)
    assert (resp.status_code, resp.get_json()) == not_found
    assert client.get(f"{prefix}/v1/contacts", headers=headers).get_json()["contacts"] == []
    # The same number is theirs to create: contacts are per company.
    resp = client.post(
        f"{prefix}/v1/contacts", json={"name": "Theirs", "number": contact.number}, headers=headers
    )
    assert resp.status_code == 201
    db.session.expire_all()
    assert db.session.scalar(sa.select(Contact.name).where(Contact.id == contact.id)) != "Mine now"
