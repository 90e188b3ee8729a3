"""Plans enforced by the server: feature flags (403) and overdue companies (402)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Message, Plan
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.inbound.messages import handle_inbound
from whaticket.whatsapp.base import InboundMessage

#: Each flag and requests that need it.
GATED = {
    "use_campaigns": [
        ("post", "/campaigns", {"name": "Natal"}),
        ("get", "/campaigns", None),
        ("get", "/campaign-settings", None),
        ("get", "/contact-lists", None),
        ("get", "/files", None),
    ],
    "use_schedules": [("get", "/schedules", None)],
    "use_integrations": [("get", "/queueIntegration", None)],
    "use_kanban": [("get", "/ticket/kanban", None), ("get", "/tags/kanban", None)],
    "use_internal_chat": [("get", "/chats", None), ("post", "/chats", {"title": "Team"})],
    "use_open_ai": [("get", "/prompt", None), ("post", "/prompt", {"name": "Bot"})],
}


@pytest.fixture
def payer(superuser, auth) -> dict[str, str]:
    """Headers of the one who may play the fake payer: a signed-in super user."""
    return auth(superuser)


def _switch(company, flag: str, value: bool) -> None:
    plan = db.session.get(Plan, company.plan_id)
    setattr(plan, flag, value)
    db.session.commit()


@pytest.mark.parametrize("flag", sorted(GATED))
def test_a_disabled_feature_is_403(client, prefix, auth, admin, company, other_admin, flag):
    _switch(company, flag, False)
    for method, path, body in GATED[flag]:
        resp = getattr(client, method)(f"{prefix}{path}", json=body, headers=auth(admin))
        assert resp.status_code == 403, (path, resp.get_json())
        assert resp.get_json()["error"] == "ERR_PLAN_FEATURE_DISABLED"
        # Another company whose plan has it is not affected.
        if method == "get":
            assert (
                getattr(client, method)(f"{prefix}{path}", headers=auth(other_admin)).status_code
                == 200
            )
        # No token is still 401, not a plan answer.
        assert getattr(client, method)(f"{prefix}{path}", json=body).status_code == 401


def test_enabled_feature_works(client, prefix, auth, admin):
    assert client.get(f"{prefix}/campaigns", headers=auth(admin)).status_code == 200


def test_external_api_needs_its_flag(client, company):
    conn = factories.WhatsappFactory(company=company, status="CONNECTED", token="tok-1234567890ab")
    _switch(company, "use_external_api", False)
    resp = client.post(
        "/api/messages/send",
        json={"number": "5511988887777", "body": "Oi"},
        headers={"Authorization": f"Bearer {conn.token}"},
    )
    assert resp.status_code == 403 and resp.get_json()["error"] == "ERR_PLAN_FEATURE_DISABLED"
    assert db.session.query(Message).count() == 0


# -- overdue -----------------------------------------------------------------------------


@pytest.fixture
def overdue(company, app):
    app.config["BILLING_GRACE_DAYS"] = 3
    company.due_date = utcnow() - timedelta(days=4)
    db.session.commit()
    return company


def test_overdue_company_gets_402_except_billing(client, prefix, auth, admin, overdue, other_admin):
    resp = client.get(f"{prefix}/tickets", headers=auth(admin))
    assert resp.status_code == 402 and resp.get_json()["error"] == "ERR_SUBSCRIPTION_EXPIRED"
    assert client.get(f"{prefix}/contacts", headers=auth(admin)).status_code == 402
    assert client.get(f"{prefix}/auth/me", headers=auth(admin)).status_code == 200
    assert (
        client.get(f"{prefix}/companies/listPlan/{overdue.id}", headers=auth(admin)).status_code
        == 200
    )
    assert client.get(f"{prefix}/plans/list").status_code == 200
    # Other companies are not affected.
    assert client.get(f"{prefix}/tickets", headers=auth(other_admin)).status_code == 200


def test_within_the_grace_period_nothing_is_blocked(client, prefix, auth, admin, company, app):
    app.config["BILLING_GRACE_DAYS"] = 3
    company.due_date = utcnow() - timedelta(days=2)
    db.session.commit()
    assert client.get(f"{prefix}/tickets", headers=auth(admin)).status_code == 200


def test_overdue_connections_stop_sending_but_keep_receiving(overdue):
    conn = factories.WhatsappFactory(
        company=overdue, provider="fake", status="CONNECTED", greeting_message="Olá!"
    )
    fake.clear_outbox(conn.id)
    event = InboundMessage(provider_id="IN-1", chat_id="5511987654321", body="Oi", push_name="M")
    assert handle_inbound(overdue.id, conn.id, event) is not None  # stored
    dbmod.commit()
    assert fake.read_outbox(conn.id) == []  # the bot said nothing

    token_conn = factories.WhatsappFactory(
        company=overdue, status="CONNECTED", token="tok-overdue-123456"
    )
    from flask import current_app

    client = current_app.test_client()
    resp = client.post(
        "/api/messages/send",
        json={"number": "5511988887777", "body": "Oi"},
        headers={"Authorization": f"Bearer {token_conn.token}"},
    )
    assert resp.status_code == 402


def test_overdue_pauses_a_campaign_until_paid(overdue, app):
    from tests.services.campaigns.test_dispatch import FakeClock, make_list, numbers
    from whaticket.jobs import campaigns as campaign_jobs
    from whaticket.services.campaigns import campaign_settings, campaigns

    app.config["CAMPAIGN_CLOCK"] = FakeClock(utcnow())
    app.config["CAMPAIGN_DISPATCHERS"] = 1
    conn = factories.WhatsappFactory(company=overdue, provider="fake", status="CONNECTED")
    fake.clear_outbox(conn.id)
    campaign_settings.save_settings(overdue.id, {"messageInterval": 0, "greaterInterval": 0})
    campaign = campaigns.create_campaign(
        overdue.id,
        {
            "name": "Cobrança",
            "contact_list_id": make_list(overdue, numbers(2)).id,
            "whatsapp_id": conn.id,
            "message1": "Oi",
        },
    )
    dbmod.commit()
    campaigns.restart_campaign(overdue.id, campaign.id)
    dbmod.commit()
    db.session.expire_all()
    assert campaign.paused_reason == "ERR_SUBSCRIPTION_EXPIRED"
    assert fake.read_outbox(conn.id) == []

    overdue.due_date = utcnow() + timedelta(days=30)  # paid
    db.session.commit()
    assert campaign_jobs.watchdog() == 1
    assert len(fake.read_outbox(conn.id)) == 2


def test_an_overdue_company_pays_and_is_unblocked_at_once(
    payer, client, prefix, auth, admin, overdue
):
    """The acceptance path: 402 on tickets, 200 on invoices, pay with the fake provider."""
    from whaticket.services.billing.invoices import generate_invoices

    assert client.get(f"{prefix}/tickets", headers=auth(admin)).status_code == 402
    generate_invoices(utcnow())
    dbmod.commit()
    invoices = client.get(f"{prefix}/invoices/all", headers=auth(admin))
    assert invoices.status_code == 200
    [invoice] = invoices.get_json()
    assert invoice["status"] == "open"

    charge = client.post(
        f"{prefix}/subscription", json={"invoiceId": invoice["id"]}, headers=auth(admin)
    )
    assert charge.status_code == 200, charge.get_json()
    paid = client.post(
        f"{prefix}/subscription/webhook/fake",
        json={"txid": charge.get_json()["txid"]},
        headers=payer,
    )
    assert paid.status_code == 200

    assert client.get(f"{prefix}/tickets", headers=auth(admin)).status_code == 200
    db.session.expire_all()
    assert overdue.due_date > utcnow()
