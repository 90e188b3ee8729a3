"""Password reset: a single-use, expiring token and code mailed on request, exchanged for a
new password.

`POST /auth/forgot-password` (and the SaaS page's `POST /forgetpassword/<email>`) answers the
same whatever the e-mail: the lookup, the token and the mail all happen in a job, so neither
the body nor the timing tells whether an account exists. The mail carries a link with a
256-bit token (`POST /auth/reset-password`) and a short numeric code for the SaaS page
(`POST /resetpasswords/<email>/<code>/<password>`). Only the token's SHA-256 and the code's
HMAC are stored; the code works once, expires with the token, and dies after
PASSWORD_RESET_CODE_MAX_ATTEMPTS tries (each counted, atomically, before it is checked).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app

from whaticket import jobs
from whaticket.db import utcnow
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import PasswordResetToken, RefreshToken, User
from whaticket.security import hash_password
from whaticket.services.platform import ratelimit
from whaticket.services.team import auth as auth_service
from whaticket.services.team import users as user_service

#: The one answer of forgot-password.
REQUESTED = "If the e-mail belongs to an account, a reset link and code have been sent to it."
#: Digits of the mailed code: with 5 tries per code and 3 mails per e-mail an hour, a
#: guesser's odds stay below one in a million per hour.
CODE_DIGITS = 8
#: Every refusal of a code or token, whatever the reason (unknown e-mail included).
INVALID = "ERR_INVALID_RESET_TOKEN"


@dataclass(frozen=True)
class ResetSecrets:
    """What one forgot-password mail carries: the link's token and the typed code."""

    token: str
    code: str


class WrongCodeError(AppError):
    """A wrong code: the try it used up must be committed although the request fails."""

    keep_transaction = True


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
        jobs.enqueue("users.send_password_reset", email, durable=True)
    return REQUESTED


def code_hash(user_id: int, code: str) -> str:
    """What is stored of a code: an HMAC keyed by SECRET_KEY (a bare hash of 10^8 codes
    would be reversed in seconds from a leaked database)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"pwreset-code:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def normalize_code(code: str) -> str | None:
    """The code's digits (spaces and dashes a user may type dropped), or None if malformed."""
    digits = re.sub(r"[\s\-.]", "", code or "")
    return digits if re.fullmatch(rf"\d{{{CODE_DIGITS}}}", digits) else None


def issue(user: User) -> ResetSecrets:
    """A fresh token and code for `user` (older unused ones stop working)."""
    now = utcnow()
    db.session.execute(
        sa.delete(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)
        )
    )
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    minutes = current_app.config["PASSWORD_RESET_TOKEN_MINUTES"]
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=token_hash(token),
            code_hash=code_hash(user.id, code),
            code_attempts=0,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    db.session.flush()
    return ResetSecrets(token=token, code=code)


def find_user(email: str) -> User | None:
    """The user who may reset a password with this e-mail (their company must be active)."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.company.status:
        return None
    return user


def mail_body(user: User, token: str, code: str | None = None) -> tuple[str, str, str]:
    """Subject, text and HTML of the reset mail: the verification code and the link."""
    minutes = current_app.config["PASSWORD_RESET_TOKEN_MINUTES"]
    # FRONTEND_URL may list several origins: the first one is the main address.
    base = str(current_app.config["FRONTEND_URL"]).split(",")[0].strip().rstrip("/")
    link = f"{base}/reset-password?token={quote(token)}"
    subject = "Redefinição de senha / Password reset"
    code_text = (
        f"Código de verificação: {code}\n"
        '(informe-o na página "Esqueceu sua senha?" junto com a nova senha)\n\n'
        if code
        else ""
    )
    text = (
        f"Olá {user.name},\n\n"
        "Recebemos um pedido para redefinir a sua senha "
        f"(válido por {minutes} minutos, uma única vez).\n\n"
        f"{code_text}"
        f"Ou use este link:\n{link}\n\n"
        "Se não foi você, ignore este e-mail: a sua senha continua a mesma.\n\n"
        "---\nA password reset was requested for your account. The verification code and "
        f"the link above work once, for {minutes} minutes. If it was not you, ignore this "
        "e-mail.\n"
    )
    code_html = (
        f"<p>Código de verificação: <strong><code>{_escape(code)}</code></strong></p>"
        if code
        else ""
    )
    html = (
        f"<p>Olá {_escape(user.name)},</p>"
        "<p>Recebemos um pedido para redefinir a sua senha "
        f"(válido por {minutes} minutos, uma única vez).</p>"
        f"{code_html}"
        f'<p>Ou use este link: <a href="{_escape(link)}">Redefinir a senha</a></p>'
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
        raise AppError(INVALID, 400)
    row = db.session.scalar(
        sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == digest)
    )
    user = db.session.get(User, row.user_id) if row is not None else None
    if user is None or not user.company.status:
        raise AppError(INVALID, 400)
    _set_password(user, password, now, ip)
    return user


def reset_password_with_code(email: str, code: str, password: str, ip: str) -> User:
    """Set a new password with the mailed code (the SaaS page): once, before it expires,
    within PASSWORD_RESET_CODE_MAX_ATTEMPTS tries; ends every session like the link."""
    cfg = current_app.config
    ratelimit.enforce(
        f"pwreset-try:{ip}", cfg["PASSWORD_RESET_WINDOW_SECONDS"], cfg["LOGIN_MAX_PER_IP"]
    )
    now = utcnow()
    digits = normalize_code(code)
    user = find_user(email)
    # Unknown e-mail, no live code or a malformed one: one refusal, nothing to tell apart.
    if user is None or digits is None:
        raise AppError(INVALID, 400)
    live = (
        PasswordResetToken.user_id == user.id,
        PasswordResetToken.code_hash.is_not(None),
        PasswordResetToken.used_at.is_(None),
        PasswordResetToken.expires_at > now,
    )
    row = db.session.scalar(
        sa.select(PasswordResetToken).where(*live).order_by(PasswordResetToken.id.desc())
    )
    if row is None:
        raise AppError(INVALID, 400)
    # Count the try before checking it, in one conditional UPDATE: its row lock makes
    # concurrent guesses queue, so no more than the budget is ever checked.
    counted = db.session.execute(
        sa.update(PasswordResetToken)
        .where(
            PasswordResetToken.id == row.id,
            *live,
            PasswordResetToken.code_attempts < int(cfg["PASSWORD_RESET_CODE_MAX_ATTEMPTS"]),
        )
        .values(code_attempts=PasswordResetToken.code_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != 1:
        raise AppError(INVALID, 400)
    if not hmac.compare_digest(str(row.code_hash), code_hash(user.id, digits)):
        raise WrongCodeError(INVALID, 400)
    claimed = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise AppError(INVALID, 400)
    _set_password(user, password, now, ip)
    return user


def _set_password(user: User, password: str, now: datetime, ip: str) -> None:
    """The new password, and every session of the old one ended (tokens, cookies, tabs).

    The failed logins of this e-mail from `ip`, where the owner just proved who they
    are, are forgotten (failures are counted per IP and e-mail).
    """
    user.password_hash = hash_password(password)
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
    auth_service.clear_login_failures(user.email, ip)
    # Open tabs listen for this and log out.
    auth_service.notify_sessions(user)
    # Every access token, refresh cookie and socket of the old password stops working;
    # the sockets are disconnected after the commit, once they have heard the above.
    user_service.end_sessions(user)


def purge_expired() -> int:
    """Delete tokens that expired or were used over a day ago; return how many."""
    cutoff = utcnow() - timedelta(days=1)
    result = db.session.execute(
        sa.delete(PasswordResetToken).where(
            sa.or_(PasswordResetToken.expires_at < cutoff, PasswordResetToken.used_at < cutoff)
        )
    )
    return int(result.rowcount or 0)
