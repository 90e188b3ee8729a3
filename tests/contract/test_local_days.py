"""Plain dates from the client are the company's calendar days (due dates, ticket filters)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import Company

NOW = datetime(2026, 12, 3, 7, 39, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen(app, company):
    app.config["FROZEN_NOW"] = NOW
    company.timezone = "America/Sao_Paulo"
    db.session.commit()


def test_a_due_date_is_local_midnight(client, prefix, auth, superuser, other_company):
    """src/components/CompaniesManager/index.js PUTs dueDate "YYYY-MM-DD" and shows it with
    moment(dueDate).format("DD/MM/YYYY"), so the day must not slip back in the browser."""
    resp = client.put(
        f"{prefix}/companies/{other_company.id}",
        json={"dueDate": "2030-01-31", "recurrence": "MENSAL"},
        headers=auth(superuser),
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["dueDate"] == "2030-01-31T03:00:00.000Z"
    db.session.expire_all()
    stored = db.session.get(Company, other_company.id).due_date
    assert stored == datetime(2030, 1, 31, 3, 0, tzinfo=UTC)
    # An explicit instant stays as sent.
    resp = client.put(
        f"{prefix}/companies/{other_company.id}",
        json={"dueDate": "2030-01-31T00:00:00Z"},
        headers=auth(superuser),
    )
    assert resp.get_json()["dueDate"] == "2030-01-31T00:00:00.000Z"


def test_the_ticket_date_filter_is_the_local_day(client, prefix, auth, admin, company):
    """src/hooks/useTickets/index.js sends `date` and `updatedAt` to GET /tickets and reads
    data.tickets: a day is the company's day, 03:00Z to 03:00Z in São Paulo."""
    at = {
        "late_on_the_2nd": datetime(2026, 12, 3, 2, 30, tzinfo=UTC),  # 2 Dec, 23:30 local
        "morning_of_the_3rd": datetime(2026, 12, 3, 12, 0, tzinfo=UTC),  # 3 Dec, 09:00
        "last_minute_of_the_3rd": datetime(2026, 12, 4, 2, 59, tzinfo=UTC),  # 3 Dec, 23:59
        "first_minute_of_the_4th": datetime(2026, 12, 4, 3, 0, tzinfo=UTC),  # 4 Dec, 00:00
    }
    ids = {
        name: factories.TicketFactory(
            company=company, status="open", created_at=when, updated_at=when
        ).id
        for name, when in at.items()
    }
    db.session.commit()
    expected = {ids["morning_of_the_3rd"], ids["last_minute_of_the_3rd"]}
    for key in ("date", "updatedAt"):
        resp = client.get(
            f"{prefix}/tickets",
            query_string={"status": "open", "showAll": "true", key: "2026-12-03"},
            headers=auth(admin),
        )
        assert resp.status_code == 200, resp.get_json()
        assert {t["id"] for t in resp.get_json()["tickets"]} == expected, key
