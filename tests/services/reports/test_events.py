"""Reporting events recorded as a scripted conversation happens, with a frozen clock.

Office hours: Monday to Friday, 08:00-18:00 in São Paulo (UTC-3). The customer writes on
Monday at 17:00 and is answered on Tuesday at 08:30: 15.5 hours on the wall clock, 1.5
inside office hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs import outbound as outbound_jobs
from whaticket.models import ReportEvent, Ticket
from whaticket.services.inbound.messages import handle_inbound
from whaticket.services.messages import outbound as message_out
from whaticket.services.messages import replies as message_replies
from whaticket.services.tickets import lifecycle as ticket_service
from whaticket.whatsapp.base import InboundMessage

WEEKDAYS = [
    {"weekday": "", "weekdayEn": day, "startTime": "08:00", "endTime": "18:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
]
#: Monday 2026-11-30 17:00 in São Paulo.
MON_17 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


class Clock:
    """The app's frozen time (FROZEN_NOW), moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, delta: timedelta) -> None:
        self.now = MON_17 + delta


@pytest.fixture
def clock(app):
    clk = Clock(MON_17)
    app.config["FROZEN_NOW"] = clk
    return clk


@pytest.fixture
def conn(company):
    company.schedules = WEEKDAYS
    db.session.commit()
    return factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")


def _customer(company, conn, body: str, clock) -> Ticket:
    event = InboundMessage(
        provider_id=f"IN-{body}-{clock.now.timestamp()}", chat_id="5511987654321", body=body
    )
    message = handle_inbound(company.id, conn.id, event, now=clock.now)
    dbmod.commit()
    return db.session.get(Ticket, message.ticket_id)


def _events(kind: str) -> list[ReportEvent]:
    return list(
        db.session.scalars(
            sa.select(ReportEvent).where(ReportEvent.kind == kind).order_by(ReportEvent.id)
        )
    )


def _reply(company, ticket, body: str, admin) -> None:
    """An agent's reply as the view sends it: queued, committed, then sent."""
    message = message_replies.send_text(company.id, ticket.id, body, admin)
    dbmod.commit()
    outbound_jobs.deliver_now([message])


def test_first_response_reply_wait_and_resolution(company, conn, admin, clock):
    ticket = _customer(company, conn, "Oi", clock)

    clock.at(timedelta(minutes=30))  # Monday 17:30: accepted
    ticket_service.update_ticket(
        company.id, ticket.id, {"status": "open", "user_id": admin.id}, admin
    )
    dbmod.commit()

    clock.at(timedelta(hours=15, minutes=30))  # Tuesday 08:30: first answer
    _reply(company, ticket, "Bom dia!", admin)
    dbmod.commit()

    clock.at(timedelta(hours=16))  # Tuesday 09:00: the customer again
    _customer(company, conn, "Preciso de ajuda", clock)
    clock.at(timedelta(hours=16, minutes=10))  # 09:10: answered
    _reply(company, ticket, "Claro", admin)
    dbmod.commit()

    clock.at(timedelta(hours=17))  # Tuesday 10:00: closed
    ticket_service.update_ticket(company.id, ticket.id, {"status": "closed"}, admin)
    dbmod.commit()

    [conversation] = _events("conversation")
    assert conversation.occurred_at == MON_17 and conversation.whatsapp_id == conn.id
    [wait] = _events("wait")
    assert (wait.value, wait.business_value) == (1800, 1800)
    [first] = _events("first_response")
    assert (first.value, first.business_value) == (15.5 * 3600, 1.5 * 3600)
    assert first.user_id == admin.id
    [reply] = _events("reply_time")
    assert (reply.value, reply.business_value) == (600, 600)
    [resolution] = _events("resolution")
    assert (resolution.value, resolution.business_value) == (17 * 3600, 3 * 3600)
    assert len(_events("message_in")) == 2 and len(_events("message_out")) == 2


def test_a_closed_date_counts_nothing(company, conn, admin, clock):
    company.closed_dates = ["2026-12-01"]  # Tuesday
    db.session.commit()
    ticket = _customer(company, conn, "Oi", clock)
    ticket_service.update_ticket(
        company.id, ticket.id, {"status": "open", "user_id": admin.id}, admin
    )
    clock.at(timedelta(hours=15, minutes=30))  # Tuesday 08:30, a holiday
    _reply(company, ticket, "Bom dia!", admin)
    dbmod.commit()
    [first] = _events("first_response")
    assert first.business_value == 3600  # only Monday 17:00-18:00


def test_bot_and_campaign_messages_are_not_replies(company, conn, admin, clock):
    ticket = _customer(company, conn, "Oi", clock)
    clock.at(timedelta(minutes=5))
    message_out.send_bot_text(ticket, "Já vamos te atender")
    dbmod.commit()
    assert _events("first_response") == []
    assert len(_events("message_out")) == 1


def test_transfer_and_rating(company, conn, admin, agent, clock):
    from whaticket.services.team import settings as settings_service

    settings_service.update_setting(company.id, "userRating", "enabled")
    ticket = _customer(company, conn, "Oi", clock)
    ticket_service.update_ticket(
        company.id, ticket.id, {"status": "open", "user_id": admin.id}, admin
    )
    ticket_service.update_ticket(company.id, ticket.id, {"user_id": agent.id}, admin)
    dbmod.commit()
    [transfer] = _events("transfer")
    assert transfer.user_id == agent.id
    ticket_service.update_ticket(company.id, ticket.id, {"status": "closed"}, admin)
    dbmod.commit()
    _customer(company, conn, "3", clock)
    [rating] = _events("rating")
    assert rating.rating == 3 and rating.user_id == agent.id


def test_another_company_is_never_mixed_in(company, conn, other_company, clock):
    other_conn = factories.WhatsappFactory(
        company=other_company, provider="fake", status="CONNECTED"
    )
    _customer(company, conn, "Oi", clock)
    _customer(other_company, other_conn, "Oi", clock)
    rows = db.session.execute(
        sa.select(ReportEvent.company_id, sa.func.count()).group_by(ReportEvent.company_id)
    ).all()
    assert dict(rows) == {company.id: 2, other_company.id: 2}  # conversation + message_in


def _snapshot() -> list[tuple]:
    rows = db.session.execute(
        sa.select(
            ReportEvent.kind,
            ReportEvent.occurred_at,
            ReportEvent.value,
            ReportEvent.business_value,
            ReportEvent.rating,
            ReportEvent.ticket_id,
        ).where(ReportEvent.kind.not_in(("bot_handoff", "transfer")))
    ).all()
    return sorted(tuple(row) for row in rows)


def test_rebuild_replays_what_was_recorded_live(app, company, conn, admin, clock):
    test_first_response_reply_wait_and_resolution(company, conn, admin, clock)
    live = _snapshot()
    db.session.execute(sa.delete(ReportEvent))
    dbmod.commit()

    result = app.test_cli_runner().invoke(
        args=["reports", "rebuild", "--company-id", str(company.id)]
    )
    assert result.exit_code == 0, result.output
    assert "reporting events written" in result.output
    db.session.expire_all()
    assert _snapshot() == live
    # Rebuilding twice writes the same events, not twice as many.
    app.test_cli_runner().invoke(args=["reports", "rebuild"])
    db.session.expire_all()
    assert _snapshot() == live


def test_rollup_from_events_matches_the_live_rollup(company, conn, admin, clock):
    from whaticket.models import ReportDaily
    from whaticket.services.reports.rebuild import rollup_from_events

    test_first_response_reply_wait_and_resolution(company, conn, admin, clock)

    def rows() -> list[tuple]:
        db.session.expire_all()
        return sorted(
            tuple(r)
            for r in db.session.execute(
                sa.select(
                    ReportDaily.day,
                    ReportDaily.kind,
                    ReportDaily.user_key,
                    ReportDaily.queue_key,
                    ReportDaily.whatsapp_key,
                    ReportDaily.events,
                    ReportDaily.valued,
                    ReportDaily.value_sum,
                    ReportDaily.business_sum,
                )
            )
        )

    live = rows()
    assert live  # recorded as it happened
    assert rollup_from_events(company.id) == len(live)
    dbmod.commit()
    assert rows() == live


def test_a_phone_message_to_a_closed_ticket_opens_no_episode(company, conn, admin, clock):
    from whaticket.models import TicketTracking

    ticket = _customer(company, conn, "Oi", clock)
    ticket_service.update_ticket(company.id, ticket.id, {"status": "closed"}, admin)
    dbmod.commit()
    episodes = db.session.scalar(sa.select(sa.func.count()).select_from(TicketTracking))
    conversations = len(_events("conversation"))

    clock.at(timedelta(hours=1))  # typed on the phone, to the closed conversation
    event = InboundMessage(
        provider_id="OUT-phone", chat_id="5511987654321", body="Obrigado!", from_me=True
    )
    handle_inbound(company.id, conn.id, event, now=clock.now)
    dbmod.commit()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketTracking)) == episodes
    assert len(_events("conversation")) == conversations
    assert len(_events("message_out")) == 1


def test_rollup_from_events_puts_half_hour_zones_on_their_local_day(company):
    from whaticket.models import ReportDaily
    from whaticket.services.reports import events as report_events
    from whaticket.services.reports.rebuild import rollup_from_events

    company.timezone = "Asia/Kolkata"  # UTC+05:30
    db.session.commit()
    # 18:45 UTC is 00:15 on Tuesday in Kolkata; 18:15 UTC is 23:45 on Monday.
    report_events.record(company.id, "message_in", datetime(2026, 11, 30, 18, 45, tzinfo=UTC))
    report_events.record(company.id, "message_in", datetime(2026, 11, 30, 18, 15, tzinfo=UTC))
    dbmod.commit()

    def days() -> list[tuple]:
        db.session.expire_all()
        return sorted(
            (r.day.isoformat(), r.events) for r in db.session.scalars(sa.select(ReportDaily))
        )

    live = days()
    assert live == [("2026-11-30", 1), ("2026-12-01", 1)]
    rollup_from_events(company.id)
    dbmod.commit()
    assert days() == live
