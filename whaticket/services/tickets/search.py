"""Ticket search (`GET /tickets?searchParam=`): which tickets' contact or messages match,
served by the full-text indexes of `models/search_index.py`, in a bounded amount of work.

What matches a term (the same on every database; case, and accents in words, ignored):

* its words of 3 characters or more (`MIN_WORD`, InnoDB's shortest indexed word): a
  ticket whose contact's name has a word starting with each of them, or one of whose
  messages does ("pedido" finds "Pedido 123" and "pedidos", not "despedido"; a location's
  picture does not count, only the text after it);
* a term that looks like a phone number ("+55 11 9988"): contacts whose number contains
  its digits;
* a term without such a word ("jo", "zé"): contacts whose name contains it.

A page costs two ways (`page`): the most recent tickets the filters keep are checked one by
one (`WINDOW` of them: a frequent term fills its page there whatever the data's size), and
only when they do not hold the page does the exact search run through the indexes (a rare
term: its cost follows its few matches). MariaDB's index shows a row once its transaction
committed; the window's check reads rows, so a small company's search sees its own writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import match
from sqlalchemy.orm import aliased

from whaticket.extensions import db
from whaticket.models import Contact, Message, Ticket
from whaticket.models.search_index import CONTACTS_FTS, MESSAGES_FTS, MIN_WORD
from whaticket.utils.pagination import like_pattern
from whaticket.whatsapp.formats import LOCATION_TYPE

#: Most recent candidate tickets checked row by row before the index is asked (page 1).
WINDOW = 400
#: Deeper pages check more (WINDOW per page), up to this; past it the index answers.
MAX_WINDOW = 1600
#: Older than any ticket: the window's lower edge when the filters keep fewer tickets.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Words of a term that count (a pasted paragraph is not a search).
MAX_WORDS = 8
_PHONE = re.compile(r"[\d\s+().-]+")
_ACCENTS = {"a": "aàáâãä", "e": "eèéêë", "i": "iìíîï", "o": "oòóôõö", "u": "uùúûü", "c": "cç"}
_BASE = {accented: plain for plain, forms in _ACCENTS.items() for accented in forms}


@dataclass(frozen=True)
class Terms:
    """A search term as the indexes read it."""

    words: tuple[str, ...]  # lowercased words of MIN_WORD characters or more
    digits: str | None  # a phone-like term's digits: contact number contains them
    short: str | None  # no long word: contact name contains the raw term


@dataclass(frozen=True)
class SearchPage:
    """One page of matching tickets, most recently active first."""

    ids: list[int]
    #: Every match when `exact`; else a lower bound: the page's end plus one (there is
    #: more), so that the list's `hasMore` (count > rows so far) holds.
    count: int
    exact: bool

    def subquery(self) -> sa.Subquery:
        """The page as `(id, updated_at)` rows, as the ticket list joins its rows to it."""
        return (
            sa.select(Ticket.id, Ticket.updated_at)
            .where(Ticket.id.in_(self.ids or [-1]))
            .subquery("page")
        )


def parse(term: str) -> Terms:
    """Split `searchParam` into what the indexes can answer."""
    words = tuple(w for w in re.findall(r"\w+", term.lower()) if len(w) >= MIN_WORD)
    digits = re.sub(r"\D", "", term) if _PHONE.fullmatch(term) else ""
    return Terms(words[:MAX_WORDS], digits or None, None if words else term)


def _dialect() -> str:
    name = db.session.get_bind().dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def _unaccented(word: str) -> str:
    """`word` as a regular expression in which a vowel or a c matches its accented forms
    ("acao" finds "Ação"), as the full-text indexes and MariaDB's collation do."""
    return "".join(f"[{_ACCENTS[_BASE[ch]]}]" if ch in _BASE else ch for ch in word)


def _word_starts(
    column: sa.ColumnElement[str], words: tuple[str, ...], dialect: str
) -> list[sa.ColumnElement[bool]]:
    """A word of `column` starts with each of `words` (regular expressions; words are \\w+)."""
    patterns = [f"(^|[^[:alnum:]_]){_unaccented(w)}" for w in words]
    if dialect == "mysql":
        # (?i): caseless whatever the column's collation (lower() would cost a copy per row).
        return [column.regexp_match(f"(?i){p}") for p in patterns]
    return [column.regexp_match(p, flags="i") for p in patterns]


def _name_contains(term: str) -> sa.ColumnElement[bool]:
    """The contact's name contains `term` (ILIKE: PostgreSQL's trigram index serves it)."""
    return Contact.name.ilike(like_pattern(term), escape="\\")


def _after_picture(body: sa.ColumnElement[str], dialect: str) -> sa.ColumnElement[str]:
    """A location's text: what follows its picture (base64, which would match by chance)."""
    if dialect == "postgresql":
        return sa.func.substr(body, sa.func.strpos(body, "|") + 1)
    if dialect == "mysql":
        return sa.func.substr(body, sa.func.locate("|", body) + 1)
    return body


def _body_text(messages: Any, terms: Terms, dialect: str) -> list[sa.ColumnElement[bool]]:
    """Row conditions: the message's text has the words (locations: after the picture)."""
    body, not_location = messages.body, messages.media_type != LOCATION_TYPE
    if dialect == "sqlite":
        # No regular expressions on SQLite (its FTS5 table decides on the words): a
        # location's text is checked with LIKE after the "|" that ends its picture.
        after = [sa.func.lower(body).like("%|" + like_pattern(w), escape="\\") for w in terms.words]
        return [sa.or_(not_location, sa.and_(*after))]
    after = _word_starts(_after_picture(body, dialect), terms.words, dialect)
    return [*_word_starts(body, terms.words, dialect), sa.or_(not_location, sa.and_(*after))]


def _fts_query(terms: Terms, dialect: str) -> str:
    """The index query: every word as a prefix."""
    if dialect == "mysql":
        return " ".join(f"+{w}*" for w in terms.words)
    return " AND ".join(f'"{w}"*' for w in terms.words)


def _fts_rowids(fts: str, query: str) -> sa.Select:
    """SQLite: the rowids (contact or message ids) its FTS5 table `fts` matches."""
    return (
        sa.select(sa.column("rowid"))
        .select_from(sa.table(fts))
        .where(sa.literal_column(fts).op("MATCH")(query))
    )


def _contact_parts(company_id: int, terms: Terms, dialect: str) -> list[sa.Select]:
    """Exact search: ticket ids by their contact (one SELECT per index, for UNION)."""
    base = (
        sa.select(Ticket.id.label("ticket_id"))
        .join(Contact, Contact.id == Ticket.contact_id)
        .where(Ticket.company_id == company_id, Contact.company_id == company_id)
    )
    parts = []
    if terms.words:
        if dialect == "mysql":
            found = [match(Contact.name, against=_fts_query(terms, dialect)).in_boolean_mode()]
            parts.append(base.where(*found, *_word_starts(Contact.name, terms.words, dialect)))
        elif dialect == "sqlite":
            ids = _fts_rowids(CONTACTS_FTS, _fts_query(terms, dialect))
            parts.append(base.where(Contact.id.in_(ids)))
        else:
            parts.append(base.where(*_word_starts(Contact.name, terms.words, dialect)))
    if terms.digits:
        parts.append(base.where(Contact.number.like(f"%{terms.digits}%")))
    if terms.short is not None:
        parts.append(base.where(_name_contains(terms.short)))
    return parts


def _message_part(company_id: int, terms: Terms, dialect: str) -> sa.Select | None:
    """Exact search: ticket ids by their messages' text."""
    if not terms.words:
        return None
    stmt = sa.select(Message.ticket_id).where(Message.company_id == company_id)
    if dialect == "mysql":
        stmt = stmt.where(match(Message.body, against=_fts_query(terms, dialect)).in_boolean_mode())
    elif dialect == "sqlite":
        stmt = stmt.where(Message.id.in_(_fts_rowids(MESSAGES_FTS, _fts_query(terms, dialect))))
    return stmt.where(*_body_text(Message, terms, dialect))


def matching_ticket_ids(company_id: int, term: str) -> sa.Select | sa.CompoundSelect:
    """Every ticket of the company that `term` matches, through the indexes: a SELECT of
    one column, `ticket_id` (a UNION: each part uses its own index)."""
    dialect = _dialect()
    terms = parse(term)
    parts = _contact_parts(company_id, terms, dialect)
    in_messages = _message_part(company_id, terms, dialect)
    if in_messages is not None:
        parts.append(in_messages)
    return sa.union(*parts) if len(parts) > 1 else parts[0]


def _row_match(terms: Terms, dialect: str) -> sa.ColumnElement[bool]:
    """The window's check of one ticket (its contact joined): the same rules, row by row."""
    checks = []
    if terms.words:
        checks.append(sa.and_(*_word_starts(Contact.name, terms.words, dialect)))
        m = aliased(Message)
        # A scalar subquery, not EXISTS: MariaDB would turn EXISTS into a semi-join that
        # reads every message of the company; this one reads the ticket's own, per ticket.
        first = sa.select(m.id).where(m.ticket_id == Ticket.id, *_body_text(m, terms, dialect))
        checks.append(first.limit(1).scalar_subquery().is_not(None))
    if terms.digits:
        checks.append(Contact.number.like(f"%{terms.digits}%"))
    if terms.short is not None:
        checks.append(_name_contains(terms.short))
    return sa.or_(*checks)


def _recent_hits(
    base: sa.Select, terms: Terms, dialect: str, window: int, wanted: int
) -> tuple[list[int], bool]:
    """Up to `wanted` matching ids among the `window` most recent tickets of `base`, most
    recent first, and whether those were all of its tickets.

    One statement, read along the tickets' (company, updated_at) index: it stops at the
    `wanted`-th match, so a frequent term costs a few dozen tickets' rows.
    """
    order = (Ticket.updated_at.desc(), Ticket.id.desc())
    oldest = (
        base.with_only_columns(Ticket.updated_at)
        .order_by(*order)
        .limit(1)
        .offset(window - 1)
        .scalar_subquery()
    )
    # A one-row derived table: MariaDB reads it while planning, so the window's edge bounds
    # the index range (a plain subquery in WHERE would be compared on every ticket).
    edge = sa.select(oldest.label("at")).subquery("edge")
    stmt = (
        base.with_only_columns(Ticket.id, edge.c.at.is_(None))
        .join(edge, Ticket.updated_at >= sa.func.coalesce(edge.c.at, EPOCH))
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
        .where(_row_match(terms, dialect))
        .order_by(*order)
        .limit(wanted)
    )
    rows = db.session.execute(stmt).all()
    return [row[0] for row in rows], bool(rows and rows[0][1])


def _indexed(company_id: int, term: str, base: sa.Select, offset: int, size: int) -> SearchPage:
    """The exact page and count through the indexes (one statement; two past the end)."""
    found = matching_ticket_ids(company_id, term).subquery("found")
    matched = base.join(found, found.c.ticket_id == Ticket.id)
    stmt = (
        matched.add_columns(sa.func.count().over())
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(size)
        .offset(offset)
    )
    rows = db.session.execute(stmt).all()
    if rows:
        return SearchPage([row[0] for row in rows], rows[0][2], True)
    if offset == 0:
        return SearchPage([], 0, True)
    count_stmt = matched.with_only_columns(sa.func.count(), maintain_column_froms=True)
    return SearchPage([], db.session.scalar(count_stmt) or 0, True)


def page(company_id: int, term: str, base: sa.Select, offset: int, size: int) -> SearchPage:
    """The tickets of `base` (`SELECT tickets.id, tickets.updated_at` with the list's
    filters) that `term` matches: `size` of them from `offset`, most recent first."""
    dialect = _dialect()
    terms = parse(term)
    window = min(WINDOW * (offset // size + 1), MAX_WINDOW)
    # SQLite has no regular expressions (and its FTS5 index is quick): index only.
    if dialect != "sqlite" and offset + size < window:
        wanted = offset + size + 1  # one more than the page: is there more?
        hits, everything = _recent_hits(base, terms, dialect, window, wanted)
        if len(hits) == wanted:
            return SearchPage(hits[offset : offset + size], wanted, False)
        if everything:  # fewer tickets than the window: every one was checked
            return SearchPage(hits[offset : offset + size], len(hits), True)
    return _indexed(company_id, term, base, offset, size)
