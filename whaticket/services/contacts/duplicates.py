"""Suggested duplicates: groups of a company's contacts that are probably one person.

Three signs join two contacts: the same canonical number (numbers stored before
normalisation, typed differently), an identity of one equal to the other's number (alias
overlap: a merged number a new contact was created with), and the same name with numbers
equal up to Brazil's ninth digit. One pass over the company's people (id, name, number and
identities), joined with a union-find; the groups are listed by their smallest contact id.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.models import Contact, ContactIdentity
from whaticket.utils.phone import normalize_number

PAGE_SIZE = 20


def _canonical(number: str, region: str) -> str:
    try:
        return normalize_number("+" + number, region)
    except ValueError:
        try:
            return normalize_number(number, region)
        except ValueError:
            return number


def _without_ninth(number: str) -> str:
    """The number with a 9 after a Brazilian area code removed (12 digits), else itself.

    Looser than the mobile rule on purpose: with the same name, `55 11 9 3333-4444` and
    `55 11 3333-4444` are worth an admin's look.
    """
    if len(number) == 13 and number.startswith("55") and number[4] == "9":
        return number[:4] + number[5:]
    return number


class _Groups:
    """Union-find over contact ids, remembering why each pair was joined."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.reasons: dict[int, set[str]] = defaultdict(set)

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, ids: list[int], reason: str) -> None:
        ids = sorted(set(ids))
        if len(ids) < 2:
            return
        root = self.find(ids[0])
        for other in ids[1:]:
            r = self.find(other)
            if r != root:
                self.parent[max(r, root)] = min(r, root)
                root = min(r, root)
        self.reasons[ids[0]].add(reason)
        for other in ids[1:]:
            self.reasons[other].add(reason)


def find_groups(company_id: int, region: str) -> list[dict[str, Any]]:
    """Every group of suggested duplicates: `{contacts: [...], reasons: [...]}`."""
    rows = db.session.execute(
        sa.select(Contact.id, Contact.name, Contact.number).where(
            Contact.company_id == company_id, Contact.is_group.is_(False)
        )
    ).all()
    groups = _Groups()
    by_canonical: dict[str, list[int]] = defaultdict(list)
    by_name_number: dict[tuple[str, str], list[int]] = defaultdict(list)
    canonical_of: dict[int, str] = {}
    for cid, name, number in rows:
        canonical = _canonical(number, region)
        canonical_of[cid] = canonical
        by_canonical[canonical].append(cid)
        key = ((name or "").strip().casefold(), _without_ninth(canonical))
        if key[0]:
            by_name_number[key].append(cid)
    for ids in by_canonical.values():
        groups.join(ids, "same_number")
    for ids in by_name_number.values():
        groups.join(ids, "same_name_ninth_digit")
    aliases = db.session.execute(
        sa.select(ContactIdentity.contact_id, ContactIdentity.value).where(
            ContactIdentity.company_id == company_id
        )
    ).all()
    for contact_id, value in aliases:
        for other in by_canonical.get(_canonical(value, region), []):
            if other != contact_id and contact_id in canonical_of:
                groups.join([contact_id, other], "alias_overlap")
    members: dict[int, list[int]] = defaultdict(list)
    for cid in canonical_of:
        if cid in groups.parent:
            members[groups.find(cid)].append(cid)
    info = {cid: (name, number) for cid, name, number in rows}
    out = []
    for root in sorted(members):
        ids = sorted(members[root])
        if len(ids) < 2:
            continue
        reasons = sorted(set().union(*(groups.reasons[i] for i in ids)))
        out.append(
            {
                "contacts": [{"id": i, "name": info[i][0], "number": info[i][1]} for i in ids],
                "reasons": reasons,
            }
        )
    return out


def list_duplicates(
    company_id: int, region: str, page_number: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """A page of 20 groups, the total count and whether more follow."""
    groups = find_groups(company_id, region)
    offset = (max(int(page_number or 1), 1) - 1) * PAGE_SIZE
    page = groups[offset : offset + PAGE_SIZE]
    return page, len(groups), len(groups) > offset + len(page)
