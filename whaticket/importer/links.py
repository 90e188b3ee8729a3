"""Join tables without ids (UserQueues, WhatsappQueues, TicketTags): a pair of mapped parents."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.extensions import db
from whaticket.importer.context import Context, Step
from whaticket.importer.source import as_datetime


class LinkStep(Step):
    """A link between two imported parents; a link to a missing parent is an orphan."""

    #: (old column, old parent table, our column) of each side.
    left: tuple[str, str, str] = ("", "", "")
    right: tuple[str, str, str] = ("", "", "")
    target: sa.Table

    def old_id(self, row: dict[str, Any]) -> str:
        """ "<left id>-<right id>": the pair is the old row's identity."""
        return f"{row.get(self.left[0])}-{row.get(self.right[0])}"

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Link what both sides map to, once."""
        pairs: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for row in rows:
            a = ctx.maps.new_id(self.left[1], row.get(self.left[0]))
            b = ctx.maps.new_id(self.right[1], row.get(self.right[0]))
            if a is None or b is None:
                missing = self.left[1] if a is None else self.right[1]
                ctx.skipped(self, row, f"{missing} row missing (orphan)")
                continue
            pairs.setdefault((a, b), []).append(row)
        if not pairs:
            return
        left_col, right_col = self.target.c[self.left[2]], self.target.c[self.right[2]]
        # Every link of these left rows (a superset of the pairs; checked pair by pair).
        existing = set(
            db.session.execute(
                sa.select(left_col, right_col).where(left_col.in_({a for a, _ in pairs}))
            ).all()
        )
        new_rows = []
        for (a, b), olds in pairs.items():
            first, *rest = olds
            if (a, b) in existing:
                ctx.merged(self, first, a, "link already here")
            else:
                stamp = as_datetime(first.get("createdAt"))
                values = {self.left[2]: a, self.right[2]: b}
                if stamp is not None:
                    values |= {"created_at": stamp, "updated_at": stamp}
                new_rows.append(values)
                ctx.written(self, first, a)
            for row in rest:
                ctx.merged(self, row, a, "same link twice (merged parents)")
        if new_rows:
            db.session.execute(sa.insert(self.target), new_rows)
