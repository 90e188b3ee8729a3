"""No tenant-chosen URL reaches the network behind the server (issue: SSRF with full read).

Each path a tenant can point somewhere (Typebot media, a Cloud base URL and the media URL
it hands back, integration webhooks, AI prompt base URLs, Evolution bridges) is aimed at
`internal_service`, a server on 127.0.0.1 that is not allowed: nothing may reach it, and
its secret must never end up stored as media.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests import factories
from tests.stubs import internal
from tests.stubs import openai as openai_stubs
from tests.stubs import typebot as typebot_stubs
from tests.stubs.graph import TOKEN, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from tests.stubs.internal import SECRET
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Message, Prompt, QueueIntegration
from whaticket.services.bots import ai as ai_reply
from whaticket.services.bots import integrations
from whaticket.services.bots import webhooks as integration_webhook
from whaticket.services.connections.gateway import gateway_for
from whaticket.utils import outbound
from whaticket.utils.crypto import encrypt_json, encrypt_str
from whaticket.whatsapp.base import GatewayError

internal_service = internal.internal_service
typebot_stub = typebot_stubs.typebot_stub
openai_stub = openai_stubs.openai_stub


def _files_under(root: str) -> list[bytes]:
    """The contents of every file stored under the media root."""
    base = Path(root)
    return [p.read_bytes() for p in base.rglob("*") if p.is_file()] if base.exists() else []


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")


@pytest.fixture
def ticket(company, conn):
    contact = factories.ContactFactory(company=company, name="Maria", number="5511987654321")
    return factories.TicketFactory(company=company, whatsapp=conn, contact=contact)


# -- the guard itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_internal_addresses_are_not_public(address):
    assert outbound.is_public_address(address) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"])
def test_public_addresses_are(address):
    assert outbound.is_public_address(address) is True


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://2130706433:{port}/",  # 127.0.0.1 as one integer
        "http://0x7f.1:{port}/",
    ],
)
def test_loopback_in_any_spelling_is_refused(app, internal_service, url):
    port = internal_service.url.rsplit(":", 1)[1]
    with pytest.raises((outbound.BlockedAddress, requests.ConnectionError)):
        outbound.get(url.format(port=port))
    assert internal_service.requests == []


def test_metadata_address_is_refused_before_connecting(app):
    with pytest.raises(outbound.BlockedAddress):
        outbound.get("http://169.254.169.254/latest/meta-data/", timeout=(0.5, 0.5))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://x/", "//x"])
def test_other_schemes_are_refused(app, url):
    with pytest.raises(outbound.BlockedAddress):
        outbound.get(url)


def test_a_redirect_to_an_internal_address_is_refused(app, typebot_stub, internal_service):
    typebot_stub.redirects["/media/jump.png"] = internal_service.url + "/admin"
    with pytest.raises(outbound.BlockedAddress):
        outbound.get(typebot_stub.url + "/media/jump.png", allow_redirects=True)
    assert internal_service.requests == []


def test_an_allowed_host_is_reached(app, internal_service):
    port = internal_service.url.rsplit(":", 1)[1]
    app.config["OUTBOUND_ALLOWED_HOSTS"] = f"evolution.internal, 127.0.0.1:{port}"
    assert outbound.get(internal_service.url + "/x").content == SECRET
    # Allowed on that port only: another port of the same host stays refused.
    app.config["OUTBOUND_ALLOWED_HOSTS"] = f"127.0.0.1:{int(port) + 1}"
    with pytest.raises(outbound.BlockedAddress):
        outbound.get(internal_service.url + "/x")


def test_dns_rebinding_cannot_switch_the_checked_address(app, internal_service, monkeypatch):
    """The name is resolved once per connection, and that answer is what is connected to."""
    port = int(internal_service.url.rsplit(":", 1)[1])
    answers = iter(["93.184.215.14", "127.0.0.1", "127.0.0.1"])
    resolved: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "rebind.example":
            return real(host, *args, **kwargs)
        address = next(answers)
        resolved.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(requests.RequestException):
        outbound.get(f"http://rebind.example:{port}/", timeout=(0.5, 0.5))
    assert resolved == ["93.184.215.14"]  # one lookup: the checked (public) answer
    assert internal_service.requests == []


def test_the_answer_size_is_capped(app, typebot_stub):
    with pytest.raises(outbound.ResponseTooLarge):
        outbound.get(typebot_stub.url + "/media/pic.png", max_bytes=10)


def test_proxy_variables_do_not_bypass_the_guard(app, internal_service, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", internal_service.url)
    monkeypatch.setenv("http_proxy", internal_service.url)
    with pytest.raises(outbound.BlockedAddress):
        outbound.get("http://127.0.0.1:9/")
    assert internal_service.requests == []


# -- every tenant-chosen path ------------------------------------------------------------------


def test_typebot_image_bubble_never_fetches_an_internal_url(
    app, company, ticket, typebot_stub, internal_service
):
    """The reported full-read SSRF: the secret must not come back as media."""
    bot = QueueIntegration(
        company_id=company.id,
        type="typebot",
        name="Typebot",
        url_n8n=typebot_stub.url,
        typebot_slug=typebot_stubs.SLUG,
    )
    db.session.add(bot)
    db.session.commit()
    leak = internal_service.url + "/secret.png"
    typebot_stub.script["foto"] = [{"id": "x", "type": "image", "content": {"url": leak}}]
    for body in ("oi", "foto"):
        message = factories.MessageFactory(ticket=ticket, body=body, from_me=False)
        integrations.run(ticket, message, bot, utcnow())
        dbmod.commit()
    assert internal_service.requests == []
    sent = db.session.scalars(
        sa.select(Message).where(Message.ticket_id == ticket.id, Message.origin == "bot")
    ).all()
    assert all(m.media_path is None for m in sent)
    assert sent[-1].body == leak  # the link is passed on as text, never its content
    assert SECRET not in b"".join(_files_under(app.config["MEDIA_ROOT"]))


def test_typebot_server_itself_on_an_internal_address_is_not_called(
    company, ticket, internal_service
):
    bot = QueueIntegration(
        company_id=company.id,
        type="typebot",
        name="Typebot",
        url_n8n=internal_service.url,
        typebot_slug="flow",
    )
    db.session.add(bot)
    db.session.commit()
    message = factories.MessageFactory(ticket=ticket, body="oi", from_me=False)
    integrations.run(ticket, message, bot, utcnow())
    dbmod.commit()
    assert internal_service.requests == []


def test_cloud_media_url_handed_back_by_the_base_url_is_not_fetched(
    app, company, graph_stub, internal_service
):
    """A tenant's own Cloud base URL answering a media URL on an internal address."""
    conn = factories.WhatsappFactory(
        company=company,
        provider="cloud",
        provider_account_id=graph_stub.phone_number_id,
        provider_config=encrypt_json({"accessToken": TOKEN, "baseUrl": graph_stub.url}),
    )
    graph_stub.add_media("777", b"img", "image/png")
    graph_stub.media_url_override = internal_service.url + "/latest/meta-data/"
    with pytest.raises(GatewayError) as info:
        gateway_for(conn).fetch_media(conn, "777")
    assert info.value.retryable is True or info.value.code.startswith("ERR_CLOUD")
    assert internal_service.requests == []


def test_cloud_base_url_on_an_internal_address_is_not_called(company, internal_service):
    conn = factories.WhatsappFactory(
        company=company,
        provider="cloud",
        provider_account_id="123",
        provider_config=encrypt_json({"accessToken": TOKEN, "baseUrl": internal_service.url}),
    )
    with pytest.raises(GatewayError):
        gateway_for(conn).send_text(conn, "5511987654321", "oi")
    assert internal_service.requests == []


def test_evolution_base_url_on_an_internal_address_is_not_called(company, internal_service):
    conn = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        provider_account_id="inst",
        provider_config=encrypt_json(
            {"baseUrl": internal_service.url, "apiKey": "k", "instance": "inst"}
        ),
    )
    with pytest.raises(GatewayError):
        gateway_for(conn).send_text(conn, "5511987654321", "oi")
    assert internal_service.requests == []


def test_integration_webhook_to_an_internal_address_is_not_sent_nor_retried(
    company, ticket, internal_service, caplog
):
    from whaticket import jobs

    hook = QueueIntegration(
        company_id=company.id, type="webhook", name="Hook", url_n8n=internal_service.url + "/h"
    )
    db.session.add(hook)
    db.session.commit()
    message = factories.MessageFactory(ticket=ticket, body="oi", provider_id="W1")
    integration_webhook.schedule(hook, ticket, message)
    dbmod.commit()
    assert internal_service.requests == []
    assert len(jobs.get_backend().scheduled) == 0  # an internal address is final
    assert "not retried" in caplog.text


def test_prompt_base_url_on_an_internal_address_gets_no_request_nor_key(
    company, ticket, internal_service
):
    prompt = Prompt(
        company_id=company.id,
        name="AI",
        prompt="Be nice.",
        api_key_encrypted=encrypt_str(openai_stubs.API_KEY),
        queue_id=factories.QueueFactory(company=company).id,
        max_messages=5,
        max_tokens=50,
        temperature=0.5,
        model="m",
        base_url=internal_service.url + "/v1",
    )
    db.session.add(prompt)
    db.session.commit()
    request = ai_reply.AIRequest(
        ticket.id, 1, prompt.id, f"{prompt.base_url}/chat/completions", "sk-secret", {"x": 1}
    )
    with pytest.raises(ai_reply.CompletionError):
        ai_reply.call(request)
    assert internal_service.requests == []


# -- refused when saved ------------------------------------------------------------------------

INTERNAL_URLS = [
    "http://127.0.0.1:11434/v1",
    "http://localhost/x",
    "http://169.254.169.254/latest",
    "http://[::1]:8080/",
    "http://10.0.0.5:8080/hook",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_an_internal_integration_url_is_refused_when_saved(client, prefix, admin, auth, url):
    resp = client.post(
        f"{prefix}/queueIntegration",
        json={"type": "webhook", "name": "Feed", "urlN8N": url},
        headers=auth(admin),
    )
    assert resp.status_code == 400 and "urlN8N" in resp.get_json()["fields"]
    assert db.session.scalar(sa.select(sa.func.count(QueueIntegration.id))) == 0


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_an_internal_prompt_base_url_is_refused_when_saved(client, prefix, admin, auth, url):
    queue = factories.QueueFactory(company=admin.company)
    body = {
        "name": "AI",
        "prompt": "Seja gentil.",
        "apiKey": "sk-test",
        "queueId": queue.id,
        "maxMessages": 5,
        "baseUrl": url,
    }
    resp = client.post(f"{prefix}/prompt", json=body, headers=auth(admin))
    assert resp.status_code == 400 and "baseUrl" in resp.get_json()["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Prompt.id))) == 0


def test_an_internal_provider_base_url_is_refused_when_saved(client, prefix, admin, auth):
    config = {"baseUrl": "http://169.254.169.254", "apiKey": "k", "instance": "i"}
    resp = client.post(
        f"{prefix}/whatsapp",
        json={"name": "Evo", "provider": "evolution", "providerConfig": config},
        headers=auth(admin),
    )
    assert resp.status_code == 400
    assert any("baseUrl" in p for p in resp.get_json()["fields"]["providerConfig"])


def test_an_allowed_internal_host_may_be_saved(app, client, prefix, admin, auth):
    app.config["OUTBOUND_ALLOWED_HOSTS"] = "10.0.0.5:8080"
    resp = client.post(
        f"{prefix}/queueIntegration",
        json={"type": "webhook", "name": "Feed", "urlN8N": "http://10.0.0.5:8080/hook"},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
