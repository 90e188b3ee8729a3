"""The undo journal of a merge: every row it changed, with its before-values, as JSON.

Steps, in the order they were applied (undo replays them backwards):

* `{"op": "update", "table", "cols": [...], "rows": [[pk, before...]], "after": {...}}`:
  rows whose `cols` changed (their `updated_at` is kept too); `after` is what the merge
  set, so an undo can see whether anything changed them since;
* `{"op": "delete", "table", "rows": [{column: value}]}`: whole rows removed;
* `{"op": "insert", "table", "keys": [{pk column: value}]}`: rows added.

Values are JSON: datetimes as `{"$dt": iso}`. Statements are Core (no ORM state): the
caller expires the session afterwards.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from whaticket.db import utcnow
from whaticket.extensions import db


def table(name: str) -> sa.Table:
    """The metadata's table called `name`."""
    return db.metadata.tables[name]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$d" in value:
            return date.fromisoformat(value["$d"])
    return value


def _pk(tbl: sa.Table) -> list[str]:
    return [c.name for c in tbl.primary_key.columns]


class Journal:
    """Applies changes through Core statements and records how to take them back."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.now = utcnow()

    def _conn(self) -> sa.Connection:
        return db.session.connection()

    def update(self, tbl: sa.Table, where: Any, values: dict[str, Any]) -> list[int]:
        """Set `values` on the rows matching `where`; the ids (first pk column) changed."""
        pk = _pk(tbl)
        cols = [c for c in values]
        if "updated_at" in tbl.c and "updated_at" not in cols:
            cols.append("updated_at")
        rows = self._conn().execute(sa.select(*(tbl.c[n] for n in [*pk, *cols])).where(where))
        rows = [list(r) for r in rows]
        if not rows:
            return []
        stamped = dict(values)
        if "updated_at" in tbl.c and "updated_at" not in values:
            stamped["updated_at"] = self.now
        keys = [r[: len(pk)] for r in rows]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            self._conn().execute(tbl.update().where(_keys_in(tbl, pk, chunk)).values(stamped))
        self.steps.append(
            {
                "op": "update",
                "table": tbl.name,
                "pk": pk,
                "cols": cols,
                "rows": [[_encode(v) for v in r] for r in rows],
                "after": {k: _encode(v) for k, v in values.items()},
            }
        )
        return [r[0] for r in rows]

    def delete(self, tbl: sa.Table, where: Any) -> list[dict[str, Any]]:
        """Delete the rows matching `where`, keeping them whole."""
        rows = [dict(r._mapping) for r in self._conn().execute(sa.select(tbl).where(where))]
        if rows:
            self._conn().execute(tbl.delete().where(where))
            self.steps.append(
                {
                    "op": "delete",
                    "table": tbl.name,
                    "rows": [{k: _encode(v) for k, v in r.items()} for r in rows],
                }
            )
        return rows

    def insert(self, tbl: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
        """Insert `row` (its timestamps filled); its primary key is recorded."""
        row = dict(row)
        for stamp in ("created_at", "updated_at"):
            if stamp in tbl.c and stamp not in row:
                row[stamp] = self.now
        result = self._conn().execute(tbl.insert().values(row))
        key = {n: row.get(n) for n in _pk(tbl)}
        if any(v is None for v in key.values()):
            key = dict(zip(_pk(tbl), result.inserted_primary_key, strict=True))
        self.steps.append({"op": "insert", "table": tbl.name, "keys": [_encode_map(key)]})
        return key


def _keys_in(tbl: sa.Table, pk: list[str], keys: list[list[Any]]) -> Any:
    """The rows whose primary key is one of `keys` (each a list of pk values)."""
    if len(pk) == 1:
        return tbl.c[pk[0]].in_([k[0] for k in keys])
    return sa.or_(*(sa.and_(*(tbl.c[n] == v for n, v in zip(pk, k, strict=True))) for k in keys))


def _encode_map(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _encode(v) for k, v in row.items()}


def _where_key(tbl: sa.Table, key: dict[str, Any]) -> Any:
    return sa.and_(*(tbl.c[k] == _decode(v) for k, v in key.items()))


def changed_since(steps: list[dict[str, Any]]) -> bool:
    """Whether a row the merge updated was changed (or removed) since, or a row it added
    is gone: then putting the before-values back would undo someone else's work."""
    conn = db.session.connection()
    for step in steps:
        tbl = table(step["table"])
        if step["op"] == "update":
            pk = step["pk"]
            same = [tbl.c[k] == _decode(v) for k, v in step["after"].items() if v is not None]
            same += [tbl.c[k].is_(None) for k, v in step["after"].items() if v is None]
            keys = [r[: len(pk)] for r in step["rows"]]
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                cond = _keys_in(tbl, pk, [[_decode(v) for v in k] for k in chunk])
                count = conn.scalar(sa.select(sa.func.count()).select_from(tbl).where(cond, *same))
                if count != len(chunk):
                    return True
        elif step["op"] == "insert":
            for key in step["keys"]:
                if (
                    conn.scalar(
                        sa.select(sa.func.count()).select_from(tbl).where(_where_key(tbl, key))
                    )
                    != 1
                ):
                    return True
    return False


def replay_backwards(steps: list[dict[str, Any]]) -> None:
    """Take every step back, last first: inserts deleted, deletes re-inserted (same ids),
    updates given their before-values (their `updated_at` too)."""
    conn = db.session.connection()
    for step in reversed(steps):
        tbl = table(step["table"])
        if step["op"] == "insert":
            for key in step["keys"]:
                conn.execute(tbl.delete().where(_where_key(tbl, key)))
        elif step["op"] == "delete":
            rows = [{k: _decode(v) for k, v in r.items()} for r in step["rows"]]
            conn.execute(tbl.insert(), rows)
        else:
            pk, cols = step["pk"], step["cols"]
            stmt = (
                tbl.update()
                .where(*(tbl.c[n] == sa.bindparam(f"k_{n}", type_=tbl.c[n].type) for n in pk))
                .values({c: sa.bindparam(f"v_{c}", type_=tbl.c[c].type) for c in cols})
            )
            params = [
                {
                    **{f"k_{n}": _decode(v) for n, v in zip(pk, r[: len(pk)], strict=True)},
                    **{f"v_{c}": _decode(v) for c, v in zip(cols, r[len(pk) :], strict=True)},
                }
                for r in step["rows"]
            ]
            for start in range(0, len(params), 500):
                conn.execute(stmt, params[start : start + 500])
