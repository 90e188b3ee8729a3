"""Scoped API tokens (`/api-tokens`, admins): shown once, stored hashed, validated against
the company's connections and queues, listed with their status and last use, revoked."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import ApiToken

V1_ME = "/v1/tickets"


def _create(client, prefix, headers, **body):
    payload = {"name": "CRM", "scopes": ["tickets:read"], **body}
    return client.post(f"{prefix}/api-tokens", json=payload, headers=headers)


def _row(token_id: int) -> dict:
    """The token's row as the database holds it."""
    db.session.expire_all()
    table = ApiToken.__table__
    return dict(db.session.execute(sa.select(table).where(table.c.id == token_id)).one()._mapping)


def test_a_token_is_shown_once_and_stored_only_as_its_hash(client, prefix, auth, admin):
    resp = _create(client, prefix, auth(admin), scopes=["tickets:read", "contacts:read"])
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    secret = body["token"]
    assert secret.startswith("wtk_") and len(secret) >= 40
    assert body["scopes"] == ["contacts:read", "tickets:read"] and body["status"] == "active"
    assert body["tokenHint"] == secret[-4:] and body["lastUsedAt"] is None

    row = _row(body["id"])
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(value) for value in row.values()}

    shown = client.get(f"{prefix}/api-tokens/{body['id']}", headers=auth(admin)).get_json()
    listed = client.get(f"{prefix}/api-tokens", headers=auth(admin)).get_json()
    assert "token" not in shown and listed["count"] == 1
    assert "token" not in listed["apiTokens"][0] and listed["apiTokens"][0]["id"] == body["id"]
    # It works: a read of its scope.
    resp = client.get(f"{prefix}{V1_ME}", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 200


def test_restrictions_must_name_the_companys_connections_and_queues(
    client, prefix, auth, admin, company, other_company
):
    mine = factories.WhatsappFactory(company=company)
    theirs = factories.WhatsappFactory(company=other_company)
    queue = factories.QueueFactory(company=company)
    other_queue = factories.QueueFactory(company=other_company)
    db.session.commit()
    headers = auth(admin)

    resp = _create(client, prefix, headers, whatsappIds=[theirs.id])
    assert resp.status_code == 400 and "whatsappIds" in resp.get_json()["fields"]
    resp = _create(client, prefix, headers, queueIds=[queue.id, other_queue.id])
    assert resp.status_code == 400 and "queueIds" in resp.get_json()["fields"]

    resp = _create(client, prefix, headers, whatsappIds=[mine.id], queueIds=[queue.id])
    assert resp.status_code == 201
    assert (resp.get_json()["whatsappIds"], resp.get_json()["queueIds"]) == ([mine.id], [queue.id])


def test_company_wide_reports_are_not_granted_to_a_restricted_token(
    client, prefix, auth, admin, company
):
    conn = factories.WhatsappFactory(company=company)
    db.session.commit()
    resp = _create(client, prefix, auth(admin), scopes=["reports:read"], whatsappIds=[conn.id])
    assert resp.status_code == 400 and "scopes" in resp.get_json()["fields"]


def test_scopes_and_expiry_are_validated(client, prefix, auth, admin):
    headers = auth(admin)
    for body in (
        {"scopes": []},
        {"scopes": ["tickets:delete"]},
        {"expiresAt": "2001-01-01T00:00:00Z"},
        {"expiresAt": (datetime.now(UTC) + timedelta(days=5000)).isoformat()},
        {"name": ""},
        {"name": "   "},
    ):
        resp = _create(client, prefix, headers, **body)
        assert resp.status_code == 400, body
        assert resp.get_json()["error"] == "ERR_VALIDATION", body
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0

    # No expiry named: the default (a year), never "forever".
    body = _create(client, prefix, headers).get_json()
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(days=364) < expires - datetime.now(UTC) < timedelta(days=366)


def test_revoking_stops_the_token_at_once_and_keeps_the_record(client, prefix, auth, admin):
    body = _create(client, prefix, auth(admin)).get_json()
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert client.get(f"{prefix}{V1_ME}", headers=bearer).status_code == 200

    revoked = client.delete(f"{prefix}/api-tokens/{body['id']}", headers=auth(admin))
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    resp = client.get(f"{prefix}{V1_ME}", headers=bearer)
    assert (resp.status_code, resp.get_json()) == (401, {"error": "ERR_INVALID_TOKEN"})
    # Revoking again changes nothing; the record stays, listed as revoked.
    again = client.delete(f"{prefix}/api-tokens/{body['id']}", headers=auth(admin))
    assert again.get_json()["revokedAt"] == revoked.get_json()["revokedAt"]
    listed = client.get(f"{prefix}/api-tokens", headers=auth(admin)).get_json()
    assert [row["status"] for row in listed["apiTokens"]] == ["revoked"]


def test_another_companys_token_is_not_found(client, prefix, auth, admin, other_admin):
    body = _create(client, prefix, auth(other_admin)).get_json()
    for method in ("GET", "DELETE"):
        resp = client.open(f"{prefix}/api-tokens/{body['id']}", method=method, headers=auth(admin))
        assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_API_TOKEN_NOT_FOUND"})
    assert client.get(f"{prefix}/api-tokens", headers=auth(admin)).get_json()["count"] == 0
    assert _row(body["id"])["revoked_at"] is None


def test_agents_cannot_see_or_make_tokens(client, prefix, auth, agent):
    resp = client.get(f"{prefix}/api-tokens", headers=auth(agent))
    assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_NO_PERMISSION"})
    resp = _create(client, prefix, auth(agent))
    assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_NO_PERMISSION"})


def test_a_company_holds_a_bounded_number_of_live_tokens(app, client, prefix, auth, admin):
    app.config["API_TOKEN_MAX_PER_COMPANY"] = 2
    headers = auth(admin)
    first = _create(client, prefix, headers).get_json()
    assert _create(client, prefix, headers).status_code == 201
    resp = _create(client, prefix, headers)
    assert (resp.status_code, resp.get_json()) == (400, {"error": "ERR_API_TOKEN_LIMIT"})
    # A revoked token no longer counts.
    client.delete(f"{prefix}/api-tokens/{first['id']}", headers=headers)
    assert _create(client, prefix, headers).status_code == 201
