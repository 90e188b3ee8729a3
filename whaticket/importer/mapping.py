"""The mapping table: old row -> our row, per source, read and written in batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import ImportMap

#: Old ids per IN (...) list: well under every database's bound-parameter limit.
CHUNK = 900


@dataclass
class Mapped:
    """What an old row became."""

    new_id: int | None
    action: str
    source_updated_at: datetime | None
    #: Why it was merged or skipped; on a written row, what the import left to do
    #: (`media.PENDING`: its file was not copied yet).
    reason: str | None = None


class Mapper:
    """Reads and records ImportMap rows of one source; parents' maps are cached whole."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._cache: dict[str, dict[str, int | None]] = {}

    def lookup(self, table: str, old_ids: list[Any]) -> dict[str, Mapped]:
        """The map rows of these old ids (missing ids are not mapped yet)."""
        keys = list({str(i) for i in old_ids if i is not None})
        found: dict[str, Mapped] = {}
        for start in range(0, len(keys), CHUNK):
            rows = db.session.execute(
                sa.select(
                    ImportMap.old_id,
                    ImportMap.new_id,
                    ImportMap.action,
                    ImportMap.source_updated_at,
                    ImportMap.reason,
                ).where(
                    ImportMap.source == self.source,
                    ImportMap.source_table == table,
                    ImportMap.old_id.in_(keys[start : start + CHUNK]),
                )
            )
            for old_id, new_id, action, stamp, reason in rows:
                found[old_id] = Mapped(new_id, action, stamp, reason)
        return found

    def ids(self, table: str) -> dict[str, int | None]:
        """Every old id -> new id of `table` (a parent table: read once, then kept up to date)."""
        if table not in self._cache:
            self._cache[table] = dict(
                db.session.execute(
                    sa.select(ImportMap.old_id, ImportMap.new_id).where(
                        ImportMap.source == self.source, ImportMap.source_table == table
                    )
                ).all()
            )
        return self._cache[table]

    def new_id(self, table: str, old_id: Any) -> int | None:
        """Our id for an old parent id (None when it was not imported)."""
        if old_id is None:
            return None
        return self.ids(table).get(str(old_id))

    def record(self, table: str, entries: list[dict[str, Any]]) -> None:
        """Insert map rows: dicts of old_id, new_id, action, reason, source_updated_at."""
        if not entries:
            return
        now = utcnow()
        rows = [
            {
                "source": self.source,
                "source_table": table,
                "old_id": str(e["old_id"])[:191],
                "new_id": e.get("new_id"),
                "action": e["action"],
                "reason": (e.get("reason") or None) and e["reason"][:100],
                "source_updated_at": e.get("source_updated_at"),
                "created_at": now,
            }
            for e in entries
        ]
        # Core insert of the table: the ORM's bulk path costs more than the write here.
        db.session.execute(sa.insert(ImportMap.__table__), rows)
        if table in self._cache:
            self._cache[table].update({r["old_id"]: r["new_id"] for r in rows})

    def touch(self, table: str, old_id: Any, stamp: datetime | None) -> None:
        """Remember that an old row was applied again as of `stamp` (a later pass)."""
        db.session.execute(
            sa.update(ImportMap)
            .where(
                ImportMap.source == self.source,
                ImportMap.source_table == table,
                ImportMap.old_id == str(old_id),
            )
            .values(source_updated_at=stamp)
        )

    def settle(self, table: str, old_ids: list[str]) -> None:
        """Clear what was left to do on these written rows (their file is copied now)."""
        for start in range(0, len(old_ids), CHUNK):
            db.session.execute(
                sa.update(ImportMap)
                .where(
                    ImportMap.source == self.source,
                    ImportMap.source_table == table,
                    ImportMap.old_id.in_(old_ids[start : start + CHUNK]),
                )
                .values(reason=None)
            )

    def forget_cache(self) -> None:
        """Drop cached maps (after a rollback: they may hold ids that no longer exist)."""
        self._cache.clear()
