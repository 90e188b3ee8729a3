"""Calls go one way in tickets, contacts, bots, inbound and reports: the core imports none of
the code that reacts to it, lower modules import no higher one, and no `whaticket` import
hides inside a function (where a cycle would hide too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import whaticket

ROOT = Path(whaticket.__file__).parent
SERVICES = ROOT / "services"

#: The callers and listeners of the ticket core: it announces on the bus, they react.
ABOVE_TICKETS = ("bots", "inbound", "reports", "campaigns")
TICKET_MODULES = (
    "events",
    "episodes",
    "lookup",
    "notices",
    "ratings",
    "lifecycle",
    "listing",
    "tags",
    "ticket_notes",
    "automation",
)

#: module (relative to whaticket.services) -> prefixes it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    **{f"tickets.{m}": ABOVE_TICKETS for m in TICKET_MODULES},
    # The bottom of the ticket package: frames, then episodes, then lookups and notices.
    "tickets.events": (*ABOVE_TICKETS, "tickets"),
    "tickets.episodes": (*ABOVE_TICKETS, "tickets"),
    "tickets.lookup": (*ABOVE_TICKETS, "tickets.lifecycle", "tickets.notices", "tickets.ratings"),
    "tickets.notices": (*ABOVE_TICKETS, "tickets.lifecycle", "tickets.lookup", "tickets.ratings"),
    "tickets.ratings": (*ABOVE_TICKETS, "tickets.lifecycle", "tickets.lookup", "tickets.notices"),
    # Contacts sit below tickets (ticket frames carry the contact).
    "contacts.contacts": ("tickets", "bots", "inbound", "reports", "contacts.uploads"),
    "contacts.uploads": ("tickets", "bots", "inbound", "reports"),
    # The AI hands off through routing, never through the menu that schedules it.
    "bots.routing": ("bots", "inbound", "reports"),
    "bots.menus": ("bots.chatbot", "bots.ai", "bots.integrations", "inbound"),
    "bots.ai": ("bots.chatbot", "bots.menus", "bots.integrations", "inbound"),
    "bots.chatbot": ("inbound", "reports"),
    # Inbound: record -> dispatch -> messages -> media; nothing points back up.
    "inbound.acks": ("inbound.deliveries", "inbound.messages", "inbound.provider_events"),
    "inbound.media_download": ("inbound.deliveries", "inbound.messages", "bots"),
    "inbound.messages": ("inbound.deliveries", "inbound.provider_events", "bots", "reports"),
    "inbound.provider_events": ("inbound.deliveries", "bots", "reports"),
    # Reports: the period under every report, the CSV above them all.
    "reports.period": ("reports.",),
    "reports.summary": ("reports.series", "reports.live", "reports.export"),
    "reports.series": ("reports.live", "reports.export"),
    "reports.live": ("reports.series", "reports.export"),
}


def _module_files() -> list[Path]:
    files = [
        path
        for pkg in ("tickets", "contacts", "inbound", "reports", "bots")
        for path in sorted((SERVICES / pkg).glob("*.py"))
        # The Typebot modules are being rewritten with the outbound path, outside this work.
        if not path.name.startswith("typebot")
    ]
    files += sorted((ROOT / "realtime").glob("*.py"))
    return [*files, ROOT / "security.py", ROOT / "errors.py"]


def _imports(path: Path) -> list[tuple[str, bool, int]]:
    """(imported whaticket module, inside a function, line) for every import of the file."""
    found: list[tuple[str, bool, int]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("whaticket"):
                found.extend(
                    (f"{child.module}.{a.name}", inside, child.lineno) for a in child.names
                )
            elif isinstance(child, ast.Import):
                found.extend((a.name, inside, child.lineno) for a in child.names)
            visit(child, inside)

    visit(ast.parse(path.read_text()), False)
    return [entry for entry in found if entry[0].startswith("whaticket")]


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_lower_modules_import_no_higher_one(module):
    path = SERVICES / (module.replace(".", "/") + ".py")
    wrong = [
        f"{target} (line {line})"
        for target, _local, line in _imports(path)
        for prefix in FORBIDDEN[module]
        if target.removeprefix("whaticket.services.").startswith(prefix)
    ]
    assert wrong == [], f"whaticket.services.{module} imports {wrong}"


@pytest.mark.parametrize("path", _module_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_whaticket_import_inside_a_function(path):
    local = [f"{target} (line {line})" for target, inside, line in _imports(path) if inside]
    assert local == []


def test_the_rules_see_a_backward_import(tmp_path):
    """The check can fail: a function-local import of a higher module is reported."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from whaticket.services.bots import chatbot\n")
    assert _imports(sample) == [("whaticket.services.bots.chatbot", True, 2)]
