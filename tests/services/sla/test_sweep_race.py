"""Two workers sweeping at once mark each warning and breach exactly once (threads on a
shared database: each has its own connection and transaction)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db, socketio
from whaticket.jobs import sla as sla_jobs
from whaticket.models import ReportEvent, SlaPolicy, Ticket, TicketTracking

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.mark.real_db
@pytest.mark.shared_db
def test_two_workers_racing_emit_each_mark_once(app, company, monkeypatch):
    sent: list[tuple[str, int]] = []
    lock = threading.Lock()

    def capture(event, data=None, *args, **kwargs):
        if event.startswith("sla."):
            with lock:
                sent.append((event, data["ticketId"]))

    monkeypatch.setattr(socketio, "emit", capture)
    policy = SlaPolicy(
        company_id=company.id, name="Fast", first_response_minutes=10, resolution_minutes=60
    )
    db.session.add(policy)
    db.session.flush()
    tickets = []
    for _ in range(12):
        ticket = factories.TicketFactory(company=company, status="pending")
        tracking = TicketTracking(
            company_id=company.id,
            ticket_id=ticket.id,
            queued_at=T0,
            created_at=T0,
            awaiting_since=T0,
            sla_policy_id=policy.id,
            sla_status="ok",
            first_response_due_at=T0 + timedelta(minutes=10),
            first_response_warn_at=T0 + timedelta(minutes=8),
            resolution_due_at=T0 + timedelta(minutes=60),
            resolution_warn_at=T0 + timedelta(minutes=48),
            sla_check_at=T0 + timedelta(minutes=8),
        )
        db.session.add(tracking)
        db.session.flush()
        ticket.sla_tracking_id = tracking.id
        tickets.append(ticket)
    db.session.commit()

    def sweep_at(now: datetime) -> None:
        app.config["FROZEN_NOW"] = now
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker() -> None:
            with app.app_context():
                try:
                    barrier.wait()
                    sla_jobs.sweep_due()
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []

    sweep_at(T0 + timedelta(minutes=9))  # first-response warnings
    sweep_at(T0 + timedelta(minutes=11))  # first-response breaches
    sweep_at(T0 + timedelta(minutes=11))  # nothing new

    ids = sorted(t.id for t in tickets)
    for event in ("sla.warning", "sla.breached"):
        assert sorted(tid for e, tid in sent if e == event) == ids, event
    db.session.rollback()
    kinds = db.session.execute(
        sa.select(ReportEvent.kind, sa.func.count())
        .where(ReportEvent.company_id == company.id)
        .group_by(ReportEvent.kind)
    ).all()
    assert dict(kinds) == {"sla_warning": 12, "sla_breach": 12}
    statuses = db.session.scalars(
        sa.select(TicketTracking.sla_status).where(TicketTracking.company_id == company.id)
    ).all()
    assert set(statuses) == {"breached"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) >= 12
