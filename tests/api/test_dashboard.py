"""Dashboard: counters and attendants, the period filters, the per-user and per-hour/day
reports, the company's time zone, tenancy, authentication and validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests import factories
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import TicketTracking, UserRating

DAY = "2026-03-10"  # America/Sao_Paulo is UTC-3: this local day is 03:00Z to 03:00Z.


def _utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _track(ticket, user=None, **times) -> TicketTracking:
    """One service episode of `ticket` with the given timestamps (UTC)."""
    row = TicketTracking(
        company_id=ticket.company_id,
        ticket_id=ticket.id,
        whatsapp_id=ticket.whatsapp_id,
        user_id=user.id if user else None,
        **times,
    )
    db.session.add(row)
    db.session.commit()
    return row


def _rate(tracking: TicketTracking, rate: int) -> None:
    db.session.add(
        UserRating(
            company_id=tracking.company_id,
            ticket_id=tracking.ticket_id,
            tracking_id=tracking.id,
            user_id=tracking.user_id,
            rate=rate,
        )
    )
    tracking.rated = True
    db.session.commit()


def _scene(company, admin, agent) -> dict:
    """Three finished episodes on DAY plus one still waiting; see the expected figures."""
    admin.name, agent.name = "Ana", "Bruno"
    carla = factories.UserFactory(company=company, name="Carla", online=True)
    factories.WhatsappFactory(company=company, status="CONNECTED")
    factories.WhatsappFactory(company=company, status="DISCONNECTED")
    t_open = factories.TicketFactory(company=company, status="open", user_id=agent.id)
    t_pending = factories.TicketFactory(company=company, status="pending")
    t_closed = factories.TicketFactory(company=company, status="closed")
    # Wait 10, support 30 (no rating asked: support ends at the close).
    _track(
        t_open,
        agent,
        queued_at=_utc(10, 12),
        started_at=_utc(10, 12, 10),
        finished_at=_utc(10, 12, 40),
    )
    # Wait 20, support 40 (support ends when the rating was asked, not at the close).
    e2 = _track(
        t_closed,
        agent,
        queued_at=_utc(10, 13),
        started_at=_utc(10, 13, 20),
        rating_at=_utc(10, 14),
        finished_at=_utc(10, 14, 5),
    )
    _rate(e2, 4)
    # Wait 30, support 50; the same contact again, so it is not a lead.
    e3 = _track(
        t_closed,
        admin,
        queued_at=_utc(10, 15),
        started_at=_utc(10, 15, 30),
        finished_at=_utc(10, 16, 20),
    )
    _rate(e3, 2)
    # Still waiting: unfinished, so the date_to filter leaves it out.
    _track(t_pending, queued_at=_utc(10, 16))
    return {"carla": carla}


def _foreign_activity(other_company) -> None:
    """Busy, slow, badly rated episodes in another company on the same day."""
    boss = factories.AdminFactory(company=other_company, name="Aaron", online=True)
    factories.WhatsappFactory(company=other_company, status="CONNECTED")
    for status in ("open", "pending", "pending"):
        ticket = factories.TicketFactory(company=other_company, status=status, user_id=boss.id)
        row = _track(
            ticket,
            boss,
            queued_at=_utc(10, 4),
            started_at=_utc(10, 9),
            finished_at=_utc(10, 23),
            created_at=_utc(10, 12),
        )
        _rate(row, 1)


EXPECTED_COUNTERS = {
    "avgSupportTime": 40.0,
    "avgWaitTime": 20.0,
    "supportHappening": 1,
    "supportPending": 1,
    "supportFinished": 3,
    "leads": 1,
    "totalCompanies": 1,
    "totalWhatsappSessions": 1,
}


# -- GET /dashboard ---------------------------------------------------------------------


def test_dashboard_counters_and_attendants(client, prefix, company, admin, agent, auth):
    scene = _scene(company, admin, agent)
    resp = client.get(f"{prefix}/dashboard?date_from={DAY}&date_to={DAY}", headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["counters"] == EXPECTED_COUNTERS
    assert body["attendants"] == [
        {
            "id": admin.id,
            "name": "Ana",
            "avgSupportTime": 50.0,
            "tickets": 1,
            "rating": 2.0,
            "online": False,
        },
        {
            "id": agent.id,
            "name": "Bruno",
            "avgSupportTime": 35.0,
            "tickets": 2,
            "rating": 4.0,
            "online": False,
        },
        {
            "id": scene["carla"].id,
            "name": "Carla",
            "avgSupportTime": 0.0,
            "tickets": 0,
            "rating": 0.0,
            "online": True,
        },
    ]


def test_every_user_of_the_company_may_read_it(client, prefix, company, admin, agent, auth):
    _scene(company, admin, agent)
    resp = client.get(f"{prefix}/dashboard?date_from={DAY}&date_to={DAY}", headers=auth(agent))
    assert resp.status_code == 200
    assert resp.get_json()["counters"] == EXPECTED_COUNTERS


def test_another_company_never_changes_the_numbers(
    client, prefix, company, admin, agent, auth, other_company
):
    _scene(company, admin, agent)
    url = f"{prefix}/dashboard?date_from={DAY}&date_to={DAY}"
    before = client.get(url, headers=auth(admin)).get_json()
    _foreign_activity(other_company)
    after = client.get(url, headers=auth(admin)).get_json()
    assert after == before
    assert after["counters"] == EXPECTED_COUNTERS
    assert "Aaron" not in [a["name"] for a in after["attendants"]]


def test_no_filter_counts_unfinished_episodes_but_not_in_the_averages(
    client, prefix, company, admin, agent, auth
):
    _scene(company, admin, agent)
    body = client.get(f"{prefix}/dashboard", headers=auth(admin)).get_json()
    counters = body["counters"]
    # The waiting episode joins the period (a first contact: one more lead) but has no
    # wait or support time yet, so the averages do not move.
    assert counters["leads"] == 2 and counters["supportFinished"] == 3
    assert counters["avgSupportTime"] == 40.0 and counters["avgWaitTime"] == 20.0


def test_date_filters_follow_the_company_time_zone(client, prefix, company, agent, auth):
    ticket = factories.TicketFactory(company=company, status="closed")
    # Queued 23:59 local on the 9th: before date_from.
    _track(
        ticket,
        agent,
        queued_at=_utc(10, 2, 59),
        started_at=_utc(10, 3, 9),
        finished_at=_utc(10, 3, 19),
    )
    # Queued 00:00 local on the 10th, finished 23:59 local: inside.
    _track(
        ticket, agent, queued_at=_utc(10, 3), started_at=_utc(10, 3, 2), finished_at=_utc(11, 2, 59)
    )
    # Finished 00:00 local on the 11th: after date_to.
    _track(
        ticket, agent, queued_at=_utc(10, 20), started_at=_utc(10, 20, 4), finished_at=_utc(11, 3)
    )
    body = client.get(
        f"{prefix}/dashboard?date_from={DAY}&date_to={DAY}", headers=auth(agent)
    ).get_json()
    assert body["counters"]["supportFinished"] == 1
    assert body["counters"]["avgWaitTime"] == 2.0
    assert body["counters"]["avgSupportTime"] == 1437.0  # 03:02Z to 02:59Z next day

    company.timezone = "UTC"
    db.session.commit()
    body = client.get(
        f"{prefix}/dashboard?date_from={DAY}&date_to={DAY}", headers=auth(agent)
    ).get_json()
    # In UTC all three were queued on the 10th, and only the first finished on it.
    assert body["counters"]["supportFinished"] == 1
    assert body["counters"]["avgWaitTime"] == 10.0
    assert body["counters"]["avgSupportTime"] == 10.0


def test_days_filter(client, prefix, company, agent, auth):
    now = utcnow()
    ticket = factories.TicketFactory(company=company, status="open")
    _track(
        ticket,
        agent,
        queued_at=now - timedelta(days=2),
        started_at=now - timedelta(days=2) + timedelta(minutes=6),
    )
    _track(
        ticket,
        agent,
        queued_at=now - timedelta(days=10),
        started_at=now - timedelta(days=10) + timedelta(minutes=30),
        finished_at=now - timedelta(days=9),
    )
    counters = client.get(f"{prefix}/dashboard?days=7", headers=auth(agent)).get_json()["counters"]
    assert counters["avgWaitTime"] == 6.0 and counters["supportFinished"] == 0
    assert counters["leads"] == 1
    counters = client.get(f"{prefix}/dashboard?days=30", headers=auth(agent)).get_json()["counters"]
    assert counters["avgWaitTime"] == 18.0 and counters["supportFinished"] == 1
    # Two episodes of one contact: no longer a lead.
    assert counters["leads"] == 0


def test_empty_dashboard_has_the_full_shape(client, prefix, admin, auth):
    body = client.get(f"{prefix}/dashboard?days=7", headers=auth(admin)).get_json()
    assert body["counters"] == {
        **EXPECTED_COUNTERS,
        "avgSupportTime": 0.0,
        "avgWaitTime": 0.0,
        "supportHappening": 0,
        "supportPending": 0,
        "supportFinished": 0,
        "leads": 0,
        "totalWhatsappSessions": 0,
    }
    assert body["attendants"] == [
        {
            "id": admin.id,
            "name": admin.name,
            "avgSupportTime": 0.0,
            "tickets": 0,
            "rating": 0.0,
            "online": False,
        }
    ]


def test_dashboard_validation(client, prefix, admin, auth):
    resp = client.get(f"{prefix}/dashboard?days=x&date_from=2026-13-01", headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and {"days", "date_from"} <= set(body["fields"])
    resp = client.get(
        f"{prefix}/dashboard?date_from=2026-03-10&date_to=2026-03-09", headers=auth(admin)
    )
    assert resp.status_code == 400 and "date_to" in resp.get_json()["fields"]
    assert client.get(f"{prefix}/dashboard?days=0", headers=auth(admin)).status_code == 400


def test_every_endpoint_needs_a_token(client, prefix):
    for path in (
        "/dashboard",
        f"/dashboard/ticketsUsers?initialDate={DAY}&finalDate={DAY}",
        f"/dashboard/ticketsDay?initialDate={DAY}&finalDate={DAY}",
    ):
        resp = client.get(prefix + path)
        assert resp.status_code == 401, path
        assert resp.get_json()["error"] == "ERR_SESSION_EXPIRED"


# -- GET /dashboard/ticketsUsers ------------------------------------------------------------


def test_tickets_users_counts_finished_episodes_per_user(
    client, prefix, company, admin, agent, auth, other_company
):
    admin.name, agent.name = "Ana", "Bruno"
    idle = factories.UserFactory(company=company, name="Carla")
    ticket = factories.TicketFactory(company=company, status="closed")
    _track(ticket, agent, finished_at=_utc(10, 3))  # 00:00 local: in
    _track(ticket, agent, finished_at=_utc(11, 2, 59))  # 23:59 local: in
    _track(ticket, agent, finished_at=_utc(10, 2, 59))  # the 9th local: out
    _track(ticket, admin, finished_at=_utc(10, 15))
    _track(ticket, admin, queued_at=_utc(10, 15))  # unfinished: out
    _track(ticket, finished_at=_utc(10, 15))  # nobody's: out
    _foreign_activity(other_company)
    resp = client.get(
        f"{prefix}/dashboard/ticketsUsers?initialDate={DAY}&finalDate={DAY}"
        f"&companyId={other_company.id}",
        headers=auth(agent),
    )
    assert resp.status_code == 200
    assert resp.get_json() == {
        "data": [
            {"quantidade": 1, "nome": "Ana"},
            {"quantidade": 2, "nome": "Bruno"},
            {"quantidade": 0, "nome": idle.name},
        ]
    }


# -- GET /dashboard/ticketsDay --------------------------------------------------------------


def test_tickets_day_per_hour_for_one_day(client, prefix, company, agent, auth, other_company):
    ticket = factories.TicketFactory(company=company)
    for created in (_utc(10, 11, 15), _utc(10, 11, 45), _utc(10, 13), _utc(11, 2, 59)):
        _track(ticket, agent, created_at=created)
    _track(ticket, agent, created_at=_utc(10, 2, 30))  # 23:30 on the 9th, local
    _foreign_activity(other_company)
    resp = client.get(
        f"{prefix}/dashboard/ticketsDay?initialDate={DAY}&finalDate={DAY}&companyId=999",
        headers=auth(agent),
    )
    assert resp.status_code == 200
    assert resp.get_json() == {
        "count": 4,
        "data": [
            {"total": 2, "horario": 8},
            {"total": 1, "horario": 10},
            {"total": 1, "horario": 23},
        ],
    }


def test_tickets_day_per_day_in_date_order(client, prefix, company, agent, auth):
    ticket = factories.TicketFactory(company=company)
    _track(ticket, agent, created_at=_utc(28, 2, 30, month=2))  # 27/02 23:30 local
    _track(ticket, agent, created_at=_utc(28, 12, month=2))
    _track(ticket, agent, created_at=_utc(28, 13, month=2))
    _track(ticket, agent, created_at=_utc(2, 2, 59))  # 01/03 23:59 local
    _track(ticket, agent, created_at=_utc(2, 3))  # 02/03 00:00 local: after finalDate
    resp = client.get(
        f"{prefix}/dashboard/ticketsDay?initialDate=2026-02-27&finalDate=2026-03-01",
        headers=auth(agent),
    )
    assert resp.get_json() == {
        "count": 4,
        "data": [
            {"total": 1, "data": "27/02/2026"},
            {"total": 2, "data": "28/02/2026"},
            {"total": 1, "data": "01/03/2026"},
        ],
    }


def test_tickets_day_in_a_half_hour_time_zone(client, prefix, company, agent, auth):
    company.timezone = "Asia/Kolkata"  # UTC+05:30
    db.session.commit()
    ticket = factories.TicketFactory(company=company)
    for created in (_utc(10, 2, 15), _utc(10, 2, 45), _utc(10, 3, 15)):
        _track(ticket, agent, created_at=created)  # local 07:45, 08:15, 08:45
    body = client.get(
        f"{prefix}/dashboard/ticketsDay?initialDate={DAY}&finalDate={DAY}", headers=auth(agent)
    ).get_json()
    assert body == {"count": 3, "data": [{"total": 1, "horario": 7}, {"total": 2, "horario": 8}]}


def test_tickets_day_empty(client, prefix, agent, auth):
    body = client.get(
        f"{prefix}/dashboard/ticketsDay?initialDate={DAY}&finalDate=2026-03-12",
        headers=auth(agent),
    ).get_json()
    assert body == {"count": 0, "data": []}


def test_report_validation(client, prefix, agent, auth):
    for name in ("ticketsUsers", "ticketsDay"):
        url = f"{prefix}/dashboard/{name}"
        resp = client.get(url, headers=auth(agent))
        assert resp.status_code == 400
        assert {"initialDate", "finalDate"} <= set(resp.get_json()["fields"])
        resp = client.get(f"{url}?initialDate=10/03/2026&finalDate={DAY}", headers=auth(agent))
        assert resp.status_code == 400 and "initialDate" in resp.get_json()["fields"]
        resp = client.get(f"{url}?initialDate={DAY}&finalDate=2026-03-09", headers=auth(agent))
        assert resp.status_code == 400 and "finalDate" in resp.get_json()["fields"]
        resp = client.get(f"{url}?initialDate=2025-01-01&finalDate=2026-03-09", headers=auth(agent))
        assert resp.status_code == 400 and "finalDate" in resp.get_json()["fields"]
