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
from flask import Flask, current_app, jsonify, request
from flask_jwt_extended import (
    current_user,
    get_current_user,
    jwt_required,
    verify_jwt_in_request,
)

from whaticket.errors import AppError
from whaticket.extensions import db, jwt
from whaticket.models import User
from whaticket.models.plan import FEATURE_FLAGS

F = TypeVar("F", bound=Callable[..., Any])

#: OpenAPI security requirement for endpoints that take the access token.
BEARER = [{"bearerAuth": []}]
#: OpenAPI security requirement for public endpoints.
PUBLIC: list[dict[str, list[str]]] = []


# -- passwords ---------------------------------------------------------------


def hash_password(password: str) -> str:
    """bcrypt-hash a password ($2b$, readable by the Node original too)."""
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password against a bcrypt hash ($2a$, $2b$ and $2y$ all verify)."""
    if not password_hash:
        return False
    stored = password_hash.encode()
    if stored.startswith(b"$2y$"):
        # PHP-era hashes: same algorithm, different prefix.
        stored = b"$2b$" + stored[4:]
    try:
        return bcrypt.checkpw(password.encode(), stored)
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
    def _lookup(_header: dict, data: dict) -> User | None:
        user = db.session.get(User, int(data["sub"]))
        if user is None or user.token_version != data.get("tv", 0):
            return None
        _apply_user_policies(user)
        return user

    def _err(code: str, status: int):
        return jsonify({"error": code}), status

    # A missing token logs the frontend out (401); a bad one makes it refresh (403).
    jwt.unauthorized_loader(lambda _msg: _err("ERR_SESSION_EXPIRED", 401))
    jwt.invalid_token_loader(lambda _msg: _err("ERR_INVALID_TOKEN", 403))
    jwt.expired_token_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))
    jwt.user_lookup_error_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))
    jwt.revoked_token_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))


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


def auth_required(fn: F) -> F:
    """Require a valid access token (401 when missing, 403 when bad)."""
    return jwt_required()(fn)  # type: ignore[return-value]


def admin_required(fn: F) -> F:
    """Require an admin (or super) user: 403 ERR_NO_PERMISSION otherwise."""

    @wraps(fn)
    @jwt_required()
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            raise AppError("ERR_NO_PERMISSION", 403)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def super_required(fn: F) -> F:
    """Require a super user: 403 ERR_NO_PERMISSION (not the SaaS 401, which logs out)."""

    @wraps(fn)
    @jwt_required()
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.super:
            raise AppError("ERR_NO_PERMISSION", 403)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
