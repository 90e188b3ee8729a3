"""Blueprints, one per controller group, mounted under API_PREFIX."""

from __future__ import annotations

from flask import Flask

from whaticket.api import auth, companies, plans, settings, users
from whaticket.extensions import api

BLUEPRINTS = [auth.blp, users.blp, companies.blp, plans.blp, settings.blp]


def register_blueprints(app: Flask) -> None:
    """Register every blueprint under API_PREFIX (empty: served at the root)."""
    prefix = app.config["API_PREFIX"]
    for blp in BLUEPRINTS:
        api.register_blueprint(blp, url_prefix=prefix + (blp.url_prefix or ""))
