"""Who calls the public API (`{API_PREFIX}/v1`) and what they may reach.

`authenticate` turns `Authorization: Bearer <token>` into a `Principal`: a scoped API
token (`api_tokens`), or a connection's send token (`Whatsapp.token_hash`, the external
API's), which acts as a token with `messages:send` on that one connection. `throttle`
counts the call per token and per company, `require_scope` checks the operation's scope,
`touch` records the last use at most once a minute. `ticket_conditions` / `visible_ticket`
apply a token's connection and queue restrictions to tickets (and, through their ticket,
to messages); `connection_for_send` picks the connection a send to a number goes out on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import ApiToken, Company, Ticket, User, Whatsapp
from whaticket.services.billing import plans as plan_service
from whaticket.services.billing import standing
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.integrations import api_tokens
from whaticket.services.platform import ratelimit
from whaticket.services.tickets import lookup as ticket_lookup
from whaticket.utils.queries import find_owned

#: The rate-limit window of the per-token and per-company limits.
WINDOW = 60
#: The last-used time is written at most this often per token (not once per request).
TOUCH_EVERY = timedelta(minutes=1)
#: The one scope a connection's send token carries.
SEND_SCOPE = "messages:send"


@dataclass(frozen=True)
class Principal:
    """The caller of a v1 request: its company, scopes and restrictions (plain values)."""

    company_id: int
    scopes: frozenset[str]
    #: Connections it is limited to (empty: all of the company's).
    whatsapp_ids: tuple[int, ...]
    #: Queues it is limited to (empty: all, and tickets without a queue).
    queue_ids: tuple[int, ...]
    #: The ApiToken's id; None for a connection's send token.
    token_id: int | None
    created_by_id: int | None
    last_used_at: datetime | None
    #: Its rate-limit counter and the requests per minute it allows.
    bucket: str
    limit: int


def _fail_bucket(ip: str) -> str:
    # Shared with the connection-token endpoint (services/connections/external_api): one
    # budget of wrong guesses per address, whichever door they knock on.
    return f"external-api-fail:{ip}"


def _refuse(ip: str, window: int) -> AppError:
    """Count a refused token for `ip`; the 401 to raise."""
    ratelimit.hit(_fail_bucket(ip), window)
    return AppError("ERR_INVALID_TOKEN", 401)


def _token_principal(token: ApiToken) -> Principal:
    return Principal(
        company_id=token.company_id,
        scopes=frozenset(token.scopes or ()),
        whatsapp_ids=tuple(int(i) for i in token.whatsapp_ids or ()),
        queue_ids=tuple(int(i) for i in token.queue_ids or ()),
        token_id=token.id,
        created_by_id=token.created_by_id,
        last_used_at=token.last_used_at,
        bucket=f"api-token:{token.id}",
        limit=int(current_app.config["API_TOKEN_MAX_PER_MINUTE"]),
    )


def _connection_principal(conn: Whatsapp) -> Principal:
    return Principal(
        company_id=conn.company_id,
        scopes=frozenset({SEND_SCOPE}),
        whatsapp_ids=(conn.id,),
        queue_ids=(),
        token_id=None,
        created_by_id=None,
        last_used_at=None,
        # The external API's own counter: the token is throttled the same wherever used.
        bucket=f"external-api:{conn.id}",
        limit=int(current_app.config.get("EXTERNAL_API_MAX_PER_MINUTE", 60)),
    )


def _check_company(company_id: int) -> None:
    """A disabled company's tokens are 401, an overdue one's 402, a plan without the
    external API 403 ERR_PLAN_FEATURE_DISABLED."""
    company = db.session.get(Company, company_id)
    if company is None or not company.status:
        raise AppError("ERR_COMPANY_INACTIVE", 401)
    if standing.is_overdue(company):
        raise AppError(standing.EXPIRED, 402)
    if not plan_service.feature_enabled(company, "use_external_api"):
        raise AppError("ERR_PLAN_FEATURE_DISABLED", 403)


def authenticate(authorization: str | None, ip: str) -> Principal:
    """The principal of `Authorization: Bearer <token>`; 401 ERR_INVALID_TOKEN for a
    missing, unknown, expired or revoked token.

    Past EXTERNAL_API_MAX_FAILURES_PER_IP refusals from `ip` in the window, every call from
    it is 429 (a right token included, so the one differing answer tells a guesser nothing).
    """
    cfg = current_app.config
    window = int(cfg["EXTERNAL_API_FAILURE_WINDOW_SECONDS"])
    bucket = _fail_bucket(ip)
    if ratelimit.count(bucket) >= int(cfg["EXTERNAL_API_MAX_FAILURES_PER_IP"]):
        retry = ratelimit.retry_after(bucket, window)
        raise AppError("ERR_TOO_MANY_ATTEMPTS", 429, headers={"Retry-After": str(retry)})
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip() if scheme.lower() == "bearer" else ""
    if not secret:
        raise _refuse(ip, window)
    token = api_tokens.by_secret(secret)
    if token is not None:
        if token.status != "active":
            raise _refuse(ip, window)
        principal = _token_principal(token)
    else:
        conn = whatsapp_service.by_token(secret)
        if conn is None:
            raise _refuse(ip, window)
        principal = _connection_principal(conn)
    _check_company(principal.company_id)
    return principal


def throttle(principal: Principal) -> None:
    """Count the call per token and per company: 429 ERR_TOO_MANY_ATTEMPTS past either."""
    ratelimit.enforce(principal.bucket, WINDOW, principal.limit)
    company_limit = int(current_app.config["API_COMPANY_MAX_PER_MINUTE"])
    ratelimit.enforce(f"api-company:{principal.company_id}", WINDOW, company_limit)


def require_scope(principal: Principal, scope: str) -> None:
    """403 ERR_INSUFFICIENT_SCOPE unless the principal holds `scope`, and holds it with
    limits the scope allows (a token edited by hand gets no further than one made)."""
    if scope not in principal.scopes:
        raise AppError("ERR_INSUFFICIENT_SCOPE", 403)
    if api_tokens.limit_problem({scope}, list(principal.whatsapp_ids), list(principal.queue_ids)):
        raise AppError("ERR_INSUFFICIENT_SCOPE", 403)


def require_feature(principal: Principal, flag: str) -> None:
    """403 ERR_PLAN_FEATURE_DISABLED when the company's plan has `flag` off (the features
    some operations need beyond the external API: campaigns, integrations)."""
    if not plan_service.feature_enabled(db.session.get(Company, principal.company_id), flag):
        raise AppError("ERR_PLAN_FEATURE_DISABLED", 403)


def touch(principal: Principal) -> bool:
    """Record the token's last use when the last record is a minute old; whether it wrote
    (the caller commits). One conditional UPDATE: concurrent calls write it once."""
    if principal.token_id is None:
        return False
    now = utcnow()
    if principal.last_used_at is not None and now - principal.last_used_at < TOUCH_EVERY:
        return False
    result = db.session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.id == principal.token_id,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY),
        )
        # Its updated_at stays: a use is not a change of the token.
        .values(last_used_at=now, updated_at=ApiToken.updated_at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def acting_user(principal: Principal) -> User:
    """The user a token acts as where a service records one (closing, transferring): the
    admin who made it while still an admin, else the company's first admin."""
    creator = find_owned(User, principal.created_by_id, principal.company_id)
    if creator is not None and creator.is_admin:
        return creator
    admin = db.session.scalar(
        sa.select(User)
        .where(User.company_id == principal.company_id, User.profile == "admin")
        .order_by(User.id)
        .limit(1)
    )
    if admin is None:
        raise AppError("ERR_NO_PERMISSION", 403)
    return admin


# -- restrictions ---------------------------------------------------------------------


def ticket_conditions(principal: Principal) -> list[Any]:
    """WHERE conditions on Ticket: the company, and the token's connections and queues."""
    conds: list[Any] = [Ticket.company_id == principal.company_id]
    if principal.whatsapp_ids:
        conds.append(Ticket.whatsapp_id.in_(principal.whatsapp_ids))
    if principal.queue_ids:
        conds.append(Ticket.queue_id.in_(principal.queue_ids))
    return conds


def sees(principal: Principal, ticket: Ticket) -> bool:
    """Whether the token's restrictions let it see `ticket` (of its company)."""
    if ticket.company_id != principal.company_id:
        return False
    if principal.whatsapp_ids and ticket.whatsapp_id not in principal.whatsapp_ids:
        return False
    return not principal.queue_ids or ticket.queue_id in principal.queue_ids


def visible_ticket(principal: Principal, ticket_id: int) -> Ticket:
    """A ticket the token sees; 404 ERR_NO_TICKET_FOUND otherwise (as a missing one)."""
    ticket = ticket_lookup.get_ticket(principal.company_id, ticket_id)
    if not sees(principal, ticket):
        raise AppError("ERR_NO_TICKET_FOUND", 404)
    return ticket


def check_queue(principal: Principal, queue_id: int | None) -> None:
    """400 fields.queueId when a queue-restricted token moves a ticket out of its queues."""
    if principal.queue_ids and queue_id not in principal.queue_ids:
        raise AppError("ERR_VALIDATION", 400, {"queueId": ["Outside this token's queues."]})


def connection_for_send(principal: Principal, whatsapp_id: int | None) -> Whatsapp:
    """The connection a send to a number goes out on: the one asked for, else the token's
    only connection, else the company's default.

    A queue-restricted token writes only in its queues' tickets, so it cannot start a
    conversation by number (403 ERR_INSUFFICIENT_SCOPE).
    """
    if principal.queue_ids:
        raise AppError("ERR_INSUFFICIENT_SCOPE", 403)
    allowed = principal.whatsapp_ids
    if whatsapp_id is None and len(allowed) > 1:
        raise AppError("ERR_VALIDATION", 400, {"whatsappId": ["Missing data for required field."]})
    if whatsapp_id is None and allowed:
        whatsapp_id = allowed[0]
    if whatsapp_id is None:
        return whatsapp_service.default_connection(principal.company_id)
    conn = find_owned(Whatsapp, whatsapp_id, principal.company_id)
    if conn is None or (allowed and conn.id not in allowed):
        raise AppError("ERR_VALIDATION", 400, {"whatsappId": ["Unknown connection."]})
    return conn
