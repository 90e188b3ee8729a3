"""Tenant self-signup (`POST /companies/cadastro`): throttled, trial set by the server."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.models import Company
from whaticket.services.billing import companies as company_service
from whaticket.services.platform import ratelimit

DEFAULT_TRIAL_DAYS = 7
DEFAULT_RECURRENCE = "MENSAL"
DEFAULT_MAX_PER_IP = 5
DEFAULT_WINDOW_SECONDS = 3600


def _throttle(ip: str) -> None:
    """429 ERR_TOO_MANY_ATTEMPTS with Retry-After past the per-IP signup budget."""
    cfg = current_app.config
    window = int(cfg.get("SIGNUP_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))
    limit = int(cfg.get("SIGNUP_MAX_PER_IP", DEFAULT_MAX_PER_IP))
    ratelimit.enforce(f"signup-ip:{ip}", window, limit)


def is_honeypot(data: dict[str, Any]) -> bool:
    """True when the hidden `website` field was filled in (people never see it)."""
    value = data.get("website")
    return value is not None and str(value).strip() != ""


def trial_due_date(now: datetime | None = None) -> datetime:
    """When a new company's trial ends: now + TRIAL_DAYS (default 7)."""
    days = int(current_app.config.get("TRIAL_DAYS", DEFAULT_TRIAL_DAYS))
    return (now or utcnow()) + timedelta(days=days)


def signup(data: dict[str, Any], ip: str, now: datetime | None = None) -> Company:
    """Create an active trial company, its admin and default settings (the caller commits).

    The client's `status` and `dueDate` never reach here: a public caller must not pick
    its own expiry. A honeypot hit runs exactly this too; the view rolls it back.
    """
    _throttle(ip)
    if data.get("plan_id") is None:
        # create_company accepts a plan-less company (super users may make one); signup
        # may not, or a tenant would exist with no limits.
        raise AppError("ERR_VALIDATION", 400, {"planId": ["A plan is required."]})
    payload: dict[str, Any] = {
        "name": data["name"],
        "email": data["email"],
        "phone": data.get("phone"),
        "password": data["password"],
        "plan_id": data["plan_id"],
        "recurrence": data.get("recurrence") or DEFAULT_RECURRENCE,
        "status": True,
        "due_date": trial_due_date(now),
        "campaigns_enabled": data.get("campaigns_enabled"),
    }
    if data.get("admin_name"):
        payload["admin_name"] = data["admin_name"].strip()
    return company_service.create_company(payload)
