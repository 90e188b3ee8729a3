"""Scoped API tokens (`/api-tokens`, admins): create (the token shown once), list, revoke.

A token is `wtk_` + 256 random bits; only its SHA-256 is stored (`utils.crypto.digest`, the
lookup key), with its last characters as a hint. Scopes come from `models.API_SCOPES`;
connection and queue restrictions are ids of the company's rows; every token expires.
Authenticating a request with one is `api_access`'s job.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import ApiToken, Queue, User, Whatsapp
from whaticket.utils.crypto import digest
from whaticket.utils.pagination import paginate
from whaticket.utils.queries import get_owned

NOT_FOUND = "ERR_API_TOKEN_NOT_FOUND"
#: A token reads as what it is wherever it is pasted (and secret scanners can spot it).
TOKEN_PREFIX = "wtk_"
#: Scopes over company-wide data: a token restricted to connections or queues cannot hold
#: them (the report rollup is not kept per restriction; a webhook subscription hears every
#: connection and queue of the company).
COMPANY_WIDE_SCOPES = frozenset({"reports:read", "webhooks:manage"})
#: Scopes with no meaning per queue: a campaign goes out on a connection to a contact list,
#: outside any queue. Connection limits apply to them; queue limits cannot.
NO_QUEUE_LIMIT_SCOPES = frozenset({"campaigns:write"})


def limit_problem(scopes: set[str], whatsapp_ids: list[int], queue_ids: list[int]) -> str | None:
    """Why these scopes cannot go with these limits (None: they can)."""
    wide = COMPANY_WIDE_SCOPES & scopes
    if wide and (whatsapp_ids or queue_ids):
        names = ", ".join(sorted(wide))
        return f"{names} reaches company-wide data: not with connection or queue limits."
    unqueued = NO_QUEUE_LIMIT_SCOPES & scopes
    if unqueued and queue_ids:
        return f"{', '.join(sorted(unqueued))} works outside queues: not with queue limits."
    return None


def new_secret() -> str:
    """A fresh token (256 bits of randomness)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def list_tokens(company_id: int, page_number: int) -> tuple[list[ApiToken], int, bool]:
    """A page (20) of the company's tokens, newest first, revoked and expired ones included."""
    stmt = sa.select(ApiToken).where(ApiToken.company_id == company_id)
    return paginate(stmt.order_by(ApiToken.id.desc()), page_number)


def get_token(company_id: int, token_id: int) -> ApiToken:
    """A token of the company; another company's is 404 like a missing one."""
    return get_owned(ApiToken, token_id, company_id, NOT_FOUND)


def by_secret(secret: str) -> ApiToken | None:
    """The token row of a presented secret (None for an empty or unknown one)."""
    if not secret:
        return None
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest(secret)))


def _owned_ids(company_id: int, model: Any, ids: list[int], field: str) -> list[int]:
    """`ids` (deduplicated, in order) when each is a row of the company; 400 `field` else."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = set(
        db.session.scalars(
            sa.select(model.id).where(model.company_id == company_id, model.id.in_(wanted))
        )
    )
    if len(found) != len(wanted):
        raise AppError("ERR_VALIDATION", 400, {field: ["Unknown id."]})
    return wanted


def _expiry(expires_at: datetime | None, now: datetime) -> datetime:
    """The requested expiry (default API_TOKEN_DEFAULT_DAYS), in the future and at most
    API_TOKEN_MAX_DAYS away; 400 fields.expiresAt otherwise."""
    cfg = current_app.config
    if expires_at is None:
        return now + timedelta(days=int(cfg["API_TOKEN_DEFAULT_DAYS"]))
    if expires_at <= now:
        raise AppError("ERR_VALIDATION", 400, {"expiresAt": ["Must be in the future."]})
    if expires_at > now + timedelta(days=int(cfg["API_TOKEN_MAX_DAYS"])):
        longest = f"At most {int(cfg['API_TOKEN_MAX_DAYS'])} days away."
        raise AppError("ERR_VALIDATION", 400, {"expiresAt": [longest]})
    return expires_at


def _check_limit(company_id: int, now: datetime) -> None:
    """400 ERR_API_TOKEN_LIMIT when the company holds API_TOKEN_MAX_PER_COMPANY live tokens."""
    live = db.session.scalar(
        sa.select(sa.func.count(ApiToken.id)).where(
            ApiToken.company_id == company_id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
    )
    if (live or 0) >= int(current_app.config["API_TOKEN_MAX_PER_COMPANY"]):
        raise AppError("ERR_API_TOKEN_LIMIT", 400)


def create_token(company_id: int, actor: User, data: dict[str, Any]) -> tuple[ApiToken, str]:
    """Create a token; (it, the secret to show this once)."""
    now = utcnow()
    scopes = sorted(set(data["scopes"]))
    whatsapp_ids = _owned_ids(company_id, Whatsapp, data.get("whatsapp_ids") or [], "whatsappIds")
    queue_ids = _owned_ids(company_id, Queue, data.get("queue_ids") or [], "queueIds")
    problem = limit_problem(set(scopes), whatsapp_ids, queue_ids)
    if problem:
        raise AppError("ERR_VALIDATION", 400, {"scopes": [problem]})
    expires_at = _expiry(data.get("expires_at"), now)
    _check_limit(company_id, now)
    secret = new_secret()
    token = ApiToken(
        company_id=company_id,
        name=data["name"].strip(),
        token_hash=digest(secret),
        token_hint=secret[-4:],
        scopes=scopes,
        whatsapp_ids=whatsapp_ids,
        queue_ids=queue_ids,
        expires_at=expires_at,
        created_by_id=actor.id,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(company_id: int, token_id: int) -> ApiToken:
    """Revoke a token at once (its next request is 401); revoking twice changes nothing."""
    token = get_token(company_id, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token
