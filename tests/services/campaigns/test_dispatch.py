"""Campaign sending with the fake provider: once per contact, paced, cancelled, resumed.

The dispatcher runs inline (the test job backend) with a clock the test controls, so the
pacing is checked on the stored send times without waiting on the wall clock.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import evolution as evolution_stubs
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.extensions import db
from whaticket.models import (
    Campaign,
    CampaignShipping,
    ContactList,
    ContactListItem,
    Message,
    Ticket,
)
from whaticket.services.campaigns import campaign_settings as settings_service
from whaticket.services.campaigns import campaigns, claims, shipping
from whaticket.services.campaigns import dispatch as campaign_dispatch
from whaticket.services.campaigns import report as campaign_report
from whaticket.services.connections import fake_whatsapp as fake
from whaticket.services.inbound.messages import handle_inbound
from whaticket.whatsapp.base import InboundMessage

evolution_stub = evolution_stubs.evolution_stub

#: Monday 2026-11-30 13:00 UTC = 10:00 in São Paulo.
T0 = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


class FakeClock:
    """A clock whose sleep moves time forward (and may run a hook, e.g. a cancel)."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[int], None] | None = None

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=max(seconds, 0))
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


@pytest.fixture
def clock(app):
    clk = FakeClock()
    app.config["CAMPAIGN_CLOCK"] = clk
    app.config["CAMPAIGN_DISPATCHERS"] = 1
    return clk


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    fake.clear_outbox(conn.id)
    return conn


def make_list(company, numbers: list[str]) -> ContactList:
    """A contact list with these numbers, named Cliente <i>."""
    contact_list = ContactList(company_id=company.id, name=f"Lista {len(numbers)}")
    db.session.add(contact_list)
    db.session.flush()
    db.session.add_all(
        ContactListItem(
            company_id=company.id,
            contact_list_id=contact_list.id,
            name=f"Cliente {i}",
            number=number,
            email=f"c{i}@example.com",
            is_whatsapp_valid=True,
        )
        for i, number in enumerate(numbers)
    )
    db.session.commit()
    return contact_list


def numbers(count: int, prefix: str = "55119") -> list[str]:
    return [f"{prefix}{i:08d}" for i in range(count)]


def make_campaign(company, conn, contact_list, **fields) -> Campaign:
    data = {
        "name": "Black Friday",
        "contact_list_id": contact_list.id,
        "whatsapp_id": conn.id,
        "message1": "Olá {nome}!",
    }
    data.update(fields)
    campaign = campaigns.create_campaign(company.id, data)
    dbmod.commit()
    return campaign


def set_pacing(company, **values) -> None:
    settings_service.save_settings(company.id, values)
    dbmod.commit()


def start(company, campaign) -> None:
    campaigns.restart_campaign(company.id, campaign.id)
    dbmod.commit()  # the dispatchers run (inline) once this commits


def texts(conn) -> list[dict]:
    return [e for e in fake.read_outbox(conn.id) if e["type"] == "text"]


def refreshed(campaign) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign.id)


def test_fifty_contacts_interval_zero_each_once(company, conn, clock):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    campaign = make_campaign(company, conn, make_list(company, numbers(50)))

    start(company, campaign)

    sent = texts(conn)
    assert len(sent) == 50
    assert Counter(e["to"] for e in sent) == Counter(numbers(50))
    assert sent[0]["body"] == "Olá Cliente 0!"
    campaign = refreshed(campaign)
    assert campaign.status == "FINALIZADA" and campaign.completed_at is not None
    report = campaign_report.report(campaign)
    assert report["planned"] == 50 and report["sent"] == 50 and report["pending"] == 0
    # Each send is in the contact's history, on a ticket that was not left open.
    assert db.session.scalar(sa.select(sa.func.count()).where(Message.origin == "campaign")) == 50
    statuses = set(db.session.scalars(sa.select(Ticket.status)))
    assert statuses == {"closed"}


def test_message_interval_spaces_the_sends(company, conn, clock):
    set_pacing(company, messageInterval=2, longerIntervalAfter=0, greaterInterval=0)
    campaign = make_campaign(company, conn, make_list(company, numbers(6)))
    start(company, campaign)

    times = sorted(
        db.session.scalars(
            sa.select(CampaignShipping.delivered_at).where(
                CampaignShipping.campaign_id == campaign.id
            )
        )
    )
    assert len(times) == 6
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(gap >= 2 for gap in gaps), gaps
    assert all(gap <= 2 * 1.1 + 0.001 for gap in gaps), gaps  # jitter stays small


def test_longer_interval_after_every_n_sends(company, conn, clock):
    set_pacing(company, messageInterval=1, longerIntervalAfter=3, greaterInterval=10)
    campaign = make_campaign(company, conn, make_list(company, numbers(7)))
    start(company, campaign)
    times = sorted(
        db.session.scalars(
            sa.select(CampaignShipping.delivered_at).where(
                CampaignShipping.campaign_id == campaign.id
            )
        )
    )
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    long_gaps = [i for i, gap in enumerate(gaps) if gap >= 10]
    assert long_gaps == [2, 5], gaps  # after the 3rd and the 6th send


def test_variables_and_variants_rotate(company, conn, clock):
    set_pacing(
        company, messageInterval=0, greaterInterval=0, variables=[{"key": "cupom", "value": "BF10"}]
    )
    campaign = make_campaign(
        company,
        conn,
        make_list(company, numbers(4)),
        message1="A {nome} {numero}",
        message2="B {email} {cupom} {desconhecida}",
    )
    start(company, campaign)
    bodies = [e["body"] for e in texts(conn)]
    assert bodies[0] == f"A Cliente 0 {numbers(4)[0]}"
    assert bodies[1] == "B c1@example.com BF10 {desconhecida}"
    assert [b[0] for b in bodies] == ["A", "B", "A", "B"]


def test_cancel_stops_within_one_interval_and_restart_resumes(company, conn, clock):
    set_pacing(company, messageInterval=2, longerIntervalAfter=0, greaterInterval=0)
    contact_list = make_list(company, numbers(20))
    campaign = make_campaign(company, conn, contact_list)

    def cancel_after_five(sleeps: int) -> None:
        if sleeps == 5:
            campaigns.cancel_campaign(company.id, campaign.id)
            dbmod.commit()

    clock.on_sleep = cancel_after_five
    start(company, campaign)
    assert refreshed(campaign).status == "CANCELADA"
    # Cancelled while waiting for the 5th slot (the 1st send waits 0 s): that send is not made.
    assert len(texts(conn)) == 4

    clock.on_sleep = None
    start(company, campaign)
    sent = texts(conn)
    assert len(sent) == 20
    assert max(Counter(e["to"] for e in sent).values()) == 1
    assert refreshed(campaign).status == "FINALIZADA"


def test_a_disconnected_connection_pauses_instead_of_failing(company, conn, clock):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    conn.status = "DISCONNECTED"
    db.session.commit()
    campaign = make_campaign(company, conn, make_list(company, numbers(5)))
    start(company, campaign)

    campaign = refreshed(campaign)
    assert campaign.status == "EM_ANDAMENTO" and campaign.paused_reason == "ERR_WAPP_NOT_CONNECTED"
    report = campaign_report.report(campaign)
    assert report["failed"] == 0 and report["pending"] == 5

    conn.status = "CONNECTED"
    db.session.commit()
    from whaticket.jobs import campaigns as campaign_jobs

    assert campaign_jobs.watchdog() == 1
    assert len(texts(conn)) == 5
    assert refreshed(campaign).status == "FINALIZADA"


def test_a_refused_number_fails_alone(company, conn, clock):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    contact_list = make_list(company, ["000123456789", *numbers(3)])
    campaign = make_campaign(company, conn, contact_list)
    start(company, campaign)
    report = campaign_report.report(refreshed(campaign))
    assert report["sent"] == 3 and report["failed"] == 1
    failed = db.session.scalar(
        sa.select(CampaignShipping).where(CampaignShipping.status == "failed")
    )
    assert failed.number == "000123456789" and failed.error.startswith("ERR_FAKE_REJECTED")


def test_confirmation_flow(company, conn, clock, app):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    campaign = make_campaign(
        company,
        conn,
        make_list(company, numbers(3)),
        confirmation=True,
        confirmation_message1="{nome}, posso te mandar a oferta?",
        message1="A oferta: {cupom}",
    )
    start(company, campaign)
    asked = texts(conn)
    assert [e["body"] for e in asked] == [
        f"Cliente {i}, posso te mandar a oferta?" for i in range(3)
    ]
    assert refreshed(campaign).status == "FINALIZADA"  # nothing left but waiting

    # Any answer confirms; the main message follows (after a short random delay).
    handle_inbound(
        company.id,
        conn.id,
        InboundMessage(provider_id="R-1", chat_id=numbers(3)[1], body="pode sim", push_name="C1"),
        now=clock.now(),
    )
    dbmod.commit()
    jobs.get_backend().run_due(datetime.now(UTC) + timedelta(seconds=11))
    sent = texts(conn)
    assert len(sent) == 4 and sent[-1]["to"] == numbers(3)[1]
    report = campaign_report.report(refreshed(campaign))
    assert (report["confirmationAsked"], report["confirmed"], report["sent"]) == (3, 1, 1)
    # The confirming reply is not answered by the chatbot, and a second reply changes nothing.
    handle_inbound(
        company.id,
        conn.id,
        InboundMessage(provider_id="R-2", chat_id=numbers(3)[1], body="valeu", push_name="C1"),
        now=clock.now(),
    )
    dbmod.commit()
    jobs.get_backend().run_due(datetime.now(UTC) + timedelta(seconds=30))
    assert len(texts(conn)) == 4
    assert campaign_report.report(refreshed(campaign))["replied"] == 1


def test_a_reply_opens_the_ticket(company, conn, clock):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    campaign = make_campaign(company, conn, make_list(company, numbers(1)))
    start(company, campaign)
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.status == "closed"
    handle_inbound(
        company.id,
        conn.id,
        InboundMessage(provider_id="R-9", chat_id=numbers(1)[0], body="Quero!", push_name="C0"),
        now=clock.now(),
    )
    dbmod.commit()
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "pending"
    assert campaign_report.report(refreshed(campaign))["replied"] == 1


def test_stale_claims_are_resolved_without_a_second_send(company, conn, clock, app):
    """A worker died after claiming: one row had gone out, the other had not."""
    set_pacing(company, messageInterval=0, greaterInterval=0)
    app.config["CAMPAIGN_CLAIM_STALE"] = 60
    contact_list = make_list(company, numbers(4))
    campaign = make_campaign(company, conn, contact_list)
    campaign.status = "EM_ANDAMENTO"
    shipping.prepare(campaign)
    dbmod.commit()
    first = claims.claim_next(campaign.id, clock.now())
    second = claims.claim_next(campaign.id, clock.now())
    dbmod.commit()
    # The first one reached the provider before the crash; the second did not.
    from whaticket.services.connections.gateway import gateway_for

    gateway_for(conn).send_text(
        conn, first.number, first.message, client_ref=campaign_dispatch.client_ref(first, "main")
    )
    clock.current += timedelta(minutes=5)

    from whaticket.jobs import campaigns as campaign_jobs

    campaign_jobs.dispatch(campaign.id)

    sent = Counter(e["to"] for e in texts(conn))
    assert sent == Counter(numbers(4))  # each exactly once, the stale two included
    db.session.expire_all()
    assert db.session.get(CampaignShipping, first.id).status == "sent"
    assert db.session.get(CampaignShipping, second.id).status == "sent"


def test_quiet_hours_hold_sends_until_they_end(company, conn, clock):
    set_pacing(
        company, messageInterval=0, greaterInterval=0, quietHours={"start": "09:00", "end": "11:00"}
    )
    campaign = make_campaign(company, conn, make_list(company, numbers(3)))
    start(company, campaign)  # 10:00 local: quiet
    assert texts(conn) == []
    clock.current = T0 + timedelta(hours=1, minutes=1)  # 11:01 local
    assert jobs.get_backend().run_due(T0 + timedelta(hours=1, minutes=1)) >= 1
    assert len(texts(conn)) == 3


def test_daily_cap_per_connection(company, conn, clock):
    set_pacing(company, messageInterval=0, greaterInterval=0, dailyCap=4)
    campaign = make_campaign(company, conn, make_list(company, numbers(6)))
    start(company, campaign)
    assert len(texts(conn)) == 4
    tomorrow = T0 + timedelta(days=1)
    clock.current = tomorrow
    jobs.get_backend().run_due(tomorrow)
    assert len(texts(conn)) == 6
    assert refreshed(campaign).status == "FINALIZADA"


def test_scheduled_campaign_starts_at_its_time(company, conn, clock):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    campaign = make_campaign(company, conn, make_list(company, numbers(2)), scheduled_at=at)
    assert campaign.status == "PROGRAMADA"
    assert jobs.get_backend().run_due(at - timedelta(minutes=1)) == 0
    assert texts(conn) == []
    jobs.get_backend().run_due(at)
    assert len(texts(conn)) == 2 and refreshed(campaign).status == "FINALIZADA"


def test_rescheduling_makes_the_old_start_job_a_no_op(company, conn, clock):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    first = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    campaign = make_campaign(company, conn, make_list(company, numbers(2)), scheduled_at=first)
    campaigns.update_campaign(company.id, campaign.id, {"scheduled_at": first + timedelta(hours=5)})
    dbmod.commit()
    jobs.get_backend().run_due(first + timedelta(minutes=1))
    assert texts(conn) == [] and refreshed(campaign).status == "PROGRAMADA"


def test_start_due_sweep_is_the_safety_net(company, conn, clock):
    set_pacing(company, messageInterval=0, greaterInterval=0)
    campaign = make_campaign(company, conn, make_list(company, numbers(2)))
    campaign.status, campaign.scheduled_at = "PROGRAMADA", T0 - timedelta(minutes=1)
    db.session.commit()
    from whaticket.jobs import campaigns as campaign_jobs

    assert campaign_jobs.start_due_campaigns() == 1
    assert len(texts(conn)) == 2
    assert campaign_jobs.start_due_campaigns() == 0


def test_a_retryable_provider_failure_is_retried_later(company, clock, evolution_stub):
    """Evolution answers 500 once: that contact is retried after its backoff, sent once."""
    from tests.stubs.evolution import API_KEY
    from whaticket.utils.crypto import encrypt_json

    evolution_stub.instances["inst1"] = "open"
    conn = factories.WhatsappFactory(
        company=company,
        provider="evolution",
        status="CONNECTED",
        provider_account_id="inst1",
        provider_config=encrypt_json(
            {"baseUrl": evolution_stub.url, "apiKey": API_KEY, "instance": "inst1"}
        ),
    )
    set_pacing(company, messageInterval=0, greaterInterval=0)
    campaign = make_campaign(company, conn, make_list(company, numbers(2)))
    evolution_stub.fail_next(500)
    start(company, campaign)

    sends = evolution_stub.calls("/message/sendText/")
    assert len(sends) == 2  # the failed attempt and the second contact
    first = db.session.scalar(sa.select(CampaignShipping).order_by(CampaignShipping.id))
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.next_attempt_at == T0 + timedelta(seconds=campaign_dispatch.RETRY_BACKOFF[0])
    assert refreshed(campaign).status == "EM_ANDAMENTO"

    clock.current = first.next_attempt_at
    jobs.get_backend().run_due(first.next_attempt_at)
    assert len(evolution_stub.calls("/message/sendText/")) == 3
    assert campaign_report.report(refreshed(campaign))["sent"] == 2
    assert refreshed(campaign).status == "FINALIZADA"


def test_the_file_list_goes_before_the_message(company, conn, clock):
    from whaticket.models import FileList, FileListOption
    from whaticket.services.platform import media

    stored = media.save(company.id, b"%PDF-1.4 catalogo", "catalogo.pdf", "application/pdf")
    files = FileList(company_id=company.id, name="Catálogo", message="")
    db.session.add(files)
    db.session.flush()
    db.session.add(
        FileListOption(
            company_id=company.id,
            file_id=files.id,
            name="catalogo.pdf",
            path=stored.path,
            media_type="application/pdf",
        )
    )
    db.session.commit()
    set_pacing(company, messageInterval=0, greaterInterval=0)
    campaign = make_campaign(company, conn, make_list(company, numbers(2)), file_list_id=files.id)
    start(company, campaign)
    kinds = [(e["to"], e["type"]) for e in fake.read_outbox(conn.id) if e["type"] != "read"]
    first, second = numbers(2)
    assert kinds == [(first, "document"), (first, "text"), (second, "document"), (second, "text")]


def test_the_watchdog_leaves_a_waiting_campaign_alone(company, conn, clock):
    from whaticket.jobs import campaigns as campaign_jobs

    set_pacing(
        company, messageInterval=0, greaterInterval=0, quietHours={"start": "09:00", "end": "11:00"}
    )
    campaign = make_campaign(company, conn, make_list(company, numbers(2)))
    start(company, campaign)  # 10:00 local: waits for 11:00
    waiting = len(jobs.get_backend().scheduled)
    clock.current = T0 + timedelta(minutes=30)
    assert campaign_jobs.watchdog() == 0
    assert len(jobs.get_backend().scheduled) == waiting
