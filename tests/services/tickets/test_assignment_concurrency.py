"""Assignment turns of several processes at once (threads with their own sessions, on a
shared MariaDB): no ticket is given twice, no agent goes over capacity."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs import assignment as assignment_jobs
from whaticket.models import Ticket, TicketAssignment, User
from whaticket.services.team import users as user_service
from whaticket.services.tickets import lifecycle

THREADS = 4
CAPACITY = 3


def _accept_by_hand(company_id: int, ticket_id: int, admin_id: int) -> None:
    """`PUT /tickets/:id` accepting for the admin. A deadlock there (the report rollup's
    rows) is answered 503 and the frontend tries again: so does this."""
    for attempt in range(5):
        try:
            user = db.session.get(User, admin_id)
            ticket = db.session.get(Ticket, ticket_id)
            if ticket.status == "pending":
                lifecycle.update_ticket(
                    company_id, ticket_id, {"status": "open", "user_id": admin_id}, user
                )
            dbmod.commit()
            return
        except sa.exc.OperationalError:
            dbmod.rollback()
            if attempt == 4:
                raise


@pytest.mark.real_db
@pytest.mark.shared_db
def test_concurrent_turns_never_double_assign_nor_overfill(app, company):
    queues = [
        factories.QueueFactory(company=company, name=f"Q{n}", assignment=mode, capacity=CAPACITY)
        for n, mode in enumerate(("round_robin", "least_busy"))
    ]
    agents = [factories.UserFactory(company=company) for _ in range(5)]
    for agent in agents:
        agent.queues = list(queues)
        user_service.touch_online(agent)
    conn = factories.WhatsappFactory(company=company)
    db.session.commit()
    tickets = [
        factories.TicketFactory(company=company, whatsapp=conn, queue=queues[i % 2])
        for i in range(60)
    ]
    admin = factories.AdminFactory(company=company)
    db.session.commit()
    queue_ids = [q.id for q in queues]
    ticket_ids = [t.id for t in tickets]
    company_id, admin_id = company.id, admin.id
    barrier = threading.Barrier(THREADS + 1)
    errors: list[BaseException] = []

    def turns(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                for round_ in range(6):
                    assignment_jobs.drain(queue_ids[(n + round_) % 2], "backlog")
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(RuntimeError(f"turns {n}: {exc!r}"))

    def accepts() -> None:
        # Meanwhile an admin accepts tickets by hand: each is either theirs or an agent's.
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                for tid in ticket_ids[::7]:
                    _accept_by_hand(company_id, tid, admin_id)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=turns, args=(n,)) for n in range(THREADS)]
    threads.append(threading.Thread(target=accepts))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    # A hand accept may land on a ticket just given (the last writer wins, as between two
    # people): one more turn per queue fills any place that freed.
    for queue_id in queue_ids:
        assignment_jobs.drain(queue_id)
    db.session.expire_all()

    given = db.session.execute(
        sa.select(TicketAssignment.ticket_id, sa.func.count(TicketAssignment.id)).group_by(
            TicketAssignment.ticket_id
        )
    ).all()
    assert given and all(count == 1 for _tid, count in given), given
    loads = db.session.execute(
        sa.select(Ticket.queue_id, Ticket.user_id, sa.func.count(Ticket.id))
        .where(Ticket.status == "open", Ticket.user_id != admin_id)
        .group_by(Ticket.queue_id, Ticket.user_id)
    ).all()
    assert all(count <= CAPACITY for _q, _u, count in loads), loads
    # Every agent is full in both queues (5 agents x 3 x 2 queues = 30 of the 60).
    assert sum(count for _q, _u, count in loads) == 5 * CAPACITY * 2
    # Each assignment row names the agent who holds the ticket (none lost to a race).
    for ticket_id, user_id in db.session.execute(
        sa.select(TicketAssignment.ticket_id, TicketAssignment.user_id)
    ):
        holder = db.session.get(Ticket, ticket_id)
        assert holder.user_id in (user_id, admin_id)
