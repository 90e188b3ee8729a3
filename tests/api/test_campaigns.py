"""`/campaigns` and `/campaign-settings`: CRUD, status rules, report, roles and tenants."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.services.campaigns.test_dispatch import FakeClock, make_list, numbers
from whaticket.extensions import db
from whaticket.models import Campaign, CampaignSetting
from whaticket.services.connections import fake_whatsapp as fake

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _clock(app):
    app.config["CAMPAIGN_CLOCK"] = FakeClock()
    app.config["CAMPAIGN_DISPATCHERS"] = 1


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    fake.clear_outbox(conn.id)
    return conn


@pytest.fixture
def contact_list(company):
    return make_list(company, numbers(3))


def _payload(conn, contact_list, **extra):
    body = {
        "name": "Natal",
        "contactListId": contact_list.id,
        "whatsappId": conn.id,
        "message1": "Feliz Natal, {nome}!",
        "confirmation": False,
        "tagListId": "Nenhuma",
    }
    body.update(extra)
    return body


def _create(client, prefix, auth, user, body):
    return client.post(f"{prefix}/campaigns", json=body, headers=auth(user))


def test_create_list_show_update_delete(client, prefix, auth, admin, conn, contact_list):
    resp = _create(client, prefix, auth, admin, _payload(conn, contact_list))
    assert resp.status_code == 200, resp.get_json()
    created = resp.get_json()
    assert created["status"] == "INATIVA"
    assert created["contactList"] == {"id": contact_list.id, "name": contact_list.name}
    assert created["whatsapp"]["id"] == conn.id

    page = client.get(f"{prefix}/campaigns", headers=auth(admin)).get_json()
    assert page["count"] == 1 and page["records"][0]["id"] == created["id"]
    shown = client.get(f"{prefix}/campaigns/{created['id']}", headers=auth(admin)).get_json()
    assert shown["report"]["planned"] == 3 and shown["report"]["sent"] == 0

    at = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    resp = client.put(
        f"{prefix}/campaigns/{created['id']}",
        json={"scheduledAt": at.isoformat(), "message2": "Boas festas"},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "PROGRAMADA"
    assert resp.get_json()["message2"] == "Boas festas"

    assert (
        client.delete(f"{prefix}/campaigns/{created['id']}", headers=auth(admin)).status_code == 200
    )
    assert db.session.query(Campaign).count() == 0


def test_bad_input_is_400_and_changes_nothing(
    client, prefix, auth, admin, conn, contact_list, other_company
):
    other_list = make_list(other_company, numbers(1, prefix="55219"))
    for body, field in (
        ({**_payload(conn, contact_list), "name": "ab"}, "name"),
        ({**_payload(conn, contact_list), "contactListId": other_list.id}, "contactListId"),
        ({**_payload(conn, contact_list), "scheduledAt": "amanhã"}, "scheduledAt"),
        ({**_payload(conn, contact_list), "tagListId": "vip"}, "tagListId"),
        (
            {**_payload(conn, contact_list), "message1": "", "scheduledAt": "2030-01-01T10:00:00Z"},
            "message1",
        ),
    ):
        resp = _create(client, prefix, auth, admin, body)
        assert resp.status_code == 400, body
        assert resp.get_json()["error"] == "ERR_VALIDATION" and field in resp.get_json()["fields"]
    assert db.session.query(Campaign).count() == 0


def test_restart_sends_and_report(client, prefix, auth, admin, conn, contact_list):
    campaign_id = _create(client, prefix, auth, admin, _payload(conn, contact_list)).get_json()[
        "id"
    ]
    resp = client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    assert resp.status_code == 204
    report = client.get(f"{prefix}/campaigns/{campaign_id}/report", headers=auth(admin)).get_json()
    assert report["sent"] == 3 and report["failed"] == 0 and report["pending"] == 0
    rows = client.get(
        f"{prefix}/campaigns/{campaign_id}/shipping?status=sent", headers=auth(admin)
    ).get_json()
    assert rows["count"] == 3 and rows["records"][0]["message"].startswith("Feliz Natal, Cliente")
    # Finished: no more edits, and a second restart does not resend.
    assert (
        client.put(
            f"{prefix}/campaigns/{campaign_id}", json={"name": "Outro"}, headers=auth(admin)
        ).status_code
        == 400
    )
    client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    assert len([e for e in fake.read_outbox(conn.id) if e["type"] == "text"]) == 3


def test_running_campaign_cannot_be_edited_or_deleted(
    client, prefix, auth, admin, conn, contact_list
):
    campaign_id = _create(client, prefix, auth, admin, _payload(conn, contact_list)).get_json()[
        "id"
    ]
    campaign = db.session.get(Campaign, campaign_id)
    campaign.status = "EM_ANDAMENTO"
    db.session.commit()
    resp = client.put(
        f"{prefix}/campaigns/{campaign_id}", json={"name": "Outro"}, headers=auth(admin)
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_CAMPAIGN_NOT_EDITABLE"
    resp = client.delete(f"{prefix}/campaigns/{campaign_id}", headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_CAMPAIGN_RUNNING"
    assert (
        client.post(f"{prefix}/campaigns/{campaign_id}/cancel", headers=auth(admin)).status_code
        == 204
    )
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).status == "CANCELADA"
    resp = client.post(f"{prefix}/campaigns/{campaign_id}/cancel", headers=auth(admin))
    assert resp.status_code == 400


def test_media_upload(client, prefix, auth, admin, conn, contact_list):
    campaign_id = _create(client, prefix, auth, admin, _payload(conn, contact_list)).get_json()[
        "id"
    ]
    resp = client.post(
        f"{prefix}/campaigns/{campaign_id}/media-upload",
        data={"file": (io.BytesIO(PNG), "promo.png", "image/png")},
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_json()
    assert (
        resp.get_json()["mediaName"] == "promo.png" and "/public/" in resp.get_json()["mediaPath"]
    )
    client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    sends = [e for e in fake.read_outbox(conn.id) if e["type"] != "read"]
    assert len(sends) == 3 and all(e["type"] == "image" for e in sends)
    assert sends[0]["body"].startswith("Feliz Natal")
    resp = client.delete(f"{prefix}/campaigns/{campaign_id}/media-upload", headers=auth(admin))
    assert resp.status_code == 400  # finished campaigns are not edited


def test_events_reach_the_company_only(
    client, prefix, auth, admin, other_admin, conn, contact_list, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    _create(client, prefix, auth, admin, _payload(conn, contact_list))
    names = [e["name"] for e in mine.get_received()]
    assert f"company-{admin.company_id}-campaign" in names
    assert not [e for e in theirs.get_received() if "campaign" in e["name"]]


def test_another_company_gets_404(client, prefix, auth, admin, other_admin, conn, contact_list):
    campaign_id = _create(client, prefix, auth, admin, _payload(conn, contact_list)).get_json()[
        "id"
    ]
    headers = auth(other_admin)
    base = f"{prefix}/campaigns/{campaign_id}"
    assert client.get(base, headers=headers).status_code == 404
    assert client.get(f"{base}/report", headers=headers).status_code == 404
    assert client.get(f"{base}/shipping", headers=headers).status_code == 404
    assert client.put(base, json={"name": "Roubo"}, headers=headers).status_code == 404
    assert client.post(f"{base}/cancel", headers=headers).status_code == 404
    assert client.post(f"{base}/restart", headers=headers).status_code == 404
    assert client.delete(f"{base}/media-upload", headers=headers).status_code == 404
    assert client.delete(base, headers=headers).status_code == 404
    assert client.get(f"{prefix}/campaigns", headers=headers).get_json()["count"] == 0
    assert client.get(f"{prefix}/campaigns/list", headers=headers).get_json() == []
    assert client.get(f"{prefix}/campaigns").status_code == 401


def test_campaign_settings(client, prefix, auth, admin, agent, other_admin):
    body = {
        "settings": {
            "messageInterval": 5,
            "longerIntervalAfter": 10,
            "greaterInterval": 30,
            "variables": [{"key": "cupom", "value": "NATAL"}],
            "dailyCap": 500,
            "quietHours": {"start": "21:00", "end": "08:00"},
        }
    }
    resp = client.post(f"{prefix}/campaign-settings", json=body, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    stored = {row["key"]: row["value"] for row in resp.get_json()}
    assert stored["messageInterval"] == "5.0" or stored["messageInterval"] == "5"
    assert stored["variables"] == '[{"key": "cupom", "value": "NATAL"}]'
    mine = client.get(f"{prefix}/campaign-settings", headers=auth(agent)).get_json()
    assert len(mine) == 6
    assert client.get(f"{prefix}/campaign-settings", headers=auth(other_admin)).get_json() == []
    assert (
        client.post(f"{prefix}/campaign-settings", json=body, headers=auth(agent)).status_code
        == 403
    )

    for bad in (
        {"messageInterval": -1},
        {"quietHours": {"start": "25:00", "end": "08:00"}},
        {"variables": [{"key": "a b"}]},
    ):
        resp = client.post(
            f"{prefix}/campaign-settings", json={"settings": bad}, headers=auth(admin)
        )
        assert resp.status_code == 400, bad
    assert db.session.query(CampaignSetting).count() == 6
