"""Company endpoints: super-user CRUD, public signup, plan views and usage figures."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_jwt_extended import current_user

from whaticket import db as dbmod
from whaticket.api.base import Blueprint
from whaticket.schemas.base import PageArgsSchema
from whaticket.schemas.companies import (
    CompanyCreateSchema,
    CompanyDeleteArgsSchema,
    CompanyPageSchema,
    CompanyPlanSchema,
    CompanySchedulesSchema,
    CompanySchema,
    CompanySignupSchema,
    CompanyUpdateSchema,
    CompanyUsageSchema,
    CompanyWithPlanSchema,
    CompanyWithSettingsSchema,
)
from whaticket.security import PUBLIC, auth_required, super_required
from whaticket.services.billing import companies as company_service
from whaticket.services.billing import signup as signup_service
from whaticket.services.reports import usage as usage_service

blp = Blueprint("companies", __name__, url_prefix="/companies", description="Companies (tenants)")
#: `/companiesPlan` sits outside the /companies prefix, so it needs its own blueprint.
plan_blp = Blueprint(
    "companies_plan", __name__, url_prefix="/companiesPlan", description="Companies with plans"
)


@blp.get("")
@super_required
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CompanyPageSchema)
def list_companies(args: dict) -> dict:
    """A page of companies (super users)."""
    rows, count, has_more = company_service.list_companies(
        args["search_param"], args["page_number"]
    )
    return {"companies": rows, "count": count, "has_more": has_more}


@blp.get("/list")
@super_required
@blp.response(200, CompanyWithSettingsSchema(many=True))
def list_all():
    """Every company with its plan and settings (super users)."""
    return company_service.list_all()


@blp.get("/listPlan/<int:company_id>")
@auth_required
@blp.response(200, CompanyPlanSchema)
def list_plan(company_id: int):
    """A company with its plan limits and feature flags (its members, or super users)."""
    return company_service.visible_company(current_user, company_id)


@blp.get("/<int:company_id>")
@auth_required
@blp.response(200, CompanySchema)
def show_company(company_id: int):
    """One company (its members, or super users)."""
    return company_service.visible_company(current_user, company_id)


@blp.post("")
@super_required
@blp.arguments(CompanyCreateSchema)
@blp.response(200, CompanySchema)
def create_company(data: dict):
    """Create a company with its default settings and first admin (super users)."""
    company = company_service.create_company(data)
    dbmod.commit()
    return company


@blp.post("/cadastro")
@blp.arguments(CompanySignupSchema)
@blp.response(200, CompanySchema)
@blp.doc(security=PUBLIC)
def signup(data: dict) -> Response:
    """Self-signup: an active trial company with its admin and default settings (public)."""
    result = signup_service.signup(data, request.remote_addr or "-")
    # Serialise before the commit or rollback expires (or discards) the rows.
    body = CompanySchema().dump(result.company)
    if result.keep:
        dbmod.commit()
        return jsonify(body)
    # A bot, or an e-mail that has an account: the very answer a person would get, but
    # nothing is kept (and the account's owner is told by mail, after the rollback).
    dbmod.rollback()
    if result.existing_email:
        signup_service.notify_existing_account(result.existing_email)
        dbmod.commit()
    return jsonify(body)


@blp.get("/<int:company_id>/usage")
@auth_required
@blp.response(200, CompanyUsageSchema)
def usage(company_id: int) -> dict:
    """Counts and this month's activity of a company (its admins, or super users)."""
    return usage_service.company_usage(current_user, company_id)


@plan_blp.get("")
@super_required
@plan_blp.response(200, CompanyWithPlanSchema(many=True))
def list_with_plans():
    """Every company with its plan's limits and feature flags (super users)."""
    return company_service.list_all()


@blp.put("/<int:company_id>")
@super_required
@blp.arguments(CompanyUpdateSchema)
@blp.response(200, CompanySchema)
def update_company(data: dict, company_id: int):
    """Update a company (super users)."""
    company = company_service.update_company(company_id, data)
    dbmod.commit()
    return company


@blp.put("/<int:company_id>/schedules")
@auth_required
@blp.arguments(CompanySchedulesSchema)
@blp.response(200, CompanySchema)
def update_schedules(data: dict, company_id: int):
    """Office hours, time zone and closed dates of the caller's company (admins)."""
    company = company_service.update_schedules(current_user, company_id, data)
    dbmod.commit()
    return company


@blp.delete("/<int:company_id>")
@super_required
@blp.arguments(CompanyDeleteArgsSchema, location="query")
@blp.response(200)
def delete_company(args: dict, company_id: int):
    """Delete a company and all its rows; one holding data needs ?force=true (super users)."""
    company_service.delete_company(company_id, actor=current_user, force=args["force"])
    dbmod.commit()
    return {"message": "Company deleted"}
