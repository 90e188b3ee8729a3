"""Contacts service: inbound find-or-create rules, the insert race, and real-thread concurrency."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from whaticket import bus, create_app
from whaticket import db as dbmod
from whaticket.config import TestingConfig
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Company, Contact, ContactIdentity
from whaticket.services.contacts import contacts as svc
from whaticket.services.contacts import resolve


@pytest.fixture
def emitted(monkeypatch) -> list[tuple[int, str, dict[str, Any]]]:
    """Every emit_to_company call the service makes, in order."""
    calls: list[tuple[int, str, dict[str, Any]]] = []
    monkeypatch.setattr(
        svc, "emit_to_company", lambda cid, res, data: calls.append((cid, res, data))
    )
    return calls


def _rows(company_id: int) -> list[Contact]:
    return list(db.session.scalars(sa.select(Contact).where(Contact.company_id == company_id)))


# -- find_or_create_for_inbound ---------------------------------------------------


def test_new_contact_takes_push_name_and_connection(company, emitted):
    wpp = factories.WhatsappFactory(company=company)
    contact, created = resolve.find_or_create_for_inbound(
        company.id, wpp.id, "5511987654321", push_name="Maria"
    )
    dbmod.commit()
    assert created is True
    assert (contact.name, contact.number, contact.whatsapp_id) == ("Maria", "5511987654321", wpp.id)
    assert contact.is_group is False and contact.email == ""
    assert emitted == [
        (company.id, "contact", {"action": "create", "contact": svc.payload(contact)})
    ]


def test_new_contact_without_push_name_is_named_by_number(company):
    contact, created = resolve.find_or_create_for_inbound(
        company.id, None, "5511987654321", push_name=None
    )
    assert created and contact.name == "5511987654321"


def test_old_eight_digit_form_finds_the_same_contact(company, emitted):
    existing = factories.ContactFactory(company=company, number="5511987654321", name="Maria")
    contact, created = resolve.find_or_create_for_inbound(
        company.id, None, "551187654321", push_name="M"
    )
    assert contact.id == existing.id and created is False
    assert emitted == []


def test_agent_set_name_is_never_overwritten(company, emitted):
    existing = factories.ContactFactory(company=company, number="5511987654321", name="Dona Maria")
    contact, created = resolve.find_or_create_for_inbound(
        company.id, None, "5511987654321", push_name="maria123"
    )
    assert not created and contact.id == existing.id and contact.name == "Dona Maria"
    assert emitted == []


def test_placeholder_name_is_replaced_by_push_name(company, emitted):
    existing = factories.ContactFactory(
        company=company, number="5511987654321", name="5511987654321"
    )
    contact, created = resolve.find_or_create_for_inbound(
        company.id, None, "5511987654321", push_name="Maria"
    )
    dbmod.commit()
    assert not created and contact.id == existing.id and contact.name == "Maria"
    assert [e[2]["action"] for e in emitted] == ["update"]
    assert emitted[0][2]["contact"]["name"] == "Maria"


def test_placeholder_stays_without_push_name(company, emitted):
    factories.ContactFactory(company=company, number="5511987654321", name="5511987654321")
    contact, _ = resolve.find_or_create_for_inbound(
        company.id, None, "5511987654321", push_name=None
    )
    assert contact.name == "5511987654321" and emitted == []


def test_connection_follows_the_latest_message(company, emitted):
    first, second = (
        factories.WhatsappFactory(company=company),
        factories.WhatsappFactory(company=company),
    )
    factories.ContactFactory(
        company=company, number="5511987654321", name="Maria", whatsapp_id=first.id
    )
    contact, _ = resolve.find_or_create_for_inbound(
        company.id, second.id, "5511987654321", push_name="M"
    )
    assert contact.whatsapp_id == second.id
    assert [e[2]["action"] for e in emitted] == ["update"]
    emitted.clear()
    resolve.find_or_create_for_inbound(company.id, second.id, "5511987654321", push_name="M")
    resolve.find_or_create_for_inbound(company.id, None, "5511987654321", push_name="M")
    assert contact.whatsapp_id == second.id and emitted == []


def test_group_contact_is_named_by_subject(company):
    contact, created = resolve.find_or_create_for_inbound(
        company.id,
        None,
        "120363025246125486@g.us",
        push_name="Participant",
        is_group=True,
        group_name="Family",
    )
    assert created and contact.is_group is True
    assert (contact.number, contact.name) == ("120363025246125486", "Family")


def test_old_style_group_id_is_kept_and_flagged(company):
    contact, _ = resolve.find_or_create_for_inbound(
        company.id, None, "5511987654321-1612345678", push_name=None, is_group=True
    )
    assert contact.number == "5511987654321-1612345678" and contact.is_group
    assert contact.name == "5511987654321-1612345678"


def test_group_placeholder_takes_group_name_later(company):
    resolve.find_or_create_for_inbound(
        company.id, None, "120363025246125486", push_name=None, is_group=True
    )
    contact, created = resolve.find_or_create_for_inbound(
        company.id, None, "120363025246125486", push_name="P", is_group=True, group_name="Team"
    )
    assert not created and contact.name == "Team"


def test_unparseable_provider_number_is_kept_as_digits(company):
    contact, created = resolve.find_or_create_for_inbound(company.id, None, "999", push_name="Test")
    assert created and contact.number == "999"


def test_contacts_are_per_company(company, other_company):
    mine, _ = resolve.find_or_create_for_inbound(company.id, None, "5511987654321", push_name="A")
    theirs, created = resolve.find_or_create_for_inbound(
        other_company.id, None, "5511987654321", push_name="B"
    )
    assert created and mine.id != theirs.id


def test_lost_insert_race_reselects_the_winner(company, monkeypatch, emitted):
    """The pre-check misses a row inserted meanwhile: the savepoint fails, the winner is used."""
    winner = factories.ContactFactory(company=company, number="5511987654321", name="5511987654321")
    real = svc._by_number
    monkeypatch.setattr(svc, "_by_number", lambda *a, **kw: real(*a, **kw) if kw else None)
    contact, created = resolve.find_or_create_for_inbound(
        company.id, None, "5511987654321", push_name="Maria"
    )
    dbmod.commit()
    assert created is False and contact.id == winner.id
    # The winner's placeholder name still gets the push name; the failed insert emits nothing.
    assert contact.name == "Maria" and [e[2]["action"] for e in emitted] == ["update"]
    assert len(_rows(company.id)) == 1


# -- other helpers ----------------------------------------------------------------


def test_get_contact_is_company_checked(company, other_company):
    mine = factories.ContactFactory(company=company)
    theirs = factories.ContactFactory(company=other_company)
    assert svc.get_contact(company.id, mine.id) is mine
    for contact_id in (theirs.id, 999999):
        with pytest.raises(AppError) as err:
            svc.get_contact(company.id, contact_id)
        assert (err.value.code, err.value.status) == ("ERR_NO_CONTACT_FOUND", 404)


def test_payload_shape(company):
    contact = factories.ContactFactory(company=company)
    assert set(svc.payload(contact)) == {
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


def test_delete_announces_the_contact_before_it_goes(company, monkeypatch):
    """`bus.contact_deleting` hears the contact while its row (and tickets) still exist."""
    contact = factories.ContactFactory(company=company)
    heard: list[tuple[int, int, bool]] = []

    def listener(company_id: int, contact: Contact) -> None:
        heard.append((company_id, contact.id, db.session.get(Contact, contact.id) is not None))

    # A listener for this test only: the topic's list is put back afterwards.
    monkeypatch.setattr(bus.contact_deleting, "_listeners", [])
    bus.contact_deleting.subscribe(listener)
    svc.delete_contact(company.id, contact.id)
    assert heard == [(company.id, contact.id, True)]
    assert db.session.get(Contact, contact.id) is None


def test_default_phone_region_comes_from_config(app, company):
    app.config["DEFAULT_PHONE_REGION"] = "US"
    contact = svc.create_contact(company.id, {"name": "Al", "number": "(415) 555-2671"})
    assert contact.number == "14155552671"


def test_services_never_commit(company):
    svc.create_contact(company.id, {"name": "Al", "number": "11987654321"})
    resolve.find_or_create_for_inbound(company.id, None, "5521987654321", push_name="B")
    db.session.rollback()
    assert _rows(company.id) == []


# -- real threads -----------------------------------------------------------------


class _FileSqliteConfig(TestingConfig):
    """Threads cannot share the in-memory SQLite database: use a temporary file."""

    SQLALCHEMY_DATABASE_URI = f"sqlite:////tmp/{uuid.uuid4().hex}.sqlite3"
    # Writers queue on SQLite's file lock; wait for it rather than fail.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "connect_args": {"timeout": 30}}


@pytest.fixture
def threaded_app(request) -> Iterator[Flask]:
    """An app whose database several threads (one session each) can use at once."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield request.getfixturevalue("app")  # a real server database: use it as is
        return
    path = _FileSqliteConfig.SQLALCHEMY_DATABASE_URI.removeprefix("sqlite:///")
    app = create_app(_FileSqliteConfig)
    try:
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


@pytest.mark.parametrize("number", ["5511987654321", "551187654321"])
@pytest.mark.real_db
def test_concurrent_first_messages_create_one_contact(threaded_app, number):
    company = factories.CompanyFactory()
    wpp = factories.WhatsappFactory(company=company)
    company_id, whatsapp_id = company.id, wpp.id
    db.session.remove()  # the threads must see committed rows only

    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def inject() -> None:
        # Each thread pushes its own app context, hence its own session and connection.
        with threaded_app.app_context():
            try:
                barrier.wait(timeout=30)
                contact, created = resolve.find_or_create_for_inbound(
                    company_id, whatsapp_id, number, push_name="Maria"
                )
                dbmod.commit()
                results.append((contact.id, created))
            except BaseException as exc:  # collected and asserted on below
                errors.append(exc)
                dbmod.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=inject) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == threads_n
    assert len({contact_id for contact_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    rows = list(db.session.scalars(sa.select(Contact).where(Contact.company_id == company_id)))
    assert len(rows) == 1
    assert (rows[0].number, rows[0].name, rows[0].whatsapp_id) == (
        "5511987654321",
        "Maria",
        whatsapp_id,
    )
    db.session.execute(sa.delete(Company).where(Company.id == company_id))
    dbmod.commit()


@pytest.mark.real_db
def test_concurrent_deliveries_under_several_ids_make_one_contact(threaded_app):
    """Deliveries for one new person at once, each naming them differently (phone and LID,
    phone alone, phone with its Cloud ids): one contact, every id recorded once, on it."""
    company = factories.CompanyFactory()
    wpp = factories.WhatsappFactory(company=company)
    company_id, whatsapp_id = company.id, wpp.id
    db.session.remove()
    shapes = [
        (("phone", "5511987654321"), ("lid", "2233")),
        (("phone", "551187654321"),),
        (("phone", "551187654321"), ("wa_id", "551187654321"), ("bsuid", "BR.123")),
        (),
    ] * 2
    barrier = threading.Barrier(len(shapes))
    results: list[int] = []
    errors: list[BaseException] = []

    def inject(identities) -> None:
        with threaded_app.app_context():
            try:
                barrier.wait(timeout=30)
                contact, _ = resolve.find_or_create_for_inbound(
                    company_id, whatsapp_id, "5511987654321", push_name="Maria",
                    identities=identities,
                )  # fmt: skip
                dbmod.commit()
                results.append(contact.id)
            except BaseException as exc:  # collected and asserted on below
                errors.append(exc)
                dbmod.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=inject, args=(s,)) for s in shapes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) == len(shapes)
    assert len(set(results)) == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Contact).where(Contact.company_id == company_id)
        )
        == 1
    )
    aliases = db.session.execute(
        sa.select(ContactIdentity.kind, ContactIdentity.value, ContactIdentity.contact_id).where(
            ContactIdentity.company_id == company_id
        )
    ).all()
    assert sorted((k, v) for k, v, _ in aliases) == [
        ("bsuid", "BR.123"), ("lid", "2233"), ("phone", "5511987654321"), ("wa_id", "551187654321"),
    ]  # fmt: skip
    assert {c for _, _, c in aliases} == {results[0]}
    db.session.execute(sa.delete(Company).where(Company.id == company_id))
    dbmod.commit()
