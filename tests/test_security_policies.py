"""The request-policy registry of `whaticket.security`: the services layer decides who may go
on once signed in (overdue companies, plan features); the security layer only runs what was
registered at app creation, and imports no service."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

import whaticket
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Plan
from whaticket.security import RequestPolicies, request_policies
from whaticket.services.billing import policies as billing_policies

ROOT = Path(whaticket.__file__).parent


def _whaticket_imports(path: Path) -> set[str]:
    """Every `whaticket.*` module a source file imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("whaticket"):
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("whaticket"))
    return found


@pytest.mark.parametrize("module", ["security.py", "errors.py"])
def test_security_and_errors_import_no_services_views_or_jobs(module):
    imported = _whaticket_imports(ROOT / module)
    above = [m for m in imported if m.startswith(("whaticket.services", "whaticket.api"))]
    above += [m for m in imported if m.startswith("whaticket.jobs")]
    assert above == [], f"{module} imports {above}"


def test_errors_sits_below_the_database_layer():
    """Adapters raise AppError and extensions.py builds the Api from errors.py: it imports no
    database, model or extension module (the factory hands it the unit of work)."""
    imported = _whaticket_imports(ROOT / "errors.py")
    below = ("whaticket.db", "whaticket.extensions", "whaticket.models")
    assert [m for m in imported if m.startswith(below)] == []


def test_create_app_registers_the_billing_policies(app):
    policies = request_policies(app)
    assert billing_policies.overdue_policy in policies.user
    assert policies.feature is billing_policies.plan_allows


def _swap_policies(app, monkeypatch, policies: RequestPolicies) -> None:
    monkeypatch.setitem(app.extensions, "whaticket.request_policies", policies)


def test_a_registered_user_policy_refuses_signed_in_requests(
    app, client, prefix, auth, admin, monkeypatch
):
    seen: list[tuple[str, str | None]] = []

    def locked(user, path, endpoint):
        seen.append((path, endpoint))
        raise AppError("ERR_LOCKED_FOR_TEST", 423)

    _swap_policies(app, monkeypatch, RequestPolicies(user=[locked]))
    resp = client.get(f"{prefix}/queue", headers=auth(admin))
    assert resp.status_code == 423
    assert resp.get_json() == {"error": "ERR_LOCKED_FOR_TEST"}
    # The policy reads the path without API_PREFIX, as the billing allow-list is written.
    assert seen and seen[0][0] == "/queue"


def test_without_policies_nothing_is_refused(
    app, client, prefix, auth, admin, company, monkeypatch
):
    """The registry, not security.py, holds the rules: an empty one lets a disabled feature
    and an overdue company through (create_app always registers billing's)."""
    plan = db.session.get(Plan, company.plan_id)
    plan.use_campaigns = False
    company.due_date = utcnow() - timedelta(days=400)
    db.session.commit()
    headers = auth(admin)
    assert client.get(f"{prefix}/campaigns", headers=headers).status_code == 402

    _swap_policies(app, monkeypatch, RequestPolicies())
    assert client.get(f"{prefix}/campaigns", headers=headers).status_code == 200
