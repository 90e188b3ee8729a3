"""Schedules screen: `sendAt` from a `datetime-local` input is the company's wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import jobs
from whaticket.extensions import db
from whaticket.models import Message, Schedule
from whaticket.services.connections import fake_whatsapp as fake

#: 04:39 in São Paulo (UTC-3, no DST since 2019) on 3 December 2026.
NOW = datetime(2026, 12, 3, 7, 39, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen(app, company):
    """A frozen clock, a company in São Paulo, no automatic fake acks."""
    app.config["FROZEN_NOW"] = NOW
    app.config["FAKE_GATEWAY_AUTO_ACKS"] = ""
    company.timezone = "America/Sao_Paulo"
    db.session.commit()


@pytest.fixture
def contact(company):
    return factories.ContactFactory(company=company, name="Maria", number="5511999990001")


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )
    fake.clear_outbox(conn.id)
    return conn


def _form(contact, user, send_at: str) -> dict:
    """What src/components/ScheduleModal posts: the form values plus userId."""
    return {
        "body": "Olá {{name}}, sua consulta é hoje.",
        "contactId": contact.id,
        "sendAt": send_at,
        "sentAt": "",
        "userId": user.id,
    }


def _stored(schedule_id: int) -> Schedule:
    db.session.expire_all()
    return db.session.get(Schedule, schedule_id)


def test_a_local_time_two_minutes_ahead_is_accepted_and_fires_then(
    client, prefix, auth, admin, contact, conn
):
    """src/components/ScheduleModal/index.js posts sendAt as "YYYY-MM-DDTHH:mm" (local) and
    reads it back with moment(data.sendAt); src/pages/Schedules/index.js places the event at
    new Date(schedule.sendAt)."""
    resp = client.post(
        f"{prefix}/schedules", json=_form(contact, admin, "2026-12-03T04:41"), headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    # 04:41 in São Paulo is 07:41 UTC, answered with its offset.
    assert body["sendAt"] == "2026-12-03T07:41:00.000Z"
    assert _stored(body["id"]).send_at == datetime(2026, 12, 3, 7, 41, tzinfo=UTC)
    shown = client.get(f"{prefix}/schedules/{body['id']}", headers=auth(admin)).get_json()
    assert shown["sendAt"] == "2026-12-03T07:41:00.000Z"

    backend = jobs.get_backend()
    assert backend.run_due(datetime(2026, 12, 3, 7, 40, 59, tzinfo=UTC)) == 0
    assert _stored(body["id"]).status == "PENDENTE" and fake.read_outbox(conn.id) == []
    assert backend.run_due(datetime(2026, 12, 3, 7, 41, tzinfo=UTC)) == 1
    assert _stored(body["id"]).status == "ENVIADA"
    assert [e["body"] for e in fake.read_outbox(conn.id)] == ["Olá Maria, sua consulta é hoje."]
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 1


def test_a_local_time_just_past_is_refused(client, prefix, auth, admin, contact):
    """src/components/ScheduleModal/index.js shows err.response.data.error for a past sendAt."""
    resp = client.post(
        f"{prefix}/schedules", json=_form(contact, admin, "2026-12-03T04:38"), headers=auth(admin)
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION" and "sendAt" in resp.get_json()["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Schedule.id))) == 0


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        # An explicit Z stays UTC: 07:41Z is 04:41 local, two minutes ahead.
        ("2026-12-03T07:41:00Z", datetime(2026, 12, 3, 7, 41, tzinfo=UTC)),
        ("2026-12-03T07:41:00.000Z", datetime(2026, 12, 3, 7, 41, tzinfo=UTC)),
        # An explicit offset is honoured, whatever the company's zone.
        ("2026-12-03T08:45:00+01:00", datetime(2026, 12, 3, 7, 45, tzinfo=UTC)),
        # Seconds without an offset are local too.
        ("2026-12-03T05:00:30", datetime(2026, 12, 3, 8, 0, 30, tzinfo=UTC)),
    ],
)
def test_explicit_offsets_are_honoured(client, prefix, auth, admin, contact, sent, stored):
    """Clients that send an offset (or Z) keep their meaning; only offset-less times are local."""
    resp = client.post(f"{prefix}/schedules", json=_form(contact, admin, sent), headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert _stored(resp.get_json()["id"]).send_at == stored


def test_an_explicit_z_in_the_past_is_refused(client, prefix, auth, admin, contact):
    """04:41Z is 01:41 in São Paulo: three hours ago, refused, not read as local."""
    resp = client.post(
        f"{prefix}/schedules",
        json=_form(contact, admin, "2026-12-03T04:41:00Z"),
        headers=auth(admin),
    )
    assert resp.status_code == 400 and "sendAt" in resp.get_json()["fields"]


def test_the_zone_is_the_callers_company(
    client, prefix, auth, admin, contact, other_company, other_admin
):
    """Each company's users type their own wall clock: the same text, two instants."""
    other_company.timezone = "Asia/Tokyo"  # UTC+9: 04:41 on the 4th is 19:41Z on the 3rd
    db.session.commit()
    theirs = factories.ContactFactory(company=other_company, number="5511999990002")
    resp = client.post(
        f"{prefix}/schedules",
        json=_form(theirs, other_admin, "2026-12-04T04:41"),
        headers=auth(other_admin),
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["sendAt"] == "2026-12-03T19:41:00.000Z"
    mine = client.post(
        f"{prefix}/schedules", json=_form(contact, admin, "2026-12-04T04:41"), headers=auth(admin)
    )
    assert mine.get_json()["sendAt"] == "2026-12-04T07:41:00.000Z"


def test_editing_reads_the_new_local_time_and_rearms(client, prefix, auth, admin, contact, conn):
    """src/components/ScheduleModal/index.js PUTs the whole record back with the edited
    sendAt ("YYYY-MM-DDTHH:mm") and the server's own fields (sentAt, contact, user...)."""
    created = client.post(
        f"{prefix}/schedules", json=_form(contact, admin, "2026-12-03T05:00"), headers=auth(admin)
    ).get_json()
    record = client.get(f"{prefix}/schedules/{created['id']}", headers=auth(admin)).get_json()
    resp = client.put(
        f"{prefix}/schedules/{created['id']}",
        json={**record, "sendAt": "2026-12-03T06:15", "userId": admin.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["sendAt"] == "2026-12-03T09:15:00.000Z"
    backend = jobs.get_backend()
    # The job armed for 08:00Z finds another time and sends nothing; the new one sends.
    backend.run_due(datetime(2026, 12, 3, 9, 14, tzinfo=UTC))
    assert fake.read_outbox(conn.id) == []
    assert backend.run_due(datetime(2026, 12, 3, 9, 15, tzinfo=UTC) + timedelta(seconds=1)) == 1
    assert len(fake.read_outbox(conn.id)) == 1
