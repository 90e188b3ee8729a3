"""Dashboard counter hook (useMessages): `GET /messages-allMe` answers {count: [{count: N}]}."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import factories
from whaticket.extensions import db


@pytest.fixture
def ticket(company, admin):
    company.timezone = "America/Sao_Paulo"  # UTC-3, no DST
    db.session.commit()
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    return factories.TicketFactory(company=company, whatsapp=conn, status="open", user_id=admin.id)


def _at(ticket, when: datetime, from_me: bool) -> None:
    factories.MessageFactory(ticket=ticket, from_me=from_me, created_at=when)


def _count(client, prefix, headers, **params) -> int:
    resp = client.get(f"{prefix}/messages-allMe", query_string=params, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert list(body) == ["count"] and len(body["count"]) == 1
    return body["count"][0]["count"]


def test_counts_the_companys_messages_per_local_day(
    client, prefix, admin, auth, ticket, other_company
):
    """src/hooks/useMessages/index.js:15 GETs /messages-allMe {fromMe, dateStart, dateEnd}
    and reads data.count[0].count."""
    # 2026-03-09 local (São Paulo) runs from 03:00 UTC on the 9th to 03:00 UTC on the 10th.
    _at(ticket, datetime(2026, 3, 9, 3, 0, tzinfo=UTC), True)
    _at(ticket, datetime(2026, 3, 10, 2, 59, tzinfo=UTC), True)
    _at(ticket, datetime(2026, 3, 10, 1, 0, tzinfo=UTC), False)
    _at(ticket, datetime(2026, 3, 9, 2, 59, tzinfo=UTC), True)  # the 8th, locally
    _at(ticket, datetime(2026, 3, 10, 3, 0, tzinfo=UTC), True)  # the 10th, locally
    theirs = factories.TicketFactory(company=other_company, status="open")
    _at(theirs, datetime(2026, 3, 9, 12, 0, tzinfo=UTC), True)
    headers = auth(admin)
    day = {"dateStart": "2026-03-09", "dateEnd": "2026-03-09"}
    assert _count(client, prefix, headers, fromMe="true", **day) == 2
    assert _count(client, prefix, headers, fromMe="false", **day) == 1
    assert _count(client, prefix, headers, **day) == 2  # fromMe defaults to sent
    both = {"dateStart": "2026-03-08", "dateEnd": "2026-03-10"}
    assert _count(client, prefix, headers, fromMe="true", **both) == 4


def test_bad_ranges_are_400_and_a_token_is_needed(client, prefix, admin, auth, ticket):
    headers = auth(admin)
    resp = client.get(
        f"{prefix}/messages-allMe",
        query_string={"dateStart": "2026-03-10", "dateEnd": "2026-03-09"},
        headers=headers,
    )
    assert resp.status_code == 400 and "dateEnd" in resp.get_json()["fields"]
    resp = client.get(
        f"{prefix}/messages-allMe", query_string={"dateStart": "ontem"}, headers=headers
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    assert client.get(f"{prefix}/messages-allMe").status_code == 401


def test_without_dates_it_counts_today(client, prefix, admin, auth, ticket, app):
    """The hook always sends its dates; without them the answer is today's count."""
    app.config["FROZEN_NOW"] = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    _at(ticket, datetime(2026, 3, 9, 14, 0, tzinfo=UTC), True)
    _at(ticket, datetime(2026, 3, 8, 14, 0, tzinfo=UTC), True)
    assert _count(client, prefix, auth(admin)) == 1
