"""Connections screen: a connection added from the unchanged modal gets a real provider.

src/components/WhatsAppModal/index.js posts `{name, ..., provider: "beta"}` (hard-coded;
the reference stored a free string, "stable" by default) and sends no provider settings.
"""

from __future__ import annotations

import pytest

from tests.stubs import evolution as evolution_stubs
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.utils.crypto import decrypt_json

evolution_stub = evolution_stubs.evolution_stub

#: What WhatsAppModal submits for a new connection (its initialState plus the name).
MODAL = {
    "name": "Atendimento",
    "greetingMessage": "",
    "complationMessage": "",
    "outOfHoursMessage": "",
    "ratingMessage": "",
    "isDefault": False,
    "token": "",
    "provider": "beta",
    "expiresInactiveMessage": "",
    "expiresTicket": 0,
    "timeUseBotQueues": 0,
    "maxUseBotQueues": 3,
    "queueIds": [],
    "transferQueueId": None,
    "promptId": None,
}


@pytest.mark.parametrize("alias", ["beta", "stable", "", None])
def test_modal_provider_means_the_default_provider(client, prefix, auth, admin, alias):
    """src/components/WhatsAppModal/index.js sends provider "beta"."""
    resp = client.post(f"{prefix}/whatsapp", json={**MODAL, "provider": alias}, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    # Development default: the fake (no Evolution bridge configured, fakes enabled).
    assert resp.get_json()["provider"] == "fake"


def test_modal_connection_gets_a_qr_code_through_the_deployment_bridge(
    app, client, prefix, auth, admin, evolution_stub
):
    """src/components/WhatsAppModal/index.js + src/pages/Connections: "beta" then QR code."""
    app.config.update(
        EVOLUTION_BASE_URL=evolution_stub.url, EVOLUTION_API_KEY=evolution_stubs.API_KEY
    )
    resp = client.post(f"{prefix}/whatsapp", json=MODAL, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["provider"] == "evolution"
    conn = db.session.get(Whatsapp, body["id"])
    stored = decrypt_json(conn.provider_config)
    # The bridge's address and key stay the deployment's: nothing of them is copied.
    assert "apiKey" not in stored and "baseUrl" not in stored
    assert stored["instance"].startswith("wt-") and conn.provider_account_id == stored["instance"]
    # The inline job backend already started the session after the commit: a QR code.
    db.session.expire_all()
    assert conn.status == "qrcode" and conn.qrcode == evolution_stubs.QR_CODE
    assert evolution_stub.instances[stored["instance"]] == "connecting"
    shown = client.get(f"{prefix}/whatsapp/{conn.id}", headers=auth(admin)).get_json()
    assert shown["status"] == "qrcode" and shown["qrcode"] == evolution_stubs.QR_CODE


def test_editing_from_the_modal_keeps_the_provider(
    app, client, prefix, auth, admin, evolution_stub
):
    """The modal PUTs back what GET answered, or "beta" again: the provider stays."""
    app.config.update(
        EVOLUTION_BASE_URL=evolution_stub.url, EVOLUTION_API_KEY=evolution_stubs.API_KEY
    )
    created = client.post(f"{prefix}/whatsapp", json=MODAL, headers=auth(admin)).get_json()
    for provider in ("beta", created["provider"]):
        resp = client.put(
            f"{prefix}/whatsapp/{created['id']}",
            json={**created, "provider": provider, "name": "Vendas"},
            headers=auth(admin),
        )
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["provider"] == "evolution"
        assert (
            resp.get_json()["providerConfig"]["instance"] == created["providerConfig"]["instance"]
        )


def test_an_unknown_provider_is_still_refused(client, prefix, auth, admin):
    resp = client.post(
        f"{prefix}/whatsapp", json={**MODAL, "provider": "nope"}, headers=auth(admin)
    )
    assert resp.status_code == 400 and "provider" in resp.get_json()["fields"]
