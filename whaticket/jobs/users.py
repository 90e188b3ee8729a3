"""User jobs: the stale-online sweep, the password-reset mail and the sign-up notice."""

from __future__ import annotations

from flask import current_app

from whaticket import db as dbmod
from whaticket.services.billing import signup as signup_service
from whaticket.services.platform import mailer
from whaticket.services.team import password_reset as reset_service
from whaticket.services.team import users as user_service


def sweep_stale_online() -> int:
    """Mark users with no activity for USER_STALE_ONLINE_SECONDS offline; return how many."""
    changed = user_service.sweep_stale_online()
    dbmod.commit()
    return changed


def send_password_reset(email: str) -> bool:
    """Issue a reset token and code for `email` and mail them; False (silently) when no
    account matches."""
    user = reset_service.find_user(email)
    if user is None:
        current_app.logger.info("password reset requested for an unknown or inactive e-mail")
        return False
    secrets = reset_service.issue(user)
    subject, text, html = reset_service.mail_body(user, secrets.token, secrets.code)
    to = user.email
    # The token must exist before the mail that carries it can be used.
    dbmod.commit()
    mailer.send(to, subject, text, html)
    return True


def purge_password_reset_tokens() -> int:
    """Delete used and expired reset tokens; return how many."""
    removed = reset_service.purge_expired()
    dbmod.commit()
    return removed


def send_signup_notice(email: str) -> bool:
    """Tell the owner of `email` that someone tried to sign up with it; False (silently)
    when no account has it any more."""
    user = signup_service.existing_account(email)
    if user is None:
        return False
    subject, text, html = signup_service.notice_mail(user)
    to = user.email
    dbmod.commit()  # end the read transaction: no mail is sent with one open
    mailer.send(to, subject, text, html)
    return True
