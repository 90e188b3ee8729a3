"""What billing decides about signed-in requests: an overdue company's users reach only
signing in and paying, and plan flags switch features off.

`install(app)` registers both with `whaticket.security` when the app is created; the
security layer itself imports no service.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from whaticket.errors import AppError
from whaticket.security import add_user_policy, set_feature_check
from whaticket.services.billing import plans, standing

#: What an overdue company's users may still reach: signing in and out, and paying.
_OVERDUE_ALLOWED = ("/auth/", "/invoices", "/subscription", "/plans/list", "/plans/all")
_OVERDUE_ALLOWED_ENDPOINTS = {"companies.list_plan", "companies.show_company"}


def overdue_policy(user: Any, path: str, endpoint: str | None) -> None:
    """402 ERR_SUBSCRIPTION_EXPIRED for an overdue company's users outside the billing
    endpoints (super users pass); `path` is the request path without API_PREFIX."""
    if user.super or not standing.is_overdue(user.company):
        return
    if endpoint in _OVERDUE_ALLOWED_ENDPOINTS:
        return
    if any(path.startswith(prefix) for prefix in _OVERDUE_ALLOWED):
        return
    raise AppError(standing.EXPIRED, 402)


def plan_allows(user: Any, flag: str) -> bool:
    """Whether the user may use the plan feature `flag` (super users always may)."""
    return bool(user.super) or plans.feature_enabled(user.company, flag)


def install(app: Flask) -> None:
    """Register the billing policies with the app's request-policy registry."""
    add_user_policy(app, overdue_policy)
    set_feature_check(app, plan_allows)
