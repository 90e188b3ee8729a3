"""Companies API: super-user CRUD, pagination, safe deletion and each company's plan view."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from tests.factories import PASSWORD
from whaticket.extensions import db
from whaticket.models import (
    Company,
    Plan,
    Queue,
    RefreshToken,
    Setting,
    User,
    Whatsapp,
    user_queues,
)
from whaticket.services.team.settings import DEFAULTS

COMPANY_KEYS = {
    "id",
    "name",
    "phone",
    "email",
    "document",
    "status",
    "dueDate",
    "recurrence",
    "schedules",
    "timezone",
    "closedDates",
    "planId",
    "plan",
    "createdAt",
    "updatedAt",
}


def _count(model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


def _company_rows(company_id: int) -> dict[str, int]:
    """How many rows of each kind a company owns, straight from the database."""
    db.session.expire_all()
    links = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(user_queues)
        .join(User, User.id == user_queues.c.user_id)
        .where(User.company_id == company_id)
    )
    return {
        "company": _count(Company, id=company_id),
        "users": _count(User, company_id=company_id),
        "settings": _count(Setting, company_id=company_id),
        "queues": _count(Queue, company_id=company_id),
        "whatsapps": _count(Whatsapp, company_id=company_id),
        "refresh_tokens": _count(RefreshToken, company_id=company_id),
        "user_queues": links,
    }


def _login(client, prefix, email, password=PASSWORD):
    return client.post(f"{prefix}/auth/login", json={"email": email, "password": password})


def _new_company_body(plan_id: int, **extra) -> dict:
    body = {
        "name": "Acme Ltda",
        "email": "Owner@Acme.example",
        "phone": "5511999990000",
        "password": "first-admin-pass",
        "planId": plan_id,
        "status": "t",
        "recurrence": "MENSAL",
        "dueDate": "2030-01-31",
    }
    body.update(extra)
    return body


def _create_fresh_company(client, prefix, auth, superuser) -> int:
    """A company made through the API: only its default settings and first admin."""
    plan = factories.PlanFactory()
    resp = client.post(
        f"{prefix}/companies", json=_new_company_body(plan.id), headers=auth(superuser)
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["id"]


def _populate(company) -> dict[str, str]:
    """Give a company a connection, a queue, an agent linked to the queue and an admin."""
    wpp = factories.WhatsappFactory(company=company)
    queue = factories.QueueFactory(company=company)
    agent = factories.UserFactory(company=company, whatsapp_id=wpp.id)
    agent.queues = [queue]
    admin = factories.AdminFactory(company=company)
    db.session.commit()
    return {"agent": agent.email, "admin": admin.email}


# -- GET /companies ------------------------------------------------------------


def test_list_companies_pages_twenty_ordered_by_name(client, prefix, auth, superuser):
    superuser.company.name = "Acme 00"
    db.session.commit()
    for i in range(1, 23):
        factories.CompanyFactory(name=f"Acme {i:02d}")
    headers = auth(superuser)

    first = client.get(f"{prefix}/companies", headers=headers)
    assert first.status_code == 200
    body = first.get_json()
    assert set(body) == {"companies", "count", "hasMore"}
    assert body["count"] == 23 and body["hasMore"] is True
    names = [c["name"] for c in body["companies"]]
    assert names == [f"Acme {i:02d}" for i in range(20)]
    row = body["companies"][0]
    assert set(row) == COMPANY_KEYS
    assert row["id"] == superuser.company_id
    assert set(row["plan"]) == {"id", "name", "value"}
    assert row["dueDate"].endswith("Z")

    second = client.get(f"{prefix}/companies?pageNumber=2", headers=headers).get_json()
    assert [c["name"] for c in second["companies"]] == ["Acme 20", "Acme 21", "Acme 22"]
    assert second["count"] == 23 and second["hasMore"] is False


def test_list_companies_searches_name_case_insensitively(client, prefix, auth, superuser):
    factories.CompanyFactory(name="Padaria Central")
    factories.CompanyFactory(name="Central 100% Telecom")
    factories.CompanyFactory(name="Oficina Sul")
    headers = auth(superuser)

    body = client.get(f"{prefix}/companies?searchParam=CENTRAL", headers=headers).get_json()
    assert sorted(c["name"] for c in body["companies"]) == [
        "Central 100% Telecom",
        "Padaria Central",
    ]
    assert body["count"] == 2 and body["hasMore"] is False
    # LIKE wildcards in the term are literal characters.
    body = client.get(f"{prefix}/companies?searchParam=0%25", headers=headers).get_json()
    assert [c["name"] for c in body["companies"]] == ["Central 100% Telecom"]


def test_list_companies_rejects_bad_page_number(client, prefix, auth, superuser):
    resp = client.get(f"{prefix}/companies?pageNumber=0", headers=auth(superuser))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "pageNumber" in body["fields"]


def test_list_companies_needs_token(client, prefix, company):
    resp = client.get(f"{prefix}/companies")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


def test_list_companies_is_super_only(client, prefix, auth, admin):
    resp = client.get(f"{prefix}/companies", headers=auth(admin))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}


# -- GET /companies/list -------------------------------------------------------


def test_list_all_returns_every_company_with_plan_and_own_settings(
    client, prefix, auth, superuser, other_company
):
    for i in range(21):
        factories.CompanyFactory(name=f"Zeta {i:02d}")
    resp = client.get(f"{prefix}/companies/list", headers=auth(superuser))
    assert resp.status_code == 200
    rows = resp.get_json()
    assert isinstance(rows, list) and len(rows) == 23  # not cut at a page size
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)
    by_id = {r["id"]: r for r in rows}
    mine = by_id[superuser.company_id]
    assert set(mine) == COMPANY_KEYS | {"settings"}
    assert mine["plan"]["id"] == superuser.company.plan_id
    assert {s["key"] for s in mine["settings"]} == set(DEFAULTS)
    assert {s["companyId"] for s in mine["settings"]} == {superuser.company_id}
    assert {s["companyId"] for s in by_id[other_company.id]["settings"]} == {other_company.id}
    zeta = next(r for r in rows if r["name"] == "Zeta 00")
    assert zeta["settings"] == []  # made without defaults: nobody else's settings leak in


def test_list_all_needs_token(client, prefix, company):
    resp = client.get(f"{prefix}/companies/list")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


def test_list_all_is_super_only(client, prefix, auth, admin):
    resp = client.get(f"{prefix}/companies/list", headers=auth(admin))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}


# -- GET /companies/listPlan/<id> ----------------------------------------------


def test_list_plan_gives_member_the_plan_limits_and_flags(client, prefix, auth, agent):
    plan = agent.company.plan
    plan.users, plan.connections, plan.queues = 7, 3, 5
    plan.use_kanban = False
    plan.use_open_ai = False
    agent.company.phone = "551130000000"
    db.session.commit()

    resp = client.get(f"{prefix}/companies/listPlan/{agent.company_id}", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"id", "name", "email", "status", "dueDate", "createdAt", "phone", "plan"}
    assert body["id"] == agent.company_id and body["phone"] == "551130000000"
    assert body["status"] is True and body["dueDate"].endswith("Z")
    flags = body["plan"]
    assert {
        "users",
        "connections",
        "queues",
        "useCampaigns",
        "useKanban",
        "useOpenAi",
        "useIntegrations",
        "useSchedules",
        "useInternalChat",
        "useExternalApi",
    } <= set(flags)
    assert (flags["users"], flags["connections"], flags["queues"]) == (7, 3, 5)
    assert flags["useKanban"] is False and flags["useOpenAi"] is False
    assert flags["useCampaigns"] is True and flags["useExternalApi"] is True


def test_list_plan_of_another_company_is_404(client, prefix, auth, admin, other_company):
    resp = client.get(f"{prefix}/companies/listPlan/{other_company.id}", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_COMPANY_FOUND"}


def test_list_plan_of_any_company_for_super(client, prefix, auth, superuser, other_company):
    resp = client.get(f"{prefix}/companies/listPlan/{other_company.id}", headers=auth(superuser))
    assert resp.status_code == 200
    assert resp.get_json()["id"] == other_company.id
    assert resp.get_json()["plan"]["id"] == other_company.plan_id


def test_list_plan_of_missing_company_is_404(client, prefix, auth, superuser):
    resp = client.get(f"{prefix}/companies/listPlan/999999", headers=auth(superuser))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_COMPANY_FOUND"}


def test_list_plan_needs_token(client, prefix, company):
    resp = client.get(f"{prefix}/companies/listPlan/{company.id}")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


# -- GET /companies/<id> -------------------------------------------------------


def test_show_own_company(client, prefix, auth, agent):
    resp = client.get(f"{prefix}/companies/{agent.company_id}", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == COMPANY_KEYS
    assert body["id"] == agent.company_id and body["name"] == agent.company.name
    assert body["planId"] == agent.company.plan_id and body["recurrence"] == "MENSAL"


def test_show_another_company_is_404(client, prefix, auth, admin, other_company):
    resp = client.get(f"{prefix}/companies/{other_company.id}", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_COMPANY_FOUND"}


def test_super_shows_any_company(client, prefix, auth, superuser, other_company):
    resp = client.get(f"{prefix}/companies/{other_company.id}", headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json()["name"] == other_company.name


def test_show_company_needs_token(client, prefix, company):
    resp = client.get(f"{prefix}/companies/{company.id}")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


# -- POST /companies -----------------------------------------------------------


def test_create_company_with_settings_and_first_admin(client, prefix, auth, superuser):
    plan = factories.PlanFactory()
    body = _new_company_body(plan.id, campaignsEnabled=True, document="12.345.678/0001-90")
    resp = client.post(f"{prefix}/companies", json=body, headers=auth(superuser))
    assert resp.status_code == 200
    out = resp.get_json()
    assert set(out) == COMPANY_KEYS
    assert out["name"] == "Acme Ltda" and out["planId"] == plan.id
    assert out["plan"]["name"] == plan.name and out["status"] is True
    assert out["dueDate"].startswith("2030-01-31") and out["document"] == "12.345.678/0001-90"
    assert "password" not in out

    cid = out["id"]
    db.session.expire_all()
    company = db.session.get(Company, cid)
    assert company is not None and company.recurrence == "MENSAL"
    settings = {
        row.key: row.value
        for row in db.session.scalars(sa.select(Setting).where(Setting.company_id == cid))
    }
    assert set(settings) == set(DEFAULTS) | {"campaignsEnabled"}
    assert settings["campaignsEnabled"] == "true"
    assert settings["userRating"] == DEFAULTS["userRating"]

    users = list(db.session.scalars(sa.select(User).where(User.company_id == cid)))
    assert len(users) == 1
    first_admin = users[0]
    assert first_admin.email == "owner@acme.example"
    assert first_admin.profile == "admin" and first_admin.super is False
    assert first_admin.name == "Acme Ltda"

    login = _login(client, prefix, "owner@acme.example", "first-admin-pass")
    assert login.status_code == 200
    assert login.get_json()["user"]["companyId"] == cid


def test_create_company_without_password_uses_default(client, prefix, auth, superuser):
    plan = factories.PlanFactory()
    body = _new_company_body(plan.id)
    del body["password"]
    resp = client.post(f"{prefix}/companies", json=body, headers=auth(superuser))
    assert resp.status_code == 200
    assert _count(Setting, company_id=resp.get_json()["id"]) == len(DEFAULTS)
    assert _login(client, prefix, "owner@acme.example", "mudar123").status_code == 200


def test_create_company_duplicate_name_is_400(client, prefix, auth, superuser):
    plan = factories.PlanFactory()
    factories.CompanyFactory(name="Acme Ltda")
    before = (_count(Company), _count(User), _count(Setting))
    body = _new_company_body(plan.id, name="  ACME LTDA ")
    resp = client.post(f"{prefix}/companies", json=body, headers=auth(superuser))
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_COMPANY_NAME_ALREADY_EXISTS"}
    assert (_count(Company), _count(User), _count(Setting)) == before


def test_create_company_unknown_plan_is_validation_error(client, prefix, auth, superuser):
    before = (_count(Company), _count(User), _count(Setting))
    resp = client.post(
        f"{prefix}/companies", json=_new_company_body(999999), headers=auth(superuser)
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "planId" in body["fields"]
    assert (_count(Company), _count(User), _count(Setting)) == before


def test_create_company_validation_lists_fields(client, prefix, auth, superuser):
    plan = factories.PlanFactory()
    before = (_count(Company), _count(User), _count(Setting))
    body = _new_company_body(plan.id, name="A", email="not-an-email", password="123")
    resp = client.post(f"{prefix}/companies", json=body, headers=auth(superuser))
    assert resp.status_code == 400
    out = resp.get_json()
    assert out["error"] == "ERR_VALIDATION"
    assert {"name", "email", "password"} <= set(out["fields"])
    assert (_count(Company), _count(User), _count(Setting)) == before


@pytest.mark.parametrize("field", ["name", "adminName"])
def test_create_company_blank_names_are_refused(client, prefix, auth, superuser, field):
    plan = factories.PlanFactory()
    before = (_count(Company), _count(User))
    body = _new_company_body(plan.id, **{field: "    "})
    resp = client.post(f"{prefix}/companies", json=body, headers=auth(superuser))
    assert resp.status_code == 400
    out = resp.get_json()
    assert out["error"] == "ERR_VALIDATION" and field in out["fields"]
    assert (_count(Company), _count(User)) == before


def test_update_company_blank_name_is_refused(client, prefix, auth, superuser, other_company):
    name = other_company.name
    resp = client.put(
        f"{prefix}/companies/{other_company.id}", json={"name": " x "}, headers=auth(superuser)
    )
    assert resp.status_code == 400 and "name" in resp.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(Company, other_company.id).name == name


def test_create_company_on_a_zero_user_plan_still_gets_its_admin(client, prefix, auth, superuser):
    plan = factories.PlanFactory(users=0)
    resp = client.post(
        f"{prefix}/companies", json=_new_company_body(plan.id), headers=auth(superuser)
    )
    assert resp.status_code == 200, resp.get_json()
    assert _count(User, company_id=resp.get_json()["id"]) == 1


def test_create_company_with_taken_admin_email_keeps_nothing(
    client, prefix, auth, superuser, other_admin
):
    plan = factories.PlanFactory()
    before = (_count(Company), _count(User), _count(Setting))
    body = _new_company_body(plan.id, email=other_admin.email.upper())
    resp = client.post(f"{prefix}/companies", json=body, headers=auth(superuser))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_DUPLICATED_EMAIL"}
    # The company and its settings were flushed first: they must be rolled back too.
    assert (_count(Company), _count(User), _count(Setting)) == before
    assert _count(Company, name="Acme Ltda") == 0


def test_create_company_needs_token(client, prefix, app):
    plan = factories.PlanFactory()
    resp = client.post(f"{prefix}/companies", json=_new_company_body(plan.id))
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
    assert _count(Company) == 0


def test_create_company_is_super_only(client, prefix, auth, admin):
    plan = factories.PlanFactory()
    resp = client.post(f"{prefix}/companies", json=_new_company_body(plan.id), headers=auth(admin))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _count(Company, name="Acme Ltda") == 0


# -- PUT /companies/<id> -------------------------------------------------------


def test_update_company_changes_sent_fields_only(client, prefix, auth, superuser, other_company):
    new_plan = factories.PlanFactory()
    old_email = other_company.email
    old_due = other_company.due_date
    body = {"name": "Renamed Co", "status": False, "planId": new_plan.id, "campaignsEnabled": False}
    resp = client.put(f"{prefix}/companies/{other_company.id}", json=body, headers=auth(superuser))
    assert resp.status_code == 200
    out = resp.get_json()
    assert set(out) == COMPANY_KEYS
    assert out["name"] == "Renamed Co" and out["status"] is False
    assert out["planId"] == new_plan.id and out["plan"]["id"] == new_plan.id
    assert out["email"] == old_email

    db.session.expire_all()
    row = db.session.get(Company, other_company.id)
    assert (row.name, row.status, row.plan_id) == ("Renamed Co", False, new_plan.id)
    assert row.email == old_email and row.due_date == old_due
    setting = db.session.scalar(
        sa.select(Setting).where(
            Setting.company_id == other_company.id, Setting.key == "campaignsEnabled"
        )
    )
    assert setting is not None and setting.value == "false"


def test_update_company_validation_changes_nothing(client, prefix, auth, superuser, other_company):
    name = other_company.name
    resp = client.put(
        f"{prefix}/companies/{other_company.id}",
        json={"name": "X", "email": "nope", "status": "maybe"},
        headers=auth(superuser),
    )
    assert resp.status_code == 400
    out = resp.get_json()
    assert out["error"] == "ERR_VALIDATION" and {"name", "email", "status"} <= set(out["fields"])
    db.session.expire_all()
    assert db.session.get(Company, other_company.id).name == name


def test_update_company_duplicate_name_is_400(client, prefix, auth, superuser, other_company):
    taken = superuser.company.name
    resp = client.put(
        f"{prefix}/companies/{other_company.id}",
        json={"name": taken.upper(), "phone": "123"},
        headers=auth(superuser),
    )
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_COMPANY_NAME_ALREADY_EXISTS"}
    db.session.expire_all()
    row = db.session.get(Company, other_company.id)
    assert row.name != taken.upper() and row.phone is None


def test_update_company_keeps_its_own_name_in_other_case(
    client, prefix, auth, superuser, other_company
):
    resp = client.put(
        f"{prefix}/companies/{other_company.id}",
        json={"name": other_company.name.upper()},
        headers=auth(superuser),
    )
    assert resp.status_code == 200 and resp.get_json()["name"] == other_company.name.upper()


def test_update_company_unknown_plan_is_validation_error(
    client, prefix, auth, superuser, other_company
):
    plan_id = other_company.plan_id
    resp = client.put(
        f"{prefix}/companies/{other_company.id}",
        json={"planId": 999999},
        headers=auth(superuser),
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and "planId" in resp.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(Company, other_company.id).plan_id == plan_id


def test_update_missing_company_is_404(client, prefix, auth, superuser):
    resp = client.put(f"{prefix}/companies/999999", json={"phone": "1"}, headers=auth(superuser))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_COMPANY_FOUND"}


def test_update_company_needs_token(client, prefix, company):
    resp = client.put(f"{prefix}/companies/{company.id}", json={"name": "Hijacked"})
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
    db.session.expire_all()
    assert db.session.get(Company, company.id).name != "Hijacked"


def test_admin_cannot_update_even_own_company(client, prefix, auth, admin):
    resp = client.put(
        f"{prefix}/companies/{admin.company_id}", json={"name": "Hijacked"}, headers=auth(admin)
    )
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    db.session.expire_all()
    assert db.session.get(Company, admin.company_id).name != "Hijacked"


# -- DELETE /companies/<id> ----------------------------------------------------


def test_delete_fresh_company_without_force(client, prefix, auth, superuser):
    cid = _create_fresh_company(client, prefix, auth, superuser)
    # The first admin logging in leaves a refresh token: still bookkeeping, not data.
    assert _login(client, prefix, "owner@acme.example", "first-admin-pass").status_code == 200
    assert _company_rows(cid)["refresh_tokens"] == 1
    plan_id = db.session.get(Company, cid).plan_id

    resp = client.delete(f"{prefix}/companies/{cid}", headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Company deleted"}
    assert set(_company_rows(cid).values()) == {0}
    assert db.session.get(Plan, plan_id) is not None  # the plan is shared, not owned


def test_delete_company_with_second_user_needs_force(client, prefix, auth, superuser):
    cid = _create_fresh_company(client, prefix, auth, superuser)
    factories.UserFactory(company=db.session.get(Company, cid))
    before = _company_rows(cid)

    resp = client.delete(f"{prefix}/companies/{cid}", headers=auth(superuser))
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_COMPANY_HAS_DATA"}
    assert _company_rows(cid) == before and before["users"] == 2


def test_delete_company_with_a_queue_needs_force(client, prefix, auth, superuser):
    cid = _create_fresh_company(client, prefix, auth, superuser)
    factories.QueueFactory(company=db.session.get(Company, cid))
    before = _company_rows(cid)

    resp = client.delete(f"{prefix}/companies/{cid}?force=false", headers=auth(superuser))
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_COMPANY_HAS_DATA"}
    assert _company_rows(cid) == before and before["queues"] == 1


def test_force_delete_removes_every_row_of_that_company_only(
    client, prefix, auth, superuser, other_company, company
):
    victim = factories.CompanyFactory()
    factories.SettingFactory(company=victim)
    logins = _populate(victim)
    kept = _populate(other_company)
    _populate(company)
    for email in (*logins.values(), *kept.values()):
        assert _login(client, prefix, email).status_code == 200
    victim_id = victim.id
    victim_before = _company_rows(victim_id)
    assert all(victim_before.values()), victim_before
    other_before = _company_rows(other_company.id)
    own_before = _company_rows(company.id)
    plans_before = _count(Plan)

    resp = client.delete(f"{prefix}/companies/{victim_id}?force=true", headers=auth(superuser))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Company deleted"}

    assert set(_company_rows(victim_id).values()) == {0}
    assert _company_rows(other_company.id) == other_before
    assert _company_rows(company.id) == own_before
    assert _count(Plan) == plans_before
    for email in kept.values():
        assert _login(client, prefix, email).status_code == 200
    assert _login(client, prefix, logins["admin"]).status_code == 401


def test_super_cannot_delete_own_company(client, prefix, auth, superuser):
    cid = superuser.company_id
    before = _company_rows(cid)
    resp = client.delete(f"{prefix}/companies/{cid}?force=true", headers=auth(superuser))
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_CANNOT_DELETE_OWN_COMPANY"}
    assert _company_rows(cid) == before


def test_delete_company_rejects_bad_force_flag(client, prefix, auth, superuser, other_company):
    resp = client.delete(
        f"{prefix}/companies/{other_company.id}?force=perhaps", headers=auth(superuser)
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "force" in body["fields"]
    assert _company_rows(other_company.id)["company"] == 1


def test_delete_missing_company_is_404(client, prefix, auth, superuser):
    resp = client.delete(f"{prefix}/companies/999999", headers=auth(superuser))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_COMPANY_FOUND"}


def test_delete_company_needs_token(client, prefix, other_company):
    resp = client.delete(f"{prefix}/companies/{other_company.id}?force=true")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
    assert _company_rows(other_company.id)["company"] == 1


def test_admin_cannot_delete_another_company(client, prefix, auth, admin, other_company):
    before = _company_rows(other_company.id)
    resp = client.delete(f"{prefix}/companies/{other_company.id}?force=true", headers=auth(admin))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    assert _company_rows(other_company.id) == before


# -- GET /companiesPlan ------------------------------------------------------------

PLAN_FLAG_KEYS = {
    "id",
    "name",
    "users",
    "connections",
    "queues",
    "value",
    "useSchedules",
    "useCampaigns",
    "useInternalChat",
    "useExternalApi",
    "useKanban",
    "useOpenAi",
    "useIntegrations",
}


def test_companies_plan_lists_every_company_with_its_plan(
    client, prefix, auth, superuser, other_company
):
    pro = factories.PlanFactory(name="Pro", users=7, connections=3, queues=4, value=89.9)
    pro.use_open_ai = False
    third = factories.CompanyFactory(name="Zeta", plan=pro)
    planless = factories.CompanyFactory(name="Aaa Sem Plano", plan=None)
    db.session.commit()

    resp = client.get(f"{prefix}/companiesPlan", headers=auth(superuser))
    assert resp.status_code == 200, resp.get_json()
    rows = resp.get_json()
    assert sorted(r["id"] for r in rows) == sorted(
        [superuser.company_id, other_company.id, third.id, planless.id]
    )
    assert rows[0]["id"] == planless.id and rows[0]["plan"] is None  # ordered by name
    by_id = {r["id"]: r for r in rows}
    zeta = by_id[third.id]
    assert set(zeta) == COMPANY_KEYS
    assert set(zeta["plan"]) == PLAN_FLAG_KEYS
    assert zeta["plan"]["name"] == "Pro" and zeta["plan"]["users"] == 7
    assert zeta["plan"]["connections"] == 3 and zeta["plan"]["queues"] == 4
    assert zeta["plan"]["value"] == 89.9
    assert zeta["plan"]["useOpenAi"] is False and zeta["plan"]["useKanban"] is True


def test_companies_plan_is_super_only(client, prefix, auth, admin):
    resp = client.get(f"{prefix}/companiesPlan", headers=auth(admin))
    assert resp.status_code == 403
    assert resp.get_json() == {"error": "ERR_NO_PERMISSION"}


def test_companies_plan_needs_token(client, prefix, company):
    resp = client.get(f"{prefix}/companiesPlan")
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
