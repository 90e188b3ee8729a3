"""Campaign form: `scheduledAt` ("YYYY-MM-DD HH:mm:ss", no offset) is the company's clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests import factories
from tests.services.campaigns.test_dispatch import FakeClock, make_list, numbers
from whaticket import jobs
from whaticket.extensions import db
from whaticket.jobs import campaigns as campaign_jobs
from whaticket.models import Campaign
from whaticket.services.connections import fake_whatsapp as fake

#: 04:39 in São Paulo (UTC-3) on Thursday 3 December 2026.
NOW = datetime(2026, 12, 3, 7, 39, tzinfo=UTC)
#: 14:00 in São Paulo that day.
START = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


@pytest.fixture
def clock(app, company) -> FakeClock:
    """Frozen app and campaign clocks; the company in São Paulo."""
    clk = FakeClock(NOW)
    app.config["FROZEN_NOW"] = NOW
    app.config["CAMPAIGN_CLOCK"] = clk
    app.config["CAMPAIGN_DISPATCHERS"] = 1
    company.timezone = "America/Sao_Paulo"
    db.session.commit()
    return clk


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    fake.clear_outbox(conn.id)
    return conn


def _form(conn, contact_list, scheduled_at: str | None) -> dict:
    """What src/components/CampaignModal posts: "" turned into null, scheduledAt formatted
    with moment(value).format("YYYY-MM-DD HH:mm:ss")."""
    return {
        "name": "Natal",
        "message1": "Feliz Natal, {nome}!",
        "message2": None,
        "message3": None,
        "message4": None,
        "message5": None,
        "confirmationMessage1": None,
        "confirmationMessage2": None,
        "confirmationMessage3": None,
        "confirmationMessage4": None,
        "confirmationMessage5": None,
        "status": "INATIVA",
        "confirmation": False,
        "scheduledAt": scheduled_at,
        "whatsappId": conn.id,
        "contactListId": contact_list.id,
        "tagListId": "Nenhuma",
        "companyId": conn.company_id,
    }


def _status(campaign_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id).status


def test_a_local_scheduled_at_starts_at_that_instant(clock, client, prefix, auth, admin, conn):
    """src/components/CampaignModal/index.js posts scheduledAt "2026-12-03 14:00:00" and reads
    it back with moment(value); src/pages/Campaigns/index.js shows status PROGRAMADA."""
    contact_list = make_list(admin.company, numbers(2))
    resp = client.post(
        f"{prefix}/campaigns",
        json=_form(conn, contact_list, "2026-12-03 14:00:00"),
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "PROGRAMADA"
    assert body["scheduledAt"] == "2026-12-03T17:00:00.000Z"
    shown = client.get(f"{prefix}/campaigns/{body['id']}", headers=auth(admin)).get_json()
    assert shown["scheduledAt"] == "2026-12-03T17:00:00.000Z"

    backend = jobs.get_backend()
    # 14:00Z (the old reading) passes: nothing starts three hours early.
    assert backend.run_due(datetime(2026, 12, 3, 14, 0, tzinfo=UTC)) == 0
    assert backend.run_due(datetime(2026, 12, 3, 16, 59, 59, tzinfo=UTC)) == 0
    assert _status(body["id"]) == "PROGRAMADA" and fake.read_outbox(conn.id) == []
    clock.current = START
    assert backend.run_due(START) >= 1
    assert _status(body["id"]) in ("EM_ANDAMENTO", "FINALIZADA")


def test_the_periodic_safety_net_uses_the_same_instant(clock, client, prefix, auth, admin, conn):
    """A lost start job: the sweep starts the campaign at 17:00Z, not at 14:00Z."""
    contact_list = make_list(admin.company, numbers(1))
    resp = client.post(
        f"{prefix}/campaigns",
        json=_form(conn, contact_list, "2026-12-03 14:00:00"),
        headers=auth(admin),
    )
    campaign_id = resp.get_json()["id"]
    jobs.get_backend().scheduled.clear()  # the armed job is lost
    clock.current = datetime(2026, 12, 3, 16, 59, tzinfo=UTC)
    assert campaign_jobs.start_due_campaigns() == 0
    assert _status(campaign_id) == "PROGRAMADA"
    clock.current = START
    assert campaign_jobs.start_due_campaigns() == 1
    assert _status(campaign_id) in ("EM_ANDAMENTO", "FINALIZADA")


def test_an_explicit_z_or_offset_is_honoured(clock, client, prefix, auth, admin, conn):
    """API clients that send an offset keep their instant."""
    contact_list = make_list(admin.company, numbers(1))
    for sent, answered in (
        ("2026-12-03T14:00:00Z", "2026-12-03T14:00:00.000Z"),
        ("2026-12-03T14:00:00+02:00", "2026-12-03T12:00:00.000Z"),
    ):
        resp = client.post(
            f"{prefix}/campaigns", json=_form(conn, contact_list, sent), headers=auth(admin)
        )
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["scheduledAt"] == answered
        client.delete(f"{prefix}/campaigns/{resp.get_json()['id']}", headers=auth(admin))


def test_editing_reads_the_new_local_time(clock, client, prefix, auth, admin, conn):
    """The modal PUTs every field back with scheduledAt reformatted as local text."""
    contact_list = make_list(admin.company, numbers(1))
    created = client.post(
        f"{prefix}/campaigns", json=_form(conn, contact_list, None), headers=auth(admin)
    ).get_json()
    assert created["status"] == "INATIVA" and created["scheduledAt"] is None
    resp = client.put(
        f"{prefix}/campaigns/{created['id']}",
        json=_form(conn, contact_list, "2026-12-24 09:30:00"),
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "PROGRAMADA"
    assert resp.get_json()["scheduledAt"] == "2026-12-24T12:30:00.000Z"
