"""Cursor pagination of the public API's lists: a change feed ordered by (updated_at, id).

A *scan* is the run of pages from a request without a cursor (optionally `updatedSince`)
to the page whose `hasMore` is false. Its first request fixes the scan's end, `until`
(now minus API_V1_FEED_SETTLE_SECONDS, so a write whose transaction commits late is not
stepped over), and every page of the scan returns records with
`(updated_at, id) > the last returned` and `updated_at <= until`, oldest change first.

So, while records are being updated:
* within a scan each record appears at most once, and every record last changed before
  the scan began (and not changed since) appears exactly once;
* a record changed after the scan began is left out of the rest of that scan (wherever it
  was, before or after the current page), and appears, once and in its new version, in
  the next scan: the last page's `nextCursor` starts it where this one ended.

Keeping the last `nextCursor` and calling again with it later is an incremental sync that
never misses a change. The cursor is opaque (base64 JSON), not signed: it holds only a
position, which a caller could as well choose with `updatedSince`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.schemas.base import ID_MAX

#: Records per page when the caller names no limit (the schema bounds what it may ask).
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Cursor:
    """A position in a scan: after (at, id), up to `until` (None: not started yet)."""

    at: datetime | None
    id: int
    until: datetime | None


@dataclass
class FeedPage:
    """One page: its rows, whether the scan goes on, and the cursor of what follows."""

    rows: list[Any]
    has_more: bool
    next_cursor: str


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def encode(cursor: Cursor) -> str:
    """The opaque text of a cursor."""
    data = {"a": _iso(cursor.at), "i": cursor.id, "u": _iso(cursor.until)}
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str) -> Cursor:
    """A cursor from its text; 400 ERR_VALIDATION (fields.cursor) when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
        at, until, ident = _when(data["a"]), _when(data["u"]), data["i"]
        if type(ident) is not int or not 0 <= ident <= ID_MAX:
            raise ValueError("id out of range")
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise AppError("ERR_VALIDATION", 400, {"cursor": ["Invalid cursor."]}) from exc
    return Cursor(at, ident, until)


def start(updated_since: datetime | None) -> Cursor:
    """The cursor of a new scan: records changed at or after `updated_since` (or all)."""
    return Cursor(updated_since, 0, None)


def page(
    stmt: sa.Select,
    model: Any,
    cursor: Cursor,
    limit: int,
) -> FeedPage:
    """One page of `stmt` (a select of `model` rows, already filtered) after `cursor`."""
    until = cursor.until
    if until is None:
        settle = int(current_app.config.get("API_V1_FEED_SETTLE_SECONDS") or 0)
        until = utcnow() - timedelta(seconds=settle)
    updated, ident = model.updated_at, model.id
    stmt = stmt.where(updated <= until)
    if cursor.at is not None:
        stmt = stmt.where(
            sa.or_(updated > cursor.at, sa.and_(updated == cursor.at, ident > cursor.id))
        )
    stmt = stmt.order_by(updated, ident).limit(limit + 1)
    rows = list(db.session.scalars(stmt).unique())
    has_more = len(rows) > limit
    rows = rows[:limit]
    if has_more:
        last = rows[-1]
        following = Cursor(last.updated_at, last.id, until)
    else:
        # The next scan starts past everything this one could return: after `until`.
        following = Cursor(until, ID_MAX, None)
    return FeedPage(rows, has_more, encode(following))
