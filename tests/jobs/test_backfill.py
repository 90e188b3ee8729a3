"""Connection timeline and outage backfill, end to end through the Evolution webhook and a
stub bridge that answers findChats / findMessages as Evolution 2.3 does."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import evolution as stubs
from tests.stubs.evolution import API_KEY
from tests.whatsapp.evolution.test_parser import SECRET
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.jobs import get_backend
from whaticket.models import Message, Ticket, TicketNote
from whaticket.models.whatsapp import ConnectionInterval
from whaticket.utils.crypto import encrypt_json

#: The stub's pytest fixture, made available to this module.
evolution_stub = stubs.evolution_stub

ALICE = "5511988887777@s.whatsapp.net"
BRUNO = "5511977776666@s.whatsapp.net"  # wrote only during the outage


def _conn(company, stub):
    stub.instances["inst1"] = "open"
    conn = factories.WhatsappFactory(
        company=company,
        name="Vendas",
        provider="evolution",
        status="CONNECTED",
        is_default=True,
        provider_account_id="inst1",
        provider_config=encrypt_json(
            {"baseUrl": stub.url, "apiKey": API_KEY, "instance": "inst1", "webhookSecret": SECRET}
        ),
    )
    db.session.commit()
    return conn


@pytest.fixture
def conn(company, evolution_stub):
    """An Evolution connection whose instance is open on the stub."""
    return _conn(company, evolution_stub)


def _item(msg_id: str, jid: str, text: str, at: int, from_me: bool = False) -> dict:
    """A messages.upsert item as prepareMessage() makes it (and the bridge stores it)."""
    return {
        "key": {"remoteJid": jid, "fromMe": from_me, "id": msg_id},
        "pushName": "Cliente",
        "status": "DELIVERY_ACK",
        "message": {"conversation": text},
        "messageType": "conversation",
        "messageTimestamp": at,
        "source": "android",
    }


def _post(client, prefix, conn_id, event: str, data: dict):
    body = json.dumps({"event": event, "instance": "inst1", "data": data}).encode()
    resp = client.post(
        f"{prefix}/webhooks/evolution/{conn_id}/{SECRET}",
        data=body,
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)


def _state(client, prefix, conn_id, state: str) -> None:
    _post(client, prefix, conn_id, "connection.update", {"instance": "inst1", "state": state})


def _finish_reports() -> None:
    """Run the delayed jobs (the backfill's report waits for its deliveries)."""
    get_backend().run_due(utcnow() + timedelta(minutes=5))


def _bodies(ticket_id: int) -> list[tuple[str, bool]]:
    rows = db.session.execute(
        sa.select(Message.body, Message.recovered)
        .where(Message.ticket_id == ticket_id)
        .order_by(Message.created_at, Message.id)
    )
    return [(body, recovered) for body, recovered in rows]


def _ticket(contact_number: str) -> Ticket:
    return db.session.scalar(
        sa.select(Ticket).join(Ticket.contact).where(Ticket.contact.has(number=contact_number))
    )


def _script(stub, now: int) -> None:
    """The bridge's store: Alice before, during and after the gap; Bruno only during it;
    one Alice message far outside the window (never asked for)."""
    stub.add_message("inst1", _item("OLD-0", ALICE, "last week", now - 7 * 86400))
    stub.add_message("inst1", _item("A-1", ALICE, "oi", now - 120))
    stub.add_message("inst1", _item("A-2", ALICE, "tem alguém?", now - 30))
    stub.add_message("inst1", _item("A-3", ALICE, "alô", now - 20))
    stub.add_message("inst1", _item("ME-1", ALICE, "respondido no celular", now - 15, True))
    stub.add_message("inst1", _item("B-1", BRUNO, "bom dia", now - 10))


def test_backfill_after_outage_stores_only_the_missing_messages_in_order_once(
    client, prefix, company, admin, auth, conn, evolution_stub
):
    now = int(utcnow().timestamp())
    _script(evolution_stub, now)
    # Live before the outage: Alice's first message arrived.
    _post(client, prefix, conn.id, "messages.upsert", _item("A-1", ALICE, "oi", now - 120))
    _state(client, prefix, conn.id, "close")
    _state(client, prefix, conn.id, "open")
    _finish_reports()

    db.session.expire_all()
    alice, bruno = _ticket("5511988887777"), _ticket("5511977776666")
    assert _bodies(alice.id) == [
        ("oi", False),
        ("tem alguém?", True),
        ("alô", True),
        ("respondido no celular", True),
    ]
    assert _bodies(bruno.id) == [("bom dia", True)]
    # Asked: Alice (traffic before the gap) and Bruno (listed by findChats), in the window.
    asked = {r.json["where"]["key"]["remoteJid"] for r in evolution_stub.calls("findMessages")}
    assert asked == {ALICE, BRUNO}

    gap = db.session.scalar(
        sa.select(ConnectionInterval).where(ConnectionInterval.backfill_status.is_not(None))
    )
    assert (gap.state, gap.backfill_status, gap.recovered) == ("down", "done", 4)
    notes = dict(db.session.execute(sa.select(TicketNote.ticket_id, TicketNote.note)).all())
    assert notes[alice.id].startswith("3 messages recovered on Vendas")
    assert notes[bruno.id].startswith("1 messages recovered on Vendas")

    # Run again (a redelivered job, a second gap with the same messages): nothing new.
    from whaticket.jobs import backfill as backfill_job

    gap.backfill_status = "pending"
    db.session.commit()
    backfill_job.run(gap.id)
    _finish_reports()
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 5

    # The timeline shows up, down (QR, logout...), up, with the gap's backfill.
    resp = client.get(f"{prefix}/whatsapp/{conn.id}/timeline", headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    states = [(i["state"], i["endedAt"] is None) for i in body["intervals"]]
    assert states == [("up", True), ("down", False), ("up", False)]
    assert body["intervals"][1]["backfill"] == {
        "status": "done",
        "recovered": 4,
        "detail": "4 messages recovered on Vendas",
    }
    assert body["intervals"][1]["reason"] == "DISCONNECTED"


def test_backfill_tells_the_company_by_socket(
    app, client, prefix, company, admin, conn, evolution_stub, socket_client
):
    now = int(utcnow().timestamp())
    _script(evolution_stub, now)
    sock = socket_client(admin)
    sock.get_received()
    _post(client, prefix, conn.id, "messages.upsert", _item("A-1", ALICE, "oi", now - 120))
    _state(client, prefix, conn.id, "close")
    _state(client, prefix, conn.id, "open")
    _finish_reports()
    frames = [
        e["args"][0] for e in sock.get_received() if e["name"] == f"company-{company.id}-backfill"
    ]
    assert [(f["action"], f["recovered"], f["message"]) for f in frames] == [
        ("done", 4, "4 messages recovered on Vendas")
    ]


def test_cloud_gap_says_backfill_unsupported(client, prefix, company, admin, auth):
    from whaticket.services.connections import sessions
    from whaticket.whatsapp.base import SessionState

    conn = factories.WhatsappFactory(company=company, provider="cloud", status="CONNECTED")
    db.session.commit()
    for status, detail in (("DISCONNECTED", "logged out"), ("qrcode", None), ("CONNECTED", None)):
        sessions.apply_state(company.id, conn.id, SessionState(status, "QR"), detail)
        db.session.commit()
    body = client.get(f"{prefix}/whatsapp/{conn.id}/timeline", headers=auth(admin)).get_json()
    # qrcode after DISCONNECTED stays in the same gap; the gap closed when it came back.
    assert [(i["state"], i["reason"]) for i in body["intervals"]] == [
        ("up", "CONNECTED"),
        ("down", "DISCONNECTED: logged out"),
        ("up", "CONNECTED"),
    ]
    assert body["intervals"][1]["backfill"]["status"] == "unsupported"
    assert body["intervals"][0]["backfill"] is None


def test_a_send_refused_for_a_lost_session_opens_a_gap(company, conn):
    from whaticket.services.connections import sessions

    sessions.session_lost(company.id, conn.id, "send refused: Connection Closed")
    db.session.commit()
    gap = db.session.scalar(
        sa.select(ConnectionInterval).where(ConnectionInterval.ended_at.is_(None))
    )
    assert (gap.state, gap.reason) == ("down", "DISCONNECTED: send refused: Connection Closed")


def test_timeline_is_admin_only_and_company_scoped(client, prefix, auth, agent, other_admin, conn):
    assert (
        client.get(f"{prefix}/whatsapp/{conn.id}/timeline", headers=auth(agent)).status_code == 403
    )
    resp = client.get(f"{prefix}/whatsapp/{conn.id}/timeline", headers=auth(other_admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_WAPP_FOUND"}
    assert client.get(f"{prefix}/whatsapp/{conn.id}/timeline").status_code == 401
    resp = client.get(
        f"{prefix}/whatsapp/{conn.id}/timeline?pageNumber=0", headers=auth(other_admin)
    )
    assert resp.status_code == 400


@pytest.mark.real_db
@pytest.mark.shared_db
def test_live_stream_resuming_during_the_backfill_stores_each_message_once(
    app, company, evolution_stub
):
    """While the backfill waits for the bridge, the live stream redelivers one of the
    missed messages and brings a new one: each is stored once, in timestamp order."""
    conn = _conn(company, evolution_stub)
    prefix = app.config["API_PREFIX"]
    now = int(utcnow().timestamp())
    _script(evolution_stub, now)
    fired: list[int] = []
    errors: list[BaseException] = []

    def live_stream(recorded) -> None:
        # In the bridge's HTTP thread: the backfill is waiting for this very answer.
        if "findMessages" not in recorded.path or fired:
            return
        fired.append(1)
        try:
            live = app.test_client()
            _post(
                live,
                prefix,
                conn.id,
                "messages.upsert",
                _item("A-2", ALICE, "tem alguém?", now - 30),
            )
            _post(live, prefix, conn.id, "messages.upsert", _item("A-4", ALICE, "voltou!", now + 5))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    evolution_stub.on_request = live_stream
    client = app.test_client()
    _post(client, prefix, conn.id, "messages.upsert", _item("A-1", ALICE, "oi", now - 120))
    _state(client, prefix, conn.id, "close")
    _state(client, prefix, conn.id, "open")
    _finish_reports()
    evolution_stub.on_request = None
    assert errors == [] and fired == [1]

    db.session.expire_all()
    alice = _ticket("5511988887777")
    assert [body for body, _ in _bodies(alice.id)] == [
        "oi",
        "tem alguém?",
        "alô",
        "respondido no celular",
        "voltou!",
    ]
    recovered = {body for body, flag in _bodies(alice.id) if flag}
    # A-2 came live first: not counted as recovered; A-4 was never missed.
    assert recovered == {"alô", "respondido no celular"}
    ids = list(db.session.scalars(sa.select(Message.provider_id)))
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 6
    gap = db.session.scalar(
        sa.select(ConnectionInterval).where(ConnectionInterval.backfill_status.is_not(None))
    )
    assert (gap.backfill_status, gap.recovered) == ("done", 3)
