"""GET /admin/status (super users), its live `admin-status` socket event, `flask status`."""

from __future__ import annotations

import pytest

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs import status as status_job
from whaticket.models import Campaign, InboundEvent
from whaticket.services.connections import sessions
from whaticket.whatsapp.base import SessionState


@pytest.fixture
def busy(company, other_company):
    """A company with a connection that went down, inbound backlog, a running campaign."""
    conn = factories.WhatsappFactory(
        company=company, name="Sales line", provider="fake", status="CONNECTED"
    )
    sessions.apply_state(company.id, conn.id, SessionState("DISCONNECTED"), "phone offline")
    for n, state in enumerate(("pending", "failed", "failed", "done")):
        db.session.add(
            InboundEvent(
                company_id=company.id,
                whatsapp_id=conn.id,
                provider="fake",
                dedupe_key=f"k{n}",
                payload="{}",
                status=state,
                last_error="ValueError: refused part" if state == "failed" else None,
            )
        )
    db.session.add(Campaign(company_id=company.id, name="Black Friday", status="EM_ANDAMENTO"))
    factories.WhatsappFactory(company=other_company, name="Other line", status="CONNECTED")
    dbmod.commit()
    return conn


def test_super_user_sees_every_company(client, prefix, superuser, auth, busy, company):
    resp = client.get(f"{prefix}/admin/status", headers=auth(superuser))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["workers"]["mode"] == "inline"
    mine = next(c for c in body["companies"] if c["id"] == company.id)
    (conn,) = mine["connections"]
    assert conn["name"] == "Sales line" and conn["status"] == "DISCONNECTED"
    assert conn["lastEvent"]["status"] == "DISCONNECTED"
    assert conn["lastEvent"]["detail"] == "phone offline"
    assert conn["lastInboundAt"] is not None
    assert mine["inbound"] == {"pending": 1, "failed": 2}
    assert [c["name"] for c in mine["campaignsRunning"]] == ["Black Friday"]
    assert [f["kind"] for f in mine["failures"]] == ["inbound", "inbound"]
    assert mine["failures"][0]["error"] == "ValueError: refused part"
    other = [c for c in body["companies"] if c["id"] != company.id]
    assert any(c["connections"] and c["connections"][0]["name"] == "Other line" for c in other)


def test_admins_and_agents_of_a_company_are_refused(client, prefix, admin, agent, auth, busy):
    for user in (admin, agent):
        resp = client.get(f"{prefix}/admin/status", headers=auth(user))
        assert resp.status_code == 403
        assert resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    resp = client.get(f"{prefix}/admin/status")
    assert resp.status_code == 401


def _admin_status(sock) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == "admin-status"]


def test_a_connection_change_reaches_super_users_only(superuser, admin, company, socket_client):
    conn = factories.WhatsappFactory(company=company, status="CONNECTED")
    dbmod.commit()
    watcher, bystander = socket_client(superuser), socket_client(admin)
    watcher.get_received(), bystander.get_received()

    sessions.apply_state(company.id, conn.id, SessionState("DISCONNECTED"))
    dbmod.commit()

    (event,) = _admin_status(watcher)
    assert event["action"] == "connection" and event["companyId"] == company.id
    assert event["connection"]["id"] == conn.id
    assert event["connection"]["status"] == "DISCONNECTED"
    assert event["connection"]["previousStatus"] == "CONNECTED"
    assert _admin_status(bystander) == []


def test_the_periodic_update_carries_the_whole_page(superuser, admin, busy, socket_client):
    watcher, bystander = socket_client(superuser), socket_client(admin)
    watcher.get_received(), bystander.get_received()

    status_job.emit_admin_status()

    (event,) = _admin_status(watcher)
    assert event["action"] == "update"
    names = [x["name"] for c in event["status"]["companies"] for x in c["connections"]]
    assert "Sales line" in names
    assert _admin_status(bystander) == []


def test_flask_status_prints_the_same_page(app, busy, company):
    result = app.test_cli_runner().invoke(args=["status"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "workers (jobs: inline" in out
    assert company.name in out and "Sales line" in out and "DISCONNECTED" in out
    assert "Black Friday" in out
    assert "ValueError: refused part" in out

    as_json = app.test_cli_runner().invoke(args=["status", "--json"])
    assert as_json.exit_code == 0 and '"campaignsRunning"' in as_json.output
