"""Ticket search: what a term matches, company scoping, the full-text indexes kept in sync
with contacts and messages, and the recent-window path agreeing with the index path.

The index tests commit for real (`real_db`): MariaDB's FULLTEXT index shows a row to
MATCH only once its transaction committed.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Contact, Message, Ticket, User
from whaticket.services.tickets import listing, search
from whaticket.whatsapp.formats import LOCATION_TYPE


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")


def _ticket(company, conn, name: str | None = None, number: str | None = None, **kw) -> Ticket:
    contact_kw = {k: v for k, v in (("name", name), ("number", number)) if v is not None}
    contact = factories.ContactFactory(company=company, **contact_kw)
    return factories.TicketFactory(company=company, whatsapp=conn, contact=contact, **kw)


def _indexed(company_id: int, term: str) -> set[int]:
    """Ticket ids the index path finds."""
    return set(db.session.scalars(search.matching_ticket_ids(company_id, term)))


def _page(admin: User, term: str, offset: int = 0, size: int = 40) -> search.SearchPage:
    filters = listing.ticket_filters(admin.company_id, admin, {"show_all": True})
    base = sa.select(Ticket.id, Ticket.updated_at).where(*filters)
    return search.page(admin.company_id, term, base, offset, size)


def _found(admin: User, term: str) -> set[int]:
    """Ticket ids `search.page` finds (both paths: the window, then the index)."""
    return set(_page(admin, term).ids)


def test_parse_splits_words_digits_and_short_terms():
    assert search.parse("Pedido 123 de") == search.Terms(("pedido", "123"), None, None)
    assert search.parse("+55 (11) 9988-7") == search.Terms(("9988",), "551199887", None)
    assert search.parse("jo") == search.Terms((), None, "jo")
    assert search.parse("12") == search.Terms((), "12", "12")


@pytest.mark.real_db
def test_name_word_prefix_number_digits_and_body_word(admin, company, conn):
    by_name = _ticket(company, conn, name="Zacarias Pedreira")
    by_number = _ticket(company, conn, number="5511998877665")
    by_body = _ticket(company, conn)
    factories.MessageFactory(ticket=by_body, body="Preciso do BOLETO urgente, por favor")
    quiet = _ticket(company, conn, name="Ana Souza")
    factories.MessageFactory(ticket=quiet, body="bom dia")
    accented = _ticket(company, conn, name="Conceição")
    factories.MessageFactory(ticket=accented, body="AÇÃO de cobrança")
    cid = company.id
    for find in (lambda term: _indexed(cid, term), lambda term: _found(admin, term)):
        assert find("zacar") == {by_name.id}
        assert find("PEDRE") == {by_name.id}  # any word of the name, any case
        assert find("arias") == set()  # inside a word: not a word's start
        assert find("9988776") == {by_number.id}  # digits anywhere in the number
        assert find("+55 (11) 99887") == {by_number.id}  # typed as a phone number
        assert find("boleto") == {by_body.id}
        assert find("urgente boleto") == {by_body.id}  # every word, in any order
        assert find("boleto pix") == set()
        assert find("bol") == {by_body.id}  # a 3-letter prefix is a word
        assert find("sou") == {quiet.id}
        assert find("acao cobranca") == find("conceicao") == {accented.id}  # accents ignored
        assert find("Ação") == {accented.id}
    # No word of 3 letters: the contact's name contains the term (messages not searched).
    assert _found(admin, "na s") == {quiet.id}


@pytest.mark.real_db
def test_a_locations_picture_does_not_match(admin, company, conn):
    by_text = _ticket(company, conn)
    by_picture = _ticket(company, conn)
    link = "https://maps.google.com/maps?q=1%2C2&z=17&hl=pt-BR"
    factories.MessageFactory(
        ticket=by_text, media_type=LOCATION_TYPE, body=f"data:image/png;base64,QUJD|{link}|Loja"
    )
    factories.MessageFactory(
        ticket=by_picture,
        media_type=LOCATION_TYPE,
        body=f"data:image/png;base64,QU+lojaJD/9x|{link}|Rua Augusta",
    )
    assert _indexed(company.id, "loja") == _found(admin, "loja") == {by_text.id}
    assert _indexed(company.id, "augusta") == {by_picture.id}


@pytest.mark.real_db
def test_other_companys_tickets_never_match(admin, company, conn, other_company):
    mine = _ticket(company, conn, name="Pedido Silva")
    other_conn = factories.WhatsappFactory(company=other_company)
    theirs = _ticket(other_company, other_conn, name="Pedido Souza", number="5511000000001")
    factories.MessageFactory(ticket=theirs, body="meu pedido")
    for term in ("pedido", "5511000000001", "souza"):
        assert theirs.id not in _indexed(company.id, term) | _found(admin, term)
    assert _indexed(company.id, "pedido") == _found(admin, "pedido") == {mine.id}


@pytest.mark.real_db
def test_the_indexes_follow_inserts_updates_and_deletes(company, conn):
    ticket = _ticket(company, conn, name="Rosalinda")
    message = factories.MessageFactory(ticket=ticket, body="quero trocar o tamanho")
    cid = company.id
    assert _indexed(cid, "rosalin") == _indexed(cid, "trocar") == {ticket.id}

    contact = db.session.get(Contact, ticket.contact_id)
    contact.name = "Genoveva"
    db.session.get(Message, message.id).body = "o frete chegou"
    db.session.commit()
    assert _indexed(cid, "rosalin") == _indexed(cid, "trocar") == set()
    assert _indexed(cid, "genov") == _indexed(cid, "frete") == {ticket.id}

    db.session.delete(db.session.get(Message, message.id))
    db.session.commit()
    assert _indexed(cid, "frete") == set()
    assert _indexed(cid, "genov") == {ticket.id}
    db.session.execute(sa.delete(Ticket).where(Ticket.id == ticket.id))
    db.session.execute(sa.delete(Contact).where(Contact.id == contact.id))
    db.session.commit()
    assert _indexed(cid, "genov") == set()


@pytest.mark.real_db
def test_the_window_and_the_index_give_the_same_pages(monkeypatch, admin, company, conn):
    tickets = [_ticket(company, conn) for _ in range(12)]
    for i, ticket in enumerate(tickets):
        body = "qual o status do pedido?" if i % 3 else "bom dia"
        factories.MessageFactory(ticket=ticket, body=body)
    monkeypatch.setattr(search, "WINDOW", 6)
    monkeypatch.setattr(search, "MAX_WINDOW", 12)
    matching = [t.id for t in reversed(tickets) if tickets.index(t) % 3]  # most recent first
    first = _page(admin, "pedido", 0, 3)
    second = _page(admin, "pedido", 3, 3)
    assert first.ids + second.ids == matching[:6]
    if db.engine.dialect.name != "sqlite":  # SQLite: the index answers every page
        # The window held the page and one more: the count is a lower bound.
        assert (first.count, first.exact) == (4, False)
        assert (second.count, second.exact) == (7, False)
    last = _page(admin, "pedido", 6, 3)  # past the window: the index, exact
    assert last.ids == matching[6:] and (last.count, last.exact) == (8, True)
    assert _page(admin, "pedido", 9, 3) == search.SearchPage([], 8, True)


def test_a_small_company_sees_its_own_uncommitted_writes(admin, company, conn):
    # Fewer tickets than the window: every one is checked row by row, and the count is
    # exact (MariaDB's index would not show these rows before the commit).
    ticket = _ticket(company, conn, name="Teodoro")
    _ticket(company, conn)
    page = _page(admin, "teodoro")
    assert (page.ids, page.count, page.exact) == ([ticket.id], 1, True)


def test_api_count_is_a_lower_bound_while_more_remain(
    monkeypatch, client, prefix, admin, auth, company, conn
):
    _ticket(company, conn)  # the oldest: out of the first window
    tickets = [_ticket(company, conn, name=f"Pedido {i}") for i in range(42)]
    newest = [t.id for t in reversed(tickets)]
    monkeypatch.setattr(search, "WINDOW", 41)  # page 1 checks 41 of the 43 tickets
    query = {"searchParam": "pedido", "showAll": "true", "tags": "[]", "users": "[]"}

    def get(page: int) -> dict:
        params = {**query, "pageNumber": page}
        return client.get(f"{prefix}/tickets", query_string=params, headers=auth(admin)).get_json()

    body = get(1)
    assert [t["id"] for t in body["tickets"]] == newest[:40]
    # Every one of the 41 checked matched: at least 41 (the page and more).
    expected = 42 if db.engine.dialect.name == "sqlite" else 41  # SQLite: the index, exact
    assert (body["count"], body["hasMore"]) == (expected, True)
    body = get(2)  # the window (82) holds every ticket: exact
    assert [t["id"] for t in body["tickets"]] == newest[40:]
    assert (body["count"], body["hasMore"]) == (42, False)
