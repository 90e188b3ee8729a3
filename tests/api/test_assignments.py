"""Assignment routes: queue fields, `/queue/:id/agents` (capacities), a ticket's assignment
history, and the socket frames an automatic assignment sends (those of a manual accept)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import Queue, Ticket, TicketAssignment
from whaticket.models.queue import user_queues
from whaticket.services.team import users as user_service
from whaticket.services.tickets import lifecycle


@pytest.fixture
def queue(company):
    return factories.QueueFactory(company=company, name="Suporte", assignment="round_robin")


@pytest.fixture
def member(company, queue):
    user = factories.UserFactory(company=company)
    user.queues = [queue]
    db.session.commit()
    return user


def _own_capacity(user_id: int, queue_id: int):
    return db.session.scalar(
        sa.select(user_queues.c.capacity).where(
            user_queues.c.user_id == user_id, user_queues.c.queue_id == queue_id
        )
    )


def test_queue_fields_are_created_updated_and_shown(client, prefix, admin, auth):
    resp = client.post(
        f"{prefix}/queue",
        json={"name": "Vendas", "color": "#ff0000", "assignment": "least_busy", "capacity": 3},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["assignment"], body["capacity"], body["reassignAfter"]) == ("least_busy", 3, None)
    resp = client.put(
        f"{prefix}/queue/{body['id']}", json={"reassignAfter": 15}, headers=auth(admin)
    )
    assert resp.get_json()["reassignAfter"] == 15
    shown = client.get(f"{prefix}/queue/{body['id']}", headers=auth(admin)).get_json()
    assert (shown["assignment"], shown["capacity"], shown["reassignAfter"]) == (
        "least_busy",
        3,
        15,
    )


def test_a_queue_of_the_saas_payload_is_manual_with_capacity_5(client, prefix, admin, auth):
    resp = client.post(
        f"{prefix}/queue", json={"name": "Vendas", "color": "#ff0000"}, headers=auth(admin)
    )
    assert (resp.get_json()["assignment"], resp.get_json()["capacity"]) == ("manual", 5)


@pytest.mark.parametrize(
    "payload",
    [
        {"assignment": "random"},
        {"capacity": 0},
        {"capacity": "many"},
        {"capacity": 100000},
        {"reassignAfter": -5},
        {"reassignAfter": 10**12},
    ],
)
def test_bad_queue_fields_are_400_and_change_nothing(client, prefix, admin, auth, queue, payload):
    resp = client.put(f"{prefix}/queue/{queue.id}", json=payload, headers=auth(admin))
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION"
    db.session.expire_all()
    row = db.session.get(Queue, queue.id)
    assert (row.assignment, row.capacity, row.reassign_after) == ("round_robin", 5, None)


def test_agents_list_and_capacity(client, prefix, admin, auth, queue, member):
    user_service.touch_online(member)
    dbmod.commit()
    url = f"{prefix}/queue/{queue.id}/agents"
    [row] = client.get(url, headers=auth(member)).get_json()
    assert row == {
        "userId": member.id,
        "name": member.name,
        "online": True,
        "capacity": None,
        "effectiveCapacity": 5,
        "openTickets": 0,
        "available": True,
    }
    resp = client.put(f"{url}/{member.id}", json={"capacity": 0}, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert (resp.get_json()["capacity"], resp.get_json()["available"]) == (0, False)
    assert _own_capacity(member.id, queue.id) == 0
    resp = client.put(f"{url}/{member.id}", json={"capacity": None}, headers=auth(admin))
    assert resp.get_json()["effectiveCapacity"] == 5
    assert _own_capacity(member.id, queue.id) is None


def test_raising_an_agents_capacity_assigns_the_backlog(
    client, prefix, admin, auth, company, queue, member
):
    db.session.execute(sa.update(user_queues).values(capacity=0))
    db.session.commit()
    user_service.touch_online(member)
    dbmod.commit()
    ticket = factories.TicketFactory(company=company, queue=queue)
    assert ticket.user_id is None
    resp = client.put(
        f"{prefix}/queue/{queue.id}/agents/{member.id}", json={"capacity": 1}, headers=auth(admin)
    )
    assert resp.status_code == 200  # its turn runs right after the commit
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).user_id == member.id
    [row] = client.get(f"{prefix}/tickets/{ticket.id}/assignments", headers=auth(member)).get_json()
    assert (row["userId"], row["reason"], row["mode"], row["outcome"]) == (
        member.id,
        "capacity_raised",
        "round_robin",
        None,
    )


@pytest.mark.parametrize("payload", [{}, {"capacity": -1}, {"capacity": "2x"}, {"capacity": 5000}])
def test_bad_capacity_is_400_and_changes_nothing(
    client, prefix, admin, auth, queue, member, payload
):
    resp = client.put(
        f"{prefix}/queue/{queue.id}/agents/{member.id}", json=payload, headers=auth(admin)
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION"
    assert _own_capacity(member.id, queue.id) is None


def test_capacity_of_a_user_outside_the_queue_is_400(client, prefix, admin, auth, company, queue):
    outsider = factories.UserFactory(company=company)
    resp = client.put(
        f"{prefix}/queue/{queue.id}/agents/{outsider.id}", json={"capacity": 2}, headers=auth(admin)
    )
    assert (resp.status_code, resp.get_json()) == (400, {"error": "ERR_USER_NOT_IN_QUEUE"})


def test_agents_may_not_set_capacities(client, prefix, auth, queue, member):
    resp = client.put(
        f"{prefix}/queue/{queue.id}/agents/{member.id}", json={"capacity": 9}, headers=auth(member)
    )
    assert resp.status_code == 403
    assert _own_capacity(member.id, queue.id) is None


def test_another_companys_queue_user_and_ticket_are_404(
    client, prefix, auth, other_admin, queue, member, company
):
    url = f"{prefix}/queue/{queue.id}/agents"
    assert client.get(url, headers=auth(other_admin)).status_code == 404
    resp = client.put(f"{url}/{member.id}", json={"capacity": 1}, headers=auth(other_admin))
    assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_QUEUE_NOT_FOUND"})
    assert _own_capacity(member.id, queue.id) is None
    # Their own queue, our user: the user is not theirs.
    theirs = factories.QueueFactory(company=other_admin.company)
    resp = client.put(
        f"{prefix}/queue/{theirs.id}/agents/{member.id}",
        json={"capacity": 1},
        headers=auth(other_admin),
    )
    assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_NO_USER_FOUND"})
    ticket = factories.TicketFactory(company=company)
    resp = client.get(f"{prefix}/tickets/{ticket.id}/assignments", headers=auth(other_admin))
    assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_NO_TICKET_FOUND"})


def test_history_of_a_ticket_the_agent_cannot_see_is_403(client, prefix, auth, company, member):
    elsewhere = factories.QueueFactory(company=company, name="Financeiro")
    ticket = factories.TicketFactory(company=company, queue=elsewhere)
    resp = client.get(f"{prefix}/tickets/{ticket.id}/assignments", headers=auth(member))
    assert resp.status_code == 403


def test_routes_need_a_token(client, prefix, queue, member):
    assert client.get(f"{prefix}/queue/{queue.id}/agents").status_code == 401
    assert client.put(f"{prefix}/queue/{queue.id}/agents/{member.id}", json={}).status_code == 401


def _frames(sock) -> list[tuple[str, dict]]:
    return [(f["name"], f["args"][0]) for f in sock.get_received() if f["name"].endswith("-ticket")]


def test_an_assignment_sends_the_frames_of_a_manual_accept(
    socket_client, company, queue, member, admin
):
    """The agent's list gains the ticket and the pending lists lose it, as on an accept."""
    watcher = socket_client(admin)
    for status in ("pending", "open"):
        assert watcher.emit("joinTickets", status, callback=True) == {"ok": True}
    agent_sock = socket_client(member)  # connecting puts the agent online
    queue.assignment = "manual"
    db.session.commit()
    manual = factories.TicketFactory(company=company, queue=queue)
    watcher.get_received()
    agent_sock.get_received()
    lifecycle.update_ticket(company.id, manual.id, {"status": "open", "user_id": member.id}, member)
    dbmod.commit()
    by_hand = (_frames(watcher), _frames(agent_sock))

    queue.assignment = "round_robin"
    db.session.commit()
    admin_user = factories.AdminFactory(company=company)
    auto = factories.TicketFactory(company=company, queue=queue, status="open", user=admin_user)
    watcher.get_received()
    agent_sock.get_received()
    # The ticket comes back to the queue (an admin returns it to pending): assigned.
    lifecycle.update_ticket(company.id, auto.id, {"status": "pending", "user_id": None}, admin_user)
    dbmod.commit()
    db.session.expire_all()
    assert db.session.get(Ticket, auto.id).user_id == member.id
    automatic = (_frames(watcher), _frames(agent_sock))

    def shape(frames: list[tuple[str, dict]]) -> list[tuple]:
        out = []
        for name, payload in frames:
            ticket = payload.get("ticket") or {}
            out.append((name, payload["action"], ticket.get("status"), ticket.get("userId")))
        return out

    # Both end with the ticket open for the agent, in the watcher's and the agent's lists.
    for (hand_w, hand_a), (auto_w, auto_a) in [(by_hand, automatic)]:
        assert ("update", "open", member.id) in {s[1:] for s in shape(hand_w)}
        assert ("update", "open", member.id) in {s[1:] for s in shape(auto_w)}
        assert ("update", "open", member.id) in {s[1:] for s in shape(hand_a)}
        assert ("update", "open", member.id) in {s[1:] for s in shape(auto_a)}
        assert ("delete", None, None) in {s[1:] for s in shape(auto_w)}
    assert (
        db.session.scalar(
            sa.select(sa.func.count(TicketAssignment.id)).where(
                TicketAssignment.ticket_id == auto.id
            )
        )
        == 1
    )
