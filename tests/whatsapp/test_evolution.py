"""The Evolution provider against a local stub of the Evolution API, and its webhook parser."""

from __future__ import annotations

import base64
import copy
import socket

import pytest

from tests import factories
from tests.stubs import evolution as stubs
from tests.stubs.evolution import (
    API_KEY,
    CONNECTION_CLOSED,
    QR_CODE,
    VALIDATION_ERROR,
    EvolutionStub,
)
from whaticket.extensions import db
from whaticket.utils.crypto import encrypt_json
from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_PLAYED,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    CallEvent,
    ConnectionUpdate,
    GatewayError,
    InboundMessage,
    Media,
    MessageEdited,
    MessageRevoked,
    ReactionUpdate,
    SessionNotConnectedError,
    SessionState,
)
from whaticket.whatsapp.evolution import WEBHOOK_EVENTS, EvolutionGateway
from whaticket.whatsapp.registry import gateway_for

SECRET = "hook-secret-123"
#: The stub's pytest fixture, made available to this module.
evolution_stub = stubs.evolution_stub

# -- verbatim payloads of gateways.md §2.3 -----------------------------------------

LID_TEXT = {
    "event": "messages.upsert",
    "instance": "Teste",
    "data": {
        "key": {"remoteJid": "13718@lid", "fromMe": False, "id": ""},
        "pushName": "Rodrigo",
        "status": "DELIVERY_ACK",
        "message": {
            "conversation": "Oi",
            "messageContextInfo": {
                "deviceListMetadata": {
                    "senderKeyHash": "",
                    "senderTimestamp": "",
                    "recipientKeyHash": "",
                    "recipientTimestamp": "",
                },
                "deviceListMetadataVersion": 2,
                "messageSecret": "",
            },
        },
        "messageType": "conversation",
        "messageTimestamp": 1773027345,
        "instanceId": "bae4",
    },
}

IMAGE = {
    "event": "messages.upsert",
    "instance": "helpdesk-1",
    "data": {
        "key": {
            "remoteJid": "5511988887777@s.whatsapp.net",
            "fromMe": False,
            "id": "3EB0A1B2C3D4E5F60718",
        },
        "pushName": "Maria",
        "status": "DELIVERY_ACK",
        "message": {
            "imageMessage": {
                "url": "https://mmg.whatsapp.net/o1/v/t62.7118-24/f1/m232/up-oil...",
                "mimetype": "image/jpeg",
                "caption": "foto do produto",
                "fileSha256": "VbCGkGBv5SZStLD5PHdkBWpQav/lNsXcY...",
                "fileLength": "48213",
                "height": 1280,
                "width": 960,
                "mediaKey": "aFQK9Ocw5tE7Nf0iBA42Xcb4Dee6G1k/pLL...",
                "directPath": "/o1/v/t62.7118-24/f1/m232/up-oil...",
                "mediaKeyTimestamp": "1717775573",
                "jpegThumbnail": "/9j/2wBDABALDA4MChAODQ4SERATG...",
            }
        },
        "contextInfo": None,
        "messageType": "imageMessage",
        "messageTimestamp": 1717775575,
        "instanceId": "af6c5b7c-ee27-4f94-9ea8-192393746ddd",
        "source": "android",
    },
    "destination": "https://helpdesk.example/webhooks/evolution",
    "date_time": "2024-06-07T12:52:55.120Z",
    "sender": "5511900001111@s.whatsapp.net",
    "server_url": "http://evolution:8080",
    "apikey": "B6D711FCDE4D4FD5936544120E713976",
}

UPDATE_READ = {
    "event": "messages.update",
    "instance": "myinstance",
    "data": {
        "keyId": "A5561E44C2A63682E4295B52F484C14E",
        "remoteJid": "200000000000@s.whatsapp.net",
        "fromMe": False,
        "participant": "200000000000@s.whatsapp.net",
        "status": "READ",
        "instanceId": "abb8e7b9-7586-6462-95c4",
        "messageId": "cmfyoow42000hov4xwk…",
    },
    "destination": "https://kina-nonscented-roseanna.ngrok-free.dev/api/webhook",
    "date_time": "2025-09-24T21:37:57.432Z",
    "sender": "200000000000@s.whatsapp.net",
    "server_url": "https://mywebsite.com",
    "apikey": "myinstance",
}

QR_UPDATED = {
    "event": "qrcode.updated",
    "instance": "inst1",
    "data": {
        "qrcode": {
            "instance": "inst1",
            "pairingCode": "WZYEH1YY",
            "code": "2@abc",
            "base64": "data:image/png;base64,AAAA",
        }
    },
}


def upsert(key: dict, message: dict, message_type: str, **data) -> dict:
    """A messages.upsert envelope built like prepareMessage() output."""
    return {
        "event": "messages.upsert",
        "instance": "inst1",
        "data": {
            "key": key,
            "pushName": data.pop("pushName", "Maria"),
            "status": "DELIVERY_ACK",
            "message": message,
            "messageType": message_type,
            "messageTimestamp": 1717775575,
            **data,
        },
    }


KEY = {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False, "id": "3EB0AAA"}


@pytest.fixture
def conn(company, evolution_stub: EvolutionStub):
    """An evolution connection pointing at the stub."""
    return factories.WhatsappFactory(
        company=company,
        provider="evolution",
        status="CONNECTED",
        provider_account_id="inst1",
        provider_config=encrypt_json(
            {
                "baseUrl": evolution_stub.url,
                "apiKey": API_KEY,
                "instance": "inst1",
                "webhookSecret": SECRET,
            }
        ),
    )


@pytest.fixture
def gw() -> EvolutionGateway:
    return EvolutionGateway()


def parse(gw, conn, payload) -> list:
    return gw.parse_webhook(conn, copy.deepcopy(payload), {})


# -- sessions ------------------------------------------------------------------------


def test_registered(conn):
    assert isinstance(gateway_for(conn), EvolutionGateway)


def test_start_session_creates_instance_sets_webhook_and_returns_qr(app, conn, gw, evolution_stub):
    app.config["PUBLIC_URL"] = "https://hooks.example"
    state = gw.start_session(conn)
    assert state == SessionState("qrcode", qrcode=QR_CODE)

    create = evolution_stub.calls("/instance/create")[0]
    assert create.method == "POST"
    assert create.headers["apikey"] == API_KEY
    assert create.json == {
        "instanceName": "inst1",
        "integration": "WHATSAPP-BAILEYS",
        "qrcode": True,
    }
    hook = evolution_stub.calls("/webhook/set/inst1")[0].json["webhook"]
    prefix = app.config["API_PREFIX"]
    assert hook["url"] == f"https://hooks.example{prefix}/webhooks/evolution/{conn.id}/{SECRET}"
    assert hook["enabled"] is True and hook["byEvents"] is False and hook["base64"] is False
    for event in (
        "MESSAGES_UPSERT",
        "MESSAGES_UPDATE",
        "MESSAGES_DELETE",
        "CONNECTION_UPDATE",
        "QRCODE_UPDATED",
        "CALL",
        "SEND_MESSAGE",
    ):
        assert event in hook["events"]
    assert hook["events"] == WEBHOOK_EVENTS
    assert evolution_stub.calls("/instance/connect/inst1")[0].method == "GET"


def test_start_session_uses_backend_url_without_public_url(app, conn, gw, evolution_stub):
    app.config["PUBLIC_URL"] = None
    app.config["BACKEND_URL"] = "http://backend:8080/"
    gw.start_session(conn)
    url = evolution_stub.webhooks["inst1"]["url"]
    assert (
        url
        == f"http://backend:8080{app.config['API_PREFIX']}/webhooks/evolution/{conn.id}/{SECRET}"
    )


def test_start_session_existing_open_instance_is_connected(conn, gw, evolution_stub):
    evolution_stub.instances["inst1"] = "open"
    assert gw.start_session(conn) == SessionState("CONNECTED")
    assert not evolution_stub.calls("/instance/create")
    assert not evolution_stub.calls("/instance/connect/")
    assert evolution_stub.webhooks["inst1"]["enabled"] is True


def test_start_session_existing_closed_instance_gets_qr(conn, gw, evolution_stub):
    evolution_stub.instances["inst1"] = "close"
    assert gw.start_session(conn).status == "qrcode"
    assert not evolution_stub.calls("/instance/create")


def test_connection_state_stop_and_delete(conn, gw, evolution_stub):
    evolution_stub.instances["inst1"] = "open"
    assert gw.connection_state(conn) == SessionState("CONNECTED")
    evolution_stub.instances["inst1"] = "connecting"
    assert gw.connection_state(conn) == SessionState("OPENING")
    evolution_stub.instances["inst1"] = "open"
    assert gw.stop_session(conn) == SessionState("DISCONNECTED")
    assert evolution_stub.calls("/instance/logout/inst1")[0].method == "DELETE"
    assert gw.connection_state(conn) == SessionState("DISCONNECTED")
    # Already logged out (the bridge answers 400): still a clean stop.
    assert gw.stop_session(conn) == SessionState("DISCONNECTED")
    assert gw.delete_instance(conn) == SessionState("DISCONNECTED")
    assert evolution_stub.calls("/instance/delete/inst1")[0].method == "DELETE"
    assert "inst1" not in evolution_stub.instances
    assert gw.delete_instance(conn) == SessionState("DISCONNECTED")  # unknown: done


# -- sends ---------------------------------------------------------------------------


@pytest.fixture
def open_instance(evolution_stub):
    evolution_stub.instances["inst1"] = "open"


def test_send_text_and_quoted_reply(conn, gw, evolution_stub, open_instance):
    result = gw.send_text(conn, "5511988887777", "Olá!")
    assert result.provider_id.startswith("BAE5") and result.ack == ACK_SENT
    gw.send_text(conn, "5511988887777", "re", quoted_provider_id="3EB0QUOTED")
    plain, quoted = evolution_stub.calls("/message/sendText/inst1")
    assert plain.json == {"number": "5511988887777", "text": "Olá!"}
    assert plain.headers["apikey"] == API_KEY
    assert quoted.json == {
        "number": "5511988887777",
        "text": "re",
        "quoted": {"key": {"id": "3EB0QUOTED"}},
    }


def test_send_text_to_group(conn, gw, evolution_stub, open_instance):
    gw.send_text(conn, "120363150000000000", "hi all", is_group=True)
    assert evolution_stub.calls("/message/sendText")[0].json["number"] == "120363150000000000@g.us"


def test_send_media_shapes(conn, gw, evolution_stub, open_instance):
    png = Media(b"\x89PNGdata", "image/png", "photo.png")
    pdf = Media(b"%PDF-1.4", "application/pdf", "invoice.pdf")
    video = Media(b"\x00\x00video", "video/mp4", "clip.mp4")
    assert gw.send_media(conn, "5511988887777", png, caption="look").provider_id.startswith("BAE5")
    gw.send_media(conn, "5511988887777", pdf)
    gw.send_media(conn, "5511988887777", video, caption="v")
    image, doc, vid = (r.json for r in evolution_stub.calls("/message/sendMedia/inst1"))
    assert image == {
        "number": "5511988887777",
        "mediatype": "image",
        "mimetype": "image/png",
        "caption": "look",
        "media": base64.b64encode(b"\x89PNGdata").decode(),
        "fileName": "photo.png",
    }
    assert doc["mediatype"] == "document" and doc["fileName"] == "invoice.pdf"
    assert base64.b64decode(doc["media"]) == b"%PDF-1.4"
    assert vid["mediatype"] == "video" and vid["caption"] == "v"


def test_send_voice_note_uses_whatsapp_audio(conn, gw, evolution_stub, open_instance):
    ogg = Media(b"OggS-voice", "audio/ogg", "voice.ogg")
    gw.send_media(conn, "5511988887777", ogg, voice=True)
    call = evolution_stub.calls("/message/sendWhatsAppAudio/inst1")[0]
    assert call.json == {
        "number": "5511988887777",
        "audio": base64.b64encode(b"OggS-voice").decode(),
    }
    # Not a voice note: an ordinary audio file through sendMedia.
    gw.send_media(conn, "5511988887777", ogg)
    assert evolution_stub.calls("/message/sendMedia/inst1")[0].json["mediatype"] == "audio"


def test_send_reaction_uses_full_key(company, conn, gw, evolution_stub, open_instance):
    ticket = factories.TicketFactory(company=company, whatsapp=conn)
    ours = factories.MessageFactory(ticket=ticket, provider_id="BAE58DA6CBC941BC", from_me=True)
    db.session.commit()
    gw.send_reaction(conn, "553198296801", ours.provider_id, "🚀")
    gw.send_reaction(conn, "553198296801", "3EB0THEIRS", "")
    mine, theirs = (r.json for r in evolution_stub.calls("/message/sendReaction/inst1"))
    assert mine == {
        "key": {
            "remoteJid": "553198296801@s.whatsapp.net",
            "fromMe": True,
            "id": "BAE58DA6CBC941BC",
        },
        "reaction": "🚀",
    }
    assert theirs["key"]["fromMe"] is False and theirs["reaction"] == ""


def test_mark_read_and_delete(conn, gw, evolution_stub, open_instance):
    gw.mark_read(conn, "5511988887777", ["A1", "A2"])
    gw.mark_read(conn, "5511988887777", [])  # nothing to send: no request
    read = evolution_stub.calls("/chat/markMessageAsRead/inst1")
    assert len(read) == 1
    assert read[0].json == {
        "readMessages": [
            {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False, "id": "A1"},
            {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False, "id": "A2"},
        ]
    }
    gw.delete_message(conn, "120363150000000000", "BAE5DEL")
    delete = evolution_stub.calls("/chat/deleteMessageForEveryone/inst1")[0]
    assert delete.method == "DELETE"
    assert delete.json == {"id": "BAE5DEL", "remoteJid": "120363150000000000@g.us", "fromMe": True}


def test_check_number(conn, gw, evolution_stub, open_instance):
    assert gw.check_number(conn, "+55 (31) 98296-801") == "553198296801"
    assert evolution_stub.calls("/chat/whatsappNumbers/inst1")[0].json == {
        "numbers": ["553198296801"]
    }
    assert gw.check_number(conn, "0001234567") is None


def test_fetch_media(conn, gw, evolution_stub, open_instance):
    evolution_stub.add_media(
        "3EB0A1B2C3D4E5F60718", base64.b64encode(b"jpegbytes").decode(), "image/jpeg", "foto.jpg"
    )
    media = gw.fetch_media(conn, "3EB0A1B2C3D4E5F60718")
    assert media == Media(b"jpegbytes", "image/jpeg", "foto.jpg")
    assert evolution_stub.calls("/chat/getBase64FromMediaMessage/inst1")[0].json == {
        "message": {"key": {"id": "3EB0A1B2C3D4E5F60718"}},
        "convertToMp4": False,
    }
    with pytest.raises(GatewayError) as err:
        gw.fetch_media(conn, "UNKNOWN")
    assert not err.value.retryable


# -- error mapping -------------------------------------------------------------------


def test_server_error_is_retryable(conn, gw, evolution_stub, open_instance):
    evolution_stub.fail_next(500)
    with pytest.raises(GatewayError) as err:
        gw.send_text(conn, "5511988887777", "x")
    assert err.value.retryable and not isinstance(err.value, SessionNotConnectedError)


def test_validation_error_is_final(conn, gw, evolution_stub, open_instance):
    evolution_stub.fail_next(400, VALIDATION_ERROR)
    with pytest.raises(GatewayError) as err:
        gw.send_text(conn, "5511988887777", "x")
    assert not err.value.retryable
    assert "caption is not of a type(s) string" in err.value.message


def test_not_on_whatsapp(conn, gw, open_instance):
    with pytest.raises(GatewayError) as err:
        gw.send_text(conn, "0005511999", "x")
    assert err.value.code == "NOT_ON_WHATSAPP" and not err.value.retryable


def test_connection_closed_is_session_not_connected(conn, gw, evolution_stub, open_instance):
    evolution_stub.fail_next(400, CONNECTION_CLOSED)
    with pytest.raises(SessionNotConnectedError) as err:
        gw.send_text(conn, "5511988887777", "x")
    assert err.value.retryable


def test_unknown_instance_and_bad_key_are_final(app, company, conn, gw, evolution_stub):
    with pytest.raises(GatewayError) as err:  # the stub knows no instance yet
        gw.send_text(conn, "5511988887777", "x")
    assert err.value.code == "ERR_EVOLUTION_NOT_FOUND" and not err.value.retryable
    bad = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        provider_account_id="inst1",
        provider_config=encrypt_json({"baseUrl": evolution_stub.url, "apiKey": "wrong"}),
    )
    with pytest.raises(GatewayError) as err:
        gw.send_text(bad, "5511988887777", "x")
    assert err.value.code == "ERR_EVOLUTION_UNAUTHORIZED" and not err.value.retryable


def test_connection_refused_is_retryable(company, gw):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        provider_account_id="inst1",
        provider_config=encrypt_json({"baseUrl": f"http://127.0.0.1:{port}", "apiKey": "k"}),
    )
    with pytest.raises(GatewayError) as err:
        gw.send_text(down, "5511988887777", "x")
    assert err.value.retryable and err.value.code == "ERR_EVOLUTION_UNAVAILABLE"


# -- webhook parsing -----------------------------------------------------------------


def test_parse_lid_text_without_phone(conn, gw):
    (msg,) = parse(gw, conn, LID_TEXT)
    assert isinstance(msg, InboundMessage)
    assert msg.body == "Oi" and msg.push_name == "Rodrigo" and not msg.from_me
    assert msg.chat_id == "13718"  # no phone in the payload: the LID is all there is
    assert msg.provider_id.startswith("EVO-")  # empty key.id: a stable hash instead
    assert parse(gw, conn, LID_TEXT)[0].provider_id == msg.provider_id
    assert msg.timestamp is not None and msg.timestamp.timestamp() == 1773027345
    assert msg.raw["lid"] == "13718@lid"


def test_parse_lid_sender_resolved_from_alt(conn, gw):
    payload = copy.deepcopy(LID_TEXT)
    payload["data"]["key"] = {
        "remoteJid": "13718@lid",
        "remoteJidAlt": "5511977776666@s.whatsapp.net",
        "fromMe": False,
        "id": "3EB0LID1",
        "addressingMode": "lid",
    }
    (msg,) = parse(gw, conn, payload)
    assert msg.chat_id == "5511977776666" and msg.provider_id == "3EB0LID1"
    # Evolution 2.3.0 spelling.
    payload["data"]["key"] = {
        "remoteJid": "13718@lid",
        "senderPn": "5511966665555@s.whatsapp.net",
        "fromMe": False,
        "id": "3EB0LID2",
    }
    assert parse(gw, conn, payload)[0].chat_id == "5511966665555"


def test_parse_image_with_caption(conn, gw):
    (msg,) = parse(gw, conn, IMAGE)
    assert msg.provider_id == "3EB0A1B2C3D4E5F60718"
    assert msg.chat_id == "5511988887777" and msg.push_name == "Maria"
    assert msg.body == "foto do produto" and msg.media_type == "image"
    assert msg.media_ref == "3EB0A1B2C3D4E5F60718" and msg.media is None
    assert msg.raw["key"]["remoteJid"] == "5511988887777@s.whatsapp.net"


def test_parse_image_with_inline_base64(conn, gw):
    payload = copy.deepcopy(IMAGE)
    payload["data"]["message"]["base64"] = base64.b64encode(b"jpeg!").decode()
    (msg,) = parse(gw, conn, payload)
    assert msg.media is not None and msg.media.data == b"jpeg!" and msg.media_ref is None
    assert msg.media.mimetype == "image/jpeg"


def test_parse_from_me_echo_and_upper_event_name(conn, gw):
    payload = upsert(
        {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": True, "id": "3EB0PHONE"},
        {"conversation": "typed on the phone"},
        "conversation",
        pushName="Our Phone",
    )
    payload["event"] = "MESSAGES_UPSERT"
    (msg,) = parse(gw, conn, payload)
    assert msg.from_me and msg.chat_id == "5511988887777" and msg.body == "typed on the phone"
    assert msg.push_name is None  # our own name must not rename the contact


def test_parse_group_message_with_lid_participant(conn, gw):
    payload = upsert(
        {
            "remoteJid": "120363150000000000@g.us",
            "fromMe": False,
            "id": "3EB07B86E02236BE3DD95F",
            "participant": "14135070000000@lid",
            "participantAlt": "55479888888@s.whatsapp.net",
        },
        {"extendedTextMessage": {"text": "hello", "contextInfo": {"stanzaId": "3EB0ORIG"}}},
        "extendedTextMessage",
    )
    (msg,) = parse(gw, conn, payload)
    assert msg.is_group and msg.chat_id == "120363150000000000"
    assert msg.participant == "55479888888" and msg.body == "hello"
    assert msg.quoted_provider_id == "3EB0ORIG"


def test_parse_quoted_from_data_context_info(conn, gw):
    payload = upsert(KEY, {"conversation": "yes"}, "conversation", contextInfo={"stanzaId": "Q1"})
    assert parse(gw, conn, payload)[0].quoted_provider_id == "Q1"


@pytest.mark.parametrize(
    ("kind", "content", "media_type"),
    [
        ("videoMessage", {"mimetype": "video/mp4", "caption": "clip"}, "video"),
        ("audioMessage", {"mimetype": "audio/ogg; codecs=opus", "ptt": True}, "audio"),
        ("documentMessage", {"mimetype": "application/pdf", "fileName": "a.pdf"}, "application"),
        ("stickerMessage", {"mimetype": "image/webp"}, "image"),
    ],
)
def test_parse_media_kinds(conn, gw, kind, content, media_type):
    (msg,) = parse(gw, conn, upsert(KEY, {kind: content}, kind))
    assert msg.media_type == media_type and msg.media_ref == KEY["id"]
    if kind == "documentMessage":
        assert msg.body == "a.pdf"
    if kind == "videoMessage":
        assert msg.body == "clip"


def test_parse_document_with_caption_wrapper(conn, gw):
    wrapped = {
        "documentWithCaptionMessage": {
            "message": {"documentMessage": {"mimetype": "application/pdf", "caption": "nota"}}
        }
    }
    (msg,) = parse(gw, conn, upsert(KEY, wrapped, "documentWithCaptionMessage"))
    assert msg.body == "nota" and msg.media_type == "application"


def test_parse_location_contacts_buttons_lists(conn, gw):
    loc = {"locationMessage": {"degreesLatitude": -23.5, "degreesLongitude": -46.6, "name": "Loja"}}
    (msg,) = parse(gw, conn, upsert(KEY, loc, "locationMessage"))
    assert msg.media_type == "locationMessage"
    picture, link, description = msg.body.split("|")
    assert picture.startswith("data:image/png;base64,") and "-23.5%2C-46.6" in link
    assert description == "Loja"
    vcard = "BEGIN:VCARD\nFN:Ana\nTEL;waid=5511999990000:+55 11 99999-0000\nEND:VCARD"
    (msg,) = parse(gw, conn, upsert(KEY, {"contactMessage": {"vcard": vcard}}, "contactMessage"))
    assert msg.media_type == "contactMessage"
    assert msg.body == "BEGIN:VCARD\nTEL;waid=5511999990000:+55 11 99999-0000\nFN:Ana\nEND:VCARD"
    bob = "BEGIN:VCARD\nFN:Bob\nTEL:+1 555 0100\nEND:VCARD"
    many = {"contactsArrayMessage": {"contacts": [{"vcard": vcard}, {"vcard": bob}]}}
    (msg,) = parse(gw, conn, upsert(KEY, many, "contactsArrayMessage"))
    assert msg.media_type == "contactMessage" and msg.body.endswith(
        "TEL:+1 555 0100\nfn:Bob\nEND:VCARD"
    )
    # A card the chat view could not parse (no "+" number) is kept as text.
    bare = {"contactMessage": {"vcard": "BEGIN:VCARD\nFN:Ana\nTEL:011 9999-0000\nEND:VCARD"}}
    (msg,) = parse(gw, conn, upsert(KEY, bare, "contactMessage"))
    assert (msg.body, msg.media_type) == ("📇 Ana: 011 9999-0000", "chat")
    button = {"buttonsResponseMessage": {"selectedButtonId": "b1", "selectedDisplayText": "Sim"}}
    assert parse(gw, conn, upsert(KEY, button, "buttonsResponseMessage"))[0].body == "Sim"
    lst = {"listResponseMessage": {"title": "Opção 2", "singleSelectReply": {"selectedRowId": "2"}}}
    assert parse(gw, conn, upsert(KEY, lst, "listResponseMessage"))[0].body == "Opção 2"


def test_parse_unknown_type_is_placeholder(conn, gw):
    (msg,) = parse(
        gw, conn, upsert(KEY, {"pollCreationMessageV3": {"name": "?"}}, "pollCreationMessageV3")
    )
    assert msg.body == "[unsupported message type: pollCreationMessageV3]"
    assert msg.media_type == "unsupported"


def test_parse_reaction_revoke_and_edits(conn, gw):
    reaction = {"reactionMessage": {"key": {"id": "BAE5TARGET"}, "text": "👍"}}
    assert parse(gw, conn, upsert(KEY, reaction, "reactionMessage")) == [
        ReactionUpdate(provider_id="BAE5TARGET", emoji="👍", from_number="5511988887777")
    ]
    revoke = {"protocolMessage": {"key": {"id": "3EB0GONE"}, "type": "REVOKE"}}
    assert parse(gw, conn, upsert(KEY, revoke, "protocolMessage")) == [
        MessageRevoked(provider_id="3EB0GONE")
    ]
    edit = {
        "protocolMessage": {
            "key": {"id": "3EB0OLD"},
            "type": "MESSAGE_EDIT",
            "editedMessage": {"conversation": "fixed text"},
        }
    }
    assert parse(gw, conn, upsert(KEY, edit, "protocolMessage")) == [
        MessageEdited(provider_id="3EB0OLD", body="fixed text")
    ]
    edited = {
        "editedMessage": {
            "message": {
                "protocolMessage": {
                    "key": {"id": "3EB0OLD2"},
                    "type": 14,
                    "editedMessage": {"extendedTextMessage": {"text": "v2"}},
                }
            }
        }
    }
    assert parse(gw, conn, upsert(KEY, edited, "editedMessage")) == [
        MessageEdited(provider_id="3EB0OLD2", body="v2")
    ]


def test_parse_status_broadcast_ignored(conn, gw):
    key = {"remoteJid": "status@broadcast", "fromMe": False, "id": "S1"}
    assert parse(gw, conn, upsert(key, {"conversation": "story"}, "conversation")) == []


def test_parse_messages_update_acks(conn, gw):
    assert parse(gw, conn, UPDATE_READ) == [
        AckUpdate(provider_id="A5561E44C2A63682E4295B52F484C14E", ack=ACK_READ)
    ]
    expected = {
        "SERVER_ACK": ACK_SENT,
        "DELIVERY_ACK": ACK_DELIVERED,
        "READ": ACK_READ,
        "PLAYED": ACK_PLAYED,
        "ERROR": ACK_ERROR,
        3: ACK_DELIVERED,
        "4": ACK_READ,
    }
    for status, ack in expected.items():
        payload = copy.deepcopy(UPDATE_READ)
        payload["data"]["status"] = status
        (update,) = parse(gw, conn, payload)
        assert update.ack == ack
        assert (update.error is not None) == (ack == ACK_ERROR)
    payload = copy.deepcopy(UPDATE_READ)
    payload["data"]["status"] = "DELETED"
    assert parse(gw, conn, payload) == []


def test_parse_messages_delete(conn, gw):
    payload = {
        "event": "messages.delete",
        "instance": "inst1",
        "data": {"id": "3EB0DEL", "remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False},
    }
    assert parse(gw, conn, payload) == [MessageRevoked(provider_id="3EB0DEL")]
    payload["data"] = {"key": {"id": "3EB0DEL2"}}
    assert parse(gw, conn, payload) == [MessageRevoked(provider_id="3EB0DEL2")]


def test_parse_connection_update(conn, gw):
    for state, status in (
        ("open", "CONNECTED"),
        ("connecting", "OPENING"),
        ("close", "DISCONNECTED"),
    ):
        payload = {
            "event": "connection.update",
            "instance": "inst1",
            "data": {"instance": "inst1", "state": state, "statusReason": 200},
        }
        assert parse(gw, conn, payload) == [ConnectionUpdate(SessionState(status))]
    payload["event"] = "CONNECTION_UPDATE"
    assert parse(gw, conn, payload)[0].state.status == "DISCONNECTED"


def test_parse_qrcode_updated(conn, gw):
    assert parse(gw, conn, QR_UPDATED) == [ConnectionUpdate(SessionState("qrcode", qrcode="2@abc"))]
    limit = {
        "event": "qrcode.updated",
        "data": {"message": "QR code limit reached, please login again", "statusCode": 500},
    }
    assert parse(gw, conn, limit) == [ConnectionUpdate(SessionState("DISCONNECTED"))]


def test_parse_call_and_send_message_and_unknown(conn, gw):
    call = {
        "event": "call",
        "instance": "inst1",
        "data": {
            "id": "CALL1",
            "from": "5511988887777@s.whatsapp.net",
            "chatId": "5511988887777@s.whatsapp.net",
            "status": "offer",
            "isVideo": True,
            "isGroup": False,
        },
    }
    assert parse(gw, conn, call) == [
        CallEvent(provider_id="CALL1", from_number="5511988887777", status="offer", is_video=True)
    ]
    sent = {
        "event": "send.message",
        "data": {"key": {"id": "BAE5X", "fromMe": True}, "status": "PENDING"},
    }
    assert parse(gw, conn, sent) == [AckUpdate(provider_id="BAE5X", ack=ACK_SENT)]
    assert parse(gw, conn, {"event": "presence.update", "data": {}}) == []


# -- contacts (findContacts) -----------------------------------------------------------


def test_list_contacts(conn, gw, evolution_stub, open_instance):
    assert gw.lists_contacts()
    stub = evolution_stub
    stub.add_contact("inst1", "5531982968010@s.whatsapp.net", "Maria", "https://pps.example/m.jpg")
    # Evolution names an unnamed address-book entry with its own number.
    stub.add_contact("inst1", "5511988887777@s.whatsapp.net", "5511988887777")
    stub.add_contact("inst1", "120363025246125888@g.us", "Equipe")
    stub.add_contact("inst1", "5511977776666@s.whatsapp.net")  # a bare group member
    stub.add_contact("inst1", "13718@lid", "Rodrigo")  # no phone number
    stub.add_contact("inst1", "status@broadcast", "status")
    stub.add_contact("other", "5511966665555@s.whatsapp.net", "Not ours")
    listed = gw.list_contacts(conn)
    assert [(c.number, c.name, c.is_group, c.profile_pic_url) for c in listed] == [
        ("5531982968010", "Maria", False, "https://pps.example/m.jpg"),
        ("5511988887777", None, False, None),
        ("120363025246125888", "Equipe", True, None),
    ]
    (call,) = stub.calls("/chat/findContacts/")
    assert call.method == "POST" and call.path == "/chat/findContacts/inst1"
    assert call.json == {"where": {}} and call.headers["apikey"] == API_KEY


def test_list_contacts_errors_are_typed(conn, gw, evolution_stub, open_instance):
    evolution_stub.fail_next(500)
    with pytest.raises(GatewayError) as err:
        gw.list_contacts(conn)
    assert err.value.retryable
    evolution_stub.fail_next(400, CONNECTION_CLOSED)
    with pytest.raises(SessionNotConnectedError):
        gw.list_contacts(conn)
    del evolution_stub.instances["inst1"]
    with pytest.raises(GatewayError) as err:
        gw.list_contacts(conn)
    assert err.value.code == "ERR_EVOLUTION_NOT_FOUND" and not err.value.retryable
