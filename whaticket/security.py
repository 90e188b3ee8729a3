"""JWT callbacks, password hashing, role decorators, current_company_id(), and the registry
of request policies the services layer decides (overdue companies, plan features).

This module decides who the caller is; whether that caller may go on is business policy,
registered per app by the services (`services/billing/policies.install`), so the security
layer imports no service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

import bcrypt
import jwt as pyjwt
import sqlalchemy as sa
from flask import Flask, current_app, jsonify, request
from flask_jwt_extended import (
    current_user,
    get_current_user,
    jwt_required,
    verify_jwt_in_request,
)

from whaticket import caller
from whaticket.caller import Caller
from whaticket.errors import AppError
from whaticket.extensions import db, jwt
from whaticket.models import RefreshToken, User
from whaticket.models.plan import FEATURE_FLAGS
from whaticket.schemas.base import INT_MAX
from whaticket.utils.offload import run_off_hub

F = TypeVar("F", bound=Callable[..., Any])

#: OpenAPI security requirement for endpoints that take the access token.
BEARER = [{"bearerAuth": []}]
#: OpenAPI security requirement for public endpoints.
PUBLIC: list[dict[str, list[str]]] = []


# -- passwords ---------------------------------------------------------------


def hash_password(password: str) -> str:
    """bcrypt-hash a password ($2b$, readable by the Node original too)."""
    salt = bcrypt.gensalt(current_app.config["BCRYPT_ROUNDS"])
    # ~50 ms of CPU at cost 10: off the eventlet hub, so the other requests go on meanwhile.
    return run_off_hub(bcrypt.hashpw, password.encode(), salt).decode()


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password against a bcrypt hash ($2a$, $2b$ and $2y$ all verify); under
    eventlet the hash runs in a native thread (`utils.offload`), as `hash_password`'s."""
    if not password_hash:
        return False
    stored = password_hash.encode()
    if stored.startswith(b"$2y$"):
        # PHP-era hashes: same algorithm, different prefix.
        stored = b"$2b$" + stored[4:]
    try:
        return run_off_hub(bcrypt.checkpw, password.encode(), stored)
    except ValueError:  # malformed hash or a password bcrypt refuses (> 72 bytes)
        return False


# -- access tokens (flask-jwt-extended) --------------------------------------


def register_jwt_callbacks(app: Flask) -> None:
    """Wire flask-jwt-extended to our User model and error contract."""

    @jwt.user_identity_loader
    def _identity(user: Any) -> str:
        return str(user.id if isinstance(user, User) else user)

    @jwt.additional_claims_loader
    def _claims(user: Any) -> dict[str, Any]:
        if not isinstance(user, User):
            return {}
        # "usarname" (sic) is the SaaS claim name; the frontend may decode it.
        return {
            "id": user.id,
            "usarname": user.name,
            "profile": user.profile,
            "companyId": user.company_id,
            "tv": user.token_version,
        }

    @jwt.user_lookup_loader
    def _lookup(_header: dict, data: dict) -> Caller | None:
        # The token of an ended login (logout, a replayed refresh token) finds no user:
        # the login check is part of the caller's one statement, not a blocklist loader's
        # statement of its own. Looked up once per request and token (a plan-feature
        # hook, the role table and the view's decorator each verify it), kept in the
        # WSGI environ: `g` lives as long as the app context, which tests share.
        callers = request.environ.setdefault("whaticket.callers", {})
        key = (data.get("jti"), data.get("sub"))
        if key not in callers:
            callers[key] = token_user(data, live_login=True)
        user = callers[key]
        if user is None:
            return None
        # Who the request's log lines name (plain claims: no lazy load while logging).
        sub = str(data.get("sub"))
        request.environ["whaticket.identity"] = (int(sub), data.get("companyId"))
        _apply_user_policies(user)
        return user

    # A token that never expires is refused, however it was signed.
    jwt.token_verification_loader(lambda _h, data: access_claims_ok(data))

    def _err(code: str, status: int):
        return jsonify({"error": code}), status

    # A missing token logs the frontend out (401); a bad one makes it refresh (403), and
    # the refresh of an ended session answers 401, which logs it out.
    jwt.unauthorized_loader(lambda _msg: _err("ERR_SESSION_EXPIRED", 401))
    jwt.invalid_token_loader(lambda _msg: _err("ERR_INVALID_TOKEN", 403))
    jwt.expired_token_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))
    jwt.user_lookup_error_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))
    jwt.revoked_token_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))
    jwt.token_verification_failed_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))


def access_claims_ok(data: dict[str, Any]) -> bool:
    """Whether verified claims are those of an access token that expires (PyJWT checks
    `exp` only when present, so its absence is refused here)."""
    return data.get("type") == "access" and isinstance(data.get("exp"), int | float)


def session_ended(data: dict[str, Any]) -> bool:
    """Whether the login an access token belongs to was ended.

    Tokens from login and refresh carry their refresh-token family (`fam`); logout, a
    replayed refresh token and a password reset revoke the family's rows, and with them
    every access token of that login (its other logins live on). A token with no family
    is revoked only by the user's token version (see `token_user`).
    """
    family = data.get("fam")
    if not family:
        return False
    alive = db.session.scalar(
        sa.select(RefreshToken.id)
        .where(RefreshToken.family == str(family), RefreshToken.revoked_at.is_(None))
        .limit(1)
    )
    return alive is None


def token_user(data: dict[str, Any], *, live_login: bool = False) -> Caller | None:
    """The user an access token names while it may act: the user exists, no password
    change or forced logout happened since (token version), and the company is active;
    with `live_login`, the token's login is not ended either (`session_ended`).

    One statement reads what every request needs (the user's role columns, the company's
    standing and plan flags, the login check) into a `Caller`; the rest of the user loads
    on first use (`whaticket.caller`).
    """
    sub = str(data.get("sub") or "")
    # A subject that is no id a row can have (signed by a leaked key, or by hand) is an
    # invalid token, not a query the database refuses.
    if not (sub.isascii() and sub.isdigit() and len(sub) <= 10) or not 1 <= int(sub) <= INT_MAX:
        return None
    version = data.get("tv", 0)
    if type(version) is not int or not 0 <= version <= INT_MAX:
        return None
    family = data.get("fam") if live_login else None
    params: dict[str, Any] = {"uid": int(sub), "tv": version}
    if family:
        params["fam"] = str(family)
    return caller.load(params)


def resolve_access_token(data: dict[str, Any]) -> Caller | None:
    """Every check a request's token passes, for callers that decode tokens themselves
    (sockets): an expiring access token, of a live login, of a user who may act."""
    if not access_claims_ok(data):
        return None
    return token_user(data, live_login=True)


# -- request policies (decided by the services layer) -----------------------


#: A user policy: `(user, path, endpoint)` on every request a signed-in user makes, `path`
#: without API_PREFIX; it raises AppError to refuse the request.
UserPolicy = Callable[[Any, str, str | None], None]
#: A feature check: `(user, flag)`, whether the user's plan has the feature `flag` on.
FeatureCheck = Callable[[Any, str], bool]

#: The key of an app's RequestPolicies in `app.extensions`.
_POLICIES = "whaticket.request_policies"


@dataclass
class RequestPolicies:
    """What the services layer decides about signed-in requests, registered per app."""

    user: list[UserPolicy] = field(default_factory=list)
    feature: FeatureCheck | None = None


def request_policies(app: Flask) -> RequestPolicies:
    """The app's request policies (an empty registry until the services register theirs)."""
    return app.extensions.setdefault(_POLICIES, RequestPolicies())


def add_user_policy(app: Flask, policy: UserPolicy) -> None:
    """Run `policy` on every signed-in request of `app` (once, however often it is added)."""
    policies = request_policies(app).user
    if policy not in policies:
        policies.append(policy)


def set_feature_check(app: Flask, check: FeatureCheck) -> None:
    """Decide `require_plan_feature` with `check` on `app` (no check: every feature is on)."""
    request_policies(app).feature = check


def _apply_user_policies(user: Any) -> None:
    """Every registered user policy, on the current request (one may raise AppError)."""
    policies = request_policies(current_app).user
    if not policies:
        return
    path = request.path.removeprefix(current_app.config.get("API_PREFIX", ""))
    for policy in policies:
        policy(user, path, request.endpoint)


def require_plan_feature(flag: str) -> Callable[[], None]:
    """A blueprint `before_request` hook: 403 ERR_PLAN_FEATURE_DISABLED when the caller's
    plan has `flag` off. The hook runs before the view's own auth decorator, so a missing
    or bad token is left for that decorator to answer (401/403 as usual)."""
    # A misspelt flag would read as "on" and block nothing.
    if flag not in FEATURE_FLAGS:
        raise ValueError(f"unknown plan feature {flag!r}")

    def check() -> None:
        if request.method == "OPTIONS":
            return
        try:
            verify_jwt_in_request(optional=True)
        except Exception:  # a bad token: the view's decorator answers it
            return
        user = get_current_user()
        feature = request_policies(current_app).feature
        if user is None or feature is None:
            return
        if not feature(user, flag):
            raise AppError("ERR_PLAN_FEATURE_DISABLED", 403)

    return check


# -- refresh tokens (our own JWT, signed with JWT_REFRESH_SECRET) -------------


def encode_refresh_token(user: Any, jti: str, family: str, expires_at: datetime) -> str:
    """Sign a refresh JWT for `user`, identified server-side by `jti`."""
    payload = {
        "sub": str(user.id),
        "id": user.id,
        "companyId": user.company_id,
        "tokenVersion": user.token_version,
        "jti": jti,
        "fam": family,
        "type": "refresh",
        "iat": int(expires_at.timestamp() - refresh_lifetime().total_seconds()),
        "exp": int(expires_at.timestamp()),
    }
    return pyjwt.encode(payload, current_app.config["JWT_REFRESH_SECRET"], algorithm="HS256")


def decode_refresh_token(token: str) -> dict[str, Any]:
    """Verify a refresh JWT; raise AppError 401 ERR_SESSION_EXPIRED when it is not valid."""
    try:
        data = pyjwt.decode(token, current_app.config["JWT_REFRESH_SECRET"], algorithms=["HS256"])
    except pyjwt.PyJWTError as exc:
        raise AppError("ERR_SESSION_EXPIRED", 401) from exc
    if data.get("type") != "refresh" or not data.get("jti"):
        raise AppError("ERR_SESSION_EXPIRED", 401)
    return data


def refresh_lifetime() -> timedelta:
    """How long a refresh token lives."""
    return current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


# -- request helpers and role decorators -------------------------------------


def current_company_id() -> int:
    """The caller's company id, always from the token, never from the body."""
    return int(current_user.company_id)


def _marked(wrapper: Any, role: str) -> Any:
    # The role a view's decorator demands, readable through later functools.wraps layers:
    # tests check no decorator is stricter than the write-route table (api/roles.py).
    wrapper.required_role = role
    return wrapper


def auth_required(fn: F) -> F:
    """Require a valid access token (401 when missing, 403 when bad)."""
    return _marked(jwt_required()(fn), "user")  # type: ignore[no-any-return]


def admin_required(fn: F) -> F:
    """Require an admin (or super) user: 403 ERR_NO_PERMISSION otherwise."""

    @wraps(fn)
    @jwt_required()
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            raise AppError("ERR_NO_PERMISSION", 403)
        return fn(*args, **kwargs)

    return _marked(wrapper, "admin")  # type: ignore[no-any-return]


def super_required(fn: F) -> F:
    """Require a super user: 403 ERR_NO_PERMISSION (not the SaaS 401, which logs out)."""

    @wraps(fn)
    @jwt_required()
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.super:
            raise AppError("ERR_NO_PERMISSION", 403)
        return fn(*args, **kwargs)

    return _marked(wrapper, "super")  # type: ignore[no-any-return]
