"""The Cloud API webhook parser: signatures, routing ids and deliveries as events (pure)."""

from __future__ import annotations

import copy
import hashlib
import hmac
from datetime import UTC, datetime

from whaticket.whatsapp.base import (
    ACK_DELIVERED,
    ACK_ERROR,
    ACK_READ,
    ACK_SENT,
    AckUpdate,
    InboundMessage,
    ReactionUpdate,
)
from whaticket.whatsapp.cloud import (
    CloudSettings,
    parse_webhook,
    phone_number_ids,
    verify_signature,
)

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


#: The connection the deliveries are addressed to (its number's id routes them).
SETTINGS = CloudSettings(phone_number_id=PNID, access_token="t", account_id=PNID)


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


# -- parse_webhook ---------------------------------------------------------------


def test_parse_text():
    (msg,) = parse_webhook(TEXT_DELIVERY, SETTINGS)
    assert msg == InboundMessage(
        provider_id="wamid.xyzxyz",
        chat_id="972987654321",
        body="Body Text",
        push_name="Test Name",
        timestamp=datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC),
        raw=TEXT_DELIVERY["entry"][0]["changes"][0]["value"]["messages"][0],
        identities=(
            ("phone", "972987654321"),
            ("wa_id", "972987654321"),
            ("bsuid", "US.13491208655302741918"),
        ),
    )


def test_parse_username_user_without_phone_is_known_by_its_bsuid():
    """A username user (2026): no `wa_id`, `from` is the BSUID; that is the chat id."""
    payload = with_messages(
        [
            {
                "from": "US.13491208655302741918",
                "id": "wamid.u1",
                "timestamp": "1697043223",
                "type": "text",
                "text": {"body": "oi"},
            }
        ]
    )
    payload["entry"][0]["changes"][0]["value"]["contacts"] = [
        {"profile": {"name": "Ana"}, "user_id": "US.13491208655302741918"}
    ]
    (msg,) = parse_webhook(payload, SETTINGS)
    assert msg.chat_id == "US.13491208655302741918" and msg.push_name == "Ana"
    assert msg.identities == (("bsuid", "US.13491208655302741918"),)


def test_parse_ignores_other_numbers():
    messages = copy.deepcopy(TEXT_DELIVERY["entry"][0]["changes"][0]["value"]["messages"])
    assert parse_webhook(with_messages(messages, "999"), SETTINGS) == []


def _one(message: dict):
    base = {"from": "972987654321", "id": "wamid.xyzxyz", "timestamp": "1697043379"}
    (event,) = parse_webhook(with_messages([{**base, **message}]), SETTINGS)
    return event


def test_parse_media_types():
    # gateways.md §1.7 image, and the same shape for the other media types.
    image = _one(
        {
            "type": "image",
            "image": {"mime_type": "image/jpeg", "sha256": "4654+8g=", "id": "65463453"},
        },
    )
    assert (image.media_type, image.media_ref, image.body) == ("image", "65463453", "")
    doc = _one(
        {"type": "document", "document": {"id": "9", "filename": "a.pdf", "caption": "nota"}},
    )
    assert (doc.media_type, doc.media_ref, doc.body) == ("application", "9", "nota")
    video = _one({"type": "video", "video": {"id": "8", "caption": "olha"}})
    assert (video.media_type, video.body) == ("video", "olha")
    audio = _one({"type": "audio", "audio": {"id": "7", "voice": True}})
    assert (audio.media_type, audio.media_ref) == ("audio", "7")
    sticker = _one({"type": "sticker", "sticker": {"id": "6", "animated": False}})
    assert (sticker.media_type, sticker.media_ref) == ("image", "6")


def test_parse_location_contacts_interactive_button():
    loc = _one(
        {"type": "location", "location": {"latitude": -23.5, "longitude": -46.6, "name": "SP"}},
    )
    picture, link, description = loc.body.split("|")
    assert loc.media_type == "locationMessage" and description == "SP"
    assert picture.startswith("data:image/png;base64,") and "-23.5%2C-46.6" in link
    card = _one(
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
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Sim"}},
        },
    )
    assert btn.body == "Sim"
    lst = _one(
        {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "l1", "title": "Opção"}},
        },
    )
    assert lst.body == "Opção"
    tpl = _one({"type": "button", "button": {"payload": "P", "text": "Parar"}})
    assert tpl.body == "Parar"


def test_parse_reply_and_reaction():
    # gateways.md §1.7 reply and reaction.
    reply = _one(
        {
            "context": {"from": "972123456789", "id": "wamid.xyzxyz=="},
            "text": {"body": "replied text"},
            "type": "text",
        },
    )
    assert reply.quoted_provider_id == "wamid.xyzxyz==" and reply.body == "replied text"
    reaction = _one(
        {"type": "reaction", "reaction": {"message_id": "wamid.yzxyzx=", "emoji": "😮"}}
    )
    assert reaction == ReactionUpdate("wamid.yzxyzx=", "😮", "972987654321")


def test_parse_unknown_types_are_placeholders():
    for kind in ("unsupported", "order", "brand_new"):
        event = _one({"type": kind, "errors": [{"code": 131051}]})
        assert event.media_type == "unsupported"
        assert event.body == f"[unsupported message type: {kind}]"
        assert event.provider_id == "wamid.xyzxyz"


def test_parse_statuses():
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
    events = parse_webhook(
        with_statuses(
            [
                {**base, "status": "sent"},
                {**base, "status": "delivered"},
                {**base, "status": "read"},
                failed,
                {**base, "status": "mystery"},
            ]
        ),
        SETTINGS,
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


def test_the_row_account_id_routes_before_the_configured_number():
    """A connection whose phoneNumberId differs from its account id is routed by the latter."""
    other = CloudSettings(phone_number_id="999", access_token="t", account_id=PNID)
    assert len(parse_webhook(TEXT_DELIVERY, other)) == 1
    unrouted = CloudSettings(phone_number_id="999", access_token="t")
    assert parse_webhook(TEXT_DELIVERY, unrouted) == []
