"""Plans: CRUD for super users; the public list the signup page reads."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Company, Plan
from whaticket.utils.pagination import paginate, search_filter
from whaticket.utils.queries import value_taken


def list_plans(search: str, page_number: int) -> tuple[list[Plan], int, bool]:
    """A page of plans ordered by name."""
    stmt = sa.select(Plan)
    if search:
        stmt = stmt.where(search_filter(search, Plan.name))
    return paginate(stmt.order_by(Plan.name, Plan.id), page_number)


def list_all() -> list[Plan]:
    """Every plan ordered by name."""
    return list(db.session.scalars(sa.select(Plan).order_by(Plan.name, Plan.id)))


def get_plan(plan_id: int) -> Plan:
    """A plan by id; 404 ERR_NO_PLAN_FOUND."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise AppError("ERR_NO_PLAN_FOUND", 404)
    return plan


def _check_name(name: str, exclude_id: int | None = None) -> None:
    if value_taken(Plan.name, name, exclude_id=exclude_id):
        raise AppError("ERR_PLAN_NAME_ALREADY_EXISTS", 400)


def create_plan(data: dict[str, Any]) -> Plan:
    """Create a plan with a unique name."""
    data = dict(data, name=data["name"].strip())
    _check_name(data["name"])
    plan = Plan(**data)
    db.session.add(plan)
    db.session.flush()
    return plan


def update_plan(plan_id: int, data: dict[str, Any]) -> Plan:
    """Update a plan; the name stays unique."""
    plan = get_plan(plan_id)
    if "name" in data:
        data = dict(data, name=data["name"].strip())
        _check_name(data["name"], exclude_id=plan.id)
    for key, value in data.items():
        setattr(plan, key, value)
    db.session.flush()
    return plan


def delete_plan(plan_id: int) -> None:
    """Delete a plan no company uses (400 ERR_PLAN_IN_USE otherwise)."""
    plan = get_plan(plan_id)
    in_use = db.session.scalar(sa.select(Company.id).where(Company.plan_id == plan.id).limit(1))
    if in_use is not None:
        raise AppError("ERR_PLAN_IN_USE", 400)
    db.session.delete(plan)
    db.session.flush()


def enforce_limit(company_id: int, model: Any, limit: str, error: str) -> None:
    """400 `error` when the company already has as many `model` rows as its plan's `limit`
    (users, connections or queues) allows; a company without a plan has no limits."""
    company = db.session.get(Company, company_id)
    if company is None:
        raise AppError("ERR_NO_COMPANY_FOUND", 404)
    if company.plan is None:
        return
    used = db.session.scalar(
        sa.select(sa.func.count(model.id)).where(model.company_id == company_id)
    )
    if (used or 0) >= getattr(company.plan, limit):
        raise AppError(error, 400)


def feature_enabled(company: Company | None, flag: str) -> bool:
    """Whether the company's plan has the feature `flag` on (no plan: allowed)."""
    plan = company.plan if company is not None else None
    return plan is None or bool(getattr(plan, flag, True))
