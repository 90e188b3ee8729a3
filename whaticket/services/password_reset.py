"""Password reset: a single-use, expiring token mailed on request, exchanged for a new password.

`POST /auth/forgot-password` answers the same whatever the e-mail: the lookup, the token and
the mail all happen in a job, so neither the body nor the timing tells whether an account
exists. Only the token's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import html
import secrets
from datetime import timedelta
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import PasswordResetToken, RefreshToken, User
from whaticket.security import hash_password
from whaticket.services import auth as auth_service
from whaticket.services import ratelimit

#: The one answer of forgot-password.
REQUESTED = "If the e-mail belongs to an account, a reset link has been sent to it."


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _throttle_ip(ip: str) -> None:
    """429 ERR_TOO_MANY_ATTEMPTS past the per-IP budget (it does not depend on the e-mail)."""
    cfg = current_app.config
    ratelimit.enforce(
        f"pwreset-ip:{ip}", cfg["PASSWORD_RESET_WINDOW_SECONDS"], cfg["PASSWORD_RESET_MAX_PER_IP"]
    )


def request_reset(email: str, ip: str) -> str:
    """Queue the reset mail for `email`; return the answer, identical for every e-mail."""
    _throttle_ip(ip)
    email = email.strip().lower()
    cfg = current_app.config
    # Past the per-e-mail budget the answer stays the same, but no more mail goes out:
    # nobody can flood a mailbox, and a 429 here would only say "this e-mail was tried".
    if (
        ratelimit.hit(f"pwreset-email:{email}", cfg["PASSWORD_RESET_WINDOW_SECONDS"])
        <= cfg["PASSWORD_RESET_MAX_PER_EMAIL"]
    ):
        from whaticket.jobs.users import send_password_reset

        jobs.enqueue(send_password_reset, email)
    return REQUESTED


def issue_token(user: User) -> str:
    """A fresh token for `user` (older unused ones stop working); returns the plain token."""
    now = utcnow()
    db.session.execute(
        sa.delete(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
        )
    )
    token = secrets.token_urlsafe(32)
    minutes = current_app.config["PASSWORD_RESET_TOKEN_MINUTES"]
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=token_hash(token),
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    db.session.flush()
    return token


def find_user(email: str) -> User | None:
    """The user who may reset a password with this e-mail (their company must be active)."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.company.status:
        return None
    return user


def mail_body(user: User, token: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the reset mail."""
    minutes = current_app.config["PASSWORD_RESET_TOKEN_MINUTES"]
    base = current_app.config["FRONTEND_URL"].rstrip("/")
    link = f"{base}/reset-password?token={quote(token)}"
    subject = "Redefinição de senha / Password reset"
    text = (
        f"Olá {user.name},\n\n"
        "Recebemos um pedido para redefinir a sua senha. Use o link abaixo "
        f"(válido por {minutes} minutos, uma única vez):\n\n{link}\n\n"
        f"Ou informe este código: {token}\n\n"
        "Se não foi você, ignore este e-mail: a sua senha continua a mesma.\n\n"
        f"---\nA password reset was requested for your account. The link above works once, "
        f"for {minutes} minutes. If it was not you, ignore this e-mail.\n"
    )
    html = (
        f"<p>Olá {_escape(user.name)},</p>"
        "<p>Recebemos um pedido para redefinir a sua senha. "
        f'<a href="{_escape(link)}">Redefinir a senha</a> '
        f"(válido por {minutes} minutos, uma única vez).</p>"
        f"<p>Código: <code>{_escape(token)}</code></p>"
        "<p>Se não foi você, ignore este e-mail.</p>"
    )
    return subject, text, html


def _escape(value: str) -> str:
    """HTML escaping (quotes included) for the mail body."""
    return html.escape(value, quote=True)


def reset_password(token: str, password: str, ip: str) -> User:
    """Set a new password with a mailed token: once, before it expires; ends every session."""
    cfg = current_app.config
    # Tokens carry 256 bits, so guessing is hopeless; the budget only bounds the noise.
    ratelimit.enforce(
        f"pwreset-try:{ip}", cfg["PASSWORD_RESET_WINDOW_SECONDS"], cfg["LOGIN_MAX_PER_IP"]
    )
    now = utcnow()
    digest = token_hash(token.strip())
    # One atomic claim: two requests racing with the same token cannot both succeed.
    claimed = db.session.execute(
        sa.update(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == digest,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise AppError("ERR_INVALID_RESET_TOKEN", 400)
    row = db.session.scalar(
        sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == digest)
    )
    user = db.session.get(User, row.user_id) if row is not None else None
    if user is None or not user.company.status:
        raise AppError("ERR_INVALID_RESET_TOKEN", 400)
    user.password_hash = hash_password(password)
    # Every access token, refresh cookie and socket of the old password stops working.
    user.token_version += 1
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.delete(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
        )
    )
    db.session.flush()
    ratelimit.reset(f"login-fail:{user.email}")
    # Open tabs listen for this and log out.
    auth_service.notify_sessions(user)
    return user


def purge_expired() -> int:
    """Delete tokens that expired or were used over a day ago; return how many."""
    cutoff = utcnow() - timedelta(days=1)
    result = db.session.execute(
        sa.delete(PasswordResetToken).where(
            sa.or_(PasswordResetToken.expires_at < cutoff, PasswordResetToken.used_at < cutoff)
        )
    )
    return int(result.rowcount or 0)
