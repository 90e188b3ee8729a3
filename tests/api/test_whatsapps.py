"""Connections (minimal): list, show, create; default rules, plan limit, tenancy, events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.errors import AppError
from whaticket.extensions import db
from whaticket.models import Whatsapp
from whaticket.services import whatsapps as whatsapp_service
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
            "queueIds": [],  # the SPA sends more fields: ignored
            "token": "",
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
    assert event == {"action": "update", "whatsapp": body}
    conn = db.session.get(Whatsapp, body["id"])
    assert FakeGateway().send_text(conn, "5511999990000", "works").provider_id


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
