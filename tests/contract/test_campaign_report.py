"""Campaign report screen: `GET /campaigns/:id` and the `company-{cid}-campaign` events carry
`shipping[]` and `contactList.contacts[]`, which the page counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.services.campaigns.test_dispatch import FakeClock, make_list, numbers
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import CampaignShipping, ContactListItem
from whaticket.services.campaigns import campaigns
from whaticket.services.campaigns import report as campaign_report
from whaticket.services.connections import fake_whatsapp as fake

#: The keys of a shipping row and of a list contact the page (and the reference) carry.
SHIPPING_KEYS = {
    "id",
    "campaignId",
    "contactId",
    "number",
    "name",
    "status",
    "confirmation",
    "confirmationRequestedAt",
    "confirmedAt",
    "deliveredAt",
}
CONTACT_KEYS = {"id", "contactListId", "name", "number", "email", "isWhatsappValid"}
#: The same rows in live events: what the page counts (and their ids), nothing personal.
EVENT_SHIPPING_KEYS = {
    "id",
    "contactId",
    "status",
    "confirmationRequestedAt",
    "confirmedAt",
    "deliveredAt",
}
EVENT_CONTACT_KEYS = {"id", "isWhatsappValid"}


@pytest.fixture(autouse=True)
def _clock(app):
    app.config["CAMPAIGN_CLOCK"] = FakeClock()
    app.config["CAMPAIGN_DISPATCHERS"] = 1


@pytest.fixture
def conn(company):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    fake.clear_outbox(conn.id)
    return conn


def _page_counts(campaign: dict) -> dict[str, int]:
    """What src/pages/CampaignReport/index.js computes from the answer, step by step."""
    counts = {"valid": 0, "delivered": 0, "requested": 0, "confirmed": 0}
    if "shipping" in campaign:
        if "contactList" in campaign:
            contacts = campaign["contactList"]["contacts"]
            counts["valid"] = len([c for c in contacts if c["isWhatsappValid"]])
        rows = campaign["shipping"]
        counts["delivered"] = len([r for r in rows if r["deliveredAt"] is not None])
        counts["requested"] = len([r for r in rows if r["confirmationRequestedAt"] is not None])
        counts["confirmed"] = len(
            [
                r
                for r in rows
                if r["deliveredAt"] is not None and r["confirmationRequestedAt"] is not None
            ]
        )
    return counts


def _create(client, prefix, auth, user, conn, contact_list, **extra) -> int:
    body = {
        "name": "Natal",
        "contactListId": contact_list.id,
        "whatsappId": conn.id,
        "message1": "Feliz Natal, {nome}!",
        "confirmation": False,
    }
    body.update(extra)
    resp = client.post(f"{prefix}/campaigns", json=body, headers=auth(user))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["id"]


def _show(client, prefix, auth, user, campaign_id: int) -> dict:
    resp = client.get(f"{prefix}/campaigns/{campaign_id}", headers=auth(user))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _mixed_list(company):
    """Three checked-valid numbers, one known invalid, one not checked yet."""
    contact_list = make_list(company, numbers(3))
    for number, valid in (("5511900000097", False), ("5511900000098", None)):
        db.session.add(
            ContactListItem(
                company_id=company.id,
                contact_list_id=contact_list.id,
                name=f"Extra {number[-2:]}",
                number=number,
                is_whatsapp_valid=valid,
            )
        )
    db.session.commit()
    return contact_list


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block (counted, not timed)."""
    seen: list[str] = []

    def _record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", _record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _record)


def test_finished_campaign_counts_everything_delivered(client, prefix, auth, admin, conn):
    """src/pages/CampaignReport/index.js counts shipping[].deliveredAt against
    contactList.contacts[].isWhatsappValid: a finished campaign reads "5 de 5", not "0 de 0"."""
    contact_list = _mixed_list(admin.company)
    campaign_id = _create(client, prefix, auth, admin, conn, contact_list)

    before = _show(client, prefix, auth, admin, campaign_id)
    assert before["shipping"] == []
    assert _page_counts(before) == {"valid": 4, "delivered": 0, "requested": 0, "confirmed": 0}

    resp = client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    assert resp.status_code == 204
    body = _show(client, prefix, auth, admin, campaign_id)
    assert body["status"] == "FINALIZADA" and body["completedAt"].endswith("Z")
    # The valid and the unchecked numbers were sent to; the invalid one was not.
    assert _page_counts(body) == {"valid": 4, "delivered": 4, "requested": 0, "confirmed": 0}
    assert len(body["shipping"]) == 4
    for row in body["shipping"]:
        assert set(row) == SHIPPING_KEYS
        assert row["campaignId"] == campaign_id and row["status"] == "sent"
        assert row["deliveredAt"].endswith("Z") and row["confirmationRequestedAt"] is None
    assert "5511900000097" not in {r["number"] for r in body["shipping"]}
    # Other fields the page shows.
    assert body["name"] == "Natal" and body["confirmation"] is False
    assert body["whatsappId"] == conn.id and body["whatsapp"]["name"] == conn.name
    assert body["contactListId"] == contact_list.id
    assert body["contactList"]["name"] == contact_list.name
    contacts = body["contactList"]["contacts"]
    assert len(contacts) == 5 and all(set(c) == CONTACT_KEYS for c in contacts)
    by_number = {c["number"]: c for c in contacts}
    assert by_number["5511900000097"]["isWhatsappValid"] is False
    # Not checked yet counts as valid: the campaign sends to it.
    assert by_number["5511900000098"]["isWhatsappValid"] is True
    assert body["rowsTruncated"] is False
    assert body["report"]["sent"] == 4


def test_confirmation_campaign_counts_requests_then_confirmations(
    client, prefix, auth, admin, conn
):
    """src/pages/CampaignReport/index.js shows "Confirmações Solicitadas" from
    shipping[].confirmationRequestedAt and "Confirmações" from rows that also have
    deliveredAt, when campaign.confirmation is true."""
    contact_list = make_list(admin.company, numbers(2))
    campaign_id = _create(
        client,
        prefix,
        auth,
        admin,
        conn,
        contact_list,
        confirmation=True,
        confirmationMessage1="Podemos enviar a oferta? Responda SIM",
    )
    client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    body = _show(client, prefix, auth, admin, campaign_id)
    assert body["confirmation"] is True
    assert _page_counts(body) == {"valid": 2, "delivered": 0, "requested": 2, "confirmed": 0}
    assert {r["status"] for r in body["shipping"]} == {"asked"}

    # The first contact answers: the main message follows and the row is confirmed.
    first = body["shipping"][0]
    resp = client.post(
        f"{prefix}/fake-gateway/{conn.id}/inbound",
        json={"from": first["number"], "name": "Cliente", "body": "SIM"},
        headers=auth(admin),
    )
    assert resp.status_code == 202, resp.get_json()
    # The main message goes a few seconds after the answer (a delayed job).
    assert jobs.get_backend().run_due(utcnow() + timedelta(seconds=11)) >= 1
    body = _show(client, prefix, auth, admin, campaign_id)
    assert _page_counts(body) == {"valid": 2, "delivered": 1, "requested": 2, "confirmed": 1}
    row = next(r for r in body["shipping"] if r["id"] == first["id"])
    assert row["confirmation"] is True and row["confirmedAt"].endswith("Z")


def test_campaign_without_list_still_has_a_contact_list_object(
    client, prefix, auth, admin, conn, socket_client
):
    """src/pages/CampaignReport/index.js reads contactList.contacts whenever the key exists,
    so a campaign whose list was deleted answers an object counting its shipping rows."""
    contact_list = make_list(admin.company, numbers(2))
    campaign_id = _create(client, prefix, auth, admin, conn, contact_list)
    client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    resp = client.delete(f"{prefix}/contact-lists/{contact_list.id}", headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = _show(client, prefix, auth, admin, campaign_id)
    assert body["contactListId"] is None
    assert body["contactList"]["id"] is None and len(body["contactList"]["contacts"]) == 2
    assert _page_counts(body) == {"valid": 2, "delivered": 2, "requested": 0, "confirmed": 0}
    # Live events count the same way.
    sock = socket_client(admin)
    sock.get_received()
    campaign_report.emit(campaigns.get_campaign(admin.company_id, campaign_id), "update")
    dbmod.commit()
    (record,) = _records(sock, admin.company_id)
    assert record == _slim(body)


def test_rows_load_in_a_constant_number_of_queries(client, prefix, auth, admin, conn):
    """src/pages/CampaignReport/index.js gets every row at once: more contacts must not
    mean more SQL statements (the rows are two lean queries)."""

    def _count(campaign_id: int) -> tuple[int, int]:
        with _statements() as seen:
            body = _show(client, prefix, auth, admin, campaign_id)
        return len(seen), len(body["shipping"])

    small = _create(client, prefix, auth, admin, conn, make_list(admin.company, numbers(2)))
    big_list = make_list(admin.company, numbers(40, prefix="55219"))
    big = _create(client, prefix, auth, admin, conn, big_list)
    for campaign_id in (small, big):
        client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    _count(small)  # the first request also loads the caller: count from the second one
    small_sql, small_rows = _count(small)
    big_sql, big_rows = _count(big)
    assert (small_rows, big_rows) == (2, 40)
    assert big_sql == small_sql


def test_the_row_cap_marks_the_answer_truncated(app, client, prefix, auth, admin, conn):
    """CAMPAIGN_DETAIL_ROWS_MAX bounds the answer of a huge campaign; `report` stays exact."""
    app.config["CAMPAIGN_DETAIL_ROWS_MAX"] = 3
    campaign_id = _create(client, prefix, auth, admin, conn, make_list(admin.company, numbers(5)))
    client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    body = _show(client, prefix, auth, admin, campaign_id)
    assert len(body["shipping"]) == 3 and len(body["contactList"]["contacts"]) == 3
    assert body["rowsTruncated"] is True and body["report"]["sent"] == 5


def _slim(shown: dict) -> dict:
    """GET /campaigns/:id as an event carries it: the same rows, slimmed."""
    return {
        **shown,
        "shipping": [{k: r[k] for k in EVENT_SHIPPING_KEYS} for r in shown["shipping"]],
        "contactList": {
            **shown["contactList"],
            "contacts": [
                {k: c[k] for k in EVENT_CONTACT_KEYS} for c in shown["contactList"]["contacts"]
            ],
        },
    }


def _records(sock, company_id: int) -> list[dict]:
    return [
        e["args"][0]["record"]
        for e in sock.get_received()
        if e["name"] == f"company-{company_id}-campaign"
    ]


#: What src/pages/Campaigns/index.js:341-390 shows of each row it replaces from the event.
LIST_ROW_KEYS = {
    "id",
    "name",
    "status",
    "contactListId",
    "contactList",
    "whatsappId",
    "whatsapp",
    "scheduledAt",
    "completedAt",
    "confirmation",
}


def test_events_carry_the_report_rows(
    app, client, prefix, auth, admin, other_admin, conn, socket_client
):
    """src/pages/CampaignReport/index.js:104-113 replaces its campaign with data.record and
    recounts only when `shipping` is there (reading contactList.contacts as soon as
    `contactList` exists): every event's record has both arrays, and the last one counts
    what GET /campaigns/:id counts (same rows, each slimmed to what the page reads).
    src/pages/Campaigns/index.js:134 replaces its row with the same record."""
    app.config["CAMPAIGN_PROGRESS_EVERY"] = 0  # every send announced: each step checked
    contact_list = _mixed_list(admin.company)
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    campaign_id = _create(client, prefix, auth, admin, conn, contact_list)
    client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    records = _records(mine, admin.company_id)
    assert [r["status"] for r in records][:2] == ["INATIVA", "EM_ANDAMENTO"]
    assert records[-1]["status"] == "FINALIZADA"
    delivered = []
    for record in records:
        assert record["id"] == campaign_id and set(record) >= LIST_ROW_KEYS
        assert record["contactList"]["name"] == contact_list.name
        assert record["whatsapp"]["name"] == conn.name
        assert all(set(row) == EVENT_SHIPPING_KEYS for row in record["shipping"])
        assert all(set(c) == EVENT_CONTACT_KEYS for c in record["contactList"]["contacts"])
        counts = _page_counts(record)
        assert counts["valid"] == 4
        delivered.append(counts["delivered"])
    # The counters move with the sends (one event per send here), never backwards.
    assert delivered == sorted(delivered) and delivered[0] == 0 and delivered[-1] == 4
    assert len(set(delivered)) == 5
    shown = _show(client, prefix, auth, admin, campaign_id)
    assert records[-1] == _slim(shown)
    assert _page_counts(records[-1]) == _page_counts(shown)
    assert not [e for e in theirs.get_received() if e["name"].endswith("-campaign")]


def test_progress_is_throttled_per_campaign(app, client, prefix, auth, admin, conn, socket_client):
    """Each event carries every row to every socket of the company: while sending, at
    most one per CAMPAIGN_PROGRESS_EVERY (a window longer than the test here), plus the
    status changes; the window's trailing event then brings the counters up to date."""
    app.config["CAMPAIGN_PROGRESS_EVERY"] = 3600
    sock = socket_client(admin)
    campaign_id = _create(client, prefix, auth, admin, conn, make_list(admin.company, numbers(6)))
    sock.get_received()
    client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    records = _records(sock, admin.company_id)
    # Started, the first send (the window's leading event), finished: not one per send.
    assert [r["status"] for r in records] == ["EM_ANDAMENTO", "EM_ANDAMENTO", "FINALIZADA"]
    assert [_page_counts(r)["delivered"] for r in records] == [0, 1, 6]
    # The trailing event of the window (a delayed job) shows the counters as they stand.
    assert jobs.get_backend().run_due(utcnow() + timedelta(seconds=3601)) >= 1
    (trailing,) = _records(sock, admin.company_id)
    assert _page_counts(trailing)["delivered"] == 6
    assert trailing == _slim(_show(client, prefix, auth, admin, campaign_id))


def test_an_event_costs_the_same_queries_whatever_the_size(
    client, prefix, auth, admin, conn, socket_client
):
    """The record's rows are read once per event in a fixed number of statements."""
    sock = socket_client(admin)

    def _cost(size: int, number_prefix: str) -> tuple[int, int]:
        contact_list = make_list(admin.company, numbers(size, prefix=number_prefix))
        campaign_id = _create(client, prefix, auth, admin, conn, contact_list)
        client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
        campaign = campaigns.get_campaign(admin.company_id, campaign_id)
        sock.get_received()
        with _statements() as seen:
            campaign_report.emit(campaign, "update")
            dbmod.commit()
        (record,) = _records(sock, admin.company_id)
        return len(seen), len(record["shipping"])

    small_sql, small_rows = _cost(2, "55219")
    big_sql, big_rows = _cost(40, "55319")
    assert (small_rows, big_rows) == (2, 40)
    assert big_sql == small_sql


def test_an_event_never_fails_the_change_it_reports(
    app, client, prefix, auth, admin, conn, socket_client, monkeypatch
):
    """A record that cannot be built is dropped (and logged); the edit is still saved."""
    campaign_id = _create(client, prefix, auth, admin, conn, make_list(admin.company, numbers(1)))
    sock = socket_client(admin)
    sock.get_received()

    def _broken(_campaign):
        raise RuntimeError("boom")

    monkeypatch.setattr(campaign_report, "detail_rows", _broken)
    resp = client.put(
        f"{prefix}/campaigns/{campaign_id}", json={"name": "Natal 2"}, headers=auth(admin)
    )
    assert resp.status_code == 200 and resp.get_json()["name"] == "Natal 2"
    assert _records(sock, admin.company_id) == []


def test_agents_read_the_report_other_companies_get_404(
    client, prefix, auth, admin, agent, other_admin, conn
):
    """The report is read like the rest of /campaigns: any user of the company (the SaaS
    menu shows it to admins), never another company's user, never without a token."""
    campaign_id = _create(client, prefix, auth, admin, conn, make_list(admin.company, numbers(1)))
    client.post(f"{prefix}/campaigns/{campaign_id}/restart", headers=auth(admin))
    assert len(_show(client, prefix, auth, agent, campaign_id)["shipping"]) == 1
    resp = client.get(f"{prefix}/campaigns/{campaign_id}", headers=auth(other_admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_NO_CAMPAIGN_FOUND"}
    assert client.get(f"{prefix}/campaigns/{campaign_id}").status_code == 401
    # The other company's own campaign shows none of ours.
    other_conn = factories.WhatsappFactory(
        company=other_admin.company, provider="fake", status="CONNECTED"
    )
    theirs = _create(
        client,
        prefix,
        auth,
        other_admin,
        other_conn,
        make_list(other_admin.company, numbers(1, prefix="55319")),
    )
    body = _show(client, prefix, auth, other_admin, theirs)
    assert body["shipping"] == [] and len(body["contactList"]["contacts"]) == 1
    assert db.session.scalar(sa.select(sa.func.count(CampaignShipping.id))) == 1
