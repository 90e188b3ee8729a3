"""Dashboard endpoints: the counters and attendants, tickets per user, tickets per hour/day.

Every user of the company may read them: the SaaS frontend shows the dashboard to all.
"""

from __future__ import annotations

from whaticket.api.base import Blueprint
from whaticket.schemas.dashboard import (
    DashboardArgsSchema,
    DashboardSchema,
    TicketsPerPeriodSchema,
    TicketsPerUserSchema,
    TicketsReportArgsSchema,
)
from whaticket.security import auth_required, current_company_id
from whaticket.services.reports import dashboard as dashboard_service

blp = Blueprint("dashboard", __name__, url_prefix="/dashboard", description="Dashboard")


@blp.get("")
@auth_required
@blp.arguments(DashboardArgsSchema, location="query")
@blp.response(200, DashboardSchema)
def show_dashboard(args: dict) -> dict:
    """Service-time counters and the attendants table for the caller's company."""
    return dashboard_service.dashboard(
        current_company_id(),
        days=args.get("days"),
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
    )


@blp.get("/ticketsUsers")
@auth_required
@blp.arguments(TicketsReportArgsSchema, location="query")
@blp.response(200, TicketsPerUserSchema)
def tickets_users(args: dict) -> dict:
    """Episodes finished per user between two local dates (the SaaS left this public)."""
    return dashboard_service.tickets_per_user(
        current_company_id(), args["initial_date"], args["final_date"]
    )


@blp.get("/ticketsDay")
@auth_required
@blp.arguments(TicketsReportArgsSchema, location="query")
@blp.response(200, TicketsPerPeriodSchema)
def tickets_day(args: dict) -> dict:
    """Episodes opened per local hour (one day) or per local day (the SaaS left this public)."""
    return dashboard_service.tickets_per_period(
        current_company_id(), args["initial_date"], args["final_date"]
    )
