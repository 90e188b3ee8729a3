"""The Cloud API client against a local Graph API stub: request shapes, errors, media.

The provider takes plain `CloudSettings` (no connection row): `services/connections/gateway.py`
builds them from a row, tested in tests/services/connections/test_gateway.py.
"""

from __future__ import annotations

import pytest

from tests.stubs.graph import TOKEN, GraphStub, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from whaticket.whatsapp.base import ACK_SENT, GatewayError, Media
from whaticket.whatsapp.cloud import CloudGateway, CloudSettings

PNID = "1122334455667"


@pytest.fixture
def settings(app, graph_stub) -> CloudSettings:
    """A connection's settings pointing at the stub (the app context guards the calls)."""
    return CloudSettings(
        phone_number_id=PNID,
        access_token=TOKEN,
        app_secret="app-secret",
        verify_token="verify-me",
        base_url=graph_stub.url,
        account_id=PNID,
    )


@pytest.fixture
def gw() -> CloudGateway:
    return CloudGateway()


# -- sends ---------------------------------------------------------------------


def test_send_text(gw, settings, graph_stub):
    result = gw.send_text(settings, "+55 11 98765-4321", "Olá")
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


def test_send_interactive_buttons_and_list(gw, settings, graph_stub):
    gw.send_interactive(
        settings, "5511987654321", "Escolha:", [("1", "Vendas"), ("#", "Menu inicial")]
    )
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
    gw.send_interactive(settings, "5511987654321", "Escolha:", choices)
    listed = graph_stub.sent()[-1]["interactive"]
    assert listed["type"] == "list"
    rows = listed["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert all(len(r["title"]) <= 24 for r in rows)
    with pytest.raises(NotImplementedError):  # more than a list holds: the caller sends text
        gw.send_interactive(settings, "5511987654321", "x", [(str(i), "t") for i in range(11)])


def test_send_quoted_text(gw, settings, graph_stub):
    gw.send_text(settings, "5511987654321", "see https://x.io", quoted_provider_id="wamid.Q")
    body = graph_stub.sent()[-1]
    assert body["context"] == {"message_id": "wamid.Q"}
    assert body["text"] == {"body": "see https://x.io", "preview_url": True}


def test_send_image_uploads_then_sends_by_id(gw, settings, graph_stub):
    gw.send_media(
        settings, "5511987654321", Media(b"\x89PNG..", "image/png", "a.png"), caption="hi"
    )
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


def test_send_document_carries_filename(gw, settings, graph_stub):
    gw.send_media(settings, "5511987654321", Media(b"%PDF", "application/pdf", "nota.pdf"))
    body = graph_stub.sent()[-1]
    assert body["type"] == "document"
    assert body["document"]["filename"] == "nota.pdf" and "caption" not in body["document"]


def test_send_audio_and_video(gw, settings, graph_stub):
    gw.send_media(settings, "5511987654321", Media(b"OggS", "audio/ogg", "v.ogg"), caption="ouça")
    gw.send_media(settings, "5511987654321", Media(b"mp4", "video/mp4", "v.mp4"), caption="veja")
    audio, caption_text, video = graph_stub.sent()[-3:]
    assert audio["type"] == "audio" and set(audio["audio"]) == {"id"}
    # Audio has no caption on Cloud: it follows as a text.
    assert caption_text["text"]["body"] == "ouça"
    assert video["type"] == "video" and video["video"]["caption"] == "veja"


def test_send_reaction(gw, settings, graph_stub):
    gw.send_reaction(settings, "5511987654321", "wamid.HBgLM", "😀")
    assert graph_stub.sent()[-1] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5511987654321",
        "type": "reaction",
        "reaction": {"message_id": "wamid.HBgLM", "emoji": "😀"},
    }


def test_mark_read(gw, settings, graph_stub):
    gw.mark_read(settings, "5511987654321", ["wamid.A", "wamid.B"])
    assert graph_stub.sent()[-2:] == [
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.A"},
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.B"},
    ]


def test_send_template(gw, settings, graph_stub):
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    gw.send_template(settings, "5511987654321", "hello_world", "en_US", components)
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
def test_error_mapping(gw, settings, graph_stub, code, retryable):
    graph_stub.fail_next(code)
    with pytest.raises(GatewayError) as info:
        gw.send_text(settings, "5511987654321", "x")
    assert info.value.code == f"ERR_CLOUD_{code}"
    assert info.value.retryable is retryable
    assert info.value.retry_after is None


def test_error_retry_after_and_details(gw, settings, graph_stub):
    graph_stub.fail_next(131056, retry_after="7")
    with pytest.raises(GatewayError) as info:
        gw.send_text(settings, "5511987654321", "x")
    assert info.value.retry_after == 7.0
    assert "pair rate limit" in info.value.message and "too many messages" in info.value.message


def test_http_5xx_without_graph_body_is_retryable(gw, settings, graph_stub):
    graph_stub.fail_next(100, status=503)
    with pytest.raises(GatewayError) as info:
        gw.send_text(settings, "5511987654321", "x")
    assert info.value.code == "ERR_CLOUD_100" and info.value.retryable


def test_unreachable_is_retryable(app, gw):
    dead = CloudSettings(phone_number_id=PNID, access_token=TOKEN, base_url="http://127.0.0.1:9")
    with pytest.raises(GatewayError) as info:
        gw.send_text(dead, "5511987654321", "x")
    assert info.value.code == "ERR_CLOUD_UNREACHABLE" and info.value.retryable


def test_delete_not_supported(gw, settings):
    with pytest.raises(GatewayError) as info:
        gw.delete_message(settings, "5511987654321", "wamid.X")
    assert info.value.code == "ERR_NOT_SUPPORTED" and not info.value.retryable


# -- sessions, media, numbers --------------------------------------------------


def test_sessions(gw, settings, graph_stub):
    assert gw.start_session(settings).status == "CONNECTED"
    assert graph_stub.requests[-1].path == f"/{PNID}"
    graph_stub.fail_next(190)
    with pytest.raises(GatewayError) as info:
        gw.start_session(settings)
    assert info.value.code == "ERR_CLOUD_190"
    assert gw.stop_session(settings).status == "DISCONNECTED"


def test_fetch_media_uses_the_bearer(gw, settings, graph_stub):
    graph_stub.add_media("65463453", b"\xff\xd8jpeg", "image/jpeg")
    media = gw.fetch_media(settings, "65463453")
    assert media == Media(b"\xff\xd8jpeg", "image/jpeg", "65463453.jpg")
    lookup, download = graph_stub.requests[-2:]
    assert lookup.path == "/65463453" and download.path == "/files/65463453"
    assert download.headers["Authorization"] == f"Bearer {TOKEN}"


def test_fetch_media_unknown_id(gw, settings):
    with pytest.raises(GatewayError) as info:
        gw.fetch_media(settings, "nope")
    assert info.value.code == "ERR_CLOUD_100" and not info.value.retryable


def test_check_number_returns_digits(gw, settings, graph_stub):
    assert gw.check_number(settings, "+55 (11) 98765-4321") == "5511987654321"
    assert graph_stub.requests == []


def test_stub_requires_bearer(graph_stub: GraphStub):
    import requests

    resp = requests.get(f"{graph_stub.url}/{PNID}", timeout=5)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == 190
