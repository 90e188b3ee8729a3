"""`flask status`: the status page as plain-text tables for a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell, a rule under the headers."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def render(snapshot: dict[str, Any]) -> str:
    """Workers, then companies, connections, and the newest failures."""
    out: list[str] = [f"status at {snapshot['generatedAt']}", ""]
    w = snapshot["workers"]
    out.append(f"workers (jobs: {w['mode']}, failed jobs kept: {w['failedJobs']})")
    if w.get("error"):
        out.append(f"  {w['error']}")
    seen = [
        [s["name"], s["lastSeen"], s["ageSeconds"], "yes" if s["alive"] else "NO"]
        for s in w["seen"]
    ]
    out.append(table(["worker", "last seen", "age s", "alive"], seen) if seen else "  none seen")
    out.append("")
    companies = snapshot["companies"]
    out.append(
        table(
            [
                "id",
                "company",
                "active",
                "connections",
                "up",
                "inbound pending",
                "inbound failed",
                "campaigns running",
            ],
            [
                [
                    c["id"],
                    c["name"],
                    "yes" if c["active"] else "no",
                    len(c["connections"]),
                    sum(1 for x in c["connections"] if x["status"] == "CONNECTED"),
                    c["inbound"]["pending"],
                    c["inbound"]["failed"],
                    ", ".join(k["name"] for k in c["campaignsRunning"]) or "-",
                ]
                for c in companies
            ],
        )
    )
    connections = [
        [
            c["id"],
            x["id"],
            x["name"],
            x["provider"],
            x["status"],
            _event(x.get("lastEvent")),
            x.get("lastInboundAt") or "-",
        ]
        for c in companies
        for x in c["connections"]
    ]
    if connections:
        out += [
            "",
            table(
                ["company", "conn", "name", "provider", "status", "last event", "last inbound"],
                connections,
            ),
        ]
    failures = [
        [c["id"], f["kind"], f["id"], f["at"] or "-", (f.get("error") or "")[:80]]
        for c in companies
        for f in c["failures"]
    ]
    if failures:
        out += ["", table(["company", "kind", "id", "at", "error"], failures)]
    return "\n".join(out)


def _event(event: dict[str, Any] | None) -> str:
    if not event:
        return "-"
    return f"{event['status']} at {event['at']}"
