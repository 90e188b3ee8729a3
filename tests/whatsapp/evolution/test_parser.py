"""The Evolution webhook parser: deliveries as normalised events (pure functions)."""

from __future__ import annotations

import base64
import copy

import pytest

from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_PLAYED,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    CallEvent,
    ConnectionUpdate,
    InboundMessage,
    MessageEdited,
    MessageRevoked,
    ReactionUpdate,
    SessionState,
)
from whaticket.whatsapp.evolution import parse_webhook

#: The webhook secret of the connections other modules build for these payloads.
SECRET = "hook-secret-123"

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


def parse(payload) -> list:
    return parse_webhook(copy.deepcopy(payload))


# -- webhook parsing -----------------------------------------------------------------


def test_parse_lid_text_without_phone():
    (msg,) = parse(LID_TEXT)
    assert isinstance(msg, InboundMessage)
    assert msg.body == "Oi" and msg.push_name == "Rodrigo" and not msg.from_me
    assert msg.chat_id == "13718"  # no phone in the payload: the LID is all there is
    assert msg.provider_id.startswith("EVO-")  # empty key.id: a stable hash instead
    assert parse(LID_TEXT)[0].provider_id == msg.provider_id
    assert msg.timestamp is not None and msg.timestamp.timestamp() == 1773027345
    assert msg.raw["lid"] == "13718@lid"
    assert msg.identities == (("lid", "13718"),)  # no phone: not reported as one


def test_parse_lid_sender_resolved_from_alt():
    payload = copy.deepcopy(LID_TEXT)
    payload["data"]["key"] = {
        "remoteJid": "13718@lid",
        "remoteJidAlt": "5511977776666@s.whatsapp.net",
        "fromMe": False,
        "id": "3EB0LID1",
        "addressingMode": "lid",
    }
    (msg,) = parse(payload)
    assert msg.chat_id == "5511977776666" and msg.provider_id == "3EB0LID1"
    assert msg.identities == (("phone", "5511977776666"), ("lid", "13718"))
    # Evolution 2.3.0 spelling.
    payload["data"]["key"] = {
        "remoteJid": "13718@lid",
        "senderPn": "5511966665555@s.whatsapp.net",
        "fromMe": False,
        "id": "3EB0LID2",
    }
    assert parse(payload)[0].chat_id == "5511966665555"
    assert parse(payload)[0].identities == (("phone", "5511966665555"), ("lid", "13718"))


def test_parse_phone_sender_with_its_lid_beside_it():
    """Baileys 7 addresses by phone and puts the LID in `remoteJidAlt`: both recorded."""
    payload = copy.deepcopy(LID_TEXT)
    payload["data"]["key"] = {
        "remoteJid": "5511977776666@s.whatsapp.net",
        "remoteJidAlt": "13718@lid",
        "fromMe": False,
        "id": "3EB0PN1",
    }
    (msg,) = parse(payload)
    assert msg.chat_id == "5511977776666"
    assert msg.identities == (("phone", "5511977776666"), ("lid", "13718"))


def test_parse_image_with_caption():
    (msg,) = parse(IMAGE)
    assert msg.provider_id == "3EB0A1B2C3D4E5F60718"
    assert msg.chat_id == "5511988887777" and msg.push_name == "Maria"
    assert msg.body == "foto do produto" and msg.media_type == "image"
    assert msg.media_ref == "3EB0A1B2C3D4E5F60718" and msg.media is None
    assert msg.raw["key"]["remoteJid"] == "5511988887777@s.whatsapp.net"


def test_parse_image_with_inline_base64():
    payload = copy.deepcopy(IMAGE)
    payload["data"]["message"]["base64"] = base64.b64encode(b"jpeg!").decode()
    (msg,) = parse(payload)
    assert msg.media is not None and msg.media.data == b"jpeg!" and msg.media_ref is None
    assert msg.media.mimetype == "image/jpeg"


def test_parse_from_me_echo_and_upper_event_name():
    payload = upsert(
        {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": True, "id": "3EB0PHONE"},
        {"conversation": "typed on the phone"},
        "conversation",
        pushName="Our Phone",
    )
    payload["event"] = "MESSAGES_UPSERT"
    (msg,) = parse(payload)
    assert msg.from_me and msg.chat_id == "5511988887777" and msg.body == "typed on the phone"
    assert msg.push_name is None  # our own name must not rename the contact


def test_parse_group_message_with_lid_participant():
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
    (msg,) = parse(payload)
    assert msg.is_group and msg.chat_id == "120363150000000000"
    assert msg.participant == "55479888888" and msg.body == "hello"
    assert msg.quoted_provider_id == "3EB0ORIG"


def test_parse_quoted_from_data_context_info():
    payload = upsert(KEY, {"conversation": "yes"}, "conversation", contextInfo={"stanzaId": "Q1"})
    assert parse(payload)[0].quoted_provider_id == "Q1"


@pytest.mark.parametrize(
    ("kind", "content", "media_type"),
    [
        ("videoMessage", {"mimetype": "video/mp4", "caption": "clip"}, "video"),
        ("audioMessage", {"mimetype": "audio/ogg; codecs=opus", "ptt": True}, "audio"),
        ("documentMessage", {"mimetype": "application/pdf", "fileName": "a.pdf"}, "application"),
        ("stickerMessage", {"mimetype": "image/webp"}, "image"),
    ],
)
def test_parse_media_kinds(kind, content, media_type):
    (msg,) = parse(upsert(KEY, {kind: content}, kind))
    assert msg.media_type == media_type and msg.media_ref == KEY["id"]
    if kind == "documentMessage":
        assert msg.body == "a.pdf"
    if kind == "videoMessage":
        assert msg.body == "clip"


def test_parse_document_with_caption_wrapper():
    wrapped = {
        "documentWithCaptionMessage": {
            "message": {"documentMessage": {"mimetype": "application/pdf", "caption": "nota"}}
        }
    }
    (msg,) = parse(upsert(KEY, wrapped, "documentWithCaptionMessage"))
    assert msg.body == "nota" and msg.media_type == "application"


def test_parse_location_contacts_buttons_lists():
    loc = {"locationMessage": {"degreesLatitude": -23.5, "degreesLongitude": -46.6, "name": "Loja"}}
    (msg,) = parse(upsert(KEY, loc, "locationMessage"))
    assert msg.media_type == "locationMessage"
    picture, link, description = msg.body.split("|")
    assert picture.startswith("data:image/png;base64,") and "-23.5%2C-46.6" in link
    assert description == "Loja"
    vcard = "BEGIN:VCARD\nFN:Ana\nTEL;waid=5511999990000:+55 11 99999-0000\nEND:VCARD"
    (msg,) = parse(upsert(KEY, {"contactMessage": {"vcard": vcard}}, "contactMessage"))
    assert msg.media_type == "contactMessage"
    assert msg.body == "BEGIN:VCARD\nTEL;waid=5511999990000:+55 11 99999-0000\nFN:Ana\nEND:VCARD"
    bob = "BEGIN:VCARD\nFN:Bob\nTEL:+1 555 0100\nEND:VCARD"
    many = {"contactsArrayMessage": {"contacts": [{"vcard": vcard}, {"vcard": bob}]}}
    (msg,) = parse(upsert(KEY, many, "contactsArrayMessage"))
    assert msg.media_type == "contactMessage" and msg.body.endswith(
        "TEL:+1 555 0100\nfn:Bob\nEND:VCARD"
    )
    # A card the chat view could not parse (no "+" number) is kept as text.
    bare = {"contactMessage": {"vcard": "BEGIN:VCARD\nFN:Ana\nTEL:011 9999-0000\nEND:VCARD"}}
    (msg,) = parse(upsert(KEY, bare, "contactMessage"))
    assert (msg.body, msg.media_type) == ("📇 Ana: 011 9999-0000", "chat")
    button = {"buttonsResponseMessage": {"selectedButtonId": "b1", "selectedDisplayText": "Sim"}}
    assert parse(upsert(KEY, button, "buttonsResponseMessage"))[0].body == "Sim"
    lst = {"listResponseMessage": {"title": "Opção 2", "singleSelectReply": {"selectedRowId": "2"}}}
    assert parse(upsert(KEY, lst, "listResponseMessage"))[0].body == "Opção 2"


def test_parse_unknown_type_is_placeholder():
    (msg,) = parse(upsert(KEY, {"pollCreationMessageV3": {"name": "?"}}, "pollCreationMessageV3"))
    assert msg.body == "[unsupported message type: pollCreationMessageV3]"
    assert msg.media_type == "unsupported"


def test_parse_reaction_revoke_and_edits():
    reaction = {"reactionMessage": {"key": {"id": "BAE5TARGET"}, "text": "👍"}}
    assert parse(upsert(KEY, reaction, "reactionMessage")) == [
        ReactionUpdate(provider_id="BAE5TARGET", emoji="👍", from_number="5511988887777")
    ]
    revoke = {"protocolMessage": {"key": {"id": "3EB0GONE"}, "type": "REVOKE"}}
    assert parse(upsert(KEY, revoke, "protocolMessage")) == [MessageRevoked(provider_id="3EB0GONE")]
    edit = {
        "protocolMessage": {
            "key": {"id": "3EB0OLD"},
            "type": "MESSAGE_EDIT",
            "editedMessage": {"conversation": "fixed text"},
        }
    }
    assert parse(upsert(KEY, edit, "protocolMessage")) == [
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
    assert parse(upsert(KEY, edited, "editedMessage")) == [
        MessageEdited(provider_id="3EB0OLD2", body="v2")
    ]


def test_parse_status_broadcast_ignored():
    key = {"remoteJid": "status@broadcast", "fromMe": False, "id": "S1"}
    assert parse(upsert(key, {"conversation": "story"}, "conversation")) == []


def test_parse_messages_update_acks():
    assert parse(UPDATE_READ) == [
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
        (update,) = parse(payload)
        assert update.ack == ack
        assert (update.error is not None) == (ack == ACK_ERROR)
    payload = copy.deepcopy(UPDATE_READ)
    payload["data"]["status"] = "DELETED"
    assert parse(payload) == []


def test_parse_messages_delete():
    payload = {
        "event": "messages.delete",
        "instance": "inst1",
        "data": {"id": "3EB0DEL", "remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False},
    }
    assert parse(payload) == [MessageRevoked(provider_id="3EB0DEL")]
    payload["data"] = {"key": {"id": "3EB0DEL2"}}
    assert parse(payload) == [MessageRevoked(provider_id="3EB0DEL2")]


def test_parse_connection_update():
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
        assert parse(payload) == [ConnectionUpdate(SessionState(status))]
    payload["event"] = "CONNECTION_UPDATE"
    assert parse(payload)[0].state.status == "DISCONNECTED"


def test_parse_qrcode_updated():
    assert parse(QR_UPDATED) == [ConnectionUpdate(SessionState("qrcode", qrcode="2@abc"))]
    limit = {
        "event": "qrcode.updated",
        "data": {"message": "QR code limit reached, please login again", "statusCode": 500},
    }
    assert parse(limit) == [ConnectionUpdate(SessionState("DISCONNECTED"))]


def test_parse_call_and_send_message_and_unknown():
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
    assert parse(call) == [
        CallEvent(provider_id="CALL1", from_number="5511988887777", status="offer", is_video=True)
    ]
    sent = {
        "event": "send.message",
        "data": {"key": {"id": "BAE5X", "fromMe": True}, "status": "PENDING"},
    }
    assert parse(sent) == [AckUpdate(provider_id="BAE5X", ack=ACK_SENT)]
    assert parse({"event": "presence.update", "data": {}}) == []


@pytest.mark.parametrize("payload", [{}, {"event": "messages.upsert"}, {"data": [1]}, [], None])
def test_parse_tolerates_empty_and_malformed_deliveries(payload):
    assert parse_webhook(payload) == []
