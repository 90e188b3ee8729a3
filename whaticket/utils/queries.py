"""Small query helpers shared by services."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db


def value_taken(
    column: sa.orm.InstrumentedAttribute[Any],
    value: str,
    *,
    exclude_id: int | None = None,
    where: tuple[sa.ColumnElement[bool], ...] = (),
) -> bool:
    """True when another row already holds `value` in `column` (case-insensitive).

    `where` narrows the check (e.g. to one company); `exclude_id` skips the row being edited.
    """
    model = column.class_
    stmt = sa.select(model.id).where(sa.func.lower(column) == value.strip().lower(), *where)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None
