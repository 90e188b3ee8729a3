"""JWT callbacks, password hashing, role decorators and current_company_id()."""

from __future__ import annotations

from collections.abc import Callable
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
    from whaticket.models import User

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
        _check_subscription(user)
        return user

    def _err(code: str, status: int):
        return jsonify({"error": code}), status

    # A missing token logs the frontend out (401); a bad one makes it refresh (403).
    jwt.unauthorized_loader(lambda _msg: _err("ERR_SESSION_EXPIRED", 401))
    jwt.invalid_token_loader(lambda _msg: _err("ERR_INVALID_TOKEN", 403))
    jwt.expired_token_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))
    jwt.user_lookup_error_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))
    jwt.revoked_token_loader(lambda _h, _d: _err("ERR_INVALID_TOKEN", 403))


#: What an overdue company's users may still reach: signing in and out, and paying.
_OVERDUE_ALLOWED = ("/auth/", "/invoices", "/subscription", "/plans/list", "/plans/all")
_OVERDUE_ALLOWED_ENDPOINTS = {"companies.list_plan", "companies.show_company"}


def _check_subscription(user: Any) -> None:
    """402 for an overdue company's users outside the billing endpoints (super users pass)."""
    from whaticket.services.billing import standing as billing

    if user.super or not billing.is_overdue(user.company):
        return
    if request.endpoint in _OVERDUE_ALLOWED_ENDPOINTS:
        return
    path = request.path.removeprefix(current_app.config.get("API_PREFIX", ""))
    if any(path.startswith(prefix) for prefix in _OVERDUE_ALLOWED):
        return
    raise AppError(billing.EXPIRED, 402)


def require_plan_feature(flag: str) -> Callable[[], None]:
    """A blueprint `before_request` hook: 403 ERR_PLAN_FEATURE_DISABLED when the caller's
    plan has `flag` off. The hook runs before the view's own auth decorator, so a missing
    or bad token is left for that decorator to answer (401/403 as usual)."""
    from whaticket.models.plan import FEATURE_FLAGS

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
        if user is None or user.super:
            return
        from whaticket.services.billing.plans import feature_enabled

        if not feature_enabled(user.company, flag):
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
