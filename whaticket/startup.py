"""What the server and the worker check before they start.

`create_app` already refuses the default secrets in production. Two holes stay open there:
the default secrets outside production (APP_ENV unset or "testing") on an address other
machines reach, and the seeded super admin's public password (`admin@admin.com / 123456`)
in production. The server (`python wsgi.py`, gunicorn's `wsgi:app`) and `flask worker`
refuse to start on either; the other commands (`flask seed`, `create-superuser`, `db
upgrade`) still run, since they are how an operator fixes it.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask

from whaticket.config import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    DEFAULT_JWT_REFRESH_SECRET,
    DEFAULT_JWT_SECRET,
    DEFAULT_SECRET,
    TestingConfig,
)
from whaticket.extensions import db
from whaticket.models import User
from whaticket.security import verify_password

log = logging.getLogger(__name__)

#: Config key -> (environment variable that sets it, the public values: written in config.py).
SECRETS = {
    "SECRET_KEY": ("SECRET_KEY", {DEFAULT_SECRET, TestingConfig.SECRET_KEY}),
    "JWT_SECRET_KEY": ("JWT_SECRET", {DEFAULT_JWT_SECRET, TestingConfig.JWT_SECRET_KEY}),
    "JWT_REFRESH_SECRET": (
        "JWT_REFRESH_SECRET",
        {DEFAULT_JWT_REFRESH_SECRET, TestingConfig.JWT_REFRESH_SECRET},
    ),
}


def is_loopback(host: str) -> bool:
    """Whether `host` only listens for this machine ("0.0.0.0", "::" and names do not)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve to any interface


def default_secrets(config: Any) -> list[str]:
    """The environment variables whose secret is empty or a value published in config.py."""
    return [
        env
        for key, (env, public) in SECRETS.items()
        if not config.get(key) or config[key] in public
    ]


def check_listen_address(config: Any, app_env: str | None) -> None:
    """Refuse to serve the public default secrets on a non-loopback HOST outside development.

    `app_env` is APP_ENV as the environment (or .env) sets it: unset is not development,
    since anyone can sign tokens with the defaults. `make run` sets APP_ENV=development.
    """
    host = str(config.get("HOST") or "")
    if app_env == "development" or is_loopback(host):
        return
    weak = default_secrets(config)
    if weak:
        raise RuntimeError(
            f"Refusing to serve on {host}:{config.get('PORT')} with the default "
            f"{', '.join(weak)}: anyone could sign tokens with them. Set them (32+ random "
            "characters each), or HOST=127.0.0.1, or APP_ENV=development for a development "
            "server."
        )


def admins_with_default_password(config: Any) -> list[str]:
    """E-mails of the seeded admin (ADMIN_EMAIL, admin@admin.com) that still sign in with
    the default password (needs an app context)."""
    emails = {str(config.get("ADMIN_EMAIL") or "").strip().lower(), DEFAULT_ADMIN_EMAIL}
    rows = db.session.execute(
        sa.select(User.email, User.password_hash).where(User.email.in_(sorted(emails)))
    ).all()
    return [email for email, hashed in rows if verify_password(DEFAULT_ADMIN_PASSWORD, hashed)]


def check_admin_password(app: Flask) -> None:
    """In production, refuse to start while the seeded admin has the default password."""
    if app.config.get("APP_ENV") != "production":
        return
    with app.app_context():
        try:
            weak = admins_with_default_password(app.config)
        except sa.exc.DBAPIError:
            # No schema yet (before the first `flask db upgrade`), or the database is down:
            # nothing to sign in to, and the release step reports the database itself.
            log.warning("could not check the admin password at startup", exc_info=True)
            return
        finally:
            db.session.remove()
    if weak:
        raise RuntimeError(
            f"Refusing to start in production: {', '.join(weak)} still has the default "
            f"password {DEFAULT_ADMIN_PASSWORD!r}. Change it (`flask --app wsgi "
            "create-superuser --email <e-mail>` sets a new one), then start again."
        )
