"""Tenant self-signup (`POST /companies/cadastro`): throttled, trial set by the server.

The answer never tells whether an e-mail already has an account: such a sign-up does the
same work and answers the same success shape, nothing is kept, and the account's owner
is told by mail (after the rollback; at most SIGNUP_NOTICES_PER_EMAIL a window).
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Company, User
from whaticket.services.billing import companies as company_service
from whaticket.services.platform import ratelimit
from whaticket.utils.queries import value_taken

DEFAULT_TRIAL_DAYS = 7
DEFAULT_RECURRENCE = "MENSAL"
DEFAULT_MAX_PER_IP = 5
DEFAULT_WINDOW_SECONDS = 3600
#: The admin e-mail a sign-up with a taken e-mail is built with (then rolled back): the
#: reserved .invalid domain can never be anyone's address.
_STAND_IN_DOMAIN = "signup.invalid"


@dataclass
class SignupResult:
    """What a sign-up built, and whether the view may keep it."""

    company: Company
    #: False for a honeypot hit or an e-mail that has an account: the view rolls back.
    keep: bool
    #: The e-mail that already has an account, whose owner is told after the rollback.
    existing_email: str | None = None


def _window() -> int:
    return int(current_app.config.get("SIGNUP_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))


def _throttle(ip: str) -> None:
    """429 ERR_TOO_MANY_ATTEMPTS with Retry-After past the per-IP signup budget."""
    limit = int(current_app.config.get("SIGNUP_MAX_PER_IP", DEFAULT_MAX_PER_IP))
    ratelimit.enforce(f"signup-ip:{ip}", _window(), limit)


def is_honeypot(data: dict[str, Any]) -> bool:
    """True when the hidden `website` field was filled in (people never see it)."""
    value = data.get("website")
    return value is not None and str(value).strip() != ""


def trial_due_date(now: datetime | None = None) -> datetime:
    """When a new company's trial ends: now + TRIAL_DAYS (default 7)."""
    days = int(current_app.config.get("TRIAL_DAYS", DEFAULT_TRIAL_DAYS))
    return (now or utcnow()) + timedelta(days=days)


def signup(data: dict[str, Any], ip: str, now: datetime | None = None) -> SignupResult:
    """Create an active trial company, its admin and default settings (the caller commits,
    or rolls back when `keep` is False).

    The client's `status` and `dueDate` never reach here: a public caller must not pick
    its own expiry. A honeypot hit, and an e-mail that already has an account, run exactly
    this too (the latter with a stand-in admin e-mail, password hashing included), so the
    answer and its cost are a real sign-up's; the view rolls them back.
    """
    _throttle(ip)
    if data.get("plan_id") is None:
        # create_company accepts a plan-less company (super users may make one); signup
        # may not, or a tenant would exist with no limits.
        raise AppError("ERR_VALIDATION", 400, {"planId": ["A plan is required."]})
    email = data["email"].strip().lower()
    taken = value_taken(User.email, email)
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
    if taken:
        payload["admin_email"] = f"{uuid.uuid4().hex}@{_STAND_IN_DOMAIN}"
    if data.get("admin_name"):
        payload["admin_name"] = data["admin_name"].strip()
    company = company_service.create_company(payload)
    honeypot = is_honeypot(data)
    return SignupResult(
        company=company,
        keep=not (taken or honeypot),
        # A bot filling the honeypot gets no mail sent on its behalf.
        existing_email=email if taken and not honeypot else None,
    )


def notify_existing_account(email: str) -> None:
    """Queue the "someone signed up with your e-mail" notice (the caller commits).

    Past SIGNUP_NOTICES_PER_EMAIL in the signup window no more is sent: sign-ups must not
    become a way to flood someone's mailbox.
    """
    limit = int(current_app.config["SIGNUP_NOTICES_PER_EMAIL"])
    if ratelimit.hit(f"signup-notice:{email}", _window()) <= limit:
        jobs.enqueue("users.send_signup_notice", email)


def existing_account(email: str) -> User | None:
    """The user an e-mail belongs to (stored lower-cased), if any."""
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def notice_mail(user: User) -> tuple[str, str, str]:
    """Subject, text and HTML of the notice to an account whose e-mail was used to sign up."""
    # FRONTEND_URL may list several origins: the first one is the main address.
    base = str(current_app.config["FRONTEND_URL"]).split(",")[0].strip().rstrip("/")
    subject = "Tentativa de cadastro com o seu e-mail / Sign-up attempt with your e-mail"
    text = (
        f"Olá {user.name},\n\n"
        "Alguém tentou criar uma nova conta com este e-mail, que já tem uma conta. "
        "Nada foi criado e a sua conta continua igual.\n\n"
        f'Se foi você, entre em {base}/login (ou use "Esqueceu sua senha?").\n'
        "Se não foi você, ignore este e-mail.\n\n"
        "---\nSomeone tried to create a new account with this e-mail, which already has "
        "one. Nothing was created and your account is unchanged. If it was you, sign in "
        f"at {base}/login or reset your password; otherwise ignore this e-mail.\n"
    )
    link = html.escape(f"{base}/login", quote=True)
    body = (
        f"<p>Olá {html.escape(user.name, quote=True)},</p>"
        "<p>Alguém tentou criar uma nova conta com este e-mail, que já tem uma conta. "
        "Nada foi criado e a sua conta continua igual.</p>"
        f'<p>Se foi você, <a href="{link}">entre</a> (ou use "Esqueceu sua senha?").</p>'
        "<p>Se não foi você, ignore este e-mail.</p>"
    )
    return subject, text, body
