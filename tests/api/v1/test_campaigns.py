"""`/v1/campaigns` (`campaigns:write`): the feed, one campaign with its delivery counts,
create from a contact list, pause, resume and cancel, through the admins' campaign
services; connection limits, other companies (404), bad input (400 with fields, nothing
made) and the plan's campaigns flag (403)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tests import factories
from tests.api.v1.conftest import bearer
from tests.services.campaigns.test_dispatch import FakeClock, make_list, numbers, set_pacing
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs import campaigns as campaign_jobs
from whaticket.models import Campaign, Plan
from whaticket.services.campaigns import campaigns as campaign_service
from whaticket.services.connections import fake_whatsapp as fake

BASE = "/v1/campaigns"
SCOPE = "campaigns:write"


@pytest.fixture
def campaign_clock(app) -> FakeClock:
    clk = FakeClock()
    app.config["CAMPAIGN_CLOCK"] = clk
    app.config["CAMPAIGN_DISPATCHERS"] = 1
    return clk


@pytest.fixture
def contact_list(company):
    return make_list(company, numbers(3))


def _body(conn, contact_list, **extra) -> dict:
    return {
        "name": "Natal",
        "contactListId": contact_list.id,
        "whatsappId": conn.id,
        "messages": ["Feliz Natal, {nome}!", "Boas festas, {nome}!"],
        **extra,
    }


def _texts(conn) -> list[dict]:
    return [e for e in fake.read_outbox(conn.id) if e["type"] == "text"]


def _fresh(campaign_id: int) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


def test_create_read_and_resume_sends_each_contact_once(
    client, prefix, token, company, conn, contact_list, campaign_clock
):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    headers = bearer(token(SCOPE))
    resp = client.post(f"{prefix}{BASE}", json=_body(conn, contact_list), headers=headers)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert (
        created["status"] == "INATIVA"
        and created["messages"] == _body(conn, contact_list)["messages"]
    )
    assert created["report"]["planned"] == 3 and created["report"]["sent"] == 0
    assert _texts(conn) == []
    feed = client.get(f"{prefix}{BASE}", headers=headers).get_json()
    assert [c["id"] for c in feed["campaigns"]] == [created["id"]] and not feed["hasMore"]
    resp = client.post(f"{prefix}{BASE}/{created['id']}/resume", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    sent = _texts(conn)
    assert len(sent) == 3 and max(Counter(e["to"] for e in sent).values()) == 1
    shown = client.get(f"{prefix}{BASE}/{created['id']}", headers=headers).get_json()
    assert shown["status"] == "FINALIZADA"
    assert (shown["report"]["sent"], shown["report"]["pending"]) == (3, 0)
    # Finished: resuming again is refused and sends nothing more.
    again = client.post(f"{prefix}{BASE}/{created['id']}/resume", headers=headers)
    assert (again.status_code, again.get_json()) == (400, {"error": "ERR_CAMPAIGN_NOT_STARTABLE"})
    assert len(_texts(conn)) == 3


def test_a_scheduled_campaign_waits_and_can_be_cancelled(
    client, prefix, token, conn, contact_list, campaign_clock
):
    headers = bearer(token(SCOPE))
    body = _body(conn, contact_list, scheduledAt="2099-01-01T10:00:00Z")
    created = client.post(f"{prefix}{BASE}", json=body, headers=headers).get_json()
    assert created["status"] == "PROGRAMADA" and created["scheduledAt"].startswith("2099-01-01")
    resp = client.post(f"{prefix}{BASE}/{created['id']}/cancel", headers=headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "CANCELADA"
    again = client.post(f"{prefix}{BASE}/{created['id']}/cancel", headers=headers)
    assert (again.status_code, again.get_json()) == (400, {"error": "ERR_CAMPAIGN_NOT_RUNNING"})
    assert _texts(conn) == []


def test_pause_stops_sending_until_resumed_and_the_watchdog_leaves_it(
    client, prefix, token, company, conn, campaign_clock
):
    set_pacing(company, messageInterval=2, longerIntervalAfter=0, greaterInterval=0)
    headers = bearer(token(SCOPE))
    body = _body(conn, make_list(company, numbers(10)))
    campaign_id = client.post(f"{prefix}{BASE}", json=body, headers=headers).get_json()["id"]
    paused = client.post(f"{prefix}{BASE}/{campaign_id}/pause", headers=headers)
    assert (paused.status_code, paused.get_json()) == (400, {"error": "ERR_CAMPAIGN_NOT_RUNNING"})

    def pause_after_four(sleeps: int) -> None:
        if sleeps == 4:  # as the pause route does, while the dispatcher waits for a slot
            campaign_service.pause_campaign(company.id, campaign_id)
            dbmod.commit()

    campaign_clock.on_sleep = pause_after_four
    client.post(f"{prefix}{BASE}/{campaign_id}/resume", headers=headers)
    campaign_clock.on_sleep = None
    shown = client.get(f"{prefix}{BASE}/{campaign_id}", headers=headers).get_json()
    assert (shown["status"], shown["pausedReason"]) == ("EM_ANDAMENTO", "PAUSED")
    sent = len(_texts(conn))
    assert 0 < sent < 10 and shown["report"]["sent"] == sent
    # The watchdog revives stalled campaigns and lifts pauses that lift by themselves; not this.
    campaign_clock.current += timedelta(hours=1)  # long past any heartbeat
    assert campaign_jobs.watchdog() == 0
    assert len(_texts(conn)) == sent and _fresh(campaign_id).paused_reason == "PAUSED"
    # Pausing a paused campaign changes nothing; resuming sends the rest, each once.
    again = client.post(f"{prefix}{BASE}/{campaign_id}/pause", headers=headers)
    assert again.status_code == 200 and again.get_json()["pausedReason"] == "PAUSED"
    resumed = client.post(f"{prefix}{BASE}/{campaign_id}/resume", headers=headers)
    assert resumed.status_code == 200
    texts = _texts(conn)
    assert len(texts) == 10 and max(Counter(e["to"] for e in texts).values()) == 1
    assert _fresh(campaign_id).status == "FINALIZADA"


def test_the_pause_route_pauses_a_running_campaign(client, prefix, token, company, conn):
    campaign = Campaign(
        company_id=company.id, name="Natal", status="EM_ANDAMENTO", whatsapp_id=conn.id
    )
    db.session.add(campaign)
    db.session.commit()
    resp = client.post(f"{prefix}{BASE}/{campaign.id}/pause", headers=bearer(token(SCOPE)))
    assert resp.status_code == 200
    assert (resp.get_json()["status"], resp.get_json()["pausedReason"]) == (
        "EM_ANDAMENTO",
        "PAUSED",
    )
    assert _fresh(campaign.id).paused_reason == "PAUSED"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"messages": []}, "messages"),
        ({"messages": ["a"] * 6}, "messages"),
        ({"messages": ["   "]}, "messages"),
        ({"messages": None}, "messages"),
        ({"name": "ab"}, "name"),
        ({"contactListId": None}, "contactListId"),
        ({"whatsappId": "x"}, "whatsappId"),
        ({"scheduledAt": "tomorrow-ish"}, "scheduledAt"),
        ({"confirmation": True}, "confirmationMessages"),
        ({"contactListId": 999999}, "contactListId"),
    ],
)
def test_bad_input_is_400_with_its_field_and_creates_nothing(
    client, prefix, token, conn, contact_list, change, field
):
    body = {**_body(conn, contact_list), **change}
    resp = client.post(f"{prefix}{BASE}", json=body, headers=bearer(token(SCOPE)))
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"] == "ERR_VALIDATION" and field in resp.get_json()["fields"]
    assert db.session.query(Campaign).count() == 0


def test_another_companys_campaigns_are_404_and_never_listed(
    client, prefix, token, company, conn, contact_list, other_company
):
    created = campaign_service.create_campaign(
        company.id,
        {
            "name": "Natal",
            "contact_list_id": contact_list.id,
            "whatsapp_id": conn.id,
            "message1": "Oi",
        },
    )
    dbmod.commit()
    other_conn = factories.WhatsappFactory(company=other_company, provider="fake")
    headers = bearer(
        token(SCOPE, company=other_company, creator=factories.AdminFactory(company=other_company))
    )
    for method, path in [
        ("get", f"{BASE}/{created.id}"),
        ("post", f"{BASE}/{created.id}/pause"),
        ("post", f"{BASE}/{created.id}/resume"),
        ("post", f"{BASE}/{created.id}/cancel"),
    ]:
        resp = getattr(client, method)(f"{prefix}{path}", headers=headers)
        assert (resp.status_code, resp.get_json()) == (404, {"error": "ERR_NO_CAMPAIGN_FOUND"}), (
            path
        )
    assert client.get(f"{prefix}{BASE}", headers=headers).get_json()["campaigns"] == []
    # Nor can it send with this company's list or connection.
    body = {**_body(other_conn, contact_list)}
    resp = client.post(f"{prefix}{BASE}", json=body, headers=headers)
    assert resp.status_code == 400 and "contactListId" in resp.get_json()["fields"]
    body = {**_body(conn, make_list(other_company, numbers(2, "55218")))}
    resp = client.post(f"{prefix}{BASE}", json=body, headers=headers)
    assert resp.status_code == 400 and "whatsappId" in resp.get_json()["fields"]
    assert _fresh(created.id).status == "INATIVA" and db.session.query(Campaign).count() == 1


def test_a_connection_limited_token_works_on_its_connections_only(
    client, prefix, token, company, conn, contact_list
):
    other_conn = factories.WhatsappFactory(company=company, provider="fake")
    theirs = campaign_service.create_campaign(
        company.id,
        {
            "name": "Outra",
            "contact_list_id": contact_list.id,
            "whatsapp_id": other_conn.id,
            "message1": "Oi",
        },
    )
    dbmod.commit()
    headers = bearer(token(SCOPE, whatsapp_ids=[conn.id]))
    assert client.get(f"{prefix}{BASE}/{theirs.id}", headers=headers).status_code == 404
    assert client.post(f"{prefix}{BASE}/{theirs.id}/resume", headers=headers).status_code == 404
    resp = client.post(f"{prefix}{BASE}", json=_body(other_conn, contact_list), headers=headers)
    assert resp.status_code == 400 and "whatsappId" in resp.get_json()["fields"]
    mine = client.post(f"{prefix}{BASE}", json=_body(conn, contact_list), headers=headers)
    assert mine.status_code == 201
    listed = client.get(f"{prefix}{BASE}", headers=headers).get_json()["campaigns"]
    assert [c["id"] for c in listed] == [mine.get_json()["id"]]


def test_the_scope_is_never_held_with_queue_limits(client, prefix, auth, admin, company):
    queue = factories.QueueFactory(company=company)
    body = {"name": "Campanhas", "scopes": [SCOPE], "queueIds": [queue.id]}
    resp = client.post(f"{prefix}/api-tokens", json=body, headers=auth(admin))
    assert resp.status_code == 400 and "scopes" in resp.get_json()["fields"]


def test_without_campaigns_in_the_plan_every_route_is_403(
    client, prefix, token, company, conn, contact_list
):
    created = campaign_service.create_campaign(
        company.id,
        {
            "name": "Natal",
            "contact_list_id": contact_list.id,
            "whatsapp_id": conn.id,
            "message1": "Oi",
        },
    )
    dbmod.commit()
    headers = bearer(token(SCOPE))
    plan = db.session.get(Plan, company.plan_id)
    plan.use_campaigns = False
    db.session.commit()
    for method, path, body in [
        ("get", BASE, None),
        ("post", BASE, _body(conn, contact_list)),
        ("get", f"{BASE}/{created.id}", None),
        ("post", f"{BASE}/{created.id}/pause", None),
        ("post", f"{BASE}/{created.id}/resume", None),
        ("post", f"{BASE}/{created.id}/cancel", None),
    ]:
        resp = getattr(client, method)(f"{prefix}{path}", json=body, headers=headers)
        assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_PLAN_FEATURE_DISABLED"})
    assert db.session.query(Campaign).count() == 1 and _fresh(created.id).status == "INATIVA"
