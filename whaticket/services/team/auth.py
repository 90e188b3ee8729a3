"""Sessions: login with throttling, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_jwt_extended import create_access_token

from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import RefreshToken, Setting, User
from whaticket.realtime.emit import emit_to_user
from whaticket.security import (
    decode_refresh_token,
    encode_refresh_token,
    refresh_lifetime,
    verify_password,
)
from whaticket.services.platform import ratelimit
from whaticket.services.team import settings as settings_service
from whaticket.services.team import users as user_service


class RefreshReuseError(AppError):
    """A rotated refresh token came back: its whole family was revoked (commit, then raise)."""

    def __init__(self) -> None:
        super().__init__("ERR_SESSION_EXPIRED", 401)


@dataclass
class Session:
    """What a login or refresh hands back to the client."""

    user: User
    access_token: str
    refresh_token: str
    #: The company's settings as this user may see them (the SPA reads them at login).
    settings: list[Setting]


def _issue(user: User, family: str) -> Session:
    """A new access token and a new refresh token (recorded server-side) for `user`."""
    jti = uuid.uuid4().hex
    expires_at = utcnow() + refresh_lifetime()
    db.session.add(
        RefreshToken(
            company_id=user.company_id,
            user_id=user.id,
            jti=jti,
            family=family,
            expires_at=expires_at,
        )
    )
    db.session.flush()
    refresh = encode_refresh_token(user, jti, family, expires_at)
    return Session(
        user=user,
        access_token=create_access_token(identity=user),
        refresh_token=refresh,
        settings=settings_service.list_settings(user.company_id, include_secrets=user.is_admin),
    )


def _throttle(email: str, ip: str) -> None:
    """429 ERR_TOO_MANY_ATTEMPTS past the per-IP or per-e-mail budget."""
    cfg = current_app.config
    window = cfg["LOGIN_WINDOW_SECONDS"]
    ratelimit.enforce(f"login-ip:{ip}", window, cfg["LOGIN_MAX_PER_IP"])
    email_bucket = f"login-fail:{email}"
    if ratelimit.count(email_bucket) >= cfg["LOGIN_MAX_FAILURES_PER_EMAIL"]:
        retry = ratelimit.retry_after(email_bucket, window)
        raise AppError("ERR_TOO_MANY_ATTEMPTS", 429, headers={"Retry-After": str(retry)})


def login(email: str, password: str, ip: str) -> Session:
    """Check credentials and open a session; emits `company-{cid}-auth` to the user's room."""
    email = email.strip().lower()
    _throttle(email, ip)
    # E-mails are stored lower-cased, so the unique index serves this lookup.
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None or not verify_password(password, user.password_hash):
        ratelimit.hit(f"login-fail:{email}", current_app.config["LOGIN_WINDOW_SECONDS"])
        raise AppError("ERR_INVALID_CREDENTIALS", 401)
    if not user.company.status:
        raise AppError("ERR_COMPANY_INACTIVE", 401)
    ratelimit.reset(f"login-fail:{email}")
    user_service.touch_online(user)
    session = _issue(user, family=uuid.uuid4().hex)
    # Other open sessions of this user listen for this and log out.
    notify_sessions(user)
    return session


def notify_sessions(user: User) -> None:
    """Emit `company-{cid}-auth` "update" to the user's sockets (open sessions log out)."""
    emit_to_user(
        user.company_id,
        user.id,
        "auth",
        {
            "action": "update",
            "user": {"id": user.id, "email": user.email, "companyId": user.company_id},
        },
    )


def refresh(token: str | None) -> Session:
    """Exchange a refresh token for a new pair; a used token is refused and revokes its family."""
    if not token:
        raise AppError("ERR_SESSION_EXPIRED", 401)
    data = decode_refresh_token(token)
    record = db.session.scalar(sa.select(RefreshToken).where(RefreshToken.jti == data["jti"]))
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        raise AppError("ERR_SESSION_EXPIRED", 401)
    user = db.session.get(User, record.user_id)
    if user is None or user.token_version != data.get("tokenVersion"):
        raise AppError("ERR_SESSION_EXPIRED", 401)
    if record.used_at is not None:
        grace = timedelta(seconds=current_app.config["REFRESH_REUSE_GRACE_SECONDS"])
        if now - record.used_at > grace:
            # A stolen token replayed after its owner rotated it: end that whole login.
            revoke_family(record.family)
            raise RefreshReuseError()
    else:
        record.used_at = now
    if not user.company.status:
        raise AppError("ERR_COMPANY_INACTIVE", 401)
    user_service.touch_online(user)
    return _issue(user, family=record.family)


def revoke_family(family: str) -> None:
    """Revoke every still-valid refresh token descending from one login."""
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def logout(user: User, token: str | None) -> None:
    """Mark the user offline and revoke the session of the presented refresh cookie."""
    user_service.set_offline(user)
    if not token:
        return
    try:
        data = decode_refresh_token(token)
    except AppError:
        return
    record = db.session.scalar(sa.select(RefreshToken).where(RefreshToken.jti == data["jti"]))
    if record is not None and record.user_id == user.id:
        revoke_family(record.family)


def purge_expired_tokens() -> int:
    """Delete refresh-token rows that expired over a day ago; return how many."""
    cutoff = utcnow() - timedelta(days=1)
    result = db.session.execute(sa.delete(RefreshToken).where(RefreshToken.expires_at < cutoff))
    return int(result.rowcount or 0)
