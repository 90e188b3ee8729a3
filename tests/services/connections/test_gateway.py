"""The services binding of the WhatsApp providers: settings built from a connection row
(decrypted, deployment defaults applied), and what it does around a call (the stored
`fromMe` of a reaction, the provider's extras, which providers may run)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.stubs import evolution as evolution_stubs
from tests.stubs.evolution import API_KEY, EvolutionStub
from tests.stubs.graph import TOKEN, graph_stub_fixture  # noqa: F401 - the graph_stub fixture
from whaticket.extensions import db
from whaticket.services.connections import gateway
from whaticket.services.connections.gateway import gateway_for, provider_names, settings_for
from whaticket.utils.crypto import encrypt_json
from whaticket.whatsapp import registry
from whaticket.whatsapp.base import GatewayError
from whaticket.whatsapp.cloud import DEFAULT_BASE_URL, CloudGateway, CloudSettings
from whaticket.whatsapp.evolution import EvolutionGateway, EvolutionSettings
from whaticket.whatsapp.fake import FakeGateway, FakeSettings

PNID = "1122334455667"
SECRET = "hook-secret-123"
#: The stub's pytest fixture, made available to this module.
evolution_stub = evolution_stubs.evolution_stub


def _cloud(company, **config):
    return factories.WhatsappFactory(
        company=company,
        provider="cloud",
        status="CONNECTED",
        provider_account_id=PNID,
        provider_config=encrypt_json(config),
    )


@pytest.fixture
def evolution_conn(company, evolution_stub: EvolutionStub):
    """An evolution connection pointing at the stub, its instance open."""
    evolution_stub.instances["inst1"] = "open"
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


# -- which provider --------------------------------------------------------------------


def test_each_row_gets_its_provider(company, graph_stub, evolution_conn):
    cloud = _cloud(company, accessToken=TOKEN, baseUrl=graph_stub.url)
    fake = factories.WhatsappFactory(company=company, provider="fake")
    assert isinstance(gateway_for(cloud).provider, CloudGateway)
    assert isinstance(gateway_for(evolution_conn).provider, EvolutionGateway)
    assert isinstance(gateway_for(fake).provider, FakeGateway)
    assert gateway_for(evolution_conn).name == "evolution"


def test_an_unknown_provider_is_a_gateway_error(company):
    conn = factories.WhatsappFactory(company=company, provider="carrier-pigeon")
    with pytest.raises(GatewayError) as info:
        gateway_for(conn)
    assert info.value.code == "ERR_UNKNOWN_PROVIDER"


def test_the_fake_is_no_provider_name_in_production(app):
    assert provider_names() == ["cloud", "evolution", "fake"]
    app.config.update(APP_ENV="production", FAKE_GATEWAY_ENABLED=None)
    assert provider_names() == ["cloud", "evolution"]
    assert registry.names() == ["cloud", "evolution", "fake"]  # registered all the same


def test_a_provider_derived_from_another_takes_its_settings(company):
    class QrGateway(FakeGateway):
        name = "qr-binding-test"

    registry.register(QrGateway)
    try:
        conn = factories.WhatsappFactory(
            company=company, provider=QrGateway.name, status="CONNECTED"
        )
        assert isinstance(settings_for(conn), FakeSettings)
        assert gateway_for(conn).send_text(conn, "5511999990000", "hi").provider_id
    finally:
        registry._PROVIDERS.pop(QrGateway.name, None)


# -- cloud settings -------------------------------------------------------------------


def test_cloud_settings_come_decrypted_with_defaults(app, company):
    conn = _cloud(company, accessToken="tok", appSecret="s", verifyToken="v")
    assert settings_for(conn) == CloudSettings(
        phone_number_id=PNID,  # the row's account id when phoneNumberId is unset
        access_token="tok",
        app_secret="s",
        verify_token="v",
        base_url=DEFAULT_BASE_URL,
        account_id=PNID,
        media_max_bytes=app.config["MEDIA_MAX_BYTES"],
    )
    app.config["CLOUD_API_BASE_URL"] = "https://graph.example/v99.0/"
    assert settings_for(conn).base_url == "https://graph.example/v99.0"
    own = _cloud(company, accessToken="tok", phoneNumberId="42", baseUrl="https://mine.example")
    assert (settings_for(own).phone_number_id, settings_for(own).base_url) == (
        "42",
        "https://mine.example",
    )


def test_cloud_calls_go_out_with_the_rows_credentials(company, graph_stub):
    conn = _cloud(company, accessToken=TOKEN, baseUrl=graph_stub.url)
    result = gateway_for(conn).send_text(conn, "+55 11 98765-4321", "Olá")
    assert result.provider_id.startswith("wamid.")
    req = graph_stub.requests[-1]
    assert req.path == f"/{PNID}/messages" and req.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_cloud_row_that_cannot_be_reached_is_retryable(app, company):
    dead = _cloud(company, accessToken=TOKEN, baseUrl="http://127.0.0.1:9")
    with pytest.raises(GatewayError) as info:
        gateway_for(dead).send_text(dead, "5511987654321", "x")
    assert info.value.code == "ERR_CLOUD_UNREACHABLE" and info.value.retryable


def test_provider_extras_are_bound_too(company, graph_stub):
    """`send_template` (Cloud only) takes the row like the rest; others have none."""
    conn = _cloud(company, accessToken=TOKEN, baseUrl=graph_stub.url)
    bound = gateway_for(conn)
    assert hasattr(bound, "send_template")
    bound.send_template(conn, "5511987654321", "hello_world", "en_US")
    assert graph_stub.sent()[-1]["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
    }
    fake = factories.WhatsappFactory(company=company, provider="fake")
    assert not hasattr(gateway_for(fake), "send_template")
    with pytest.raises(AttributeError):
        gateway_for(fake)._private  # noqa: B018 - attribute access is the test


# -- evolution settings ---------------------------------------------------------------


def test_evolution_settings_fall_back_to_the_deployments_bridge(app, company):
    app.config.update(
        EVOLUTION_BASE_URL="https://bridge.example",
        EVOLUTION_API_KEY="global-key",
        PUBLIC_URL="https://hooks.example",
    )
    conn = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        provider_account_id="acct",
        provider_config=encrypt_json({"webhookSecret": "s3"}),
    )
    prefix = app.config["API_PREFIX"]
    assert settings_for(conn) == EvolutionSettings(
        base_url="https://bridge.example",
        api_key="global-key",
        instance="acct",
        webhook_url=f"https://hooks.example{prefix}/webhooks/evolution/{conn.id}/s3",
        media_max_bytes=app.config["MEDIA_MAX_BYTES"],
    )
    no_secret = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        provider_config=encrypt_json({"baseUrl": "https://own.example", "apiKey": "own"}),
    )
    own = settings_for(no_secret)
    assert (own.base_url, own.api_key, own.webhook_url) == ("https://own.example", "own", "")


def test_start_session_registers_this_connections_webhook(app, evolution_conn, evolution_stub):
    app.config["PUBLIC_URL"] = "https://hooks.example"
    evolution_stub.instances.pop("inst1")
    assert gateway_for(evolution_conn).start_session(evolution_conn).status == "qrcode"
    prefix = app.config["API_PREFIX"]
    assert evolution_stub.webhooks["inst1"]["url"] == (
        f"https://hooks.example{prefix}/webhooks/evolution/{evolution_conn.id}/{SECRET}"
    )


def test_start_session_uses_backend_url_without_public_url(app, evolution_conn, evolution_stub):
    app.config["PUBLIC_URL"] = None
    app.config["BACKEND_URL"] = "http://backend:8080/"
    gateway_for(evolution_conn).start_session(evolution_conn)
    url = evolution_stub.webhooks["inst1"]["url"]
    prefix = app.config["API_PREFIX"]
    assert url == f"http://backend:8080{prefix}/webhooks/evolution/{evolution_conn.id}/{SECRET}"


def test_evolution_webhook_url_is_the_one_the_receiver_serves(app, evolution_conn):
    url = gateway.evolution_webhook_url(evolution_conn, SECRET)
    assert url.endswith(
        f"{app.config['API_PREFIX']}/webhooks/evolution/{evolution_conn.id}/{SECRET}"
    )


def test_a_reaction_carries_fromme_of_the_stored_message(company, evolution_conn, evolution_stub):
    """Evolution keys a reaction by the message's full key: ours or theirs comes from the
    stored messages of this connection (another connection's message does not count)."""
    ticket = factories.TicketFactory(company=company, whatsapp=evolution_conn)
    ours = factories.MessageFactory(ticket=ticket, provider_id="BAE58DA6CBC941BC", from_me=True)
    other_conn = factories.WhatsappFactory(company=company, provider="fake")
    elsewhere = factories.TicketFactory(company=company, whatsapp=other_conn)
    factories.MessageFactory(ticket=elsewhere, provider_id="BAE5ELSEWHERE", from_me=True)
    db.session.commit()
    bound = gateway_for(evolution_conn)
    bound.send_reaction(evolution_conn, "553198296801", ours.provider_id, "🚀")
    bound.send_reaction(evolution_conn, "553198296801", "3EB0THEIRS", "")
    bound.send_reaction(evolution_conn, "553198296801", "BAE5ELSEWHERE", "👍")
    mine, theirs, foreign = (r.json for r in evolution_stub.calls("/message/sendReaction/inst1"))
    assert mine["key"] == {
        "remoteJid": "553198296801@s.whatsapp.net",
        "fromMe": True,
        "id": "BAE58DA6CBC941BC",
    }
    assert theirs["key"]["fromMe"] is False and foreign["key"]["fromMe"] is False
    # A caller that already knows (it prepared the reaction in its transaction) says so.
    bound.send_reaction(evolution_conn, "553198296801", "3EB0THEIRS", "👍", from_me=True)
    assert evolution_stub.calls("/message/sendReaction/inst1")[-1].json["key"]["fromMe"] is True


def test_evolution_extras_are_bound(evolution_conn, evolution_stub):
    bound = gateway_for(evolution_conn)
    assert bound.connection_state(evolution_conn).status == "CONNECTED"
    assert bound.delete_instance(evolution_conn).status == "DISCONNECTED"
    assert "inst1" not in evolution_stub.instances


def test_parse_webhook_through_the_binding(evolution_conn):
    payload = {"event": "connection.update", "data": {"state": "open"}}
    [update] = gateway_for(evolution_conn).parse_webhook(evolution_conn, payload)
    assert update.state.status == "CONNECTED"
