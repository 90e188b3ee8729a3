"""SLA clocks over scripted days with a frozen clock, the company in America/Sao_Paulo.

Office hours Monday to Friday 08:00-18:00 (UTC-3); Monday 2026-12-07 is a holiday. The
policy counts office hours: first response 60 min, next response 30, resolution 480,
warning at half. The customer writes on Friday 2026-12-04 at 17:30: 30 minutes of Friday
are left, the weekend and the holiday do not count, so the first response is due on
Tuesday at 08:30 and the resolution on Tuesday at 15:30.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db, socketio
from whaticket.jobs import outbound as outbound_jobs
from whaticket.jobs import sla as sla_jobs
from whaticket.models import ReportEvent, SlaPolicy, Ticket, TicketTracking
from whaticket.services.inbound.messages import handle_inbound
from whaticket.services.messages import replies as message_replies
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.utils.office_hours import business_deadline
from whaticket.whatsapp.base import InboundMessage

WEEKDAYS = [
    {"weekday": "", "weekdayEn": day, "startTime": "08:00", "endTime": "18:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
]
TZ = "America/Sao_Paulo"
HOLIDAY = "2026-12-07"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A São Paulo wall-clock time in December 2026 (UTC-3, no DST), as aware UTC."""
    return datetime(2026, 12, day, hour + 3, minute, tzinfo=UTC)


FRI_1730 = local(4, 17, 30)


class Clock:
    """The app's frozen time (FROZEN_NOW), moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app):
    clk = Clock(FRI_1730)
    app.config["FROZEN_NOW"] = clk
    return clk


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, dict[str, Any], list[str]]]:
    """What actually left through Socket.IO (after the commits): sla.* events only."""
    calls: list[tuple[str, dict[str, Any], list[str]]] = []
    real = socketio.emit

    def capture(event, data=None, *args, **kwargs):
        if event.startswith("sla."):
            calls.append((event, data, list(kwargs.get("to") or [])))
            return None
        return real(event, data, *args, **kwargs)

    monkeypatch.setattr(socketio, "emit", capture)
    return calls


@pytest.fixture
def policy(company) -> SlaPolicy:
    company.timezone = TZ
    company.schedules = WEEKDAYS
    company.closed_dates = [HOLIDAY]
    policy = SlaPolicy(
        company_id=company.id,
        name="Gold",
        first_response_minutes=60,
        next_response_minutes=30,
        resolution_minutes=480,
        business_hours=True,
        warning_fraction=0.5,
    )
    db.session.add(policy)
    db.session.commit()
    return policy


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")


def _customer(company, conn, body: str, clock) -> Ticket:
    event = InboundMessage(
        provider_id=f"IN-{body}-{clock.now.timestamp()}", chat_id="5511987654321", body=body
    )
    message = handle_inbound(company.id, conn.id, event, now=clock.now)
    dbmod.commit()
    return db.session.get(Ticket, message.ticket_id)


def _reply(company, ticket, body: str, user) -> None:
    message = message_replies.send_text(company.id, ticket.id, body, user)
    dbmod.commit()
    outbound_jobs.deliver_now([message])
    dbmod.commit()


def _tracking(ticket: Ticket) -> TicketTracking:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(TicketTracking)
        .where(TicketTracking.ticket_id == ticket.id)
        .order_by(TicketTracking.id.desc())
    ).first()


def _events(kind: str) -> list[ReportEvent]:
    return list(
        db.session.scalars(
            sa.select(ReportEvent).where(ReportEvent.kind == kind).order_by(ReportEvent.id)
        )
    )


def test_business_deadline_skips_the_weekend_and_the_holiday():
    holiday = [datetime(2026, 12, 7).date()]
    due = business_deadline(WEEKDAYS, FRI_1730, 3600, TZ, holiday)
    assert due == local(8, 8, 30)
    assert business_deadline(WEEKDAYS, FRI_1730, 3600, TZ) == local(7, 8, 30)
    assert business_deadline([], FRI_1730, 3600, TZ) == FRI_1730 + timedelta(hours=1)
    # Before opening: the clock starts at 08:00; exactly at closing: that closing time.
    assert business_deadline(WEEKDAYS, local(8, 6), 1800, TZ) == local(8, 8, 30)
    assert business_deadline(WEEKDAYS, FRI_1730, 1800, TZ) == local(4, 18)
    closed_every_day = [{"weekdayEn": "monday", "startTime": "", "endTime": ""}]
    assert business_deadline(closed_every_day, FRI_1730, 60, TZ) is None


def test_due_times_warning_breach_and_report_over_a_weekend_and_a_holiday(
    company, admin, conn, policy, clock, sent, client, prefix, auth
):
    ticket = _customer(company, conn, "Oi", clock)
    tracking = _tracking(ticket)
    assert tracking.sla_policy_id == policy.id and tracking.sla_status == "ok"
    assert tracking.first_response_due_at == local(8, 8, 30)
    assert tracking.first_response_warn_at == local(4, 18)
    assert tracking.resolution_due_at == local(8, 15, 30)
    assert tracking.sla_check_at == local(4, 18)

    clock.now = local(4, 17, 40)  # accepted by the admin
    ticket_service.update_ticket(
        company.id, ticket.id, {"status": "open", "user_id": admin.id}, admin
    )
    dbmod.commit()

    clock.now = local(5, 10)  # Saturday: half the first-response target has passed
    assert sla_jobs.sweep_due() == 1
    assert sla_jobs.sweep_due() == 0
    [(event, data, rooms)] = sent
    assert event == "sla.warning" and data["target"] == "first_response"
    assert data["ticketId"] == ticket.id and data["policy"] == {"id": policy.id, "name": "Gold"}
    assert set(rooms) == {f"company-{company.id}-mainchannel", f"user-{admin.id}"}
    body = client.get(f"{prefix}/tickets/{ticket.id}", headers=auth(admin)).get_json()
    assert body["sla"] == {
        "policy": {"id": policy.id, "name": "Gold"},
        "firstResponseDueAt": "2026-12-08T11:30:00.000Z",
        "nextResponseDueAt": None,
        "resolutionDueAt": "2026-12-08T18:30:00.000Z",
        "status": "at_risk",
    }
    listed = client.get(f"{prefix}/tickets?sla=at_risk&showAll=true", headers=auth(admin))
    assert [t["id"] for t in listed.get_json()["tickets"]] == [ticket.id]

    clock.now = local(7, 12)  # the holiday: nothing is due yet
    assert sla_jobs.sweep_due() == 0

    clock.now = local(8, 8, 31)  # Tuesday 08:31: the first response is late
    assert sla_jobs.sweep_due() == 1
    assert sla_jobs.sweep_due() == 0
    assert [e for e, _, _ in sent] == ["sla.warning", "sla.breached"]
    assert _tracking(ticket).sla_status == "breached"
    listed = client.get(f"{prefix}/tickets?sla=breached&showAll=true", headers=auth(admin))
    assert [t["id"] for t in listed.get_json()["tickets"]] == [ticket.id]
    listed = client.get(f"{prefix}/tickets?sla=at_risk&showAll=true", headers=auth(admin))
    assert listed.get_json()["tickets"] == []

    clock.now = local(8, 9)  # answered: 30 min on Friday + 60 on Tuesday
    _reply(company, ticket, "Bom dia!", admin)
    clock.now = local(8, 10)  # the customer again: the next-response clock
    _customer(company, conn, "Preciso de ajuda", clock)
    assert _tracking(ticket).next_response_due_at == local(8, 10, 30)
    clock.now = local(8, 10, 10)
    _reply(company, ticket, "Claro", admin)
    clock.now = local(8, 11)  # closed: 30 min on Friday + 180 on Tuesday
    ticket_service.update_ticket(company.id, ticket.id, {"status": "closed"}, admin)
    dbmod.commit()
    assert _tracking(ticket).sla_status == "breached"  # the first response stays breached
    assert sla_jobs.sweep_due() == 0

    [missed] = _events("sla_missed")
    assert (missed.sla_target, missed.business_value) == ("first_response", 90 * 60)
    met = {e.sla_target: e.business_value for e in _events("sla_met")}
    assert met == {"next_response": 600, "resolution": 210 * 60}
    assert len(_events("sla_breach")) == 1 and len(_events("sla_warning")) == 1

    resp = client.get(f"{prefix}/reports/sla?from=2026-12-01&to=2026-12-08", headers=auth(admin))
    report = resp.get_json()
    assert report["total"]["met"] == 2 and report["total"]["breached"] == 1
    assert report["total"]["atRisk"] == 1
    assert report["total"]["firstResponseMedian"] == 5400
    assert report["total"]["nextResponseP90"] == 600
    assert report["total"]["resolutionMedian"] == 12600
    [gold] = report["policies"]
    assert (gold["key"], gold["name"], gold["met"], gold["breached"]) == (policy.id, "Gold", 2, 1)
    [agent_row] = report["agents"]
    assert agent_row["key"] == admin.id and agent_row["breached"] == 1

    resp = client.get(
        f"{prefix}/reports/sla?from=2026-12-01&to=2026-12-08&format=csv", headers=auth(admin)
    )
    assert resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0]["scope"] == "total" and rows[0]["firstResponseMedian"] == "5400.0"
    assert {r["scope"] for r in rows} == {"total", "policies", "queues", "agents"}


def test_office_hours_change_recomputes_running_due_times(
    company, admin, conn, policy, clock, client, prefix, auth
):
    ticket = _customer(company, conn, "Oi", clock)
    assert _tracking(ticket).first_response_due_at == local(8, 8, 30)
    # The holiday is removed: Monday counts again.
    resp = client.put(
        f"{prefix}/companies/{company.id}/schedules",
        json={"schedules": WEEKDAYS, "closedDates": []},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert _tracking(ticket).first_response_due_at == local(7, 8, 30)
    # A policy edit reaches its running episodes too (wall clock now).
    resp = client.put(
        f"{prefix}/sla-policies/{policy.id}", json={"businessHours": False}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert _tracking(ticket).first_response_due_at == FRI_1730 + timedelta(hours=1)
