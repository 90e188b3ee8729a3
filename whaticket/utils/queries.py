"""Small query helpers shared by services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
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


def utc_slot_columns(column: Any, quarters: bool) -> list[sa.ColumnElement[Any]]:
    """Portable SQL for the UTC hour of `column` (year, month, day, hour), plus the quarter
    hour when `quarters`: zones offset by a half or quarter hour need it to localise right."""
    parts: list[sa.ColumnElement[Any]] = [
        sa.extract(field, column) for field in ("year", "month", "day", "hour")
    ]
    if quarters:
        minute = sa.extract("minute", column)
        parts.append(sa.case((minute < 15, 0), (minute < 30, 15), (minute < 45, 30), else_=45))
    return parts


def utc_slot_start(values: Sequence[Any], quarters: bool) -> datetime:
    """The UTC instant a row's utc_slot_columns values stand for."""
    year, month, day, hour = (int(v) for v in values[:4])
    minute = int(values[4]) if quarters else 0
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
