"""Poison payloads through the pure parsers: every field read defensively, every value bounded
to what it is stored in, and what cannot be stored refused with a reason (whatsapp/bounds)."""

from __future__ import annotations

import copy

import pytest

from tests.whatsapp.cloud.test_parser import PNID, with_messages, with_statuses
from tests.whatsapp.evolution.test_parser import QR_UPDATED, upsert
from whaticket.whatsapp import bounds
from whaticket.whatsapp.base import (
    AckUpdate,
    CallEvent,
    ConnectionUpdate,
    InboundMessage,
    ReactionUpdate,
    RejectedEvent,
)
from whaticket.whatsapp.cloud import CloudSettings
from whaticket.whatsapp.cloud import parse_webhook as parse_cloud
from whaticket.whatsapp.evolution import parse_webhook as parse_evolution
from whaticket.whatsapp.fake import FakeGateway, FakeSettings

SETTINGS = CloudSettings(phone_number_id=PNID, access_token="token")
LONG_ID = "wamid." + "X" * 5000
EMOJI_TEXT = "😀" * 20000  # 80,000 bytes in UTF-8: more than a MariaDB TEXT holds


def cloud_text(**fields) -> dict:
    msg = {"from": "5511988887777", "id": "wamid.A1", "type": "text", "text": {"body": "oi"}}
    msg.update(fields)
    return with_messages([msg])


def evolution_text(remote: str = "5511988887777@s.whatsapp.net", msg_id: str = "3EB0A", text="oi"):
    return upsert(
        {"remoteJid": remote, "fromMe": False, "id": msg_id}, {"conversation": text}, "conversation"
    )


def test_ident_keeps_real_ids_and_maps_long_ones_to_one_stable_short_form():
    assert bounds.ident("wamid.HBgM") == "wamid.HBgM"
    assert bounds.ident(12345) == "12345"
    assert bounds.ident({"id": 1}) == "" and bounds.ident(None) == "" and bounds.ident(True) == ""
    short = bounds.ident(LONG_ID)
    assert len(short) == bounds.ID_MAX and short.startswith("wamid.XXX")
    assert bounds.ident(LONG_ID) == short  # its acks find it again
    assert bounds.ident(LONG_ID + "Y") != short


def test_text_cleans_what_no_database_stores_and_cuts_at_the_limit():
    assert bounds.text("a\x00b") == "ab"
    assert bounds.text("\ud83d oi") == "? oi"  # a lone surrogate (JSON "\ud83d") cannot be UTF-8
    assert bounds.text(["x"]) == "" and bounds.text(3.5) == "3.5"
    cut = bounds.text("a" * (bounds.BODY_MAX + 10))
    assert len(cut) == bounds.BODY_MAX and cut.endswith("…")


@pytest.mark.parametrize("value", [10**30, "9" * 5000, -5, "1e400", {"low": 1}, "soon"])
def test_timestamps_out_of_range_or_malformed_are_absent(value):
    assert bounds.when(value) is None


# -- the Cloud API -------------------------------------------------------------------


def test_cloud_long_text_is_kept_whole():
    (msg,) = parse_cloud(cloud_text(text={"body": EMOJI_TEXT}), SETTINGS)
    assert isinstance(msg, InboundMessage) and msg.body == EMOJI_TEXT


def test_cloud_500_digit_sender_is_refused_with_a_reason():
    (refused,) = parse_cloud(cloud_text(**{"from": "9" * 500}), SETTINGS)
    assert isinstance(refused, RejectedEvent)
    assert refused.provider_id == "wamid.A1" and "500 characters" in refused.reason


def test_cloud_5000_character_id_and_its_status_map_to_the_same_short_id():
    (msg,) = parse_cloud(cloud_text(id=LONG_ID), SETTINGS)
    (ack,) = parse_cloud(with_statuses([{"id": LONG_ID, "status": "read"}]), SETTINGS)
    assert isinstance(ack, AckUpdate)
    assert msg.provider_id == ack.provider_id == bounds.ident(LONG_ID)


@pytest.mark.parametrize(
    "interactive",
    [
        "str",
        {"type": "button_reply", "button_reply": "str"},
        {"type": ["list_reply"], "list_reply": {"title": 1}},
        {"type": "list_reply", "list_reply": {"title": {"a": 1}}},
    ],
)
def test_cloud_interactive_of_the_wrong_shape_is_a_visible_placeholder(interactive):
    payload = cloud_text(type="interactive", interactive=interactive)
    payload["entry"][0]["changes"][0]["value"]["messages"][0].pop("text")
    (msg,) = parse_cloud(payload, SETTINGS)
    assert isinstance(msg, InboundMessage)
    assert msg.body == "[unsupported message type: interactive]"


@pytest.mark.parametrize(
    "fields",
    [
        {"context": "str"},
        {"context": {"id": ["x"]}},
        {"timestamp": "9" * 5000},
        {"text": "str"},
        {"text": {"body": {"nested": True}}},
    ],
)
def test_cloud_fields_of_another_type_count_as_absent(fields):
    (msg,) = parse_cloud(cloud_text(**fields), SETTINGS)
    assert isinstance(msg, InboundMessage) and msg.quoted_provider_id is None


def test_cloud_malformed_envelopes_and_statuses_do_not_raise():
    payload = cloud_text()
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"wa_id": "5511988887777", "profile": "str"}, "x"]
    value["statuses"] = [
        {"id": "w1", "status": ["read"]},
        {"id": "w2", "status": "failed", "errors": "boom"},
        {"id": "w3", "status": "failed", "errors": [{"error_data": "x", "title": {"a": 1}}]},
    ]
    events = parse_cloud(payload, SETTINGS)
    assert [type(e) for e in events] == [InboundMessage, AckUpdate, AckUpdate]
    assert events[1].error == "failed" and events[2].error == "failed"
    for broken in ({"entry": 5}, {"entry": [{"changes": "x"}]}, {"entry": [{"changes": 7}]}):
        assert parse_cloud(broken, SETTINGS) == []


def test_cloud_reaction_from_a_huge_number_is_refused():
    payload = cloud_text(
        type="reaction", reaction={"message_id": "wamid.A0", "emoji": "👍"}, **{"from": "1" * 80}
    )
    (refused,) = parse_cloud(payload, SETTINGS)
    assert isinstance(refused, RejectedEvent) and "reaction" in refused.reason


# -- Evolution -----------------------------------------------------------------------


def test_evolution_huge_remote_jid_is_refused_with_a_reason():
    (refused,) = parse_evolution(evolution_text(remote="5" * 100000 + "@s.whatsapp.net"))
    assert isinstance(refused, RejectedEvent) and "100000 characters" in refused.reason
    (no_digits,) = parse_evolution(evolution_text(remote="x" * 5000 + "@s.whatsapp.net"))
    assert isinstance(no_digits, RejectedEvent) and "no sender" in no_digits.reason


def test_evolution_long_text_and_long_id():
    (msg,) = parse_evolution(evolution_text(msg_id="I" * 5000, text=EMOJI_TEXT))
    assert msg.body == EMOJI_TEXT and msg.provider_id == bounds.ident("I" * 5000)


def test_evolution_3mb_qr_code_is_refused_and_a_real_one_kept():
    payload = copy.deepcopy(QR_UPDATED)
    payload["data"]["qrcode"]["code"] = "2@" + "A" * 3_000_000
    (refused,) = parse_evolution(payload)
    assert isinstance(refused, RejectedEvent) and "QR code of 3000002 bytes" in refused.reason
    (update,) = parse_evolution(QR_UPDATED)
    assert isinstance(update, ConnectionUpdate) and update.state.qrcode == "2@abc"


@pytest.mark.parametrize(
    "data",
    [
        {"key": {"remoteJid": ["x"], "id": "A"}, "message": {"conversation": "oi"}},
        {
            "key": {"remoteJid": "5511988887777@s.whatsapp.net", "id": {"a": 1}},
            "message": {"conversation": {"a": 1}},
            "pushName": ["Maria"],
            "contextInfo": {"stanzaId": {"x": 1}},
            "messageTimestamp": "9" * 5000,
        },
        {
            "key": {"remoteJid": "5511988887777@s.whatsapp.net", "id": "A"},
            "message": {"reactionMessage": {"key": "str", "text": ["👍"]}},
        },
        {
            "key": {"remoteJid": "5511988887777@s.whatsapp.net", "id": "A"},
            "message": {"listResponseMessage": {"singleSelectReply": "str"}},
        },
        {
            "key": {"remoteJid": "5511988887777@s.whatsapp.net", "id": "A"},
            "message": {"contactsArrayMessage": {"contacts": "str"}},
        },
        {
            "key": {"remoteJid": "5511988887777@s.whatsapp.net", "id": "A"},
            "message": {"protocolMessage": {"key": "str", "type": "REVOKE"}},
        },
    ],
)
def test_evolution_fields_of_another_type_do_not_raise(data):
    for event in parse_evolution({"event": "messages.upsert", "data": data}):
        assert not isinstance(event, InboundMessage) or isinstance(event.body, str)


def test_evolution_calls_and_updates_of_another_shape():
    call = {"event": "call", "data": {"id": "C" * 500, "from": "9" * 300, "status": ["x"]}}
    (refused,) = parse_evolution(call)
    assert isinstance(refused, RejectedEvent) and "call" in refused.reason
    ok = {"event": "call", "data": {"id": "C1", "from": "5511988887777@s.whatsapp.net"}}
    assert parse_evolution(ok) == [CallEvent("C1", "5511988887777", "offer", False)]
    update = {"event": "messages.update", "data": {"keyId": ["x"], "status": "READ"}}
    assert parse_evolution(update) == []
    assert parse_evolution({"event": "connection.update", "data": {"state": ["open"]}}) == []


# -- the fake ------------------------------------------------------------------------


def test_fake_parser_refuses_a_500_digit_sender_and_shortens_a_long_id():
    fake, settings = FakeGateway(), FakeSettings(connection_id=1)
    (refused,) = fake.parse_webhook(settings, {"from": "9" * 500, "body": "x", "id": "F1"}, {})
    assert isinstance(refused, RejectedEvent) and "500 characters" in refused.reason
    (msg,) = fake.parse_webhook(settings, {"from": "5511988887777", "id": "F" * 5000}, {})
    assert msg.provider_id == bounds.ident("F" * 5000)
    (nobody,) = fake.parse_webhook(settings, {"from": "abc", "body": "x"}, {})
    assert isinstance(nobody, RejectedEvent)


def test_reaction_and_names_are_bounded():
    (reaction,) = bounds.bound_events([ReactionUpdate("M1", "👍" * 100, "me")])
    assert len(reaction.emoji) == bounds.EMOJI_MAX
    event = InboundMessage(
        provider_id="M2", chat_id="5511988887777", push_name="N" * 1000, participant="9" * 200
    )
    (msg,) = bounds.bound_events([event])
    assert len(msg.push_name) == bounds.NAME_MAX and msg.participant is None
