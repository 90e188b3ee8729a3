"""Token authentication of the public API: expired and revoked tokens are 401, the last
use is written at most once a minute, calls are throttled per token and per company, a
connection's send token works as `messages:send` on its connection, and the company's
standing and plan apply."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests import factories
from tests.api.v1.conftest import bearer
from whaticket.extensions import db
from whaticket.models import ApiToken, Message
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.utils.crypto import digest

TICKETS = "/v1/tickets"
INVALID = (401, {"error": "ERR_INVALID_TOKEN"})


def _get(client, prefix, secret: str, path: str = TICKETS):
    return client.get(f"{prefix}{path}", headers=bearer(secret))


def _last_used(secret: str):
    db.session.expire_all()
    return db.session.scalar(
        sa.select(ApiToken.last_used_at).where(ApiToken.token_hash == digest(secret))
    )


def test_an_expired_token_is_refused(client, prefix, token, clock):
    secret = token("tickets:read", expires_at=clock.now + timedelta(hours=1))
    assert _get(client, prefix, secret).status_code == 200
    clock.advance(3600)
    resp = _get(client, prefix, secret)
    assert (resp.status_code, resp.get_json()) == INVALID


def test_a_revoked_token_is_refused(client, prefix, token, auth, admin):
    secret = token("tickets:read")
    token_id = db.session.scalar(
        sa.select(ApiToken.id).where(ApiToken.token_hash == digest(secret))
    )
    client.delete(f"{prefix}/api-tokens/{token_id}", headers=auth(admin))
    resp = _get(client, prefix, secret)
    assert (resp.status_code, resp.get_json()) == INVALID


def test_the_last_use_is_written_at_most_once_a_minute(client, prefix, token, clock):
    secret = token("tickets:read")
    assert _last_used(secret) is None
    first = clock.now
    assert _get(client, prefix, secret).status_code == 200
    assert _last_used(secret) == first

    clock.advance(30)
    assert _get(client, prefix, secret).status_code == 200
    assert _last_used(secret) == first  # within the minute: no write

    later = clock.advance(31)
    # A refused call (a scope it lacks) is a use too.
    assert _get(client, prefix, secret, "/v1/contacts").status_code == 403
    assert _last_used(secret) == later


def test_calls_are_throttled_per_token(app, client, prefix, token):
    app.config["API_TOKEN_MAX_PER_MINUTE"] = 3
    busy, calm = token("tickets:read"), token("tickets:read")
    for _ in range(3):
        assert _get(client, prefix, busy).status_code == 200
    resp = _get(client, prefix, busy)
    assert (resp.status_code, resp.get_json()) == (429, {"error": "ERR_TOO_MANY_ATTEMPTS"})
    assert int(resp.headers["Retry-After"]) > 0
    assert _get(client, prefix, calm).status_code == 200


def test_calls_are_throttled_per_company(app, client, prefix, token, other_company):
    app.config["API_COMPANY_MAX_PER_MINUTE"] = 4
    first, second = token("tickets:read"), token("tickets:read")
    for _ in range(2):
        assert _get(client, prefix, first).status_code == 200
        assert _get(client, prefix, second).status_code == 200
    for secret in (first, second):
        resp = _get(client, prefix, secret)
        assert (resp.status_code, resp.get_json()) == (429, {"error": "ERR_TOO_MANY_ATTEMPTS"})
    factories.AdminFactory(company=other_company)
    elsewhere = token("tickets:read", company=other_company)
    assert _get(client, prefix, elsewhere).status_code == 200


def test_wrong_tokens_from_one_address_are_throttled(app, client, prefix, token):
    app.config["EXTERNAL_API_MAX_FAILURES_PER_IP"] = 2
    good = token("tickets:read")
    for _ in range(2):
        assert _get(client, prefix, "wtk_guess").status_code == 401
    # Past the limit even the right token is 429 from that address: a guesser learns nothing.
    resp = _get(client, prefix, good)
    assert resp.status_code == 429
    other = client.get(
        f"{prefix}{TICKETS}", headers=bearer(good), environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert other.status_code == 200


def test_a_connection_send_token_is_messages_send_on_its_connection(
    client, prefix, company, admin, conn
):
    conn.token = "legacy-connection-token-0123456789"
    other = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    elsewhere = factories.TicketFactory(company=company, whatsapp=other)
    db.session.commit()
    headers = bearer(conn.token)

    resp = client.post(
        f"{prefix}/v1/messages", json={"number": "5511988887777", "body": "Hi"}, headers=headers
    )
    assert resp.status_code == 200, resp.get_json()
    [sent] = resp.get_json()["messages"]
    message = db.session.get(Message, sent["id"])
    assert message.origin == "api" and message.whatsapp_id == conn.id
    assert [e["to"] for e in fake.read_outbox(conn.id)] == ["5511988887777"]

    resp = client.post(
        f"{prefix}/v1/tickets/{elsewhere.id}/messages", json={"body": "Hi"}, headers=headers
    )
    assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_NO_TICKET_FOUND"})
    resp = client.post(
        f"{prefix}/v1/messages",
        json={"number": "5511988887777", "body": "Hi", "whatsappId": other.id},
        headers=headers,
    )
    assert resp.status_code == 400 and "whatsappId" in resp.get_json()["fields"]
    resp = client.get(f"{prefix}{TICKETS}", headers=headers)
    assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_INSUFFICIENT_SCOPE"})
    # The external send API itself keeps working with it.
    resp = client.post(
        "/api/messages/send", json={"number": "5511988887777", "body": "Again"}, headers=headers
    )
    assert resp.status_code == 200


def test_the_companys_standing_and_plan_apply(client, prefix, token, company, clock):
    secret = token("tickets:read")
    company.plan.use_external_api = False
    db.session.commit()
    resp = _get(client, prefix, secret)
    assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_PLAN_FEATURE_DISABLED"})

    company.plan.use_external_api = True
    company.due_date = clock.now - timedelta(days=30)
    db.session.commit()
    resp = _get(client, prefix, secret)
    assert (resp.status_code, resp.get_json()) == (402, {"error": "ERR_SUBSCRIPTION_EXPIRED"})

    company.due_date = None
    company.status = False
    db.session.commit()
    resp = _get(client, prefix, secret)
    assert (resp.status_code, resp.get_json()) == (401, {"error": "ERR_COMPANY_INACTIVE"})
