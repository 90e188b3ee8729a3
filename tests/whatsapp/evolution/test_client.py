"""The Evolution client against a local stub of the Evolution API: sessions, sends, errors.

The provider takes plain `EvolutionSettings` (no connection row): `services/connections/gateway.py`
builds them from a row (and looks up `fromMe` for reactions), tested in
tests/services/connections/test_gateway.py.
"""

from __future__ import annotations

import base64
import socket
from dataclasses import replace

import pytest

from tests.stubs import evolution as stubs
from tests.stubs.evolution import (
    API_KEY,
    CONNECTION_CLOSED,
    QR_CODE,
    VALIDATION_ERROR,
    EvolutionStub,
)
from whaticket.whatsapp.base import (
    ACK_SENT,
    GatewayError,
    Media,
    SessionNotConnectedError,
    SessionState,
)
from whaticket.whatsapp.evolution import WEBHOOK_EVENTS, EvolutionGateway, EvolutionSettings

#: The stub's pytest fixture, made available to this module.
evolution_stub = stubs.evolution_stub
#: Where the settings say the bridge must post this connection's events.
WEBHOOK_URL = "https://hooks.example/api/webhooks/evolution/7/hook-secret-123"


@pytest.fixture
def settings(app, evolution_stub: EvolutionStub) -> EvolutionSettings:
    """A connection's settings pointing at the stub (the app context guards the calls)."""
    return EvolutionSettings(
        base_url=evolution_stub.url, api_key=API_KEY, instance="inst1", webhook_url=WEBHOOK_URL
    )


@pytest.fixture
def gw() -> EvolutionGateway:
    return EvolutionGateway()


# -- sessions ------------------------------------------------------------------------


def test_start_session_creates_instance_sets_webhook_and_returns_qr(settings, gw, evolution_stub):
    state = gw.start_session(settings)
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
    assert hook["url"] == WEBHOOK_URL
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


def test_start_session_without_a_webhook_url_is_a_config_error(settings, gw, evolution_stub):
    """No webhookSecret on the connection: no URL to register, nothing half-created."""
    with pytest.raises(GatewayError) as err:
        gw.start_session(replace(settings, webhook_url=""))
    assert err.value.code == "ERR_EVOLUTION_CONFIG" and not err.value.retryable
    assert not evolution_stub.calls("/webhook/set/")


def test_missing_base_url_or_instance_is_a_config_error(settings, gw, evolution_stub):
    for broken in (replace(settings, base_url=""), replace(settings, instance="")):
        with pytest.raises(GatewayError) as err:
            gw.send_text(broken, "5511988887777", "x")
        assert err.value.code == "ERR_EVOLUTION_CONFIG"
    assert evolution_stub.requests == []


def test_start_session_existing_open_instance_is_connected(settings, gw, evolution_stub):
    evolution_stub.instances["inst1"] = "open"
    assert gw.start_session(settings) == SessionState("CONNECTED")
    assert not evolution_stub.calls("/instance/create")
    assert not evolution_stub.calls("/instance/connect/")
    assert evolution_stub.webhooks["inst1"]["enabled"] is True


def test_start_session_existing_closed_instance_gets_qr(settings, gw, evolution_stub):
    evolution_stub.instances["inst1"] = "close"
    assert gw.start_session(settings).status == "qrcode"
    assert not evolution_stub.calls("/instance/create")


def test_connection_state_stop_and_delete(settings, gw, evolution_stub):
    evolution_stub.instances["inst1"] = "open"
    assert gw.connection_state(settings) == SessionState("CONNECTED")
    evolution_stub.instances["inst1"] = "connecting"
    assert gw.connection_state(settings) == SessionState("OPENING")
    evolution_stub.instances["inst1"] = "open"
    assert gw.stop_session(settings) == SessionState("DISCONNECTED")
    assert evolution_stub.calls("/instance/logout/inst1")[0].method == "DELETE"
    assert gw.connection_state(settings) == SessionState("DISCONNECTED")
    # Already logged out (the bridge answers 400): still a clean stop.
    assert gw.stop_session(settings) == SessionState("DISCONNECTED")
    assert gw.delete_instance(settings) == SessionState("DISCONNECTED")
    assert evolution_stub.calls("/instance/delete/inst1")[0].method == "DELETE"
    assert "inst1" not in evolution_stub.instances
    assert gw.delete_instance(settings) == SessionState("DISCONNECTED")  # unknown: done


# -- sends ---------------------------------------------------------------------------


@pytest.fixture
def open_instance(evolution_stub):
    evolution_stub.instances["inst1"] = "open"


def test_send_text_and_quoted_reply(settings, gw, evolution_stub, open_instance):
    result = gw.send_text(settings, "5511988887777", "Olá!")
    assert result.provider_id.startswith("BAE5") and result.ack == ACK_SENT
    gw.send_text(settings, "5511988887777", "re", quoted_provider_id="3EB0QUOTED")
    plain, quoted = evolution_stub.calls("/message/sendText/inst1")
    assert plain.json == {"number": "5511988887777", "text": "Olá!"}
    assert plain.headers["apikey"] == API_KEY
    assert quoted.json == {
        "number": "5511988887777",
        "text": "re",
        "quoted": {"key": {"id": "3EB0QUOTED"}},
    }


def test_send_text_to_group(settings, gw, evolution_stub, open_instance):
    gw.send_text(settings, "120363150000000000", "hi all", is_group=True)
    assert evolution_stub.calls("/message/sendText")[0].json["number"] == "120363150000000000@g.us"


def test_send_media_shapes(settings, gw, evolution_stub, open_instance):
    png = Media(b"\x89PNGdata", "image/png", "photo.png")
    pdf = Media(b"%PDF-1.4", "application/pdf", "invoice.pdf")
    video = Media(b"\x00\x00video", "video/mp4", "clip.mp4")
    assert gw.send_media(settings, "5511988887777", png, caption="look").provider_id.startswith(
        "BAE5"
    )
    gw.send_media(settings, "5511988887777", pdf)
    gw.send_media(settings, "5511988887777", video, caption="v")
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


def test_send_voice_note_uses_whatsapp_audio(settings, gw, evolution_stub, open_instance):
    ogg = Media(b"OggS-voice", "audio/ogg", "voice.ogg")
    gw.send_media(settings, "5511988887777", ogg, voice=True)
    call = evolution_stub.calls("/message/sendWhatsAppAudio/inst1")[0]
    assert call.json == {
        "number": "5511988887777",
        "audio": base64.b64encode(b"OggS-voice").decode(),
    }
    # Not a voice note: an ordinary audio file through sendMedia.
    gw.send_media(settings, "5511988887777", ogg)
    assert evolution_stub.calls("/message/sendMedia/inst1")[0].json["mediatype"] == "audio"


def test_send_reaction_uses_full_key(settings, gw, evolution_stub, open_instance):
    gw.send_reaction(settings, "553198296801", "BAE58DA6CBC941BC", "🚀", from_me=True)
    gw.send_reaction(settings, "553198296801", "3EB0THEIRS", "")
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


def test_mark_read_and_delete(settings, gw, evolution_stub, open_instance):
    gw.mark_read(settings, "5511988887777", ["A1", "A2"])
    gw.mark_read(settings, "5511988887777", [])  # nothing to send: no request
    read = evolution_stub.calls("/chat/markMessageAsRead/inst1")
    assert len(read) == 1
    assert read[0].json == {
        "readMessages": [
            {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False, "id": "A1"},
            {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": False, "id": "A2"},
        ]
    }
    gw.delete_message(settings, "120363150000000000", "BAE5DEL")
    delete = evolution_stub.calls("/chat/deleteMessageForEveryone/inst1")[0]
    assert delete.method == "DELETE"
    assert delete.json == {"id": "BAE5DEL", "remoteJid": "120363150000000000@g.us", "fromMe": True}


def test_check_number(settings, gw, evolution_stub, open_instance):
    assert gw.check_number(settings, "+55 (31) 98296-801") == "553198296801"
    assert evolution_stub.calls("/chat/whatsappNumbers/inst1")[0].json == {
        "numbers": ["553198296801"]
    }
    assert gw.check_number(settings, "0001234567") is None


def test_fetch_media(settings, gw, evolution_stub, open_instance):
    evolution_stub.add_media(
        "3EB0A1B2C3D4E5F60718", base64.b64encode(b"jpegbytes").decode(), "image/jpeg", "foto.jpg"
    )
    media = gw.fetch_media(settings, "3EB0A1B2C3D4E5F60718")
    assert media == Media(b"jpegbytes", "image/jpeg", "foto.jpg")
    assert evolution_stub.calls("/chat/getBase64FromMediaMessage/inst1")[0].json == {
        "message": {"key": {"id": "3EB0A1B2C3D4E5F60718"}},
        "convertToMp4": False,
    }
    with pytest.raises(GatewayError) as err:
        gw.fetch_media(settings, "UNKNOWN")
    assert not err.value.retryable


# -- error mapping -------------------------------------------------------------------


def test_server_error_is_retryable(settings, gw, evolution_stub, open_instance):
    evolution_stub.fail_next(500)
    with pytest.raises(GatewayError) as err:
        gw.send_text(settings, "5511988887777", "x")
    assert err.value.retryable and not isinstance(err.value, SessionNotConnectedError)


def test_validation_error_is_final(settings, gw, evolution_stub, open_instance):
    evolution_stub.fail_next(400, VALIDATION_ERROR)
    with pytest.raises(GatewayError) as err:
        gw.send_text(settings, "5511988887777", "x")
    assert not err.value.retryable
    assert "caption is not of a type(s) string" in err.value.message


def test_not_on_whatsapp(settings, gw, open_instance):
    with pytest.raises(GatewayError) as err:
        gw.send_text(settings, "0005511999", "x")
    assert err.value.code == "NOT_ON_WHATSAPP" and not err.value.retryable


def test_connection_closed_is_session_not_connected(settings, gw, evolution_stub, open_instance):
    evolution_stub.fail_next(400, CONNECTION_CLOSED)
    with pytest.raises(SessionNotConnectedError) as err:
        gw.send_text(settings, "5511988887777", "x")
    assert err.value.retryable


def test_unknown_instance_and_bad_key_are_final(settings, gw, evolution_stub):
    with pytest.raises(GatewayError) as err:  # the stub knows no instance yet
        gw.send_text(settings, "5511988887777", "x")
    assert err.value.code == "ERR_EVOLUTION_NOT_FOUND" and not err.value.retryable
    bad = EvolutionSettings(base_url=evolution_stub.url, api_key="wrong", instance="inst1")
    with pytest.raises(GatewayError) as err:
        gw.send_text(bad, "5511988887777", "x")
    assert err.value.code == "ERR_EVOLUTION_UNAUTHORIZED" and not err.value.retryable


def test_connection_refused_is_retryable(app, gw):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = EvolutionSettings(base_url=f"http://127.0.0.1:{port}", api_key="k", instance="inst1")
    with pytest.raises(GatewayError) as err:
        gw.send_text(down, "5511988887777", "x")
    assert err.value.retryable and err.value.code == "ERR_EVOLUTION_UNAVAILABLE"


# -- contacts (findContacts) -----------------------------------------------------------


def test_list_contacts(settings, gw, evolution_stub, open_instance):
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
    listed = gw.list_contacts(settings)
    assert [(c.number, c.name, c.is_group, c.profile_pic_url) for c in listed] == [
        ("5531982968010", "Maria", False, "https://pps.example/m.jpg"),
        ("5511988887777", None, False, None),
        ("120363025246125888", "Equipe", True, None),
    ]
    (call,) = stub.calls("/chat/findContacts/")
    assert call.method == "POST" and call.path == "/chat/findContacts/inst1"
    assert call.json == {"where": {}} and call.headers["apikey"] == API_KEY


def test_list_contacts_errors_are_typed(settings, gw, evolution_stub, open_instance):
    evolution_stub.fail_next(500)
    with pytest.raises(GatewayError) as err:
        gw.list_contacts(settings)
    assert err.value.retryable
    evolution_stub.fail_next(400, CONNECTION_CLOSED)
    with pytest.raises(SessionNotConnectedError):
        gw.list_contacts(settings)
    del evolution_stub.instances["inst1"]
    with pytest.raises(GatewayError) as err:
        gw.list_contacts(settings)
    assert err.value.code == "ERR_EVOLUTION_NOT_FOUND" and not err.value.retryable
