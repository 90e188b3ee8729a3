"""Reports: summary per agent/queue/connection/tag with and without business hours, date
edges in the company's time zone, time series, heatmap, live counts, CSV, roles, tenancy
and validation. Events are inserted directly with controlled timestamps."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import ReportEvent, ticket_tags
from whaticket.services.reports import events as report_events

DAY = "2026-03-10"  # a Tuesday; America/Sao_Paulo is UTC-3: 03:00Z to 03:00Z next day.
RANGE = f"from={DAY}&to={DAY}"


def _utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def _ev(
    company,
    kind: str,
    at: datetime,
    ticket=None,
    *,
    value: float | None = None,
    business: float | None = None,
    rating: int | None = None,
    queue=None,
    user=None,
) -> None:
    """One report event; queue, agent and connection default to the ticket's."""
    report_events.add_event(
        ReportEvent(
            company_id=company.id,
            kind=kind,
            occurred_at=at,
            value=value,
            business_value=business,
            rating=rating,
            ticket_id=ticket.id if ticket else None,
            queue_id=queue.id if queue else (ticket.queue_id if ticket else None),
            user_id=user.id if user else (ticket.user_id if ticket else None),
            whatsapp_id=ticket.whatsapp_id if ticket else None,
        )
    )
    db.session.commit()


def _tag(ticket, *tags) -> None:
    db.session.execute(
        ticket_tags.insert(), [{"ticket_id": ticket.id, "tag_id": t.id} for t in tags]
    )
    db.session.commit()


@pytest.fixture
def scene(company, admin, agent) -> dict:
    """Three tickets' events on DAY; the expected figures are in EXPECTED_TOTAL and below."""
    admin.name, agent.name = "Ana", "Bruno"
    sales = factories.QueueFactory(company=company, name="Vendas")
    support = factories.QueueFactory(company=company, name="Suporte")
    main = factories.WhatsappFactory(company=company, name="Principal")
    second = factories.WhatsappFactory(company=company, name="Secundário")
    vip = factories.TagFactory(company=company, name="VIP")
    new = factories.TagFactory(company=company, name="Novo")
    t1 = factories.TicketFactory(
        company=company, whatsapp=main, queue_id=sales.id, user_id=agent.id, status="closed"
    )
    t2 = factories.TicketFactory(
        company=company, whatsapp=second, queue_id=support.id, user_id=admin.id, status="closed"
    )
    t3 = factories.TicketFactory(company=company, whatsapp=main, status="pending")
    _tag(t1, vip, new)
    _tag(t2, vip)

    # t1: Vendas / Bruno / Principal, 09:00 local.
    _ev(company, "conversation", _utc(10, 12), t1)
    _ev(company, "message_in", _utc(10, 12), t1)
    _ev(company, "message_in", _utc(10, 12, 5), t1)
    _ev(company, "message_out", _utc(10, 12, 2), t1)
    _ev(company, "first_response", _utc(10, 12, 2), t1, value=120, business=60)
    _ev(company, "reply_time", _utc(10, 12, 6), t1, value=30, business=30)
    _ev(company, "wait", _utc(10, 12, 1), t1, value=300, business=0)
    _ev(company, "resolution", _utc(10, 13), t1, value=3600, business=1800)
    _ev(company, "rating", _utc(10, 13), t1, rating=4)
    # t2: Suporte / Ana / Secundário, 14:00 local.
    _ev(company, "conversation", _utc(10, 17), t2)
    _ev(company, "message_in", _utc(10, 17), t2)
    _ev(company, "first_response", _utc(10, 17, 1), t2, value=60, business=60)
    _ev(company, "wait", _utc(10, 17, 1), t2, value=100, business=100)
    _ev(company, "transfer", _utc(10, 17, 30), t2)
    _ev(company, "resolution", _utc(10, 19), t2, value=7200, business=3600)
    _ev(company, "rating", _utc(10, 19), t2, rating=2)
    # t3: no queue, no agent, Principal; handed off by the bot, 09:30 local.
    _ev(company, "conversation", _utc(10, 12, 30), t3)
    _ev(company, "message_in", _utc(10, 12, 30), t3)
    _ev(company, "bot_handoff", _utc(10, 12, 31), t3)
    return {
        "sales": sales,
        "support": support,
        "main": main,
        "second": second,
        "vip": vip,
        "new": new,
    }


def _line(key, name, **counts) -> dict:
    """A summary line: zeros and nulls unless given."""
    base = {
        "key": key,
        "name": name,
        "conversations": 0,
        "incomingMessages": 0,
        "outgoingMessages": 0,
        "firstResponses": 0,
        "avgFirstResponse": None,
        "replies": 0,
        "avgReplyTime": None,
        "resolutions": 0,
        "avgResolution": None,
        "waits": 0,
        "avgWait": None,
        "botHandoffs": 0,
        "transfers": 0,
        "ratings": 0,
        "avgRating": None,
    }
    base.update(counts)
    return base


TOTAL = dict(
    conversations=3,
    incomingMessages=4,
    outgoingMessages=1,
    firstResponses=2,
    avgFirstResponse=90.0,
    replies=1,
    avgReplyTime=30.0,
    resolutions=2,
    avgResolution=5400.0,
    waits=2,
    avgWait=200.0,
    botHandoffs=1,
    transfers=1,
    ratings=2,
    avgRating=3.0,
)
TOTAL_BUSINESS = {
    **TOTAL,
    "avgFirstResponse": 60.0,
    "avgResolution": 2700.0,
    "avgWait": 50.0,
}
# The lines of t1 (Bruno, Vendas) and t2 (Ana, Suporte), t3 (nobody, no queue).
T1 = dict(
    conversations=1,
    incomingMessages=2,
    outgoingMessages=1,
    firstResponses=1,
    avgFirstResponse=120.0,
    replies=1,
    avgReplyTime=30.0,
    resolutions=1,
    avgResolution=3600.0,
    waits=1,
    avgWait=300.0,
    ratings=1,
    avgRating=4.0,
)
T2 = dict(
    conversations=1,
    incomingMessages=1,
    firstResponses=1,
    avgFirstResponse=60.0,
    resolutions=1,
    avgResolution=7200.0,
    waits=1,
    avgWait=100.0,
    transfers=1,
    ratings=1,
    avgRating=2.0,
)
T3 = dict(conversations=1, incomingMessages=1, botHandoffs=1)


def _get(client, url, user, auth):
    resp = client.get(url, headers=auth(user))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


# -- summary ------------------------------------------------------------------------------


def test_summary_total_exact(client, prefix, admin, auth, scene):
    body = _get(client, f"{prefix}/reports/summary?{RANGE}", admin, auth)
    assert body["from"] == DAY and body["to"] == DAY
    assert body["timezone"] == "America/Sao_Paulo"
    assert body["groupBy"] is None and body["businessHours"] is False
    assert body["rows"] == [_line(None, "Total", **TOTAL)]
    assert body["total"] == _line(None, "Total", **TOTAL)


def test_summary_business_hours_averages_the_business_values(client, prefix, admin, auth, scene):
    body = _get(client, f"{prefix}/reports/summary?{RANGE}&businessHours=true", admin, auth)
    assert body["businessHours"] is True
    assert body["total"] == _line(None, "Total", **TOTAL_BUSINESS)
    body = _get(client, f"{prefix}/reports/summary?{RANGE}&businessHours=false", admin, auth)
    assert body["total"] == _line(None, "Total", **TOTAL)


def test_summary_by_agent_with_ratings(client, prefix, admin, agent, auth, scene):
    body = _get(client, f"{prefix}/reports/summary?{RANGE}&groupBy=agent", admin, auth)
    assert body["groupBy"] == "agent"
    assert body["rows"] == [
        _line(admin.id, "Ana", **T2),
        _line(agent.id, "Bruno", **T1),
        _line(None, "Sem atendente", **T3),
    ]
    assert body["total"] == _line(None, "Total", **TOTAL)
    # Business hours: Bruno's first response 60, wait 0, resolution 1800.
    body = _get(
        client, f"{prefix}/reports/summary?{RANGE}&groupBy=agent&businessHours=true", admin, auth
    )
    bruno = body["rows"][1]
    assert (bruno["avgFirstResponse"], bruno["avgWait"], bruno["avgResolution"]) == (
        60.0,
        0.0,
        1800.0,
    )
    assert (bruno["ratings"], bruno["avgRating"]) == (1, 4.0)


def test_summary_by_agent_lists_idle_agents_with_zeros(client, prefix, admin, company, auth, scene):
    carla = factories.UserFactory(company=company, name="Carla")
    rows = _get(client, f"{prefix}/reports/summary?{RANGE}&groupBy=agent", admin, auth)["rows"]
    assert [r["name"] for r in rows] == ["Ana", "Bruno", "Carla", "Sem atendente"]
    assert rows[2] == _line(carla.id, "Carla")


def test_summary_by_queue(client, prefix, admin, auth, scene):
    body = _get(client, f"{prefix}/reports/summary?{RANGE}&groupBy=queue", admin, auth)
    assert body["rows"] == [
        _line(scene["support"].id, "Suporte", **T2),
        _line(scene["sales"].id, "Vendas", **T1),
        _line(None, "Sem fila", **T3),
    ]
    assert body["total"] == _line(None, "Total", **TOTAL)


def test_summary_by_connection(client, prefix, admin, auth, scene):
    body = _get(client, f"{prefix}/reports/summary?{RANGE}&groupBy=connection", admin, auth)
    main = {k: T1.get(k, 0) + T3.get(k, 0) for k in set(T1) | set(T3)}
    # Averages of the Principal line are t1's alone (t3 has no durations).
    main.update(
        avgFirstResponse=120.0, avgReplyTime=30.0, avgResolution=3600.0, avgWait=300.0,
        avgRating=4.0,
    )  # fmt: skip
    assert body["rows"] == [
        _line(scene["main"].id, "Principal", **main),
        _line(scene["second"].id, "Secundário", **T2),
    ]
    assert body["total"] == _line(None, "Total", **TOTAL)


def test_summary_by_tag_counts_multi_tag_tickets_in_each(client, prefix, admin, auth, scene):
    body = _get(client, f"{prefix}/reports/summary?{RANGE}&groupBy=tag", admin, auth)
    vip = dict(
        conversations=2,
        incomingMessages=3,
        outgoingMessages=1,
        firstResponses=2,
        avgFirstResponse=90.0,
        replies=1,
        avgReplyTime=30.0,
        resolutions=2,
        avgResolution=5400.0,
        waits=2,
        avgWait=200.0,
        transfers=1,
        ratings=2,
        avgRating=3.0,
    )
    assert body["rows"] == [
        _line(scene["new"].id, "Novo", **T1),
        _line(scene["vip"].id, "VIP", **vip),
        _line(None, "Sem etiqueta", **T3),
    ]
    # The total counts t1's events once, not once per tag.
    assert body["total"] == _line(None, "Total", **TOTAL)


def test_summary_empty_period(client, prefix, admin, auth, scene):
    body = _get(client, f"{prefix}/reports/summary?from=2026-01-01&to=2026-01-31", admin, auth)
    assert body["total"] == _line(None, "Total")


def test_summary_day_edges_follow_the_company_time_zone(client, prefix, company, admin, auth):
    t = factories.TicketFactory(company=company)
    _ev(company, "conversation", _utc(10, 2, 59, 59), t)  # 23:59:59 local on the 9th
    _ev(company, "conversation", _utc(10, 3), t)  # 00:00 local on the 10th
    _ev(company, "conversation", _utc(11, 2, 59, 59), t)  # 23:59:59 local on the 10th
    _ev(company, "conversation", _utc(11, 3), t)  # 00:00 local on the 11th
    url = f"{prefix}/reports/summary?{RANGE}"
    assert _get(client, url, admin, auth)["total"]["conversations"] == 2
    url2 = f"{prefix}/reports/summary?from=2026-03-09&to=2026-03-11"
    assert _get(client, url2, admin, auth)["total"]["conversations"] == 4

    # Changing the time zone moves events between days: the rollup is rebuilt with it.
    resp = client.put(
        f"{prefix}/companies/{company.id}/schedules", json={"timezone": "UTC"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    db.session.expire_all()
    # In UTC the 11th holds the last two (in Sao Paulo only the last one).
    body = _get(client, f"{prefix}/reports/summary?from=2026-03-11&to=2026-03-11", admin, auth)
    assert body["timezone"] == "UTC" and body["total"]["conversations"] == 2


def test_summary_defaults_to_the_last_seven_local_days(client, prefix, company, admin, auth):
    t = factories.TicketFactory(company=company)
    now = utcnow()
    _ev(company, "conversation", now - timedelta(minutes=1), t)
    _ev(company, "conversation", now - timedelta(days=3), t)
    _ev(company, "conversation", now - timedelta(days=8), t)
    body = _get(client, f"{prefix}/reports/summary", admin, auth)
    first, last = datetime.fromisoformat(body["from"]), datetime.fromisoformat(body["to"])
    assert (last - first).days == 6
    assert body["total"]["conversations"] == 2


def test_another_company_never_changes_the_numbers(
    client, prefix, admin, auth, scene, other_company
):
    urls = [f"{prefix}/reports/summary?{RANGE}&groupBy={g}" for g in ("agent", "queue", "tag")] + [
        f"{prefix}/reports/summary?{RANGE}",
        f"{prefix}/reports/timeseries?{RANGE}&interval=hour",
        f"{prefix}/reports/heatmap?{RANGE}",
        f"{prefix}/reports/live",
    ]
    before = [_get(client, u, admin, auth) for u in urls]
    boss = factories.AdminFactory(company=other_company, name="Aaron")
    queue = factories.QueueFactory(company=other_company, name="Alheia")
    tag = factories.TagFactory(company=other_company, name="Alheia")
    ticket = factories.TicketFactory(
        company=other_company, queue_id=queue.id, user_id=boss.id, status="pending",
        unread_messages=3,
    )  # fmt: skip
    _tag(ticket, tag)
    for kind in ("conversation", "message_in", "first_response", "wait", "resolution"):
        _ev(other_company, kind, _utc(10, 12), ticket, value=99999, business=99999)
    _ev(other_company, "rating", _utc(10, 12), ticket, rating=1)
    after = [_get(client, u, admin, auth) for u in urls]
    assert after == before
    assert before[3]["total"] == _line(None, "Total", **TOTAL)


# -- timeseries ---------------------------------------------------------------------------


def test_timeseries_per_day_includes_empty_days(client, prefix, admin, auth, scene):
    body = _get(client, f"{prefix}/reports/timeseries?from=2026-03-08&to=2026-03-12", admin, auth)
    assert body["interval"] == "day" and body["kind"] == "conversation"
    assert body["series"] == [
        {"start": "2026-03-08", "count": 0, "avg": None},
        {"start": "2026-03-09", "count": 0, "avg": None},
        {"start": "2026-03-10", "count": 3, "avg": None},
        {"start": "2026-03-11", "count": 0, "avg": None},
        {"start": "2026-03-12", "count": 0, "avg": None},
    ]


def test_timeseries_per_hour_with_averages(client, prefix, admin, auth, scene):
    url = f"{prefix}/reports/timeseries?{RANGE}&interval=hour&kind=first_response"
    series = _get(client, url, admin, auth)["series"]
    assert len(series) == 24
    assert series[0]["start"] == "2026-03-10T00:00:00-03:00"
    nonzero = [s for s in series if s["count"]]
    assert nonzero == [
        {"start": "2026-03-10T09:00:00-03:00", "count": 1, "avg": 120.0},
        {"start": "2026-03-10T14:00:00-03:00", "count": 1, "avg": 60.0},
    ]
    series = _get(client, url + "&businessHours=true", admin, auth)["series"]
    assert [s["avg"] for s in series if s["count"]] == [60.0, 60.0]


def test_timeseries_week_month_and_rating_average(client, prefix, company, admin, auth, scene):
    t = factories.TicketFactory(company=company)
    _ev(company, "rating", datetime(2026, 4, 2, 12, tzinfo=UTC), t, rating=5)
    url = f"{prefix}/reports/timeseries?from=2026-03-01&to=2026-04-30&kind=rating"
    months = _get(client, url + "&interval=month", admin, auth)["series"]
    assert months == [
        {"start": "2026-03-01", "count": 2, "avg": 3.0},
        {"start": "2026-04-01", "count": 1, "avg": 5.0},
    ]
    weeks = _get(client, url + "&interval=week", admin, auth)["series"]
    # Weeks start on Monday: 2026-03-01 is a Sunday, so the first bucket is Feb 23.
    assert weeks[0]["start"] == "2026-02-23" and len(weeks) == 10
    assert {w["start"]: w["count"] for w in weeks if w["count"]} == {
        "2026-03-09": 2,
        "2026-03-30": 1,
    }


@pytest.mark.parametrize("kind", ["assignment", "requeue", "sla_breach"])
def test_timeseries_of_a_counted_only_kind(client, prefix, company, admin, auth, kind):
    # Kinds with no summary field (assignments, requeues, SLA marks) are counts, no average
    # (the fuzzer found a 500 on kind=requeue).
    t = factories.TicketFactory(company=company)
    _ev(company, kind, datetime(2026, 3, 10, 15, tzinfo=UTC), t)
    url = f"{prefix}/reports/timeseries?from=2026-03-10&to=2026-03-10&interval=hour&kind={kind}"
    series = _get(client, url, admin, auth)["series"]
    assert [(s["start"], s["count"], s["avg"]) for s in series if s["count"]] == [
        ("2026-03-10T12:00:00-03:00", 1, None)
    ]
    assert client.get(url + "&format=csv", headers=auth(admin)).status_code == 200


def test_timeseries_hours_across_a_dst_change(client, prefix, company, admin, auth):
    company.timezone = "America/New_York"  # clocks go forward on 2026-03-08
    db.session.commit()
    t = factories.TicketFactory(company=company)
    _ev(company, "conversation", _utc(8, 7, 30), t)  # 03:30 EDT
    url = f"{prefix}/reports/timeseries?from=2026-03-08&to=2026-03-08&interval=hour"
    series = _get(client, url, admin, auth)["series"]
    assert len(series) == 23
    assert series[2]["start"] == "2026-03-08T03:00:00-04:00" and series[2]["count"] == 1


def test_timeseries_hours_in_a_half_hour_zone(client, prefix, company, admin, auth):
    company.timezone = "Asia/Kolkata"  # UTC+05:30
    db.session.commit()
    t = factories.TicketFactory(company=company)
    _ev(company, "conversation", _utc(10, 3, 15), t)  # 08:45 local
    _ev(company, "conversation", _utc(10, 3, 45), t)  # 09:15 local
    url = f"{prefix}/reports/timeseries?{RANGE}&interval=hour"
    counts = {s["start"]: s["count"] for s in _get(client, url, admin, auth)["series"]}
    assert counts["2026-03-10T08:00:00+05:30"] == 1
    assert counts["2026-03-10T09:00:00+05:30"] == 1


# -- heatmap ------------------------------------------------------------------------------


def test_heatmap_cells_in_local_time(client, prefix, admin, auth, scene):
    body = _get(client, f"{prefix}/reports/heatmap?from=2026-03-01&to=2026-03-31", admin, auth)
    cells = body["cells"]
    assert len(cells) == 168 and body["total"] == 3
    assert cells[0] == {"weekday": 0, "hour": 0, "count": 0}
    nonzero = {(c["weekday"], c["hour"]): c["count"] for c in cells if c["count"]}
    # Tuesday 09:00 and 09:30 local (t1, t3), 14:00 local (t2).
    assert nonzero == {(1, 9): 2, (1, 14): 1}


# -- live ---------------------------------------------------------------------------------


def test_live_counts_per_queue_and_agent(client, prefix, company, admin, agent, auth):
    admin.name, agent.name = "Ana", "Bruno"
    sales = factories.QueueFactory(company=company, name="Vendas")
    support = factories.QueueFactory(company=company, name="Suporte")
    factories.TicketFactory(
        company=company, status="open", queue_id=sales.id, user_id=agent.id, unread_messages=2
    )
    factories.TicketFactory(company=company, status="pending", queue_id=sales.id, unread_messages=1)
    factories.TicketFactory(company=company, status="pending")
    factories.TicketFactory(
        company=company, status="pending", queue_id=support.id, user_id=admin.id
    )
    factories.TicketFactory(company=company, status="closed", queue_id=sales.id, unread_messages=4)
    body = _get(client, f"{prefix}/reports/live", admin, auth)
    assert body["totals"] == {"open": 1, "pending": 3, "unassigned": 2, "unattended": 2}
    counts = ("open", "pending", "unassigned", "unattended")
    assert [(q["name"], *(q[c] for c in counts)) for q in body["queues"]] == [
        ("Suporte", 0, 1, 0, 0),
        ("Vendas", 1, 1, 1, 2),
        ("Sem fila", 0, 1, 1, 0),
    ]
    assert [(a["name"], *(a[c] for c in counts)) for a in body["agents"]] == [
        ("Ana", 0, 1, 0, 0),
        ("Bruno", 1, 0, 0, 1),
        ("Sem atendente", 0, 2, 2, 1),
    ]
    assert body["agents"][0]["key"] == admin.id and "online" in body["agents"][0]


# -- CSV ----------------------------------------------------------------------------------


def _csv(resp) -> list[list[str]]:
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True))))


def test_summary_csv(client, prefix, admin, auth, scene):
    resp = client.get(
        f"{prefix}/reports/summary?{RANGE}&groupBy=queue&format=csv", headers=auth(admin)
    )
    rows = _csv(resp)
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="report-summary-{DAY}-{DAY}.csv"'
    )
    assert rows[0] == [
        "key", "name", "conversations", "incomingMessages", "outgoingMessages",
        "firstResponses", "avgFirstResponse", "replies", "avgReplyTime", "resolutions",
        "avgResolution", "waits", "avgWait", "botHandoffs", "transfers", "ratings",
        "avgRating",
    ]  # fmt: skip
    assert [r[1] for r in rows[1:]] == ["Suporte", "Vendas", "Sem fila", "Total"]
    assert rows[2][:7] == [str(scene["sales"].id), "Vendas", "1", "2", "1", "1", "120.0"]
    assert rows[3][0] == "" and rows[3][6] == ""  # no queue; no first response: empty
    assert rows[4][2] == "3" and rows[4][-1] == "3.0"


def test_csv_of_timeseries_heatmap_and_live(client, prefix, admin, auth, scene):
    rows = _csv(
        client.get(
            f"{prefix}/reports/timeseries?from=2026-03-09&to=2026-03-10&format=csv",
            headers=auth(admin),
        )
    )
    assert rows == [["start", "count", "avg"], ["2026-03-09", "0", ""], ["2026-03-10", "3", ""]]
    rows = _csv(client.get(f"{prefix}/reports/heatmap?{RANGE}&format=csv", headers=auth(admin)))
    assert rows[0] == ["weekday", "hour", "count"] and len(rows) == 169
    assert ["1", "9", "2"] in rows
    resp = client.get(f"{prefix}/reports/live?format=csv", headers=auth(admin))
    rows = _csv(resp)
    assert "report-live-" in resp.headers["Content-Disposition"]
    assert rows[0] == ["scope", "key", "name", "open", "pending", "unassigned", "unattended"]
    assert rows[1] == ["total", "", "Total", "0", "1", "1", "0"]


def test_csv_neutralises_formulas(client, prefix, company, admin, auth):
    factories.QueueFactory(company=company, name="=HYPERLINK(1)")
    rows = _csv(
        client.get(f"{prefix}/reports/summary?groupBy=queue&format=csv", headers=auth(admin))
    )
    assert rows[1][1] == "'=HYPERLINK(1)"


# -- auth and validation ------------------------------------------------------------------

ENDPOINTS = ["summary", "timeseries", "heatmap", "live"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_agents_are_forbidden(client, prefix, agent, auth, name):
    resp = client.get(f"{prefix}/reports/{name}", headers=auth(agent))
    assert resp.status_code == 403
    assert resp.get_json() == {"error": "ERR_NO_PERMISSION"}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_unauthenticated_is_401(client, prefix, name):
    resp = client.get(f"{prefix}/reports/{name}")
    assert resp.status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("summary?groupBy=contact", "groupBy"),
        ("summary?from=2026-13-01", "from"),
        ("summary?to=yesterday", "to"),
        ("summary?from=2026-03-10&to=2026-03-09", "to"),
        ("summary?from=2025-01-01&to=2026-03-09", "to"),
        ("summary?from=2020-01-01", "to"),
        ("summary?businessHours=maybe", "businessHours"),
        ("summary?format=xml", "format"),
        ("timeseries?interval=minute", "interval"),
        ("timeseries?kind=nope", "kind"),
        ("timeseries?interval=hour&from=2026-01-01&to=2026-03-01", "interval"),
        ("heatmap?kind=nope", "kind"),
        ("live?format=pdf", "format"),
    ],
)
def test_bad_params_are_400_with_fields(client, prefix, admin, auth, query, field):
    resp = client.get(f"{prefix}/reports/{query}", headers=auth(admin))
    assert resp.status_code == 400, resp.get_json()
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION"
    assert field in body["fields"]
