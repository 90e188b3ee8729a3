"""GET /inbound-events: a company's admins see its failed webhook deliveries and why."""

from __future__ import annotations

import json

import pytest

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.services.inbound import deliveries


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    db.session.commit()
    return conn


def _deliver(conn, payload: dict) -> None:
    deliveries.record(conn, json.dumps(payload).encode())
    dbmod.commit()  # drained right after (inline in tests)


@pytest.fixture
def failed(conn):
    """Two refused deliveries and one applied, of `conn`."""
    _deliver(conn, {"from": "9" * 500, "body": "x", "id": "POISON-1"})
    _deliver(conn, {"from": "1" * 40, "body": "y", "id": "POISON-2"})
    _deliver(conn, {"from": "5511987654321", "body": "ok", "id": "FINE-1"})
    return conn


def test_admins_see_failed_deliveries_with_their_reason(client, prefix, admin, auth, failed):
    resp = client.get(f"{prefix}/inbound-events", headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["count"] == 2 and body["hasMore"] is False
    newest, oldest = body["events"]
    assert "POISON-2" in newest["reason"] and "40 characters" in newest["reason"]
    assert "POISON-1" in oldest["reason"] and "500 characters" in oldest["reason"]
    assert newest["status"] == "failed" and newest["whatsappId"] == failed.id
    assert newest["provider"] == "fake" and newest["attempts"] == 1
    assert "payload" not in newest and newest["createdAt"].endswith("Z")

    done = client.get(
        f"{prefix}/inbound-events",
        query_string={"status": "done", "whatsappId": failed.id},
        headers=auth(admin),
    ).get_json()
    assert done["count"] == 1 and done["events"][0]["reason"] is None


@pytest.mark.parametrize(
    "query", [{"status": "broken"}, {"whatsappId": "x"}, {"pageNumber": 0}, {"whatsappId": 0}]
)
def test_bad_arguments_are_400(client, prefix, admin, auth, query):
    resp = client.get(f"{prefix}/inbound-events", query_string=query, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and body["fields"]


def test_needs_a_token_and_an_admin(client, prefix, agent, auth, failed):
    resp = client.get(f"{prefix}/inbound-events")
    assert resp.status_code == 401
    resp = client.get(f"{prefix}/inbound-events", headers=auth(agent))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}


def test_another_company_sees_none_of_them(client, prefix, other_admin, auth, failed):
    resp = client.get(f"{prefix}/inbound-events", headers=auth(other_admin))
    assert resp.status_code == 200
    assert resp.get_json() == {"events": [], "count": 0, "hasMore": False}
    resp = client.get(
        f"{prefix}/inbound-events",
        query_string={"whatsappId": failed.id},
        headers=auth(other_admin),
    )
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_WAPP_FOUND"}
