"""Contact-card bubble (VCardPreview): `POST /contacts` finds the card's known contact."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Contact


def _count(company_id: int) -> int:
    stmt = sa.select(sa.func.count()).select_from(Contact).where(Contact.company_id == company_id)
    return db.session.scalar(stmt)


def _card_lookup(client, prefix, headers, name: str, number: str):
    """What the bubble posts on render: {name, number: digits, email: ""}."""
    return client.post(
        f"{prefix}/contacts", json={"name": name, "number": number, "email": ""}, headers=headers
    )


def test_known_number_answers_the_existing_contact(client, prefix, agent, auth):
    """src/components/VCardPreview/index.js:74 posts {name, number, email: ""} each time it
    renders and shows data.existingContact when data.alreadyExists; :126 reads
    data.existingContact.id to open a ticket."""
    known = factories.ContactFactory(company=agent.company, name="Ana", number="5511999990000")
    headers = auth(agent)
    for _ in range(2):  # every render posts again: never an error, never a duplicate
        resp = _card_lookup(client, prefix, headers, "Ana Souza", "5511999990000")
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert body["alreadyExists"] is True
        assert body["existingContact"]["id"] == known.id
        assert body["existingContact"]["name"] == "Ana"
        assert body["existingContact"]["number"] == "5511999990000"
        # The row's own fields too, for src/components/ContactModal's onSave(data).
        assert body["id"] == known.id
    assert _count(agent.company_id) == 1


def test_known_number_in_another_written_form_is_found(client, prefix, agent, auth):
    """A card's number without Brazil's 9th digit is the same contact (canonical numbers)."""
    known = factories.ContactFactory(company=agent.company, number="5511987654321")
    resp = _card_lookup(client, prefix, auth(agent), "X", "551187654321")
    assert resp.status_code == 200 and resp.get_json()["existingContact"]["id"] == known.id


def test_unknown_number_is_created(client, prefix, agent, auth):
    """VCardPreview:79 keeps its own {name, number} when alreadyExists is falsy; the next
    post (:126, "Conversar") then finds the created contact."""
    headers = auth(agent)
    resp = _card_lookup(client, prefix, headers, "Novo", "5511977776666")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["alreadyExists"] is False and "existingContact" not in body
    assert body["name"] == "Novo" and body["number"] == "5511977776666"
    again = _card_lookup(client, prefix, headers, "Novo", "5511977776666")
    assert again.get_json()["existingContact"]["id"] == body["id"]
    assert _count(agent.company_id) == 1


def test_another_companys_number_is_never_revealed(client, prefix, agent, auth, other_company):
    """Tenancy: a number known only to another company is a new contact here."""
    theirs = factories.ContactFactory(company=other_company, name="Secret", number="5511955554444")
    resp = _card_lookup(client, prefix, auth(agent), "Card name", "5511955554444")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["alreadyExists"] is False and body["id"] != theirs.id
    assert body["name"] == "Card name" and body["companyId"] == agent.company_id


def test_contact_form_still_warns_about_duplicates(client, prefix, agent, auth):
    """src/components/ContactModal/index.js relies on 409 ERR_DUPLICATED_CONTACT (toast
    "Já existe um contato com este número") for what is not the card's lookup: an e-mail,
    custom fields, or a number typed with formatting."""
    factories.ContactFactory(company=agent.company, number="5511999990000")
    headers = auth(agent)
    bodies = [
        {"name": "A", "number": "5511999990000", "email": "a@example.com"},
        {"name": "A", "number": "5511999990000", "email": "", "extraInfo": []},
        {"name": "A", "number": "+55 (11) 99999-0000", "email": ""},
        {"name": "A", "number": "5511999990000"},
    ]
    for body in bodies:
        resp = client.post(f"{prefix}/contacts", json=body, headers=headers)
        assert resp.status_code == 409, body
        assert resp.get_json() == {"error": "ERR_DUPLICATED_CONTACT"}
    assert _count(agent.company_id) == 1


def test_card_lookup_validates_and_needs_a_token(client, prefix, agent, auth):
    resp = _card_lookup(client, prefix, auth(agent), "", "5511999990000")
    assert resp.status_code == 400 and "name" in resp.get_json()["fields"]
    resp = _card_lookup(client, prefix, auth(agent), "X", "12")
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    assert client.post(f"{prefix}/contacts", json={"name": "X"}).status_code == 401
