"""Connections: list, show, create, update, delete; provider settings, rules, tenancy, events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Message, Ticket, Whatsapp
from whaticket.services.connections import whatsapps as whatsapp_service
from whaticket.services.connections.gateway import gateway_for
from whaticket.utils.crypto import decrypt_json, mask
from whaticket.whatsapp import registry
from whaticket.whatsapp.fake import FakeGateway

ROW_KEYS = {
    "id",
    "name",
    "status",
    "provider",
    "isDefault",
    "greetingMessage",
    "complationMessage",
    "ratingMessage",
    "outOfHoursMessage",
    "companyId",
    "createdAt",
    "updatedAt",
    "queues",
    "providerConfig",
    "providerAccountId",
    "migratedToId",
    "qrcode",
    "retries",
    "farewellMessage",
    "transferQueueId",
    "integrationId",
    "promptId",
    "timeToTransfer",
    "maxUseBotQueues",
    "timeUseBotQueues",
    "expiresTicket",
    "expiresInactiveMessage",
    "token",
}


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


# -- GET /whatsapp ----------------------------------------------------------------


def test_list_gives_the_company_connections_to_any_user(
    client, prefix, auth, agent, company, other_company
):
    first = factories.WhatsappFactory(company=company, name="Sales", is_default=True)
    second = factories.WhatsappFactory(company=company, name="Support", greeting_message="Hi")
    factories.WhatsappFactory(company=other_company, name="Theirs")
    resp = client.get(f"{prefix}/whatsapp?session=0", headers=auth(agent))
    assert resp.status_code == 200
    rows = resp.get_json()
    assert [r["id"] for r in rows] == [first.id, second.id]
    assert all(set(r) == ROW_KEYS for r in rows)
    assert rows[0]["isDefault"] is True and rows[1]["greetingMessage"] == "Hi"
    assert rows[0]["queues"] == [] and rows[0]["provider"] == "fake"
    assert rows[0]["createdAt"].endswith("Z")


def test_list_is_empty_for_a_company_without_connections(client, prefix, auth, admin):
    assert client.get(f"{prefix}/whatsapp", headers=auth(admin)).get_json() == []


def test_list_needs_a_token(client, prefix, app):
    resp = client.get(f"{prefix}/whatsapp")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


def test_list_with_a_bad_token_is_403(client, prefix, app):
    resp = client.get(f"{prefix}/whatsapp", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 403


# -- GET /whatsapp/<id> -----------------------------------------------------------


def test_show_one_connection(client, prefix, auth, agent, company):
    conn = factories.WhatsappFactory(company=company, name="Sales", rating_message="Rate us")
    resp = client.get(f"{prefix}/whatsapp/{conn.id}?session=0", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == ROW_KEYS and body["id"] == conn.id and body["ratingMessage"] == "Rate us"


def test_show_another_company_connection_is_404(client, prefix, auth, admin, other_company):
    theirs = factories.WhatsappFactory(company=other_company)
    for wid in (theirs.id, 999999):
        resp = client.get(f"{prefix}/whatsapp/{wid}", headers=auth(admin))
        assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_WAPP_FOUND"}


def test_show_needs_a_token(client, prefix, company):
    conn = factories.WhatsappFactory(company=company)
    assert client.get(f"{prefix}/whatsapp/{conn.id}").status_code == 401


# -- POST /whatsapp ---------------------------------------------------------------


def test_admin_creates_the_first_connection_as_default_and_connected(
    client, prefix, auth, admin, socket_client
):
    sock = socket_client(admin)
    sock.get_received()
    resp = client.post(
        f"{prefix}/whatsapp",
        json={
            "name": "  Main  ",
            "greetingMessage": "Hello!",
            "complationMessage": "Bye",
            "ratingMessage": "Rate",
            "outOfHoursMessage": "Closed",
            "queueIds": [],
            "token": "",  # empty: one is generated
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == ROW_KEYS
    assert body["name"] == "Main" and body["provider"] == "fake"
    assert body["status"] == "CONNECTED" and body["isDefault"] is True
    assert body["greetingMessage"] == "Hello!" and body["complationMessage"] == "Bye"
    assert body["ratingMessage"] == "Rate" and body["outOfHoursMessage"] == "Closed"
    assert body["companyId"] == admin.company_id
    [event] = _events(sock, f"company-{admin.company_id}-whatsapp")
    # The event reaches every user: the token it carries is masked, the admin's answer not.
    assert event == {"action": "update", "whatsapp": {**body, "token": mask(body["token"])}}
    conn = db.session.get(Whatsapp, body["id"])
    assert body["token"] == conn.token and len(conn.token) >= 24
    assert gateway_for(conn).send_text(conn, "5511999990000", "works").provider_id


def test_a_new_default_unsets_the_previous_one(client, prefix, auth, admin, socket_client):
    first = client.post(f"{prefix}/whatsapp", json={"name": "One"}, headers=auth(admin)).get_json()
    second = client.post(f"{prefix}/whatsapp", json={"name": "Two"}, headers=auth(admin)).get_json()
    assert first["isDefault"] is True and second["isDefault"] is False
    sock = socket_client(admin)
    sock.get_received()
    third = client.post(
        f"{prefix}/whatsapp", json={"name": "Three", "isDefault": True}, headers=auth(admin)
    ).get_json()
    assert third["isDefault"] is True
    rows = client.get(f"{prefix}/whatsapp", headers=auth(admin)).get_json()
    assert [(r["name"], r["isDefault"]) for r in rows] == [
        ("One", False),
        ("Two", False),
        ("Three", True),
    ]
    events = _events(sock, f"company-{admin.company_id}-whatsapp")
    assert [(e["whatsapp"]["name"], e["whatsapp"]["isDefault"]) for e in events] == [
        ("One", False),
        ("Three", True),
    ]
    assert whatsapp_service.default_connection(admin.company_id).id == third["id"]


def test_create_validates_the_payload(client, prefix, auth, admin):
    resp = client.post(f"{prefix}/whatsapp", json={}, headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "name" in body["fields"]
    resp = client.post(
        f"{prefix}/whatsapp", json={"name": "x", "isDefault": "maybe"}, headers=auth(admin)
    )
    assert resp.status_code == 400
    assert {"name", "isDefault"} <= set(resp.get_json()["fields"])


def test_create_refuses_an_unknown_provider(client, prefix, auth, admin):
    resp = client.post(
        f"{prefix}/whatsapp", json={"name": "Main", "provider": "nope"}, headers=auth(admin)
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and "provider" in body["fields"]


def test_update_refuses_an_unknown_provider_and_keeps_the_row(client, prefix, auth, admin):
    """The provider check lives in the service (schemas import no services): same answer."""
    created = client.post(f"{prefix}/whatsapp", json={"name": "Main"}, headers=auth(admin))
    conn_id = created.get_json()["id"]
    resp = client.put(
        f"{prefix}/whatsapp/{conn_id}", json={"provider": "nope"}, headers=auth(admin)
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert body["fields"]["provider"][0].startswith("Must be one of: ")
    shown = client.get(f"{prefix}/whatsapp/{conn_id}", headers=auth(admin)).get_json()
    assert shown["provider"] == created.get_json()["provider"]


def test_other_providers_start_disconnected(client, prefix, auth, admin):
    class QrGateway(FakeGateway):
        name = "qr-test"

    registry.register(QrGateway)
    try:
        resp = client.post(
            f"{prefix}/whatsapp", json={"name": "Main", "provider": "qr-test"}, headers=auth(admin)
        )
    finally:
        registry._PROVIDERS.pop("qr-test", None)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["provider"] == "qr-test" and body["status"] == "DISCONNECTED"


def test_names_are_unique_per_company(client, prefix, auth, admin, other_company):
    factories.WhatsappFactory(company=other_company, name="Main")
    assert (
        client.post(f"{prefix}/whatsapp", json={"name": "Main"}, headers=auth(admin)).status_code
        == 200
    )
    resp = client.post(f"{prefix}/whatsapp", json={"name": "MAIN "}, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_DUPLICATED_WAPP_NAME"}


def test_plan_connection_limit(client, prefix, auth, admin, company):
    company.plan.connections = 1
    db.session.commit()
    factories.WhatsappFactory(company=company)
    resp = client.post(f"{prefix}/whatsapp", json={"name": "Extra"}, headers=auth(admin))
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_CONNECTION_LIMIT_REACHED"}
    count = db.session.scalar(
        sa.select(sa.func.count(Whatsapp.id)).where(Whatsapp.company_id == company.id)
    )
    assert count == 1


def test_create_is_for_admins(client, prefix, auth, agent):
    resp = client.post(f"{prefix}/whatsapp", json={"name": "Main"}, headers=auth(agent))
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}


def test_create_needs_a_token(client, prefix, app):
    assert client.post(f"{prefix}/whatsapp", json={"name": "Main"}).status_code == 401


def test_create_stays_in_the_callers_company(client, prefix, auth, other_admin, company):
    resp = client.post(
        f"{prefix}/whatsapp",
        json={"name": "Main", "companyId": company.id},
        headers=auth(other_admin),
    )
    assert resp.status_code == 200 and resp.get_json()["companyId"] == other_admin.company_id
    assert whatsapp_service.list_connections(company.id) == []


# -- services others use ----------------------------------------------------------


def test_default_connection_and_get_connection(company, other_company):
    with pytest.raises(AppError) as exc:
        whatsapp_service.default_connection(company.id)
    assert exc.value.status == 400 and exc.value.code == "ERR_NO_DEF_WAPP_FOUND"
    factories.WhatsappFactory(company=company, is_default=False)
    default = factories.WhatsappFactory(company=company, is_default=True)
    theirs = factories.WhatsappFactory(company=other_company, is_default=True)
    assert whatsapp_service.default_connection(company.id).id == default.id
    assert whatsapp_service.get_connection(company.id, default.id) is default
    with pytest.raises(AppError) as exc:
        whatsapp_service.get_connection(company.id, theirs.id)
    assert exc.value.status == 404 and exc.value.code == "ERR_NO_WAPP_FOUND"


# -- provider settings --------------------------------------------------------------

CLOUD = {
    "phoneNumberId": "1234567890",
    "accessToken": "EAAG-access-token-SECRET-9876",
    "appSecret": "app-secret-SECRET-5555",
    "verifyToken": "verify-token-SECRET-4444",
}
EVOLUTION = {
    "baseUrl": "http://evo.local:8080",
    "apiKey": "evo-api-key-SECRET-7777",
    "instance": "i1",
}
SECRETS = [
    CLOUD["accessToken"],
    CLOUD["appSecret"],
    CLOUD["verifyToken"],
    EVOLUTION["apiKey"],
]


def _no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text


def test_cloud_settings_are_encrypted_and_masked(client, prefix, auth, admin, agent, socket_client):
    sock = socket_client(agent)
    sock.get_received()
    resp = client.post(
        f"{prefix}/whatsapp",
        json={"name": "Cloud", "provider": "cloud", "providerConfig": {**CLOUD, "junk": "x"}},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    _no_secret(resp.get_data(as_text=True), SECRETS)
    assert body["provider"] == "cloud" and body["status"] == "DISCONNECTED"
    assert body["providerAccountId"] == "1234567890"
    config = body["providerConfig"]
    assert set(config) == {"phoneNumberId", "accessToken", "appSecret", "verifyToken"}
    assert config["phoneNumberId"] == "1234567890"
    assert config["accessToken"].endswith("9876") and config["accessToken"].startswith("*")
    conn = db.session.get(Whatsapp, body["id"])
    assert CLOUD["accessToken"] not in conn.provider_config  # encrypted at rest
    assert decrypt_json(conn.provider_config) == CLOUD
    for url in (f"{prefix}/whatsapp", f"{prefix}/whatsapp/{conn.id}"):
        for user in (admin, agent):
            _no_secret(client.get(url, headers=auth(user)).get_data(as_text=True), SECRETS)
    received = sock.get_received()
    assert received
    _no_secret(str(received), SECRETS)


def test_agents_see_the_api_token_masked(client, prefix, auth, admin, agent, company):
    conn = factories.WhatsappFactory(company=company, token="tok-abcdefghijklmnop-WXYZ")
    row = client.get(f"{prefix}/whatsapp/{conn.id}", headers=auth(agent)).get_json()
    assert row["token"] == mask(conn.token)
    row = client.get(f"{prefix}/whatsapp/{conn.id}", headers=auth(admin)).get_json()
    assert row["token"] == conn.token


def test_evolution_settings_get_a_webhook_secret(client, prefix, auth, admin):
    resp = client.post(
        f"{prefix}/whatsapp",
        json={"name": "Evo", "provider": "evolution", "providerConfig": EVOLUTION},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    conn = db.session.get(Whatsapp, resp.get_json()["id"])
    stored = decrypt_json(conn.provider_config)
    assert len(stored["webhookSecret"]) >= 24 and conn.provider_account_id == "i1"
    assert stored["webhookSecret"] not in resp.get_data(as_text=True)
    assert resp.get_json()["providerConfig"]["baseUrl"] == "http://evo.local:8080"


@pytest.mark.parametrize(
    ("provider", "config", "missing"),
    [
        ("cloud", {"phoneNumberId": "1"}, "accessToken"),
        ("cloud", {}, "phoneNumberId"),
        ("evolution", {"baseUrl": "http://x", "instance": "i"}, "apiKey"),
        ("evolution", {"baseUrl": "ftp://x", "apiKey": "k", "instance": "i"}, "baseUrl"),
    ],
)
def test_provider_settings_are_validated(client, prefix, auth, admin, provider, config, missing):
    resp = client.post(
        f"{prefix}/whatsapp",
        json={"name": "Main", "provider": provider, "providerConfig": config},
        headers=auth(admin),
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert any(p.startswith(missing) for p in body["fields"]["providerConfig"])
    assert whatsapp_service.list_connections(admin.company_id) == []


def test_a_masked_secret_sent_back_keeps_the_stored_one(client, prefix, auth, admin):
    created = client.post(
        f"{prefix}/whatsapp",
        json={"name": "Cloud", "provider": "cloud", "providerConfig": CLOUD},
        headers=auth(admin),
    ).get_json()
    shown = dict(created["providerConfig"])
    shown["appSecret"] = "new-app-secret-1111"
    resp = client.put(
        f"{prefix}/whatsapp/{created['id']}",
        json={"providerConfig": shown, "name": "Cloud 2"},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    _no_secret(resp.get_data(as_text=True), [*SECRETS, "new-app-secret-1111"])
    conn = db.session.get(Whatsapp, created["id"])
    db.session.refresh(conn)
    stored = decrypt_json(conn.provider_config)
    assert stored == {**CLOUD, "appSecret": "new-app-secret-1111"}
    assert conn.name == "Cloud 2"
    # Fields absent from the PUT keep their values; the settings stay when not sent.
    resp = client.put(
        f"{prefix}/whatsapp/{conn.id}", json={"greetingMessage": "Hi"}, headers=auth(admin)
    )
    db.session.refresh(conn)
    assert decrypt_json(conn.provider_config)["appSecret"] == "new-app-secret-1111"
    assert conn.greeting_message == "Hi" and conn.name == "Cloud 2"


def test_update_every_field(client, prefix, auth, admin, company, socket_client):
    conn = factories.WhatsappFactory(company=company, name="Main", is_default=True)
    other = factories.WhatsappFactory(company=company, name="Other")
    q1 = factories.QueueFactory(company=company, name="Sales", color="#111111")
    q2 = factories.QueueFactory(company=company, name="Help", color="#222222")
    db.session.commit()
    sock = socket_client(admin)
    sock.get_received()
    resp = client.put(
        f"{prefix}/whatsapp/{other.id}",
        json={
            "name": "Renamed",
            "isDefault": True,
            "greetingMessage": "Pick one",
            "complationMessage": "Done",
            "farewellMessage": "Bye",
            "ratingMessage": "Rate",
            "outOfHoursMessage": "Closed",
            "transferQueueId": q1.id,
            "timeToTransfer": 5,
            "maxUseBotQueues": 2,
            "timeUseBotQueues": 10,
            "expiresTicket": 60,
            "expiresInactiveMessage": "Expired",
            "queueIds": [q2.id, q1.id],
            "token": "my-own-token-0123456789abcdefghij",
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["name"] == "Renamed" and body["isDefault"] is True
    assert body["queues"] == [
        {"id": q2.id, "name": "Help", "color": "#222222"},
        {"id": q1.id, "name": "Sales", "color": "#111111"},
    ]
    assert body["transferQueueId"] == q1.id and body["timeToTransfer"] == 5
    assert body["maxUseBotQueues"] == 2 and body["timeUseBotQueues"] == 10
    assert body["expiresTicket"] == 60 and body["expiresInactiveMessage"] == "Expired"
    assert body["farewellMessage"] == "Bye" and body["token"] == "my-own-token-0123456789abcdefghij"
    db.session.refresh(conn)
    assert conn.is_default is False
    events = _events(sock, f"company-{company.id}-whatsapp")
    assert [(e["whatsapp"]["id"], e["whatsapp"]["isDefault"]) for e in events] == [
        (conn.id, False),
        (other.id, True),
    ]


def test_update_rules(client, prefix, auth, admin, company, other_company):
    conn = factories.WhatsappFactory(company=company, name="Main", token="taken-token")
    second = factories.WhatsappFactory(company=company, name="Second")
    q1 = factories.QueueFactory(company=company)
    q2 = factories.QueueFactory(company=company)
    theirs = factories.QueueFactory(company=other_company)
    db.session.commit()
    url = f"{prefix}/whatsapp/{second.id}"
    resp = client.put(url, json={"queueIds": [q1.id, q2.id]}, headers=auth(admin))
    assert resp.status_code == 400 and "greetingMessage" in resp.get_json()["fields"]
    resp = client.put(url, json={"queueIds": [theirs.id]}, headers=auth(admin))
    assert resp.status_code == 400 and "queueIds" in resp.get_json()["fields"]
    resp = client.put(url, json={"transferQueueId": theirs.id}, headers=auth(admin))
    assert resp.status_code == 400 and "transferQueueId" in resp.get_json()["fields"]
    resp = client.put(url, json={"name": "main"}, headers=auth(admin))
    assert resp.get_json() == {"error": "ERR_DUPLICATED_WAPP_NAME"}
    resp = client.put(url, json={"token": "taken-token"}, headers=auth(admin))
    # Too short to be chosen now; a long one in use is a generic conflict (see
    # test_external_api_tokens.py).
    assert resp.status_code == 400 and "token" in resp.get_json()["fields"]
    resp = client.put(url, json={"provider": "cloud"}, headers=auth(admin))
    assert resp.status_code == 400 and "providerConfig" in resp.get_json()["fields"]
    resp = client.put(
        url, json={"queueIds": [q1.id, q2.id], "greetingMessage": "Menu"}, headers=auth(admin)
    )
    assert resp.status_code == 200 and len(resp.get_json()["queues"]) == 2
    assert conn.token == "taken-token"


def test_create_with_queues_needs_a_greeting(client, prefix, auth, admin, company):
    q1 = factories.QueueFactory(company=company)
    q2 = factories.QueueFactory(company=company)
    db.session.commit()
    resp = client.post(
        f"{prefix}/whatsapp", json={"name": "Main", "queueIds": [q1.id, q2.id]}, headers=auth(admin)
    )
    assert resp.status_code == 400 and "greetingMessage" in resp.get_json()["fields"]
    resp = client.post(
        f"{prefix}/whatsapp",
        json={"name": "Main", "queueIds": [q1.id], "token": "given-token-0123456789abcdefghijk"},
        headers=auth(admin),
    )
    assert (
        resp.status_code == 200 and resp.get_json()["token"] == "given-token-0123456789abcdefghijk"
    )


def test_update_and_delete_are_admin_only_and_company_scoped(
    client, prefix, auth, admin, agent, company, other_company
):
    mine = factories.WhatsappFactory(company=company)
    theirs = factories.WhatsappFactory(company=other_company)
    url = f"{prefix}/whatsapp/{mine.id}"
    assert client.put(url, json={"name": "New"}, headers=auth(agent)).status_code == 403
    assert client.delete(url, headers=auth(agent)).status_code == 403
    assert client.put(url, json={"name": "New"}).status_code == 401
    for method in (client.put, client.delete):
        resp = method(f"{prefix}/whatsapp/{theirs.id}", json={"name": "x1"}, headers=auth(admin))
        assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_WAPP_FOUND"}
    assert db.session.get(Whatsapp, theirs.id).name == theirs.name


def test_delete_keeps_the_tickets(client, prefix, auth, admin, company, socket_client):
    default = factories.WhatsappFactory(company=company, is_default=True)
    other = factories.WhatsappFactory(company=company)
    ticket = factories.TicketFactory(company=company, whatsapp=default)
    message = factories.MessageFactory(ticket=ticket)
    db.session.commit()
    ticket_id, message_id, default_id = ticket.id, message.id, default.id
    sock = socket_client(admin)
    sock.get_received()
    resp = client.delete(f"{prefix}/whatsapp/{default_id}", headers=auth(admin))
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(Whatsapp, default_id) is None
    assert db.session.get(Ticket, ticket_id).whatsapp_id is None
    assert db.session.get(Message, message_id) is not None
    assert db.session.get(Whatsapp, other.id).is_default is True
    events = _events(sock, f"company-{company.id}-whatsapp")
    assert events[0] == {"action": "delete", "whatsappId": default_id}
    assert events[1]["whatsapp"]["id"] == other.id and events[1]["whatsapp"]["isDefault"]
