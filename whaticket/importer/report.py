"""The import's report (counts per old table, reasons, examples) and its progress bar."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, TextIO

#: Old ids kept per (table, action, reason), so a reader can look rows up.
EXAMPLES = 10
ACTIONS = ("written", "updated", "merged", "skipped", "unchanged")


class Report:
    """Per old table: rows read, written, updated, merged, skipped, unchanged, with reasons."""

    def __init__(self, source: str, dry_run: bool) -> None:
        self.source = source
        self.dry_run = dry_run
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.reasons: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        self.examples: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        self.not_imported: dict[str, str] = {}
        self.media: Counter[str] = Counter()
        self.started = time.monotonic()
        self.seconds = 0.0

    def read(self, table: str, n: int) -> None:
        """`n` rows of `table` were read."""
        self.counts[table]["read"] += n

    def note(self, table: str, action: str, old_id: Any = None, reason: str | None = None) -> None:
        """One row's fate; merged and skipped rows carry a reason."""
        self.counts[table][action] += 1
        if reason:
            self.reasons[table][(action, reason)] += 1
            examples = self.examples[(table, action, reason)]
            if old_id is not None and len(examples) < EXAMPLES:
                examples.append(str(old_id))

    def skip_table(self, table: str, why: str) -> None:
        """A table of the old schema this import does not bring over (and why)."""
        self.not_imported[table] = why

    def finish(self) -> None:
        """Stop the clock."""
        self.seconds = time.monotonic() - self.started

    def total(self, action: str) -> int:
        """Rows of every table with `action` (or "read")."""
        return sum(c[action] for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        tables = {}
        for table, counts in self.counts.items():
            tables[table] = {
                "read": counts["read"],
                **{action: counts[action] for action in ACTIONS},
                "reasons": [
                    {
                        "action": action,
                        "reason": reason,
                        "count": n,
                        "examples": self.examples[(table, action, reason)],
                    }
                    for (action, reason), n in sorted(self.reasons[table].items())
                ],
            }
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 2),
            "rows_read": self.total("read"),
            "tables": tables,
            "media": dict(self.media),
            "not_imported": self.not_imported,
        }

    def save(self, path: str | Path) -> None:
        """Write the report as JSON."""
        Path(path).write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n")

    def lines(self) -> list[str]:
        """The report as text, one table a line, then the reasons."""
        head = f"{'table':<22}{'read':>9}" + "".join(f"{a:>11}" for a in ACTIONS)
        out = [("DRY RUN: nothing was written. " if self.dry_run else "") + f"source {self.source}"]
        out.append(head)
        for table, counts in self.counts.items():
            out.append(
                f"{table:<22}{counts['read']:>9}" + "".join(f"{counts[a]:>11}" for a in ACTIONS)
            )
        for table, reasons in self.reasons.items():
            for (action, reason), n in sorted(reasons.items()):
                sample = ", ".join(self.examples[(table, action, reason)][:3])
                out.append(f"  {table} {action} {n}: {reason} (e.g. {sample})")
        if self.media:
            out.append("media: " + ", ".join(f"{k} {v}" for k, v in sorted(self.media.items())))
        for table, why in sorted(self.not_imported.items()):
            out.append(f"  not imported: {table}: {why}")
        rate = self.total("read") / self.seconds if self.seconds else 0.0
        out.append(f"{self.total('read')} rows in {self.seconds:.1f} s ({rate:.0f} rows/s)")
        return out


class Progress:
    """A text progress bar with rate and ETA on stderr (redrawn in place on a terminal)."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = ""
        self.total = 0
        self.done = 0
        self.started = 0.0
        self.shown = 0.0

    def start(self, label: str, total: int) -> None:
        """Begin a table of `total` rows."""
        self.label, self.total, self.done = label, total, 0
        self.started = self.shown = time.monotonic()
        self._draw(force=True)

    def advance(self, n: int) -> None:
        """`n` more rows done."""
        self.done += n
        self._draw()

    def end(self) -> None:
        """The table is done."""
        self._draw(force=True, final=True)

    def _draw(self, force: bool = False, final: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        # A redraw per half second on a terminal, per 5 s in a log file.
        if not force and now - self.shown < (0.5 if self.tty else 5.0):
            return
        self.shown = now
        total = max(self.total, self.done, 1)
        filled = int(self.WIDTH * self.done / total)
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (total - self.done) / rate if rate > 0 else 0.0
        line = (
            f"{self.label:<20} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{100 * self.done / total:5.1f}% {self.done}/{self.total} "
            f"{rate:,.0f} rows/s " + (f"{elapsed:.1f} s" if final else f"ETA {eta:,.0f} s")
        )
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
