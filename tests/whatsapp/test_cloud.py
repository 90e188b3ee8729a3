"""The Cloud API gateway against a local Graph API stub: request shapes, errors, media, parsing."""

from __future__ import annotations

import copy
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from tests import factories
from tests.stubs.graph import TOKEN, GraphStub, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from whaticket.utils.crypto import encrypt_json
from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    GatewayError,
    InboundMessage,
    Media,
    ReactionUpdate,
)
from whaticket.whatsapp.cloud import CloudGateway, phone_number_ids, verify_signature
from whaticket.whatsapp.registry import gateway_for

PNID = "1122334455667"

#: gateways.md §1.7, the verbatim inbound text delivery.
TEXT_DELIVERY = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "1234567890987654321",
            "changes": [
                {
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "972123456789",
                            "phone_number_id": "1122334455667",
                        },
                        "contacts": [
                            {
                                "profile": {"name": "Test Name"},
                                "wa_id": "972987654321",
                                "user_id": "US.13491208655302741918",
                                "parent_user_id": "US.ENT.11815799212886844830",
                            }
                        ],
                        "messages": [
                            {
                                "from": "972987654321",
                                "id": "wamid.xyzxyz",
                                "timestamp": "1697043223",
                                "text": {"body": "Body Text"},
                                "type": "text",
                            }
                        ],
                    },
                    "field": "messages",
                }
            ],
        }
    ],
}


def with_messages(messages: list[dict], pnid: str = PNID) -> dict:
    """The §1.7 envelope around other `messages[]` items."""
    payload = copy.deepcopy(TEXT_DELIVERY)
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = pnid
    value["messages"] = messages
    return payload


def with_statuses(statuses: list[dict], pnid: str = PNID) -> dict:
    """The §1.7 envelope around `statuses[]` items (no messages)."""
    payload = with_messages([], pnid)
    value = payload["entry"][0]["changes"][0]["value"]
    del value["messages"]
    value["statuses"] = statuses
    return payload


@pytest.fixture
def conn(app, company, graph_stub):
    return factories.WhatsappFactory(
        company=company,
        provider="cloud",
        status="CONNECTED",
        provider_account_id=PNID,
        provider_config=encrypt_json(
            {
                "phoneNumberId": PNID,
                "accessToken": TOKEN,
                "appSecret": "app-secret",
                "verifyToken": "verify-me",
                "baseUrl": graph_stub.url,
            }
        ),
    )


@pytest.fixture
def gw(conn) -> CloudGateway:
    gateway = gateway_for(conn)
    assert isinstance(gateway, CloudGateway)
    return gateway


# -- helpers -------------------------------------------------------------------


def test_verify_signature_known_answer():
    # gateways.md §1.6 known-answer vector.
    good = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    assert verify_signature("secret", b"test", good)
    assert not verify_signature("secret", b"test2", good)
    assert not verify_signature("other", b"test", good)
    assert not verify_signature("secret", b"test", None)
    assert not verify_signature("secret", b"test", good.removeprefix("sha256="))
    assert not verify_signature("", b"test", good)


def test_phone_number_ids():
    two = with_messages([])
    two["entry"].append(with_messages([], "999")["entry"][0])
    assert phone_number_ids(two) == {PNID, "999"}
    assert phone_number_ids({}) == set()
    assert phone_number_ids([1, 2]) == set()
    assert phone_number_ids({"entry": [{"changes": ["x", {"value": 3}]}]}) == set()


# -- sends ---------------------------------------------------------------------


def test_send_text(gw, conn, graph_stub):
    result = gw.send_text(conn, "+55 11 98765-4321", "Olá")
    assert result.provider_id.startswith("wamid.") and result.ack == ACK_SENT
    req = graph_stub.requests[-1]
    assert req.method == "POST" and req.path == f"/{PNID}/messages"
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "text",
        "text": {"body": "Olá", "preview_url": False},
    }


def test_send_interactive_buttons_and_list(gw, conn, graph_stub):
    gw.send_interactive(conn, "5511987654321", "Escolha:", [("1", "Vendas"), ("#", "Menu inicial")])
    body = graph_stub.sent()[-1]
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "button",
        "body": {"text": "Escolha:"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "1", "title": "Vendas"}},
                {"type": "reply", "reply": {"id": "#", "title": "Menu inicial"}},
            ]
        },
    }
    # Four choices do not fit in buttons: a list, with long titles cut to 24 characters.
    choices = [(str(i), f"Departamento numero {i} de vendas") for i in range(1, 5)]
    gw.send_interactive(conn, "5511987654321", "Escolha:", choices)
    listed = graph_stub.sent()[-1]["interactive"]
    assert listed["type"] == "list"
    rows = listed["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert all(len(r["title"]) <= 24 for r in rows)
    with pytest.raises(NotImplementedError):  # more than a list holds: the caller sends text
        gw.send_interactive(conn, "5511987654321", "x", [(str(i), "t") for i in range(11)])


def test_send_quoted_text(gw, conn, graph_stub):
    gw.send_text(conn, "5511987654321", "see https://x.io", quoted_provider_id="wamid.Q")
    body = graph_stub.sent()[-1]
    assert body["context"] == {"message_id": "wamid.Q"}
    assert body["text"] == {"body": "see https://x.io", "preview_url": True}


def test_send_image_uploads_then_sends_by_id(gw, conn, graph_stub):
    gw.send_media(conn, "5511987654321", Media(b"\x89PNG..", "image/png", "a.png"), caption="hi")
    upload, send = graph_stub.requests[-2:]
    assert upload.path == f"/{PNID}/media" and upload.headers["Authorization"] == f"Bearer {TOKEN}"
    assert upload.form == {"messaging_product": "whatsapp", "type": "image/png"}
    assert upload.files["file"] == ("a.png", "image/png", b"\x89PNG..")
    media_id = next(iter(graph_stub.media))
    assert send.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "image",
        "image": {"id": media_id, "caption": "hi"},
    }


def test_send_document_carries_filename(gw, conn, graph_stub):
    gw.send_media(conn, "5511987654321", Media(b"%PDF", "application/pdf", "nota.pdf"))
    body = graph_stub.sent()[-1]
    assert body["type"] == "document"
    assert body["document"]["filename"] == "nota.pdf" and "caption" not in body["document"]


def test_send_audio_and_video(gw, conn, graph_stub):
    gw.send_media(conn, "5511987654321", Media(b"OggS", "audio/ogg", "v.ogg"), caption="ouça")
    gw.send_media(conn, "5511987654321", Media(b"mp4", "video/mp4", "v.mp4"), caption="veja")
    audio, caption_text, video = graph_stub.sent()[-3:]
    assert audio["type"] == "audio" and set(audio["audio"]) == {"id"}
    # Audio has no caption on Cloud: it follows as a text.
    assert caption_text["text"]["body"] == "ouça"
    assert video["type"] == "video" and video["video"]["caption"] == "veja"


def test_send_reaction(gw, conn, graph_stub):
    gw.send_reaction(conn, "5511987654321", "wamid.HBgLM", "😀")
    assert graph_stub.sent()[-1] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "reaction",
        "reaction": {"message_id": "wamid.HBgLM", "emoji": "😀"},
    }


def test_mark_read(gw, conn, graph_stub):
    gw.mark_read(conn, "5511987654321", ["wamid.A", "wamid.B"])
    assert graph_stub.sent()[-2:] == [
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.A"},
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.B"},
    ]


def test_send_template(gw, conn, graph_stub):
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    gw.send_template(conn, "5511987654321", "hello_world", "en_US", components)
    body = graph_stub.sent()[-1]
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
        "components": components,
    }


# -- errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "retryable"),
    [(131056, True), (130429, True), (131026, False), (190, False), (131047, False)],
)
def test_error_mapping(gw, conn, graph_stub, code, retryable):
    graph_stub.fail_next(code)
    with pytest.raises(GatewayError) as info:
        gw.send_text(conn, "5511987654321", "x")
    assert info.value.code == f"ERR_CLOUD_{code}"
    assert info.value.retryable is retryable
    assert info.value.retry_after is None


def test_error_retry_after_and_details(gw, conn, graph_stub):
    graph_stub.fail_next(131056, retry_after="7")
    with pytest.raises(GatewayError) as info:
        gw.send_text(conn, "5511987654321", "x")
    assert info.value.retry_after == 7.0
    assert "pair rate limit" in info.value.message and "too many messages" in info.value.message


def test_http_5xx_without_graph_body_is_retryable(gw, conn, graph_stub):
    graph_stub.fail_next(100, status=503)
    with pytest.raises(GatewayError) as info:
        gw.send_text(conn, "5511987654321", "x")
    assert info.value.code == "ERR_CLOUD_100" and info.value.retryable


def test_unreachable_is_retryable(app, company):
    dead = factories.WhatsappFactory(
        company=company,
        provider="cloud",
        provider_account_id=PNID,
        provider_config=encrypt_json({"accessToken": TOKEN, "baseUrl": "http://127.0.0.1:9"}),
    )
    with pytest.raises(GatewayError) as info:
        gateway_for(dead).send_text(dead, "5511987654321", "x")
    assert info.value.code == "ERR_CLOUD_UNREACHABLE" and info.value.retryable


def test_delete_not_supported(gw, conn):
    with pytest.raises(GatewayError) as info:
        gw.delete_message(conn, "5511987654321", "wamid.X")
    assert info.value.code == "ERR_NOT_SUPPORTED" and not info.value.retryable


# -- sessions, media, numbers --------------------------------------------------


def test_sessions(gw, conn, graph_stub):
    assert gw.start_session(conn).status == "CONNECTED"
    assert graph_stub.requests[-1].path == f"/{PNID}"
    graph_stub.fail_next(190)
    with pytest.raises(GatewayError) as info:
        gw.start_session(conn)
    assert info.value.code == "ERR_CLOUD_190"
    assert gw.stop_session(conn).status == "DISCONNECTED"


def test_fetch_media_uses_the_bearer(gw, conn, graph_stub):
    graph_stub.add_media("65463453", b"\xff\xd8jpeg", "image/jpeg")
    media = gw.fetch_media(conn, "65463453")
    assert media == Media(b"\xff\xd8jpeg", "image/jpeg", "65463453.jpg")
    lookup, download = graph_stub.requests[-2:]
    assert lookup.path == "/65463453" and download.path == "/files/65463453"
    assert download.headers["Authorization"] == f"Bearer {TOKEN}"


def test_fetch_media_unknown_id(gw, conn):
    with pytest.raises(GatewayError) as info:
        gw.fetch_media(conn, "nope")
    assert info.value.code == "ERR_CLOUD_100" and not info.value.retryable


def test_check_number_returns_digits(gw, conn, graph_stub):
    assert gw.check_number(conn, "+55 (11) 98765-4321") == "5511987654321"
    assert graph_stub.requests == []


# -- parse_webhook ---------------------------------------------------------------


def test_parse_text(gw, conn):
    (msg,) = gw.parse_webhook(conn, TEXT_DELIVERY, {})
    assert msg == InboundMessage(
        provider_id="wamid.xyzxyz",
        chat_id="972987654321",
        body="Body Text",
        push_name="Test Name",
        timestamp=datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC),
        raw=TEXT_DELIVERY["entry"][0]["changes"][0]["value"]["messages"][0],
    )


def test_parse_ignores_other_numbers(gw, conn):
    messages = copy.deepcopy(TEXT_DELIVERY["entry"][0]["changes"][0]["value"]["messages"])
    assert gw.parse_webhook(conn, with_messages(messages, "999"), {}) == []


def _one(gw, conn, message: dict):
    base = {"from": "972987654321", "id": "wamid.xyzxyz", "timestamp": "1697043379"}
    (event,) = gw.parse_webhook(conn, with_messages([{**base, **message}]), {})
    return event


def test_parse_media_types(gw, conn):
    # gateways.md §1.7 image, and the same shape for the other media types.
    image = _one(
        gw,
        conn,
        {
            "type": "image",
            "image": {"mime_type": "image/jpeg", "sha256": "4654+8g=", "id": "65463453"},
        },
    )
    assert (image.media_type, image.media_ref, image.body) == ("image", "65463453", "")
    doc = _one(
        gw,
        conn,
        {"type": "document", "document": {"id": "9", "filename": "a.pdf", "caption": "nota"}},
    )
    assert (doc.media_type, doc.media_ref, doc.body) == ("application", "9", "nota")
    video = _one(gw, conn, {"type": "video", "video": {"id": "8", "caption": "olha"}})
    assert (video.media_type, video.body) == ("video", "olha")
    audio = _one(gw, conn, {"type": "audio", "audio": {"id": "7", "voice": True}})
    assert (audio.media_type, audio.media_ref) == ("audio", "7")
    sticker = _one(gw, conn, {"type": "sticker", "sticker": {"id": "6", "animated": False}})
    assert (sticker.media_type, sticker.media_ref) == ("image", "6")


def test_parse_location_contacts_interactive_button(gw, conn):
    loc = _one(
        gw,
        conn,
        {"type": "location", "location": {"latitude": -23.5, "longitude": -46.6, "name": "SP"}},
    )
    picture, link, description = loc.body.split("|")
    assert loc.media_type == "locationMessage" and description == "SP"
    assert picture.startswith("data:image/png;base64,") and "-23.5%2C-46.6" in link
    card = _one(
        gw,
        conn,
        {
            "type": "contacts",
            "contacts": [
                {
                    "name": {"formatted_name": "Ana"},
                    "phones": [{"phone": "+55 11 9999", "wa_id": "55119999", "type": "CELL"}],
                }
            ],
        },
    )
    assert "FN:Ana" in card.body and "TEL;type=CELL;waid=55119999:+55 11 9999" in card.body
    btn = _one(
        gw,
        conn,
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Sim"}},
        },
    )
    assert btn.body == "Sim"
    lst = _one(
        gw,
        conn,
        {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "l1", "title": "Opção"}},
        },
    )
    assert lst.body == "Opção"
    tpl = _one(gw, conn, {"type": "button", "button": {"payload": "P", "text": "Parar"}})
    assert tpl.body == "Parar"


def test_parse_reply_and_reaction(gw, conn):
    # gateways.md §1.7 reply and reaction.
    reply = _one(
        gw,
        conn,
        {
            "context": {"from": "972123456789", "id": "wamid.xyzxyz=="},
            "text": {"body": "replied text"},
            "type": "text",
        },
    )
    assert reply.quoted_provider_id == "wamid.xyzxyz==" and reply.body == "replied text"
    reaction = _one(
        gw, conn, {"type": "reaction", "reaction": {"message_id": "wamid.yzxyzx=", "emoji": "😮"}}
    )
    assert reaction == ReactionUpdate("wamid.yzxyzx=", "😮", "972987654321")


def test_parse_unknown_types_are_placeholders(gw, conn):
    for kind in ("unsupported", "order", "brand_new"):
        event = _one(gw, conn, {"type": kind, "errors": [{"code": 131051}]})
        assert event.media_type == "unsupported"
        assert event.body == f"[unsupported message type: {kind}]"
        assert event.provider_id == "wamid.xyzxyz"


def test_parse_statuses(gw, conn):
    base = {"id": "wamid.xyzxyz", "timestamp": "1698266945", "recipient_id": "972987654321"}
    failed = {
        **base,
        "status": "failed",
        "errors": [
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": "more than 24 hours"},
            }
        ],
    }
    events = gw.parse_webhook(
        conn,
        with_statuses(
            [
                {**base, "status": "sent"},
                {**base, "status": "delivered"},
                {**base, "status": "read"},
                failed,
                {**base, "status": "mystery"},
            ]
        ),
        {},
    )
    assert events[:3] == [
        AckUpdate("wamid.xyzxyz", ACK_SENT),
        AckUpdate("wamid.xyzxyz", ACK_DELIVERED),
        AckUpdate("wamid.xyzxyz", ACK_READ),
    ]
    assert events[3].ack == ACK_ERROR
    assert events[3].error == "131047 Re-engagement message: more than 24 hours"
    assert len(events) == 4


def test_signature_matches_fixture_signing():
    # How the webhook tests sign: json.dumps escapes non-ASCII like Meta does (§1.6).
    raw = b'{"a": "\\u00e4"}'
    sig = "sha256=" + hmac.new(b"k", raw, hashlib.sha256).hexdigest()
    assert verify_signature("k", raw, sig)


def test_stub_requires_bearer(graph_stub: GraphStub):
    import requests

    resp = requests.get(f"{graph_stub.url}/{PNID}", timeout=5)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == 190
