"""The Cloud API webhook end to end: handshake, signed deliveries to the DB, acks, replies."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs.graph import TOKEN, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from tests.whatsapp.cloud.test_parser import PNID, TEXT_DELIVERY, with_messages, with_statuses
from whaticket.extensions import db
from whaticket.models import Contact, InboundEvent, Message, Ticket
from whaticket.utils.crypto import encrypt_json

SECRET = "app-secret-1"


@pytest.fixture
def conn(app, company, graph_stub):
    return factories.WhatsappFactory(
        company=company,
        provider="cloud",
        status="CONNECTED",
        is_default=True,
        provider_account_id=PNID,
        provider_config=encrypt_json(
            {
                "phoneNumberId": PNID,
                "accessToken": TOKEN,
                "appSecret": SECRET,
                "verifyToken": "verify-me",
                "baseUrl": graph_stub.url,
            }
        ),
    )


def _count(model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


def _post(client, prefix, payload: dict, secret: str = SECRET, signature: str | None = None):
    """POST a delivery signed as Meta does (json.dumps escapes like Meta's body, §1.6)."""
    raw = json.dumps(payload).encode()
    sig = signature or "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post(
        f"{prefix}/webhooks/cloud",
        data=raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sig},
    )


# -- GET handshake ---------------------------------------------------------------


def test_handshake_good_token(client, prefix, conn):
    resp = client.get(
        f"{prefix}/webhooks/cloud",
        query_string={
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": "verify-me",
        },
    )
    assert resp.status_code == 200
    assert resp.data == b"1158201444" and resp.mimetype == "text/plain"


@pytest.mark.parametrize(
    "args",
    [
        {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "meatyhamhock"},
        {"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": "verify-me"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
def test_handshake_bad_token(client, prefix, conn, args):
    resp = client.get(f"{prefix}/webhooks/cloud", query_string=args)
    assert resp.status_code == 403
    assert resp.get_json() == {"error": "ERR_INVALID_VERIFY_TOKEN"}


# -- POST deliveries -------------------------------------------------------------


def test_text_delivery_creates_contact_ticket_message_once(client, prefix, company, conn):
    resp = _post(client, prefix, TEXT_DELIVERY)
    assert resp.status_code == 200 and resp.get_json() == {"ok": True}
    db.session.expire_all()
    contact = db.session.scalar(sa.select(Contact).where(Contact.company_id == company.id))
    assert contact.number == "972987654321" and contact.name == "Test Name"
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.contact_id == contact.id and ticket.whatsapp_id == conn.id
    assert ticket.status == "pending"
    message = db.session.scalar(sa.select(Message))
    assert message.provider_id == "wamid.xyzxyz" and message.body == "Body Text"
    assert message.ticket_id == ticket.id and not message.from_me
    event = db.session.scalar(sa.select(InboundEvent))
    assert event.status == "done" and event.whatsapp_id == conn.id

    counts = [_count(m) for m in (Contact, Ticket, Message, InboundEvent)]
    again = _post(client, prefix, TEXT_DELIVERY)
    assert again.status_code == 200
    db.session.expire_all()
    assert [_count(m) for m in (Contact, Ticket, Message, InboundEvent)] == counts == [1, 1, 1, 1]


@pytest.mark.parametrize("signature", ["sha256=" + "0" * 64, "sha256=nothex", "", "md5=abc", None])
def test_bad_signature_is_401_and_stores_nothing(client, prefix, conn, signature):
    raw = json.dumps(TEXT_DELIVERY).encode()
    headers = {} if signature is None else {"X-Hub-Signature-256": signature}
    resp = client.post(
        f"{prefix}/webhooks/cloud", data=raw, content_type="application/json", headers=headers
    )
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_INVALID_SIGNATURE"}
    assert [_count(m) for m in (InboundEvent, Contact, Message)] == [0, 0, 0]


def test_signed_with_another_secret_is_401(client, prefix, conn):
    resp = _post(client, prefix, TEXT_DELIVERY, secret="not-the-app-secret")
    assert resp.status_code == 401 and _count(InboundEvent) == 0


def test_unknown_number_is_200_and_stores_nothing(client, prefix, conn):
    resp = _post(client, prefix, with_messages([], "999000"), secret="whatever")
    assert resp.status_code == 200 and resp.get_json() == {"ok": True}
    assert _count(InboundEvent) == 0


def test_bad_json_is_400(client, prefix, conn):
    resp = client.post(f"{prefix}/webhooks/cloud", data=b"{nope", content_type="application/json")
    assert resp.status_code == 400 and _count(InboundEvent) == 0


def test_routes_by_number_across_companies(client, prefix, conn, other_company, graph_stub):
    other = factories.WhatsappFactory(
        company=other_company,
        provider="cloud",
        status="CONNECTED",
        provider_account_id="5550001",
        provider_config=encrypt_json(
            {"accessToken": TOKEN, "appSecret": "second", "baseUrl": graph_stub.url}
        ),
    )
    payload = copy.deepcopy(TEXT_DELIVERY)
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = "5550001"
    resp = _post(client, prefix, payload, secret="second")
    assert resp.status_code == 200
    db.session.expire_all()
    assert _count(Message, company_id=other_company.id) == 1
    assert _count(Message, company_id=conn.company_id) == 0
    assert db.session.scalar(sa.select(InboundEvent.whatsapp_id)) == other.id


def test_unknown_type_is_stored_as_placeholder(client, prefix, conn):
    payload = with_messages(
        [
            {
                "from": "972987654321",
                "id": "wamid.unsup",
                "timestamp": "1697043379",
                "type": "unsupported",
                "errors": [{"code": 131051, "title": "Message type unknown"}],
            }
        ]
    )
    assert _post(client, prefix, payload).status_code == 200
    db.session.expire_all()
    message = db.session.scalar(sa.select(Message).where(Message.provider_id == "wamid.unsup"))
    assert message.media_type == "unsupported"
    assert message.body == "[unsupported message type: unsupported]"


def test_inbound_image_keeps_the_media_reference(client, prefix, conn):
    payload = with_messages(
        [
            {
                "from": "972987654321",
                "id": "wamid.img",
                "timestamp": "1697043379",
                "type": "image",
                "image": {"mime_type": "image/jpeg", "sha256": "4654+8g=", "id": "65463453"},
            }
        ]
    )
    assert _post(client, prefix, payload).status_code == 200
    db.session.expire_all()
    message = db.session.scalar(sa.select(Message).where(Message.provider_id == "wamid.img"))
    assert message is not None and message.media_type == "image"


def _outbound(conn, wamid: str) -> Message:
    contact = factories.ContactFactory(company=conn.company, number="972987654321")
    ticket = factories.TicketFactory(
        company=conn.company, contact=contact, whatsapp=conn, status="open"
    )
    return factories.MessageFactory(ticket=ticket, provider_id=wamid, from_me=True, ack=1)


def _statuses(*names: str) -> dict:
    base = {"id": "wamid.xyzxyz", "timestamp": "1698266945", "recipient_id": "972987654321"}
    return with_statuses([{**base, "status": name} for name in names])


def test_statuses_move_the_ack_forward_only(client, prefix, conn):
    message = _outbound(conn, "wamid.xyzxyz")
    assert _post(client, prefix, _statuses("sent")).status_code == 200
    db.session.expire_all()
    assert db.session.get(Message, message.id).ack == 2
    assert _post(client, prefix, _statuses("read")).status_code == 200
    db.session.expire_all()
    assert db.session.get(Message, message.id).ack == 4
    # A late "delivered" never overwrites "read".
    assert _post(client, prefix, _statuses("delivered")).status_code == 200
    db.session.expire_all()
    assert db.session.get(Message, message.id).ack == 4


def test_reaction_is_stored_on_the_message(client, prefix, conn):
    message = _outbound(conn, "wamid.yzxyzx=")
    payload = with_messages(
        [
            {
                "from": "972987654321",
                "id": "wamid.react",
                "timestamp": "1697044456",
                "type": "reaction",
                "reaction": {"message_id": "wamid.yzxyzx=", "emoji": "😮"},
            }
        ]
    )
    assert _post(client, prefix, payload).status_code == 200
    db.session.expire_all()
    reactions = db.session.get(Message, message.id).reactions
    assert [(r["from"], r["emoji"]) for r in reactions] == [("972987654321", "😮")]


# -- agent reply through the cloud connection -------------------------------------


def test_agent_reply_reaches_the_stub_and_statuses_move_its_ack(
    client,
    prefix,
    conn,
    admin,
    auth,
    graph_stub,
):
    assert _post(client, prefix, TEXT_DELIVERY).status_code == 200
    ticket = db.session.scalar(sa.select(Ticket))
    resp = client.post(
        f"{prefix}/messages/{ticket.id}", json={"body": "Olá, como ajudo?"}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    sent = resp.get_json()[0]
    # Answering also sends read receipts for the contact's messages: pick the text send.
    (req,) = [r for r in graph_stub.requests if (r.json or {}).get("type") == "text"]
    assert req.path == f"/{PNID}/messages" and req.headers["Authorization"] == f"Bearer {TOKEN}"
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.xyzxyz"}
    assert read in graph_stub.sent()
    assert req.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "972987654321",
        "type": "text",
        "text": {"body": "Olá, como ajudo?", "preview_url": False},
    }
    wamid = sent["providerId"]
    assert wamid.startswith("wamid.")

    for name, ack in (("sent", 2), ("delivered", 3), ("read", 4)):
        payload = with_statuses(
            [{"id": wamid, "status": name, "timestamp": "1698266945", "recipient_id": "x"}]
        )
        assert _post(client, prefix, payload).status_code == 200
        db.session.expire_all()
        assert db.session.get(Message, sent["id"]).ack == ack


def test_inbound_image_is_downloaded_by_a_job(client, prefix, conn, graph_stub, admin, auth):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    graph_stub.add_media("77001", png, "image/png")
    payload = with_messages(
        [
            {
                "from": "5511987654321",
                "id": "wamid.IMG1",
                "timestamp": "1700000000",
                "type": "image",
                "image": {"id": "77001", "mime_type": "image/png", "caption": "foto"},
            }
        ]
    )
    assert _post(client, prefix, payload).status_code == 200
    db.session.expire_all()
    message = db.session.scalar(sa.select(Message).where(Message.provider_id == "wamid.IMG1"))
    assert message.media_path and message.media_error is None and message.media_type == "image"
    shown = client.get(f"{prefix}/messages/{message.ticket_id}", headers=auth(admin)).get_json()
    url = shown["messages"][-1]["mediaUrl"]
    with client.get(url.split("localhost:8080", 1)[-1]) as media:
        assert media.status_code == 200 and media.data == png


def test_failed_download_keeps_the_message_and_can_be_retried(
    client, prefix, conn, graph_stub, admin, auth
):
    payload = with_messages(
        [
            {
                "from": "5511987654321",
                "id": "wamid.IMG2",
                "timestamp": "1700000000",
                "type": "image",
                "image": {"id": "missing-media", "mime_type": "image/png"},
            }
        ]
    )
    assert _post(client, prefix, payload).status_code == 200
    db.session.expire_all()
    message = db.session.scalar(sa.select(Message).where(Message.provider_id == "wamid.IMG2"))
    assert message.media_path is None and message.media_error
    graph_stub.add_media("missing-media", b"%PDF-1.4 test", "application/pdf")
    resp = client.post(f"{prefix}/messages/{message.id}/retry-media", headers=auth(admin))
    assert resp.status_code == 200
    db.session.expire_all()
    message = db.session.get(Message, message.id)
    assert message.media_path and message.media_error is None


def test_template_send_reaches_the_graph_api(
    client, prefix, company, conn, graph_stub, admin, auth, other_admin
):
    ticket = factories.TicketFactory(
        company=company, whatsapp=conn, status="open", user_id=admin.id
    )
    body = {"template": {"name": "hello_world", "language": "en_US"}}
    resp = client.post(f"{prefix}/messages/{ticket.id}/template", json=body, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    sent = [r for r in graph_stub.sent() if r.get("type") == "template"]
    assert sent and sent[-1]["template"] == {"name": "hello_world", "language": {"code": "en_US"}}
    assert resp.get_json()["providerId"].startswith("wamid.")
    bad = client.post(
        f"{prefix}/messages/{ticket.id}/template", json={"template": {}}, headers=auth(admin)
    )
    assert bad.status_code == 400 and "template" in bad.get_json()["fields"]
    assert (
        client.post(
            f"{prefix}/messages/{ticket.id}/template", json=body, headers=auth(other_admin)
        ).status_code
        == 404
    )
    assert client.post(f"{prefix}/messages/{ticket.id}/template", json=body).status_code == 401


# -- one tenant cannot silence another's number -------------------------------------------


def _squatter(company, graph_stub, secret: str = "squatter-secret"):
    """Another company's connection that typed company A's phone_number_id."""
    return factories.WhatsappFactory(
        company=company,
        provider="cloud",
        status="CONNECTED",
        provider_account_id=PNID,
        provider_config=encrypt_json(
            {
                "phoneNumberId": PNID,
                "accessToken": "not-A's-token",
                "appSecret": secret,
                "verifyToken": "squat-token",
                "baseUrl": graph_stub.url,
            }
        ),
    )


def test_a_squatter_with_the_same_number_does_not_block_the_owner(
    client, prefix, conn, other_company, graph_stub
):
    """Company B registers A's phone_number_id: A's genuine deliveries still land, B gets none."""
    squatter = _squatter(other_company, graph_stub)
    db.session.commit()
    resp = _post(client, prefix, TEXT_DELIVERY)
    assert resp.status_code == 200
    assert _count(Message, company_id=conn.company_id) == 1
    assert _count(Message, company_id=other_company.id) == 0
    assert _count(InboundEvent, whatsapp_id=squatter.id) == 0
    # A delivery signed with B's secret is stored for B only, never for A.
    resp = _post(
        client,
        prefix,
        with_messages(
            [
                {
                    **TEXT_DELIVERY["entry"][0]["changes"][0]["value"]["messages"][0],
                    "id": "wamid.squat",
                }
            ]
        ),
        secret="squatter-secret",
    )
    assert resp.status_code == 200
    assert _count(Message, company_id=conn.company_id) == 1


def test_the_claimed_owner_takes_a_delivery_alone(
    client, prefix, conn, other_company, graph_stub, admin, auth
):
    """Two connections verify (same app secret); the one that proved the number wins."""
    twin = _squatter(other_company, graph_stub, secret=SECRET)
    db.session.commit()
    resp = client.post(f"{prefix}/whatsappsession/{conn.id}", headers=auth(admin))
    assert resp.status_code == 200  # the Graph stub accepted A's token for PNID
    db.session.expire_all()
    assert conn.account_claim == f"cloud:{PNID}" and twin.account_claim is None
    assert _post(client, prefix, TEXT_DELIVERY).status_code == 200
    assert _count(Message, company_id=conn.company_id) == 1
    assert _count(Message, company_id=other_company.id) == 0


def test_changing_the_number_drops_the_claim(client, prefix, conn, admin, auth, graph_stub):
    client.post(f"{prefix}/whatsappsession/{conn.id}", headers=auth(admin))
    db.session.expire_all()
    assert conn.account_claim == f"cloud:{PNID}"
    config = {"phoneNumberId": "999000111", "accessToken": TOKEN, "appSecret": SECRET}
    body = {"providerConfig": {**config, "verifyToken": "verify-me", "baseUrl": graph_stub.url}}
    resp = client.put(f"{prefix}/whatsapp/{conn.id}", json=body, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    db.session.expire_all()
    assert conn.provider_account_id == "999000111" and conn.account_claim is None


def test_per_connection_url_checks_only_its_own_tokens(
    client, prefix, conn, other_company, graph_stub
):
    squatter = _squatter(other_company, graph_stub)
    db.session.commit()
    args = {"hub.mode": "subscribe", "hub.challenge": "42"}
    url = f"{prefix}/webhooks/cloud/{conn.id}"
    own = client.get(url, query_string={**args, "hub.verify_token": "verify-me"})
    assert own.status_code == 200 and own.data == b"42"
    other = client.get(url, query_string={**args, "hub.verify_token": "squat-token"})
    assert other.status_code == 403
    # Deliveries at A's URL signed with B's secret are refused; A's are stored for A only.
    raw = json.dumps(TEXT_DELIVERY).encode()

    def signed(secret: str) -> dict:
        digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        return {"X-Hub-Signature-256": "sha256=" + digest}

    bad = client.post(
        url, data=raw, content_type="application/json", headers=signed("squatter-secret")
    )
    assert bad.status_code == 401
    good = client.post(url, data=raw, content_type="application/json", headers=signed(SECRET))
    assert good.status_code == 200
    assert _count(Message, company_id=conn.company_id) == 1
    assert _count(InboundEvent, whatsapp_id=squatter.id) == 0


def test_per_connection_url_unknown_id_answers_like_a_bad_signature(client, prefix, conn):
    raw = json.dumps(TEXT_DELIVERY).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"X-Hub-Signature-256": sig}
    resp = client.post(
        f"{prefix}/webhooks/cloud/{conn.id + 999}",
        data=raw,
        content_type="application/json",
        headers=headers,
    )
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_INVALID_SIGNATURE"}


def test_metadata_that_is_not_an_object_is_not_a_500(client, prefix, conn):
    payload = copy.deepcopy(TEXT_DELIVERY)
    payload["entry"][0]["changes"][0]["value"]["metadata"] = "x"
    assert _post(client, prefix, payload).status_code == 200
