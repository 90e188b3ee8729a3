"""Public self-signup (`POST /companies/cadastro`) and the public plan lists it reads."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.api.test_companies import COMPANY_KEYS
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import FEATURE_FLAGS, Company, Setting, User
from whaticket.schemas.base import camelcase
from whaticket.services.team.settings import DEFAULTS

PUBLIC_PLAN_KEYS = {"id", "name", "users", "connections", "queues", "value"} | {
    camelcase(flag) for flag in FEATURE_FLAGS
}


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _count(model, **where) -> int:
    db.session.expire_all()
    stmt = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


def _body(plan_id, **extra) -> dict:
    """What the SaaS signup page posts (its trial dueDate and status "t" included)."""
    body = {
        "name": "Padaria Pão Quente",
        "email": "Dono@PaoQuente.example",
        "phone": "5511988887777",
        "password": "segredo-forte",
        "planId": plan_id,
        "recurrence": "MENSAL",
        "dueDate": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d"),
        "status": "t",
        "campaignsEnabled": True,
    }
    body.update(extra)
    return body


def _signup(client, prefix, body, ip="203.0.113.7"):
    return client.post(f"{prefix}/companies/cadastro", json=body, environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def plan(app):
    plan = factories.PlanFactory(name="Básico")
    db.session.commit()
    return plan


# -- happy path -----------------------------------------------------------------


def test_signup_creates_trial_company_admin_and_settings(client, prefix, app, plan):
    app.config["TRIAL_DAYS"] = 10
    before = utcnow().replace(microsecond=0)  # dueDate is sent to the second
    resp = _signup(client, prefix, _body(plan.id))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == COMPANY_KEYS
    assert body["name"] == "Padaria Pão Quente"
    assert body["email"] == "Dono@PaoQuente.example"
    assert body["phone"] == "5511988887777"
    assert body["status"] is True
    assert body["recurrence"] == "MENSAL"
    assert body["planId"] == plan.id and body["plan"]["name"] == "Básico"
    due = _parse(body["dueDate"])
    assert before + timedelta(days=10) <= due <= utcnow() + timedelta(days=10)
    assert "password" not in body

    company = db.session.get(Company, body["id"])
    assert company is not None and company.status is True
    assert abs(company.due_date - due) < timedelta(seconds=1)
    admins = list(db.session.scalars(sa.select(User).where(User.company_id == company.id)))
    assert len(admins) == 1
    admin = admins[0]
    assert admin.email == "dono@paoquente.example"
    assert admin.profile == "admin" and not admin.super
    assert admin.name == "Padaria Pão Quente"
    keys = set(db.session.scalars(sa.select(Setting.key).where(Setting.company_id == company.id)))
    assert keys == set(DEFAULTS) | {"campaignsEnabled"}
    assert (
        db.session.scalar(
            sa.select(Setting.value).where(
                Setting.company_id == company.id, Setting.key == "campaignsEnabled"
            )
        )
        == "true"
    )

    login = client.post(
        f"{prefix}/auth/login",
        json={"email": "dono@paoquente.example", "password": "segredo-forte"},
    )
    assert login.status_code == 200
    assert login.get_json()["user"]["companyId"] == company.id


def test_signup_ignores_client_due_date_and_status(client, prefix, app, plan):
    before = utcnow()
    body = _body(plan.id, dueDate="2099-12-31T00:00:00Z", status=False)
    resp = _signup(client, prefix, body)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()
    assert data["status"] is True
    # TRIAL_DAYS unset: seven days.
    due = _parse(data["dueDate"])
    assert before + timedelta(days=7) <= due <= utcnow() + timedelta(days=7)
    # Values a bot might send in the ignored fields are no reason to refuse.
    again = _signup(client, prefix, _body(plan.id, name="Outra", email="o@x.example", status=[1]))
    assert again.status_code == 200, again.get_json()


def test_signup_defaults_recurrence_and_takes_admin_name(client, prefix, plan):
    body = _body(plan.id, adminName="  Maria Souza ")
    del body["recurrence"]
    del body["campaignsEnabled"]
    resp = _signup(client, prefix, body)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()
    assert data["recurrence"] == "MENSAL"
    admin = db.session.scalar(sa.select(User).where(User.company_id == data["id"]))
    assert admin.name == "Maria Souza"
    keys = set(db.session.scalars(sa.select(Setting.key).where(Setting.company_id == data["id"])))
    assert keys == set(DEFAULTS)


def test_signup_needs_no_token_and_is_public_in_the_spec(client, prefix, plan):
    spec = client.get(f"{prefix}/openapi.json").get_json()
    assert spec["paths"][f"{prefix}/companies/cadastro"]["post"]["security"] == []
    # Authenticated routes inherit the document-wide bearer requirement.
    assert spec["paths"][f"{prefix}/companiesPlan"]["get"].get("security") != []
    # An invalid token is not even looked at.
    resp = client.post(
        f"{prefix}/companies/cadastro",
        json=_body(plan.id),
        headers={"Authorization": "Bearer nonsense"},
    )
    assert resp.status_code == 200, resp.get_json()


# -- validation -----------------------------------------------------------------


def test_signup_duplicate_company_name_is_400(client, prefix, plan):
    factories.CompanyFactory(name="Padaria Pão Quente")
    db.session.commit()
    companies = _count(Company)
    resp = _signup(client, prefix, _body(plan.id))
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_COMPANY_NAME_ALREADY_EXISTS"}
    assert _count(Company) == companies


# A sign-up with an e-mail that has an account: tests/api/test_signup_existing_email.py.


@pytest.mark.parametrize("plan_id", [999999, None, "", 0])
def test_signup_unknown_or_missing_plan_is_400(client, prefix, plan, plan_id):
    resp = _signup(client, prefix, _body(plan_id))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "planId" in body["fields"]
    assert _count(Company) == 0


def test_signup_without_plan_field_is_400(client, prefix, plan):
    body = _body(plan.id)
    del body["planId"]
    resp = _signup(client, prefix, body)
    assert resp.status_code == 400
    assert "planId" in resp.get_json()["fields"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "A"),
        ("name", "   "),
        ("email", "not-an-email"),
        ("password", "1234"),
        ("password", None),
        ("recurrence", "SEMANAL"),
        ("phone", "9" * 41),
    ],
)
def test_signup_validation_errors_are_400(client, prefix, plan, field, value):
    resp = _signup(client, prefix, _body(plan.id, **{field: value}))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert camelcase(field) in body["fields"]
    assert _count(Company) == 0


@pytest.mark.parametrize("field", ["name", "email", "password"])
def test_signup_required_fields(client, prefix, plan, field):
    body = _body(plan.id)
    del body[field]
    resp = _signup(client, prefix, body)
    assert resp.status_code == 400
    assert field in resp.get_json()["fields"]


# -- honeypot -------------------------------------------------------------------


@pytest.mark.parametrize("website", ["http://spam.example", 42, ["x"]])
def test_honeypot_answers_like_success_but_creates_nothing(client, prefix, plan, website):
    resp = _signup(client, prefix, _body(plan.id, website=website))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == COMPANY_KEYS
    assert body["name"] == "Padaria Pão Quente" and body["status"] is True
    assert isinstance(body["id"], int)
    assert (_count(Company), _count(User), _count(Setting)) == (0, 0, 0)
    # The same person can still sign up for real afterwards.
    real = _signup(client, prefix, _body(plan.id))
    assert real.status_code == 200
    assert _count(Company) == 1


@pytest.mark.parametrize("website", ["", "   ", None])
def test_empty_honeypot_is_a_real_signup(client, prefix, plan, website):
    resp = _signup(client, prefix, _body(plan.id, website=website))
    assert resp.status_code == 200
    assert _count(Company, id=resp.get_json()["id"]) == 1


def test_honeypot_errors_look_like_real_errors(client, prefix, plan):
    factories.CompanyFactory(name="Padaria Pão Quente")
    db.session.commit()
    resp = _signup(client, prefix, _body(plan.id, website="x"))
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_COMPANY_NAME_ALREADY_EXISTS"}


# -- throttling -----------------------------------------------------------------


def test_signup_is_rate_limited_per_ip(client, prefix, app, plan):
    app.config["SIGNUP_MAX_PER_IP"] = 3
    codes = [
        _signup(client, prefix, _body(plan.id, name=f"Loja {i}", email=f"l{i}@x.example"))
        for i in range(3)
    ]
    assert [r.status_code for r in codes] == [200, 200, 200]
    resp = _signup(client, prefix, _body(plan.id, name="Loja 9", email="l9@x.example"))
    assert resp.status_code == 429
    assert resp.get_json() == {"error": "ERR_TOO_MANY_ATTEMPTS"}
    assert int(resp.headers["Retry-After"]) > 0
    assert _count(Company, name="Loja 9") == 0
    # Another address has its own budget.
    other = _signup(
        client, prefix, _body(plan.id, name="Loja 9", email="l9@x.example"), "198.51.100.1"
    )
    assert other.status_code == 200


def test_failed_and_honeypot_signups_count_towards_the_limit(client, prefix, app, plan):
    app.config["SIGNUP_MAX_PER_IP"] = 2
    assert _signup(client, prefix, _body(999999)).status_code == 400
    assert _signup(client, prefix, _body(plan.id, website="spam")).status_code == 200
    assert _signup(client, prefix, _body(plan.id)).status_code == 429


def test_default_limit_is_five_per_hour(client, prefix, plan):
    codes = [_signup(client, prefix, _body(999999)).status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]


# -- public plan lists ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/plans/list", "/plans/all"])
def test_plan_lists_are_public_and_expose_only_limits_price_and_flags(client, prefix, path):
    factories.PlanFactory(name="Pro", users=5, value=99.9, use_open_ai=False)
    factories.PlanFactory(name="Básico")
    db.session.commit()
    resp = client.get(f"{prefix}{path}")
    assert resp.status_code == 200
    rows = resp.get_json()
    assert [r["name"] for r in rows] == ["Básico", "Pro"]
    assert all(set(r) == PUBLIC_PLAN_KEYS for r in rows)
    assert rows[1]["users"] == 5 and rows[1]["value"] == 99.9
    assert rows[1]["useOpenAi"] is False and rows[1]["useKanban"] is True
