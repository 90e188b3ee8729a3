"""Sessions: login with throttling, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import secrets
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
from whaticket.realtime import kick
from whaticket.realtime.emit import emit_to_user
from whaticket.security import (
    decode_refresh_token,
    encode_refresh_token,
    hash_password,
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
        # The family ties the access token to this login: ending it (logout, a replayed
        # refresh token) refuses the token at once (security.session_ended).
        access_token=create_access_token(identity=user, additional_claims={"fam": family}),
        refresh_token=refresh,
        settings=settings_service.list_settings(user.company_id, include_secrets=user.is_admin),
    )


def _failures_bucket(email: str, ip: str) -> str:
    """The failed-login counter of one (client IP, e-mail) pair.

    Never of the e-mail alone: then anyone could lock an owner out with five wrong
    passwords. Guessing from many addresses is bounded by each one's LOGIN_MAX_PER_IP.
    """
    return f"login-fail:{ip}:{email}"


def _throttle(email: str, ip: str) -> None:
    """429 ERR_TOO_MANY_ATTEMPTS past the per-IP or the per-(IP, e-mail) budget."""
    cfg = current_app.config
    window = cfg["LOGIN_WINDOW_SECONDS"]
    ratelimit.enforce(f"login-ip:{ip}", window, cfg["LOGIN_MAX_PER_IP"])
    bucket = _failures_bucket(email, ip)
    if ratelimit.count(bucket) >= cfg["LOGIN_MAX_FAILURES_PER_IP_EMAIL"]:
        retry = ratelimit.retry_after(bucket, window)
        raise AppError("ERR_TOO_MANY_ATTEMPTS", 429, headers={"Retry-After": str(retry)})


def clear_login_failures(email: str, ip: str) -> None:
    """Forget the failed logins of `email` from `ip` (its owner proved who they are)."""
    ratelimit.reset(_failures_bucket(email.strip().lower(), ip))


#: bcrypt hashes of a random password, one per cost, made once per process.
_DUMMY_HASHES: dict[int, str] = {}


def dummy_password_hash() -> str:
    """A bcrypt hash at the configured cost that no password matches.

    An unknown e-mail is checked against it, so that it costs the same bcrypt work as a
    known one and the answer's timing does not tell whether an account exists.
    """
    rounds = int(current_app.config["BCRYPT_ROUNDS"])
    found = _DUMMY_HASHES.get(rounds)
    if found is None:
        found = _DUMMY_HASHES.setdefault(rounds, hash_password(secrets.token_urlsafe(32)))
    return found


def login(email: str, password: str, ip: str) -> Session:
    """Check credentials and open a session; emits `company-{cid}-auth` to the user's room."""
    email = email.strip().lower()
    _throttle(email, ip)
    # E-mails are stored lower-cased, so the unique index serves this lookup.
    user = db.session.scalar(sa.select(User).where(User.email == email))
    # One bcrypt check whether or not the account exists (see dummy_password_hash).
    stored = user.password_hash if user is not None else None
    valid = verify_password(password, stored or dummy_password_hash())
    if user is None or not valid:
        ratelimit.hit(_failures_bucket(email, ip), current_app.config["LOGIN_WINDOW_SECONDS"])
        raise AppError("ERR_INVALID_CREDENTIALS", 401)
    if not user.company.status:
        raise AppError("ERR_COMPANY_INACTIVE", 401)
    ratelimit.reset(_failures_bucket(email, ip))
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
    """End one login: revoke its still-valid refresh tokens (and so its access tokens, see
    security.session_ended) and, after the commit, disconnect its sockets."""
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    kick.disconnect_session(family)


def logout(user: User, token: str | None, access_family: str | None = None) -> None:
    """Mark the user offline and end the login of the presented access token and refresh
    cookie: their refresh tokens, access tokens and sockets stop working.

    `access_family` is the `fam` claim of the access token the request came with. An
    access token without one (issued by no login) can only be revoked with every other
    token of the user, which is what happens then.
    """
    user_service.set_offline(user)
    families = {access_family} if access_family else set()
    if token:
        try:
            data = decode_refresh_token(token)
        except AppError:
            data = None
        record = (
            db.session.scalar(sa.select(RefreshToken).where(RefreshToken.jti == data["jti"]))
            if data is not None
            else None
        )
        if record is not None and record.user_id == user.id:
            families.add(record.family)
    for family in sorted(families):
        revoke_family(family)
    if not access_family:
        user_service.end_sessions(user)


def purge_expired_tokens() -> int:
    """Delete refresh-token rows that expired over a day ago; return how many."""
    cutoff = utcnow() - timedelta(days=1)
    result = db.session.execute(sa.delete(RefreshToken).where(RefreshToken.expires_at < cutoff))
    return int(result.rowcount or 0)
