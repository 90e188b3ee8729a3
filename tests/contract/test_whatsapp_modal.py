"""Connection modal (WhatsAppModal): a cleared number field is sent as "" and means "off"."""

from __future__ import annotations

import pytest

from tests import factories
from whaticket.extensions import db
from whaticket.models import Whatsapp

#: What the modal submits for a new connection (its initialState, a name, the pickers).
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


def _row(conn_id: int) -> Whatsapp:
    db.session.expire_all()
    return db.session.get(Whatsapp, conn_id)


def _edit_body(shown: dict, **typed) -> dict:
    """handleSaveWhatsApp (WhatsAppModal:127): {...values, queueIds, transferQueueId,
    promptId}, without `queues` and `session`; `values` is what GET answered, as edited."""
    body = {**shown, **typed}
    body.update(queueIds=[q["id"] for q in shown["queues"]], promptId=None)
    body.setdefault("transferQueueId", shown.get("transferQueueId"))
    body.pop("queues", None)
    body.pop("session", None)
    return body


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company,
        provider="fake",
        status="CONNECTED",
        is_default=True,
        time_to_transfer=30,
        expires_ticket=24,
        max_use_bot_queues=5,
    )


def test_clearing_the_timers_turns_them_off(client, prefix, admin, auth, conn):
    """src/components/WhatsAppModal/index.js:365 ("Transferir após x (minutos)",
    timeToTransfer) and :395 ("Encerrar chats abertos após x horas", expiresTicket) send ""
    once cleared; the PUT must succeed and store 0 (off)."""
    headers = auth(admin)
    shown = client.get(f"{prefix}/whatsapp/{conn.id}?session=0", headers=headers).get_json()
    body = _edit_body(shown, timeToTransfer="", expiresTicket="")
    resp = client.put(f"{prefix}/whatsapp/{conn.id}", json=body, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    answer = resp.get_json()
    assert answer["timeToTransfer"] == 0 and answer["expiresTicket"] == 0
    row = _row(conn.id)
    assert (row.time_to_transfer, row.expires_ticket, row.max_use_bot_queues) == (0, 0, 5)


def test_blank_counters_take_their_defaults(client, prefix, admin, auth, conn):
    """Every number of the form may come back as "" (or spaces): each takes its default."""
    headers = auth(admin)
    shown = client.get(f"{prefix}/whatsapp/{conn.id}?session=0", headers=headers).get_json()
    blanks = {"timeUseBotQueues": " ", "maxUseBotQueues": "", "transferQueueId": ""}
    resp = client.put(
        f"{prefix}/whatsapp/{conn.id}", json=_edit_body(shown, **blanks), headers=headers
    )
    assert resp.status_code == 200, resp.get_json()
    row = _row(conn.id)
    assert (row.time_use_bot_queues, row.max_use_bot_queues, row.transfer_queue_id) == (0, 3, None)


def test_typed_numbers_are_kept(client, prefix, admin, auth, conn):
    """The expiresTicket field is a plain text input: "12" arrives as a string."""
    headers = auth(admin)
    shown = client.get(f"{prefix}/whatsapp/{conn.id}?session=0", headers=headers).get_json()
    body = _edit_body(shown, timeToTransfer="15", expiresTicket="12")
    resp = client.put(f"{prefix}/whatsapp/{conn.id}", json=body, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    row = _row(conn.id)
    assert (row.time_to_transfer, row.expires_ticket) == (15, 12)


def test_new_connection_with_cleared_fields(client, prefix, admin, auth):
    """WhatsAppModal:142 POSTs /whatsapp with the same fields."""
    body = {**MODAL, "timeToTransfer": "", "expiresTicket": "", "transferQueueId": ""}
    resp = client.post(f"{prefix}/whatsapp", json=body, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    row = _row(resp.get_json()["id"])
    assert (row.time_to_transfer, row.expires_ticket, row.max_use_bot_queues) == (0, 0, 3)


@pytest.mark.parametrize("value", ["abc", "-1", True, "1e3"])
def test_non_numbers_are_still_400(client, prefix, admin, auth, conn, value):
    resp = client.put(
        f"{prefix}/whatsapp/{conn.id}", json={"timeToTransfer": value}, headers=auth(admin)
    )
    assert resp.status_code == 400
    assert "timeToTransfer" in resp.get_json()["fields"]
    assert _row(conn.id).time_to_transfer == 30


def test_another_companys_connection_is_404(client, prefix, other_admin, auth, conn):
    resp = client.put(
        f"{prefix}/whatsapp/{conn.id}", json={"timeToTransfer": ""}, headers=auth(other_admin)
    )
    assert resp.status_code == 404
    assert _row(conn.id).time_to_transfer == 30
