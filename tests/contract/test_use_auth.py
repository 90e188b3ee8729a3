"""Logged-in user (useAuth): the `company-{cid}-user` update that replaces it keeps its company."""

from __future__ import annotations

from tests import factories
from tests.factories import PASSWORD
from whaticket.extensions import db


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def _login(client, prefix, user) -> dict:
    resp = client.post(f"{prefix}/auth/login", json={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["user"]


def test_own_profile_edit_event_keeps_the_company_the_header_reads(
    client, prefix, agent, auth, socket_client
):
    """src/hooks/useAuth.js/index.js:83 replaces the logged-in user with data.user on a
    `company-{cid}-user` update for itself; src/layout/index.js:390 then shows "Ativo até
    {user.company.dueDate}" and src/pages/Kanban reads user.queues[].UserQueue.queueId."""
    queue = factories.QueueFactory(company=agent.company)
    agent.queues = [queue]
    db.session.commit()
    logged = _login(client, prefix, agent)
    sock = socket_client(agent)
    sock.get_received()
    resp = client.put(f"{prefix}/users/{agent.id}", json={"name": "Novo Nome"}, headers=auth(agent))
    assert resp.status_code == 200, resp.get_json()
    (event,) = _events(sock, f"company-{agent.company_id}-user")
    assert event["action"] == "update" and event["user"]["id"] == agent.id
    user = event["user"]
    assert user["name"] == "Novo Nome"
    # The company as login gave it, minus the session's own settings (read at login only).
    session_company = {k: v for k, v in logged["company"].items() if k != "settings"}
    assert user["company"] == session_company
    assert user["company"]["dueDate"] and user["company"]["dueDate"].endswith("Z")
    assert {"id", "name", "status", "dueDate", "planId"} <= set(user["company"])
    (row,) = user["queues"]
    assert row["id"] == queue.id and row["UserQueue"]["queueId"] == queue.id


def test_admin_edit_and_logout_events_carry_the_company_too(
    client, prefix, admin, agent, auth, socket_client
):
    """Any update of a user may reach that user's own useAuth (an admin's edit while the
    agent is logged in, going offline): each carries the company as login has it."""
    expected = {
        k: v for k, v in _login(client, prefix, agent)["company"].items() if k != "settings"
    }
    sock = socket_client(admin)
    sock.get_received()
    resp = client.put(f"{prefix}/users/{agent.id}", json={"name": "Por Admin"}, headers=auth(admin))
    assert resp.status_code == 200
    (event,) = _events(sock, f"company-{admin.company_id}-user")
    assert event["user"]["id"] == agent.id and event["user"]["company"] == expected
    assert client.delete(f"{prefix}/auth/logout", headers=auth(agent)).status_code == 200
    (event,) = _events(sock, f"company-{admin.company_id}-user")
    assert event["user"]["online"] is False and event["user"]["company"] == expected


def test_other_companies_never_hear_it(client, prefix, agent, auth, other_admin, socket_client):
    theirs = socket_client(other_admin)
    theirs.get_received()
    client.put(f"{prefix}/users/{agent.id}", json={"name": "X Y"}, headers=auth(agent))
    assert not [e for e in theirs.get_received() if e["name"].endswith("-user")]
    resp = client.put(f"{prefix}/users/{agent.id}", json={"name": "Zed"}, headers=auth(other_admin))
    assert resp.status_code == 404
