"""`GET /companies/<id>/usage`: counts, this month in the company's time zone, access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import Campaign
from whaticket.services.reports import usage as usage_service

USAGE_KEYS = {
    "companyId",
    "users",
    "connections",
    "queues",
    "ticketsThisMonth",
    "messagesThisMonth",
    "contacts",
    "campaignsThisMonth",
    "month",
}
#: Mid-March 2026; in São Paulo (UTC-3) March runs from 03-01 03:00 to 04-01 03:00 UTC.
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
MARCH_START = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
APRIL_START = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch):
    monkeypatch.setattr(usage_service, "utcnow", lambda: NOW)


def _populate(company) -> None:
    """Rows on both sides of each local month boundary."""
    wpp = factories.WhatsappFactory(company=company)
    factories.QueueFactory(company=company)
    factories.QueueFactory(company=company)
    this_month = [MARCH_START, APRIL_START - timedelta(microseconds=1), NOW]
    other_months = [MARCH_START - timedelta(minutes=1), APRIL_START]
    tickets = [
        factories.TicketFactory(company=company, whatsapp=wpp, created_at=at)
        for at in this_month + other_months
    ]
    factories.ContactFactory(company=company)  # a contact without a ticket still counts
    for at in [*this_month, MARCH_START - timedelta(days=20)]:
        factories.MessageFactory(ticket=tickets[0], created_at=at)
    factories.MessageFactory(ticket=tickets[1], created_at=NOW)
    for name, at in [("now", NOW), ("feb", MARCH_START - timedelta(seconds=1))]:
        db.session.add(Campaign(company_id=company.id, name=name, created_at=at))
    db.session.commit()


def test_admin_sees_own_company_usage(client, prefix, auth, admin, agent, company):
    _populate(company)
    resp = client.get(f"{prefix}/companies/{company.id}/usage", headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == USAGE_KEYS
    assert body == {
        "companyId": company.id,
        "users": 2,
        "connections": 1,
        "queues": 2,
        "ticketsThisMonth": 3,
        "messagesThisMonth": 4,
        "contacts": 6,
        "campaignsThisMonth": 1,
        "month": "2026-03",
    }


def test_other_companies_rows_are_not_counted(client, prefix, auth, admin, company, other_company):
    _populate(other_company)
    body = client.get(f"{prefix}/companies/{company.id}/usage", headers=auth(admin)).get_json()
    assert body["users"] == 1
    assert body["connections"] == body["queues"] == body["contacts"] == 0
    assert body["ticketsThisMonth"] == body["messagesThisMonth"] == 0
    assert body["campaignsThisMonth"] == 0


def test_month_follows_the_company_time_zone(client, prefix, auth, admin, company, monkeypatch):
    # 20:00 UTC on 31 March is already 1 April in Tokyo (UTC+9).
    late = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    monkeypatch.setattr(usage_service, "utcnow", lambda: late)
    company.timezone = "Asia/Tokyo"
    wpp = factories.WhatsappFactory(company=company)
    factories.TicketFactory(company=company, whatsapp=wpp, created_at=late)  # April in Tokyo
    factories.TicketFactory(  # 31 March 23:59 Tokyo
        company=company, whatsapp=wpp, created_at=datetime(2026, 3, 31, 14, 59, tzinfo=UTC)
    )
    db.session.commit()
    body = client.get(f"{prefix}/companies/{company.id}/usage", headers=auth(admin)).get_json()
    assert body["month"] == "2026-04"
    assert body["ticketsThisMonth"] == 1


def test_month_bounds_wrap_the_year():
    start, end = usage_service.month_bounds(
        "America/Sao_Paulo", datetime(2026, 12, 31, 12, tzinfo=UTC)
    )
    assert start == datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert end == datetime(2027, 1, 1, 3, tzinfo=UTC)
    # An unknown stored zone falls back to São Paulo instead of failing.
    assert usage_service.month_bounds("Not/AZone", NOW) == (MARCH_START, APRIL_START)


def test_super_user_sees_any_company(client, prefix, auth, superuser, other_company, other_admin):
    _populate(other_company)
    resp = client.get(f"{prefix}/companies/{other_company.id}/usage", headers=auth(superuser))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["companyId"] == other_company.id
    assert body["users"] == 1 and body["ticketsThisMonth"] == 3
    missing = client.get(f"{prefix}/companies/999999/usage", headers=auth(superuser))
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "ERR_NO_COMPANY_FOUND"}


def test_another_companys_admin_gets_404(client, prefix, auth, company, other_admin):
    resp = client.get(f"{prefix}/companies/{company.id}/usage", headers=auth(other_admin))
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_NO_COMPANY_FOUND"}


def test_agent_gets_403_for_own_company(client, prefix, auth, agent, company):
    resp = client.get(f"{prefix}/companies/{company.id}/usage", headers=auth(agent))
    assert resp.status_code == 403
    assert resp.get_json() == {"error": "ERR_NO_PERMISSION"}


def test_usage_needs_a_token(client, prefix, company):
    resp = client.get(f"{prefix}/companies/{company.id}/usage")
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
