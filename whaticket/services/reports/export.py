"""Reports as CSV downloads (`?format=csv` on every report endpoint)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.services.reports.live import LIVE_FIELDS
from whaticket.services.reports.sla import SLA_FIELDS
from whaticket.services.reports.summary import SUMMARY_FIELDS


def _cell(value: Any) -> Any:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _csv(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def to_csv(report: str, data: dict[str, Any]) -> tuple[str, str]:
    """(filename, CSV text) of a report's data as built above."""
    if report == "summary":
        fields = ["key", "name", *SUMMARY_FIELDS]
        lines = [[row[f] for f in fields] for row in data["rows"]]
        if data["group_by"] is not None:
            lines.append(["", "Total", *(data["total"][f] for f in SUMMARY_FIELDS)])
        text = _csv([_camel(f) for f in fields], lines)
    elif report == "timeseries":
        text = _csv(
            ["start", "count", "avg"], ([s["start"], s["count"], s["avg"]] for s in data["series"])
        )
    elif report == "heatmap":
        text = _csv(
            ["weekday", "hour", "count"],
            ([c["weekday"], c["hour"], c["count"]] for c in data["cells"]),
        )
    elif report == "live":
        header = ["scope", "key", "name", *LIVE_FIELDS]
        lines = [["total", "", "Total", *(data["totals"][f] for f in LIVE_FIELDS)]]
        for scope, items in (("queue", data["queues"]), ("agent", data["agents"])):
            lines += [[scope, i["key"], i["name"], *(i[f] for f in LIVE_FIELDS)] for i in items]
        text = _csv(header, lines)
    elif report == "sla":
        header = ["scope", "key", "name", *(_camel(f) for f in SLA_FIELDS)]
        lines = [["total", "", "Total", *(data["total"][f] for f in SLA_FIELDS)]]
        for scope in ("policies", "queues", "agents"):
            lines += [
                [scope, i["key"], i["name"], *(i[f] for f in SLA_FIELDS)] for i in data[scope]
            ]
        text = _csv(header, lines)
    else:  # pragma: no cover - the views name the report
        raise AppError("ERR_NOT_FOUND", 404)
    if "from" in data:
        filename = f"report-{report}-{data['from']}-{data['to']}.csv"
    else:
        filename = f"report-{report}-{utcnow().strftime('%Y-%m-%dT%H%M')}.csv"
    return filename, text
