"""flask import-whaticket for contact lists, campaigns, their shipping and schedules: row by
row, then against our own runners: nothing sends by itself, a resumed campaign never sends
a delivered contact again, and our scheduler sends the waiting schedules at their time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.importer import test_import as base
from tests.importer.old_rows_campaigns import PROMO
from tests.importer.test_import import new_id, run
from tests.services.campaigns.test_dispatch import FakeClock
from whaticket import db as dbmod
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.importer.schedules import OVERDUE
from whaticket.jobs import campaigns as campaign_jobs
from whaticket.models import (
    Campaign,
    CampaignSetting,
    CampaignShipping,
    Contact,
    ContactList,
    ContactListItem,
    Schedule,
    Ticket,
    User,
)
from whaticket.services.campaigns import campaign_settings
from whaticket.services.campaigns import campaigns as campaign_service
from whaticket.services.campaigns.schedule_delivery import due_ids
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.platform import media as media_service

# The old databases and the old public folder of the base import tests.
old_url, sqlite_url, public = base.old_url, base.sqlite_url, base.public

JOAO, MARIA, PEDRO = "5511987654321", "5521998765432", "5531977776666"


def _shipping(url: str, campaign_old_id: int) -> dict[str, CampaignShipping]:
    rows = db.session.scalars(
        sa.select(CampaignShipping).where(
            CampaignShipping.campaign_id == new_id(url, "Campaigns", campaign_old_id)
        )
    )
    return {s.number: s for s in rows}


def _counts() -> dict[str, int]:
    return {
        m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (ContactList, ContactListItem, Campaign, CampaignShipping, Schedule)
    }


def _old(url: str):
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    return engine, meta


def test_campaigns_row_by_row(app, old_url, public):
    report = run(old_url, public)
    db.session.expire_all()
    acme = new_id(old_url, "Companies", 3)

    lists = db.session.scalars(sa.select(ContactList)).all()
    assert [(c.company_id, c.name) for c in lists] == [(acme, "Clientes")]
    assert new_id(old_url, "ContactLists", 2) == lists[0].id  # same name: merged
    assert new_id(old_url, "ContactLists", 3) is None  # orphan
    items = {
        i.number: (i.name, i.is_whatsapp_valid, i.company_id)
        for i in db.session.scalars(sa.select(ContactListItem))
    }
    assert items == {
        JOAO: ("João", True, acme),
        MARIA: ("Maria", True, acme),
        PEDRO: ("Pedro", None, acme),
        "5511933334444": ("Not on WhatsApp", False, acme),
    }
    # The ninth-digit variant in the merged list is João's item.
    assert new_id(old_url, "ContactListItems", 3) == new_id(old_url, "ContactListItems", 1)

    settings = dict(db.session.execute(sa.select(CampaignSetting.key, CampaignSetting.value)).all())
    assert settings == {"messageInterval": "30", "variables": '[{"key":"loja","value":"Centro"}]'}

    natal, black, pascoa, cancelled = (
        db.session.get(Campaign, new_id(old_url, "Campaigns", n)) for n in (1, 2, 3, 5)
    )
    assert (natal.status, natal.confirmation, natal.confirmation_message1) == (
        "FINALIZADA",
        True,
        "Posso enviar?",
    )
    assert natal.completed_at == datetime(2024, 1, 11, 12, tzinfo=UTC)
    assert natal.contact_list_id == lists[0].id and natal.whatsapp_id == new_id(
        old_url, "Whatsapps", 2
    )
    assert (black.status, black.paused_reason) == ("EM_ANDAMENTO", campaign_service.MANUAL_PAUSE)
    assert black.media_path.startswith("imported/campaigns/") and black.media_name == "promo.jpg"
    path = media_service.company_root(acme) / black.media_path
    assert path.read_bytes() == PROMO
    assert (pascoa.status, pascoa.scheduled_at) == (
        "INATIVA",
        datetime(2024, 1, 20, 12, tzinfo=UTC),
    )
    assert (cancelled.status, cancelled.contact_list_id) == ("CANCELADA", None)
    assert new_id(old_url, "Campaigns", 4) is None  # orphan

    sent = _shipping(old_url, 2)
    assert set(sent) == {JOAO, MARIA}
    assert (sent[JOAO].status, sent[JOAO].delivered_at) == (
        "sent",
        datetime(2024, 1, 10, 13, tzinfo=UTC),
    )
    assert sent[JOAO].contact_id == new_id(old_url, "ContactListItems", 1)
    assert (sent[MARIA].status, sent[MARIA].message, sent[MARIA].name) == (
        "pending",
        "Oferta Maria",
        "Maria",
    )
    assert new_id(old_url, "CampaignShipping", 2) == sent[JOAO].id  # same number: merged
    asked = _shipping(old_url, 1)
    assert (asked[JOAO].status, asked[JOAO].confirmation) == ("sent", True)
    assert (asked[PEDRO].status, asked[PEDRO].confirmation) == ("asked", None)
    assert asked[PEDRO].confirmation_requested_at == datetime(2024, 1, 10, 13, tzinfo=UTC)

    joao = new_id(old_url, "Contacts", 100)
    s1, s2, s3, s5 = (
        db.session.get(Schedule, new_id(old_url, "Schedules", n)) for n in (1, 2, 3, 5)
    )
    alice = db.session.scalar(sa.select(User.id).where(User.email == "alice@acme.com"))
    assert (s1.status, s1.contact_id, s1.user_id, s1.body) == ("PENDENTE", joao, alice, "Lembrete")
    assert s1.ticket_id == new_id(old_url, "Tickets", 200) and s1.send_at > utcnow()
    assert (s2.status, s2.sent_at) == ("ENVIADA", datetime(2024, 1, 8, 12, tzinfo=UTC))
    assert (s3.status, s3.error, s3.sent_at) == ("ERRO", OVERDUE, None)
    # Merged contact and ticket followed; the orphan user is dropped; AGENDADA waits again.
    assert (s5.status, s5.contact_id, s5.user_id) == ("PENDENTE", joao, None)
    assert s5.ticket_id == db.session.get(Ticket, s1.ticket_id).id
    assert new_id(old_url, "Schedules", 4) is None

    tables = report.as_dict()["tables"]
    assert {k: tables["ContactListItems"][k] for k in ("written", "merged", "skipped")} == {
        "written": 4,
        "merged": 1,
        "skipped": 2,
    }
    reasons = {(r["action"], r["reason"]) for r in tables["CampaignShipping"]["reasons"]}
    assert ("merged", "same number twice in the campaign") in reasons
    assert ("skipped", "campaign missing (orphan)") in reasons
    notes = {r["reason"] for r in tables["Campaigns"]["reasons"]}
    assert {"was running: imported paused", "was scheduled: imported inactive"} <= notes
    assert tables["Schedules"]["written"] == 4 and tables["Schedules"]["skipped"] == 1
    assert not {"Campaigns", "Schedules", "ContactLists"} & set(report.as_dict()["not_imported"])


def test_imported_campaigns_wait_for_an_admin_and_never_resend(app, sqlite_url, public):
    """Our runners leave imported campaigns alone; a restart sends only what was not sent."""
    run(sqlite_url, public)
    app.config["CAMPAIGN_CLOCK"] = FakeClock(utcnow())
    app.config["CAMPAIGN_DISPATCHERS"] = 1
    black_id = new_id(sqlite_url, "Campaigns", 2)
    black = db.session.get(Campaign, black_id)
    conn_id = black.whatsapp_id
    fake.clear_outbox(conn_id)

    # What the worker's cron runs: neither starts nor revives an imported campaign.
    assert campaign_jobs.start_due_campaigns() == 0
    assert campaign_jobs.watchdog() == 0
    dbmod.commit()
    db.session.expire_all()
    statuses = dict(db.session.execute(sa.select(Campaign.id, Campaign.status)).all())
    assert statuses[new_id(sqlite_url, "Campaigns", 3)] == "INATIVA"
    assert statuses[black_id] == "EM_ANDAMENTO" and fake.read_outbox(conn_id) == []
    assert _shipping(sqlite_url, 2)[MARIA].status == "pending"

    # An admin resumes it: Maria (pending) and Pedro (new in the list) get it, João not again.
    campaign_settings.save_settings(
        black.company_id, {"messageInterval": 0, "greaterInterval": 0, "longerIntervalAfter": 0}
    )
    campaign_service.restart_campaign(black.company_id, black_id)
    dbmod.commit()
    db.session.expire_all()
    sent_to = sorted(e["to"] for e in fake.read_outbox(conn_id) if e["type"] != "read")
    assert sent_to == [MARIA, PEDRO]
    rows = _shipping(sqlite_url, 2)
    assert {n: r.status for n, r in rows.items()} == {JOAO: "sent", MARIA: "sent", PEDRO: "sent"}
    assert rows[JOAO].delivered_at == datetime(2024, 1, 10, 13, tzinfo=UTC)
    assert db.session.get(Campaign, black_id).status == "FINALIZADA"


def test_schedules_follow_our_scheduler(app, sqlite_url, public):
    """The sweep's selection: nothing imported is due now; the waiting ones when their time
    comes; the sent and the overdue ones never."""
    run(sqlite_url, public)
    ids = {n: new_id(sqlite_url, "Schedules", n) for n in (1, 2, 3, 5)}
    assert not set(due_ids(utcnow())) & set(ids.values())
    later = set(due_ids(utcnow() + timedelta(days=2)))
    assert later & set(ids.values()) == {ids[1], ids[5]}


def test_second_run_and_since_pass(app, sqlite_url, public):
    run(sqlite_url, public)
    before = _counts()
    again = run(sqlite_url, public)
    assert (
        _counts()
        == before
        == {
            "contact_lists": 1,
            "contact_list_items": 4,
            "campaigns": 4,
            "campaign_shipping": 4,
            "schedules": 4,
        }
    )
    for table in ("ContactListItems", "Campaigns", "CampaignShipping", "Schedules"):
        counted = again.counts[table]
        assert counted["unchanged"] == counted["read"] and counted["written"] == 0
    # Ours sent schedule 5 meanwhile; the old system then sent schedule 1, delivered
    # Maria's row and renamed a campaign; a number joined the list.
    s5 = db.session.get(Schedule, new_id(sqlite_url, "Schedules", 5))
    s5.status, s5.sent_at = "ENVIADA", utcnow()
    dbmod.commit()
    later = datetime(2024, 2, 1)
    engine, meta = _old(sqlite_url)
    with engine.begin() as conn:
        sched, ship = meta.tables["Schedules"], meta.tables["CampaignShipping"]
        camps, items = meta.tables["Campaigns"], meta.tables["ContactListItems"]
        conn.execute(
            sched.update()
            .where(sched.c.id == 1)
            .values(sentAt=later, status="ENVIADA")
            .values(updatedAt=later)
        )
        conn.execute(sched.update().where(sched.c.id == 5).values(body="edited", updatedAt=later))
        conn.execute(ship.update().where(ship.c.id == 3).values(deliveredAt=later, updatedAt=later))
        conn.execute(camps.update().where(camps.c.id == 3).values(name="Páscoa 2", updatedAt=later))
        conn.execute(
            items.insert().values(
                id=8,
                contactListId=1,
                name="Ana",
                number="5541988887777",
                email="",
                companyId=3,
                createdAt=later,
                updatedAt=later,
            )
        )
    engine.dispose()
    report = run(sqlite_url, public, since=datetime(2024, 1, 20, tzinfo=UTC))
    db.session.expire_all()
    assert report.counts["Schedules"]["read"] == 2 and report.counts["Schedules"]["updated"] == 1
    assert db.session.get(Schedule, new_id(sqlite_url, "Schedules", 1)).status == "ENVIADA"
    assert db.session.get(Schedule, s5.id).body == "Amanhã"  # sent here: left as it is
    maria = _shipping(sqlite_url, 2)[MARIA]
    assert (maria.status, maria.delivered_at) == ("sent", datetime(2024, 2, 1, tzinfo=UTC))
    assert db.session.get(Campaign, new_id(sqlite_url, "Campaigns", 3)).name == "Páscoa 2"
    assert (
        db.session.scalar(
            sa.select(ContactListItem.name).where(ContactListItem.number == "5541988887777")
        )
        == "Ana"
    )


def test_dry_run_and_company_filter(app, sqlite_url, public):
    report = run(sqlite_url, public, dry_run=True)
    assert report.counts["Campaigns"]["written"] == 4 and report.counts["Schedules"]["written"] == 4
    for model in (ContactList, ContactListItem, Campaign, CampaignShipping, Schedule):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
    run(sqlite_url, public, company_ids=[4])
    for model in (ContactList, Campaign, CampaignShipping, CampaignSetting, Schedule, Contact):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
