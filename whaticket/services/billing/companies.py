"""Companies: the super user's tenant management, with the first admin and default settings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket import bus, jobs
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Company, Plan, User
from whaticket.realtime import kick
from whaticket.services.billing.invoices import on_company_billing_change
from whaticket.services.team import settings as settings_service
from whaticket.services.team import users as user_service
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import value_taken

DEFAULT_ADMIN_PASSWORD = "mudar123"

#: Rows every company has from birth; they do not count as "data" for deletion.
_BOOKKEEPING_TABLES = frozenset({"settings", "refresh_tokens", "users"})


def list_companies(search: str, page_number: int) -> tuple[list[Company], int, bool]:
    """A page of companies ordered by name."""
    stmt = sa.select(Company)
    if search:
        stmt = stmt.where(search_filter(search, Company.name))
    return paginate(stmt.order_by(Company.name, Company.id), page_number)


def list_all() -> list[Company]:
    """Every company with its plan, ordered by name."""
    return list(db.session.scalars(sa.select(Company).order_by(Company.name, Company.id)))


def get_company(company_id: int) -> Company:
    """A company by id; 404 ERR_NO_COMPANY_FOUND."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise AppError("ERR_NO_COMPANY_FOUND", 404)
    return company


def visible_company(actor: User, company_id: int) -> Company:
    """The actor's own company, or any company for a super user (others are 404)."""
    if not actor.super and actor.company_id != company_id:
        raise AppError("ERR_NO_COMPANY_FOUND", 404)
    return get_company(company_id)


def update_schedules(actor: User, company_id: int, data: dict[str, Any]) -> Company:
    """Set the office hours, time zone and closed dates (the company's admins, or super)."""
    company = visible_company(actor, company_id)
    if not (actor.super or actor.is_admin):
        raise AppError("ERR_NO_PERMISSION", 403)
    if "schedules" in data:
        company.schedules = list(data["schedules"])
    if "timezone" in data and data["timezone"] != company.timezone:
        company.timezone = data["timezone"]
        # Reports count per local day: the days of past events move with the zone.
        jobs.enqueue("reports.rebuild_rollup", company.id, queue="low", durable=True)
    if "closed_dates" in data:
        company.closed_dates = sorted({day.isoformat() for day in data["closed_dates"]})
    db.session.flush()
    if {"schedules", "timezone", "closed_dates"} & data.keys():
        bus.office_hours_changed.publish(company_id=company.id)
    return company


def _check_name(name: str, exclude_id: int | None = None) -> None:
    if value_taken(Company.name, name, exclude_id=exclude_id):
        raise AppError("ERR_COMPANY_NAME_ALREADY_EXISTS", 400)


def _check_plan(plan_id: int | None) -> None:
    if plan_id is not None and db.session.get(Plan, plan_id) is None:
        raise AppError("ERR_VALIDATION", 400, {"planId": ["Unknown plan."]})


_COMPANY_FIELDS = (
    "name",
    "phone",
    "email",
    "document",
    "status",
    "due_date",
    "recurrence",
    "plan_id",
)


def create_company(data: dict[str, Any]) -> Company:
    """Create a company, its default settings and its first admin user."""
    name = data["name"].strip()
    _check_name(name)
    _check_plan(data.get("plan_id"))
    admin_email = (data.get("admin_email") or data.get("email") or "").strip().lower()
    if not admin_email:
        raise AppError(
            "ERR_VALIDATION", 400, {"email": ["An e-mail for the first admin is required."]}
        )
    fields = {k: data[k] for k in _COMPANY_FIELDS if k in data}
    company = Company(**dict(fields, name=name))
    db.session.add(company)
    db.session.flush()
    settings_service.create_defaults(company.id, data.get("campaigns_enabled"))
    user_service.create_user(
        company.id,
        {
            "name": data.get("admin_name") or name,
            "email": admin_email,
            "password": data.get("password") or DEFAULT_ADMIN_PASSWORD,
            "profile": "admin",
        },
        enforce_limit=False,
    )
    if company.due_date is not None:
        on_company_billing_change(company.id)
    return company


def update_company(company_id: int, data: dict[str, Any]) -> Company:
    """Update a company's fields (and its campaignsEnabled setting)."""
    company = get_company(company_id)
    if "name" in data:
        data = dict(data, name=data["name"].strip())
        _check_name(data["name"], exclude_id=company.id)
    if "plan_id" in data:
        _check_plan(data["plan_id"])
    for key in _COMPANY_FIELDS:
        if key in data:
            setattr(company, key, data[key])
    if "status" in data and not data["status"]:
        # A deactivated company's users are signed out: tokens are refused (security.
        # token_user) and, after the commit, their open sockets disconnected.
        kick.disconnect_company(company.id)
    if data.get("campaigns_enabled") is not None:
        settings_service.update_setting(
            company.id, "campaignsEnabled", "true" if data["campaigns_enabled"] else "false"
        )
    db.session.flush()
    if any(key in data for key in ("due_date", "plan_id", "recurrence")):
        # A new due date or price may open (or change) the current period's invoice.
        on_company_billing_change(company.id)
    return company


def _company_delete_statements(table: sa.Table, company_id: int) -> list[sa.Delete]:
    """DELETEs removing `table`'s rows owned by the company, directly or through a parent."""
    if "company_id" in table.c:
        return [sa.delete(table).where(table.c.company_id == company_id)]
    # Join tables (user_queues, ...) belong to the company through their parents.
    stmts = []
    for fk in table.foreign_keys:
        parent = fk.column.table
        if "company_id" in parent.c:
            owned = sa.select(fk.column).where(parent.c.company_id == company_id)
            stmts.append(sa.delete(table).where(fk.parent.in_(owned)))
    return stmts


def has_data(company_id: int) -> bool:
    """True when the company owns anything beyond its settings and first admin."""
    for table in db.metadata.sorted_tables:
        if "company_id" not in table.c or table.name in _BOOKKEEPING_TABLES:
            continue
        found = db.session.execute(
            sa.select(sa.literal(1))
            .select_from(table)
            .where(table.c.company_id == company_id)
            .limit(1)
        ).first()
        if found is not None:
            return True
    users = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(User.company_id == company_id)
    )
    return (users or 0) > 1


def delete_company(company_id: int, *, actor: User, force: bool) -> None:
    """Delete a company and every row it owns (nothing else); data needs force=True."""
    company = get_company(company_id)
    if company.id == actor.company_id:
        raise AppError("ERR_CANNOT_DELETE_OWN_COMPANY", 400)
    if not force and has_data(company.id):
        raise AppError("ERR_COMPANY_HAS_DATA", 409)
    # Delete child rows explicitly, deepest tables first, so the result is the
    # same whether or not the database enforces ON DELETE CASCADE.
    for table in reversed(db.metadata.sorted_tables):
        for stmt in _company_delete_statements(table, company.id):
            db.session.execute(stmt)
    db.session.execute(sa.delete(Company).where(Company.id == company.id))
    db.session.expire_all()
    kick.disconnect_company(company_id)
