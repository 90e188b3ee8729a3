"""Fixtures of the public API tests: a connected fake connection, and API tokens made by
the service (`token(...)` -> the secret) for the company's admin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import API_SCOPES
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.integrations import api_tokens


@pytest.fixture(autouse=True)
def _no_settle(app):
    """Feeds see every committed write at once (tests/api/v1/test_feed.py tests the margin)."""
    app.config["API_V1_FEED_SETTLE_SECONDS"] = 0


@pytest.fixture
def conn(company):
    """A connected fake connection of `company`, its outbox empty."""
    record = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    db.session.commit()
    fake.clear_outbox(record.id)
    return record


@pytest.fixture
def token(company, admin) -> Callable[..., str]:
    """token(*scopes, whatsapp_ids=, queue_ids=, company=, creator=) -> a fresh secret;
    no scopes given: every scope."""

    def _make(*scopes: str, **kw: Any) -> str:
        owner = kw.pop("company", company)
        creator = kw.pop("creator", admin)
        data = {"name": "Integration", "scopes": list(scopes or API_SCOPES), **kw}
        _record, secret = api_tokens.create_token(owner.id, creator, data)
        db.session.commit()
        return secret

    return _make


def bearer(secret: str) -> dict[str, str]:
    """The Authorization header of an API token."""
    return {"Authorization": f"Bearer {secret}"}


class Clock:
    """A settable clock for `FROZEN_NOW` (the feed's `until`, the last-use minute)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(app) -> Clock:
    """The app's time, frozen and moved by hand."""
    frozen = Clock()
    app.config["FROZEN_NOW"] = lambda: frozen.now
    return frozen
