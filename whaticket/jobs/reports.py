"""Report jobs: recompute a company's daily rollup (after its time zone changed)."""

from __future__ import annotations

from whaticket import db as dbmod
from whaticket.services.reports.rebuild import rollup_from_events


def rebuild_rollup(company_id: int) -> int:
    """Recompute the company's per-day sums from its events; returns the rows written."""
    written = rollup_from_events(company_id)
    dbmod.commit()
    return written
