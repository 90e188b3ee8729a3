"""Plans API: the public signup list, paginated listing, and super-user CRUD."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import FEATURE_FLAGS, Plan
from whaticket.schemas.base import camelcase

FLAG_KEYS = {camelcase(flag) for flag in FEATURE_FLAGS}
PLAN_KEYS = {
    "id",
    "name",
    "users",
    "connections",
    "queues",
    "value",
    "createdAt",
    "updatedAt",
} | FLAG_KEYS


def _plan_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Plan))


def _fresh(plan_id: int) -> Plan | None:
    db.session.expire_all()
    return db.session.get(Plan, plan_id)


# -- public lists --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/plans/list", "/plans/all"])
def test_public_plan_lists_need_no_token_and_sort_by_name(client, prefix, app, path):
    factories.PlanFactory(name="Gamma", users=3)
    factories.PlanFactory(name="Alpha", value=49.9)
    factories.PlanFactory(name="Beta", use_kanban=False)

    resp = client.get(f"{prefix}{path}")
    assert resp.status_code == 200
    rows = resp.get_json()
    assert [r["name"] for r in rows] == ["Alpha", "Beta", "Gamma"]
    # The public lists show what a visitor choosing a plan needs, no bookkeeping fields.
    assert all(set(r) == PLAN_KEYS - {"createdAt", "updatedAt"} for r in rows)
    assert rows[0]["value"] == 49.9
    assert rows[1]["useKanban"] is False and rows[1]["useCampaigns"] is True
    assert rows[2]["users"] == 3


# -- GET /plans ----------------------------------------------------------------


def test_list_plans_pages_twenty_ordered_by_name(client, prefix, auth, agent):
    # `agent`'s company already has one plan from the factory ("Plan N").
    for i in range(21):
        factories.PlanFactory(name=f"Basic {i:02d}")
    headers = auth(agent)

    first = client.get(f"{prefix}/plans", headers=headers)
    assert first.status_code == 200
    body = first.get_json()
    assert set(body) == {"plans", "count", "hasMore"}
    assert body["count"] == 22 and body["hasMore"] is True
    assert [p["name"] for p in body["plans"]] == [f"Basic {i:02d}" for i in range(20)]
    assert set(body["plans"][0]) == PLAN_KEYS

    second = client.get(f"{prefix}/plans?pageNumber=2", headers=headers).get_json()
    assert [p["name"] for p in second["plans"]] == ["Basic 20", agent.company.plan.name]
    assert second["hasMore"] is False


def test_list_plans_searches_by_name(client, prefix, auth, admin):
    factories.PlanFactory(name="Premium Gold")
    factories.PlanFactory(name="Premium Silver")
    factories.PlanFactory(name="Starter")
    body = client.get(f"{prefix}/plans?searchParam=premium", headers=auth(admin)).get_json()
    assert [p["name"] for p in body["plans"]] == ["Premium Gold", "Premium Silver"]
    assert body["count"] == 2 and body["hasMore"] is False


def test_list_plans_rejects_bad_page_number(client, prefix, auth, admin):
    resp = client.get(f"{prefix}/plans?pageNumber=abc", headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "pageNumber" in body["fields"]


def test_list_plans_needs_token(client, prefix, app):
    resp = client.get(f"{prefix}/plans")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


# -- GET /plans/<id> -----------------------------------------------------------


def test_show_plan_to_any_user(client, prefix, auth, agent, other_company):
    # Plans are global: a user of one company may read the plan of another.
    plan = other_company.plan
    resp = client.get(f"{prefix}/plans/{plan.id}", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == PLAN_KEYS
    assert body["id"] == plan.id and body["name"] == plan.name
    assert (body["users"], body["connections"], body["queues"]) == (10, 10, 10)
    assert body["value"] == 30


def test_show_missing_plan_is_404(client, prefix, auth, admin):
    resp = client.get(f"{prefix}/plans/999999", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_PLAN_FOUND"}


def test_show_plan_needs_token(client, prefix, company):
    resp = client.get(f"{prefix}/plans/{company.plan_id}")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


# -- POST /plans ---------------------------------------------------------------


def test_create_plan_with_defaults_for_unsent_fields(client, prefix, auth, superuser):
    body = {"name": "  Pro  ", "users": 5, "connections": 2, "value": 99.9, "useKanban": False}
    resp = client.post(f"{prefix}/plans", json=body, headers=auth(superuser))
    assert resp.status_code == 200
    out = resp.get_json()
    assert set(out) == PLAN_KEYS
    assert out["name"] == "Pro" and out["users"] == 5 and out["queues"] == 0
    assert out["useKanban"] is False and out["useCampaigns"] is True

    plan = _fresh(out["id"])
    assert plan is not None and plan.name == "Pro"
    assert (plan.users, plan.connections, plan.queues) == (5, 2, 0)
    assert float(plan.value) == 99.9
    assert plan.use_kanban is False
    assert all(getattr(plan, f) for f in FEATURE_FLAGS if f != "use_kanban")


def test_create_plan_validation_changes_nothing(client, prefix, auth, superuser):
    before = _plan_count()
    body = {"name": "P", "users": -1, "value": "free", "useKanban": "perhaps"}
    resp = client.post(f"{prefix}/plans", json=body, headers=auth(superuser))
    assert resp.status_code == 400
    out = resp.get_json()
    assert out["error"] == "ERR_VALIDATION"
    assert {"name", "users", "value", "useKanban"} <= set(out["fields"])
    assert _plan_count() == before


@pytest.mark.parametrize("name", ["   ", " a "])
def test_create_plan_name_counts_without_surrounding_spaces(client, prefix, auth, superuser, name):
    resp = client.post(f"{prefix}/plans", json={"name": name}, headers=auth(superuser))
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and "name" in resp.get_json()["fields"]
    assert _plan_count() == 1  # only the superuser's company plan


def test_create_plan_requires_a_name(client, prefix, auth, superuser):
    resp = client.post(f"{prefix}/plans", json={"users": 1}, headers=auth(superuser))
    assert resp.status_code == 400 and "name" in resp.get_json()["fields"]
    assert _plan_count() == 1  # only the superuser's company plan


def test_create_plan_duplicate_name_is_400(client, prefix, auth, superuser):
    factories.PlanFactory(name="Enterprise")
    before = _plan_count()
    resp = client.post(f"{prefix}/plans", json={"name": "ENTERPRISE"}, headers=auth(superuser))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_PLAN_NAME_ALREADY_EXISTS"}
    assert _plan_count() == before


def test_create_plan_needs_token(client, prefix, app):
    resp = client.post(f"{prefix}/plans", json={"name": "Sneaky"})
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
    assert _plan_count() == 0


def test_create_plan_is_super_only(client, prefix, auth, admin):
    resp = client.post(f"{prefix}/plans", json={"name": "Sneaky"}, headers=auth(admin))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert db.session.scalar(sa.select(Plan).where(Plan.name == "Sneaky")) is None


# -- PUT /plans/<id> -----------------------------------------------------------


def test_update_plan_with_one_field_leaves_the_rest(client, prefix, auth, superuser):
    plan = factories.PlanFactory(
        name="Legacy", users=4, value=10, use_kanban=False, use_open_ai=False
    )
    resp = client.put(f"{prefix}/plans/{plan.id}", json={"users": 8}, headers=auth(superuser))
    assert resp.status_code == 200
    out = resp.get_json()
    assert set(out) == PLAN_KEYS
    assert out["users"] == 8 and out["name"] == "Legacy"
    assert out["useKanban"] is False and out["useOpenAi"] is False and out["useCampaigns"] is True

    row = _fresh(plan.id)
    assert row.users == 8 and row.name == "Legacy" and float(row.value) == 10
    assert row.use_kanban is False and row.use_open_ai is False
    assert row.use_campaigns is True and row.use_schedules is True


def test_update_plan_flags_and_name(client, prefix, auth, superuser):
    plan = factories.PlanFactory(name="Legacy")
    body = {"name": "Modern", "useCampaigns": False, "useExternalApi": False, "queues": 1}
    resp = client.put(f"{prefix}/plans/{plan.id}", json=body, headers=auth(superuser))
    assert resp.status_code == 200
    row = _fresh(plan.id)
    assert (row.name, row.queues) == ("Modern", 1)
    assert row.use_campaigns is False and row.use_external_api is False
    assert row.use_kanban is True


def test_update_plan_validation_changes_nothing(client, prefix, auth, superuser):
    plan = factories.PlanFactory(name="Legacy", users=4)
    resp = client.put(
        f"{prefix}/plans/{plan.id}",
        json={"name": "L", "users": 2_000_000, "useKanban": "perhaps"},
        headers=auth(superuser),
    )
    assert resp.status_code == 400
    out = resp.get_json()
    assert out["error"] == "ERR_VALIDATION"
    assert {"name", "users", "useKanban"} <= set(out["fields"])
    row = _fresh(plan.id)
    assert (row.name, row.users, row.use_kanban) == ("Legacy", 4, True)


def test_update_plan_duplicate_name_is_400(client, prefix, auth, superuser):
    factories.PlanFactory(name="Enterprise")
    plan = factories.PlanFactory(name="Legacy")
    resp = client.put(
        f"{prefix}/plans/{plan.id}",
        json={"name": "enterprise", "users": 1},
        headers=auth(superuser),
    )
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_PLAN_NAME_ALREADY_EXISTS"}
    row = _fresh(plan.id)
    assert (row.name, row.users) == ("Legacy", 10)


def test_update_plan_may_keep_its_own_name(client, prefix, auth, superuser):
    plan = factories.PlanFactory(name="Legacy")
    resp = client.put(f"{prefix}/plans/{plan.id}", json={"name": "LEGACY"}, headers=auth(superuser))
    assert resp.status_code == 200 and _fresh(plan.id).name == "LEGACY"


def test_update_missing_plan_is_404(client, prefix, auth, superuser):
    resp = client.put(f"{prefix}/plans/999999", json={"users": 1}, headers=auth(superuser))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_PLAN_FOUND"}


def test_update_plan_needs_token(client, prefix, app):
    plan = factories.PlanFactory(users=4)
    resp = client.put(f"{prefix}/plans/{plan.id}", json={"users": 999})
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
    assert _fresh(plan.id).users == 4


def test_update_plan_is_super_only(client, prefix, auth, admin):
    plan = admin.company.plan
    resp = client.put(f"{prefix}/plans/{plan.id}", json={"users": 999}, headers=auth(admin))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _fresh(plan.id).users == 10


# -- DELETE /plans/<id> --------------------------------------------------------


def test_delete_unused_plan(client, prefix, auth, superuser):
    plan = factories.PlanFactory()
    plan_id = plan.id
    resp = client.delete(f"{prefix}/plans/{plan_id}", headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Plan deleted"}
    assert _fresh(plan_id) is None
    assert _fresh(superuser.company.plan_id) is not None


def test_delete_plan_in_use_is_400(client, prefix, auth, superuser, other_company):
    plan_id = other_company.plan_id
    resp = client.delete(f"{prefix}/plans/{plan_id}", headers=auth(superuser))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_PLAN_IN_USE"}
    assert _fresh(plan_id) is not None


def test_delete_missing_plan_is_404(client, prefix, auth, superuser):
    resp = client.delete(f"{prefix}/plans/999999", headers=auth(superuser))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_PLAN_FOUND"}


def test_delete_plan_needs_token(client, prefix, app):
    plan = factories.PlanFactory()
    resp = client.delete(f"{prefix}/plans/{plan.id}")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
    assert _fresh(plan.id) is not None


def test_delete_plan_is_super_only(client, prefix, auth, admin):
    plan = factories.PlanFactory()
    resp = client.delete(f"{prefix}/plans/{plan.id}", headers=auth(admin))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _fresh(plan.id) is not None
