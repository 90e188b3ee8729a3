"""The one pagination helper every list endpoint uses: {items, count, hasMore}."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db

DEFAULT_PAGE_SIZE = 20


def paginate(
    stmt: sa.Select, page_number: int, page_size: int = DEFAULT_PAGE_SIZE
) -> tuple[list[Any], int, bool]:
    """Run `stmt` for one 1-based page; return (rows, total count, has_more)."""
    page_number = max(int(page_number or 1), 1)
    offset = (page_number - 1) * page_size
    # COUNT(*) over the same FROM/WHERE, not over a subquery of every selected column.
    count_stmt = stmt.order_by(None).with_only_columns(sa.func.count(), maintain_column_froms=True)
    count = db.session.scalar(count_stmt) or 0
    rows = list(db.session.scalars(stmt.limit(page_size).offset(offset)).unique())
    return rows, count, count > offset + len(rows)


def like_pattern(term: str) -> str:
    """A case-insensitive LIKE pattern for `term`, with LIKE wildcards escaped."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search_filter(term: str, *columns: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """`searchParam` as SQL: any of `columns` contains `term`, case-insensitively."""
    pattern = like_pattern(term)
    return sa.or_(*(sa.func.lower(col).like(pattern, escape="\\") for col in columns))
