"""The old Whaticket database, read with SQLAlchemy Core (MariaDB/MySQL, PostgreSQL, SQLite).

Tables are reflected, never declared: Whaticket's forks add and drop columns, so a
column the import reads may be missing and is then read as None. Rows are streamed in
one ordered query per table (a server-side cursor) and handed out in batches.
On PostgreSQL Sequelize's DATE is timestamptz (read as aware times, in a UTC session),
JSONB comes back as Python values and booleans as booleans; `as_datetime` turns every
time into aware UTC, which our columns store as naive UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def engine_url(url: str) -> str:
    """A URL SQLAlchemy can open: mysql:// and mariadb:// go through PyMySQL, postgres:// and
    postgresql:// through psycopg2 (what the app itself accepts in DATABASE_URL)."""
    if url.startswith(("mysql://", "mariadb://")):
        return "mysql+pymysql://" + url.split("://", 1)[1]
    if url.startswith(("postgres://", "postgresql://")):
        # SQLAlchemy 2.1 picks psycopg 3 for a bare postgresql://; we ship psycopg2.
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def _utc_sessions(engine: sa.Engine) -> None:
    """Every PostgreSQL session of the source runs in UTC: a timestamp without time zone
    (a fork's column) then reads as the UTC Sequelize meant, and timestamptz values come
    back with a +00:00 offset whatever the server's default zone is."""

    @sa.event.listens_for(engine, "connect")
    def _set_zone(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()


def source_name(url: str) -> str:
    """The name the mapping table records for a source: its URL without credentials."""
    parsed = make_url(engine_url(url))
    name = parsed.set(username=None, password=None, query={}).render_as_string()
    return name[:191]


class Source:
    """A reflected old database: its tables, counts and ordered batches of rows."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(engine_url(url))
        if self.engine.dialect.name == "postgresql":
            _utc_sessions(self.engine)
        self.metadata = sa.MetaData()
        self.names = set(sa.inspect(self.engine).get_table_names())

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def has(self, table: str) -> bool:
        """Whether the old database has `table`."""
        return table in self.names

    def table(self, name: str) -> sa.Table:
        """The reflected table (reflected once)."""
        if name not in self.metadata.tables:
            sa.Table(name, self.metadata, autoload_with=self.engine)
        return self.metadata.tables[name]

    def col(self, table: str, column: str) -> sa.ColumnElement[Any] | None:
        """A column of `table`, or None when this fork's table lacks it."""
        return self.table(table).c.get(column)

    def where(
        self,
        table: str,
        *,
        company_ids: list[int] | None = None,
        since: datetime | None = None,
        company_via: tuple[str, str] | None = None,
    ) -> list[sa.ColumnElement[bool]]:
        """Filters: the chosen companies (through a parent table when the table has no
        companyId: `company_via` = (parent table, this table's column naming it)), and rows
        created or updated after `since`."""
        conds: list[sa.ColumnElement[bool]] = []
        t = self.table(table)
        if company_ids:
            if "companyId" in t.c:
                conds.append(t.c.companyId.in_(company_ids))
            elif table == "Companies":
                conds.append(t.c.id.in_(company_ids))
            elif company_via is not None:
                parent = self.table(company_via[0])
                conds.append(
                    t.c[company_via[1]].in_(
                        sa.select(parent.c.id).where(parent.c.companyId.in_(company_ids))
                    )
                )
        if since is not None:
            since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
            if self.engine.dialect.name != "postgresql":
                # MariaDB's DATETIME and SQLite hold naive UTC, and PyMySQL drops an offset
                # silently: compare wall clocks in UTC. PostgreSQL's timestamptz compares
                # instants, so it gets the aware time.
                since = since.replace(tzinfo=None)
            stamps = [t.c[name] > since for name in ("updatedAt", "createdAt") if name in t.c]
            if stamps:
                conds.append(sa.or_(*stamps))
        return conds

    def count(self, table: str, conds: list[sa.ColumnElement[bool]]) -> int:
        """How many rows the filters select."""
        t = self.table(table)
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(sa.func.count()).select_from(t).where(*conds)) or 0)

    def batches(
        self,
        table: str,
        conds: list[sa.ColumnElement[bool]],
        order_by: list[str],
        size: int,
    ) -> Iterator[list[dict[str, Any]]]:
        """The selected rows as dicts, in `order_by` order, `size` at a time."""
        t = self.table(table)
        order = [t.c[name] for name in order_by if name in t.c]
        stmt = sa.select(t).where(*conds).order_by(*order)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=size).execute(stmt)
            for part in result.mappings().partitions(size):
                yield [dict(row) for row in part]


# -- reading old values -------------------------------------------------------------------


def as_datetime(value: Any) -> datetime | None:
    """A stored time as aware UTC: Sequelize writes UTC, so naive values are UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_bool(value: Any, default: bool = False) -> bool:
    """TINYINT, boolean or text ("true", "enabled") as a bool."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "t", "yes", "enabled")
    return bool(value)


def as_int(value: Any, default: int = 0) -> int:
    """An integer column that some forks store as text ("timeUseBotQueues")."""
    try:
        return int(str(value).strip()) if value is not None and str(value).strip() else default
    except ValueError:
        return default


def as_json(value: Any, default: Any) -> Any:
    """JSON/JSONB read back as Python (MariaDB's JSON is text)."""
    if value is None or value == "":
        return default
    if isinstance(value, (bytes, bytearray)):
        value = value.decode()
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return value


def text(value: Any, limit: int | None = None) -> str:
    """A text value (None as ""), cut to `limit` characters."""
    out = "" if value is None else str(value)
    return out[:limit] if limit else out


def opt_text(value: Any, limit: int | None = None) -> str | None:
    """A nullable text value, cut to `limit` characters ("" stays "")."""
    return None if value is None else text(value, limit)


def updated_at(row: dict[str, Any]) -> datetime | None:
    """The row's updatedAt (else createdAt), the time a later pass compares."""
    return as_datetime(row.get("updatedAt")) or as_datetime(row.get("createdAt"))
