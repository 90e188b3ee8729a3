"""The state one import run shares: options, the source, the map, the report, and the
per-table loop (read a batch, skip what is done, write the rest, commit, show progress)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.importer.mapping import Mapped, Mapper
from whaticket.importer.report import Progress, Report
from whaticket.importer.source import Source, updated_at
from whaticket.models import ImportMap


@dataclass
class Options:
    """What `flask import-whaticket` was asked to do."""

    source_url: str
    media_dir: str | None = None
    company_ids: list[int] = field(default_factory=list)
    dry_run: bool = False
    since: datetime | None = None
    batch_size: int = 1000
    quiet: bool = False
    #: Called after each committed batch with (table, batches so far): tests interrupt here.
    on_batch: Callable[[str, int], None] | None = None


class Step:
    """How one old table is imported; subclasses write `insert` (and `update`)."""

    table = ""
    order_by: tuple[str, ...] = ("id",)
    #: For tables without companyId: (parent table, column naming it) to filter companies.
    company_via: tuple[str, str] | None = None

    def old_id(self, row: dict[str, Any]) -> str:
        """The old row's key in the map."""
        return str(row["id"])

    def insert(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        """Import rows never seen before: every row ends written, merged or skipped."""
        raise NotImplementedError

    def update(self, ctx: Context, row: dict[str, Any], mapped: Mapped) -> bool:
        """Apply a row changed since it was imported; True when ours changed."""
        return False

    def finish(self, ctx: Context) -> None:
        """After the last batch (e.g. links to rows that came later)."""

    def attach_media(self, ctx: Context, seen: list[tuple[dict[str, Any], Mapped]]) -> None:
        """On a --media run, rows written before without their file: copy it now."""


class Context:
    """One run: the source, our session, the map, the report and the progress bar."""

    def __init__(self, options: Options, source: Source, name: str) -> None:
        self.options = options
        self.source = source
        self.name = name
        self.maps = Mapper(name)
        self.report = Report(name, options.dry_run)
        self.progress = Progress(quiet=options.quiet)
        self._pending: list[dict[str, Any]] = []
        self._table = ""

    # -- what happened to a row -----------------------------------------------------------

    def written(
        self, step: Step, row: dict[str, Any], new_id: int, left: str | None = None
    ) -> None:
        """The row became our row `new_id`; `left` names what is left to do (reported, and
        kept in the map for a later run: `media.PENDING`)."""
        self._remember(step, row, new_id, "written", left)

    def merged(self, step: Step, row: dict[str, Any], new_id: int, reason: str) -> None:
        """The row was folded into our row `new_id`, which stands for it too."""
        self._remember(step, row, new_id, "merged", reason)

    def skipped(self, step: Step, row: dict[str, Any], reason: str) -> None:
        """Nothing of ours stands for the row."""
        self._remember(step, row, None, "skipped", reason)

    def _remember(
        self, step: Step, row: dict[str, Any], new_id: int | None, action: str, reason: str | None
    ) -> None:
        old_id = step.old_id(row)
        self.report.note(step.table, action, old_id, reason)
        self._pending.append(
            {
                "old_id": old_id,
                "new_id": new_id,
                "action": action,
                "reason": reason,
                "source_updated_at": updated_at(row),
            }
        )

    def commit(self) -> None:
        """End a batch: commit it (a dry run keeps one transaction, rolled back at the end)."""
        if self.options.dry_run:
            db.session.flush()
        else:
            dbmod.commit()

    # -- the per-table loop ---------------------------------------------------------------

    def run(self, step: Step) -> None:
        """Import one old table in batches."""
        if not self.source.has(step.table):
            self.report.skip_table(step.table, "absent from the old database")
            return
        opts = self.options
        conds = self.source.where(
            step.table, company_ids=opts.company_ids, since=opts.since, company_via=step.company_via
        )
        self.progress.start(step.table, self.source.count(step.table, conds))
        self.report.counts[step.table]["read"] += 0  # listed even when empty
        for number, rows in enumerate(
            self.source.batches(step.table, conds, list(step.order_by), opts.batch_size), 1
        ):
            self.report.read(step.table, len(rows))
            fresh, changed, seen = self._classify(step, rows)
            if fresh:
                step.insert(self, fresh)
            for row, mapped in changed:
                self.report.note(
                    step.table, "updated" if step.update(self, row, mapped) else "unchanged"
                )
                self.maps.touch(step.table, step.old_id(row), updated_at(row))
            if opts.media_dir and seen:
                # A first run without --media (or with a file missing) left rows without
                # their file: this run can copy it; the rows themselves are not written again.
                step.attach_media(self, seen)
            self.maps.record(step.table, self._pending)
            self._pending = []
            self.commit()
            self.progress.advance(len(rows))
            if opts.on_batch is not None:
                opts.on_batch(step.table, number)
        step.finish(self)
        self.maps.record(step.table, self._pending)
        self._pending = []
        self.commit()
        self.progress.end()

    def _classify(
        self, step: Step, rows: list[dict[str, Any]]
    ) -> tuple[
        list[dict[str, Any]],
        list[tuple[dict[str, Any], Mapped]],
        list[tuple[dict[str, Any], Mapped]],
    ]:
        """Split a batch: rows never imported, and imported rows changed since; rows already
        imported as they are now are counted unchanged. A skipped row that changed since is
        tried again (its parent may have arrived). Third: every row written before (changed
        or not), for `Step.attach_media`."""
        mapped = self.maps.lookup(step.table, [step.old_id(r) for r in rows])
        fresh: list[dict[str, Any]] = []
        changed: list[tuple[dict[str, Any], Mapped]] = []
        retry: list[str] = []
        seen: list[tuple[dict[str, Any], Mapped]] = []
        for row in rows:
            m = mapped.get(step.old_id(row))
            if m is not None and m.action == "written":
                seen.append((row, m))
            stamp = updated_at(row)
            newer = stamp is not None and (
                m is None or m.source_updated_at is None or stamp > m.source_updated_at
            )
            if m is None:
                fresh.append(row)
            elif not newer:
                self.report.note(step.table, "unchanged")
            elif m.action == "skipped":
                retry.append(step.old_id(row))
                fresh.append(row)
            else:
                changed.append((row, m))
        if retry:
            db.session.execute(
                sa.delete(ImportMap).where(
                    ImportMap.source == self.name,
                    ImportMap.source_table == step.table,
                    ImportMap.old_id.in_(retry),
                )
            )
        return fresh, changed, seen
