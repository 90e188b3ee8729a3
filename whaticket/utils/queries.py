"""Small query helpers shared by services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import Base, db
from whaticket.models.company import Company
from whaticket.utils.office_hours import zone_of

M = TypeVar("M", bound=Base)


def find_owned(model: type[M], record_id: int | None, company_id: int) -> M | None:
    """The `model` row with this id when it belongs to `company_id`; None when the id is None,
    the row is missing or it is another company's (for callers that handle absence themselves).
    """
    if record_id is None:
        return None
    row = db.session.get(model, record_id)
    # The base declares no company_id: a global row (no such column) belongs to no company.
    if row is None or getattr(row, "company_id", None) != company_id:
        return None
    return row


def get_owned(
    model: type[M], record_id: int | None, company_id: int, code: str, *, status: int = 404
) -> M:
    """The `model` row with this id of `company_id`, else AppError(code, status).

    One company never sees another's rows, and a row that is not yours answers exactly like
    one that does not exist (same code, same status), so ids cannot be probed across companies.
    """
    row = find_owned(model, record_id, company_id)
    if row is None:
        raise AppError(code, status)
    return row


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


def company_zone(company_id: int) -> ZoneInfo:
    """The company's time zone; a missing or unknown name falls back to the default."""
    return zone_of(db.session.scalar(sa.select(Company.timezone).where(Company.id == company_id)))


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local calendar day, in UTC (the bound of a day's query range).

    A midnight inside a DST gap resolves (fold=0) to the first instant that day really has.
    """
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
