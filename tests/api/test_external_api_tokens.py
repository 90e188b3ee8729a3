"""External-API tokens (`POST /api/messages/send`, `Bearer <connection token>`): long and
random, stored as a SHA-256 plus an encrypted copy, matched exactly (case included, on
MariaDB too), wrong ones throttled per IP, and a duplicate answered as a generic conflict.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.utils.crypto import decrypt_str, mask

URL = "/api/messages/send"  # fixed: never under API_PREFIX
NUMBER = "5511988887777"
LONG = "Zx9-chosen-by-the-admin-0123456789abcdef"
ATTACKER = "203.0.113.99"


def _send(client, token: str, ip: str = "198.51.100.7"):
    return client.post(
        URL,
        json={"number": NUMBER, "body": "hi"},
        headers={"Authorization": f"Bearer {token}"},
        environ_base={"REMOTE_ADDR": ip},
    )


def _create(client, prefix, auth, admin, **extra):
    return client.post(f"{prefix}/whatsapp", json={"name": "Main", **extra}, headers=auth(admin))


def _stored(conn_id: int) -> dict:
    """The row's token columns as the database holds them."""
    db.session.expire_all()
    row = db.session.execute(
        sa.select(Whatsapp.__table__).where(Whatsapp.__table__.c.id == conn_id)
    ).one()
    return dict(row._mapping)


def test_a_generated_token_is_long_random_and_not_stored_in_clear(client, prefix, auth, admin):
    first = _create(client, prefix, auth, admin, token="").get_json()
    second = client.post(
        f"{prefix}/whatsapp", json={"name": "Second"}, headers=auth(admin)
    ).get_json()
    token = first["token"]
    assert len(token) >= 32 and len(second["token"]) >= 32 and token != second["token"]

    row = _stored(first["id"])
    assert "token" not in row  # no clear column any more
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row["token_encrypted"]
    assert decrypt_str(row["token_encrypted"]) == token
    assert _send(client, token).status_code == 200


def test_a_chosen_token_needs_32_characters(client, prefix, auth, admin):
    resp = _create(client, prefix, auth, admin, token="x")
    assert resp.status_code == 400 and "token" in resp.get_json()["fields"]
    resp = _create(client, prefix, auth, admin, token="a" * 31)
    assert resp.status_code == 400 and "token" in resp.get_json()["fields"]
    resp = _create(client, prefix, auth, admin, token=LONG)
    assert resp.status_code == 200 and resp.get_json()["token"] == LONG
    assert _send(client, LONG).status_code == 200


def test_the_token_matches_exactly_case_included(client, company):
    conn = factories.WhatsappFactory(company=company, status="CONNECTED", token=LONG)
    db.session.commit()
    for near in (LONG.upper(), LONG.lower(), LONG[:-1], LONG + "0", f" {LONG}x"):
        resp = _send(client, near)
        assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_INVALID_TOKEN"}
    assert _send(client, LONG).status_code == 200
    assert conn.token == LONG


def test_wrong_tokens_are_throttled_per_ip(client, app, company):
    app.config["EXTERNAL_API_MAX_FAILURES_PER_IP"] = 3
    factories.WhatsappFactory(company=company, status="CONNECTED", token=LONG)
    db.session.commit()
    codes = [_send(client, f"guess-{i}", ATTACKER).status_code for i in range(3)]
    assert codes == [401, 401, 401]
    resp = _send(client, "guess-4", ATTACKER)
    assert resp.status_code == 429 and resp.get_json() == {"error": "ERR_TOO_MANY_ATTEMPTS"}
    assert int(resp.headers["Retry-After"]) > 0
    # Even the right token is refused from there: the answer must not tell a hit apart.
    assert _send(client, LONG, ATTACKER).status_code == 429
    # Other addresses are not affected, and successes do not count.
    for _ in range(4):
        assert _send(client, LONG).status_code == 200


def test_a_duplicate_token_is_a_generic_conflict(
    client, prefix, auth, admin, other_admin, other_company
):
    factories.WhatsappFactory(company=other_company, name="Theirs", token=LONG)
    db.session.commit()
    resp = _create(client, prefix, auth, admin, token=LONG)
    assert resp.status_code == 409
    # Not "another connection uses that token": nothing confirms someone else's secret.
    assert resp.get_json() == {"error": "ERR_CONFLICT"}
    mine = _create(client, prefix, auth, admin).get_json()
    resp = client.put(f"{prefix}/whatsapp/{mine['id']}", json={"token": LONG}, headers=auth(admin))
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_CONFLICT"}


def test_the_saas_modal_round_trip_keeps_or_rotates_the_token(
    client, prefix, auth, admin, agent, company
):
    """WhatsAppModal loads `GET /whatsapp/:id` and sends every field back on save; clearing
    the token field asks for a new one."""
    legacy = "short-legacy"  # set before tokens had a minimum: it keeps working
    conn = factories.WhatsappFactory(company=company, status="CONNECTED", token=legacy)
    db.session.commit()
    url = f"{prefix}/whatsapp/{conn.id}"
    shown = client.get(url, headers=auth(admin)).get_json()
    assert shown["token"] == legacy
    assert client.get(url, headers=auth(agent)).get_json()["token"] == mask(legacy)

    saved = client.put(url, json={**_modal(shown), "greetingMessage": "Oi"}, headers=auth(admin))
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["token"] == legacy and _send(client, legacy).status_code == 200

    rotated = client.put(url, json={**_modal(shown), "token": ""}, headers=auth(admin))
    new = rotated.get_json()["token"]
    assert len(new) >= 32 and new != legacy
    assert _send(client, legacy).status_code == 401
    assert _send(client, new).status_code == 200


def _modal(shown: dict) -> dict:
    """What the modal sends back: the loaded fields minus queues and session."""
    fields = (
        "name",
        "greetingMessage",
        "complationMessage",
        "outOfHoursMessage",
        "ratingMessage",
        "isDefault",
        "token",
        "expiresInactiveMessage",
        "expiresTicket",
        "timeUseBotQueues",
        "maxUseBotQueues",
    )
    return {key: shown.get(key) for key in fields} | {"queueIds": [], "transferQueueId": None}
