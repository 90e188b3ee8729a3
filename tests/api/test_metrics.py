"""GET /metrics: Prometheus text behind METRICS_TOKEN / METRICS_ALLOW_CIDRS, with request,
job, socket, provider and inbound metrics counted where they happen."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from whaticket import db as dbmod
from whaticket import jobs
from whaticket.models import InboundEvent

TOKEN = "scrape-token-0123456789"


def scrape(client, prefix) -> dict[str, list]:
    """{family name: [(sample name, labels, value)]} of one authorised scrape."""
    resp = client.get(f"{prefix}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.content_type.startswith("text/plain")
    return {
        family.name: [(s.name, s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(resp.get_data(as_text=True))
    }


def value(families: dict, sample: str, **labels: str) -> float:
    """The sample's value (0 when absent)."""
    family = families.get(sample.removesuffix("_total").removesuffix("_count")) or []
    for name, found, val in family:
        if name == sample and all(found.get(k) == v for k, v in labels.items()):
            return val
    return 0.0


@pytest.fixture
def token(app):
    app.config["METRICS_TOKEN"] = TOKEN


def test_metrics_are_off_without_a_token_or_network(client, prefix):
    resp = client.get(f"{prefix}/metrics")
    assert resp.status_code == 404
    assert resp.get_json() == {"error": "ERR_NOT_FOUND"}


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
def test_a_scrape_without_the_token_is_refused(client, prefix, token, header, admin, auth):
    headers = {"Authorization": header} if header else {}
    resp = client.get(f"{prefix}/metrics", headers=headers)
    assert resp.status_code == 403
    assert resp.get_json() == {"error": "ERR_METRICS_FORBIDDEN"}
    # A user's access token is no scrape token either.
    assert client.get(f"{prefix}/metrics", headers=auth(admin)).status_code == 403


def test_networks_rule_alone_and_with_the_token(app, client, prefix):
    app.config["METRICS_ALLOW_CIDRS"] = "10.0.0.0/8"
    assert client.get(f"{prefix}/metrics").status_code == 403  # the test client is 127.0.0.1
    app.config["METRICS_ALLOW_CIDRS"] = "10.0.0.0/8, 127.0.0.0/8"
    assert client.get(f"{prefix}/metrics").status_code == 200
    app.config["METRICS_TOKEN"] = TOKEN  # both set: both must pass
    assert client.get(f"{prefix}/metrics").status_code == 403
    assert scrape(client, prefix)


def test_requests_are_counted_by_url_rule_not_path(client, prefix, token, admin, auth):
    before = scrape(client, prefix)
    rule = f"{prefix}/contacts/<int:contact_id>"
    for cid in (999991, 999992):
        assert client.get(f"{prefix}/contacts/{cid}", headers=auth(admin)).status_code == 404
    client.get("/no/such/path/at/all")
    after = scrape(client, prefix)
    key = dict(route=rule, method="GET", status="404")
    assert value(after, "whaticket_http_requests_total", **key) == (
        value(before, "whaticket_http_requests_total", **key) + 2
    )
    hist = dict(route=rule, method="GET")
    assert value(after, "whaticket_http_request_duration_seconds_count", **hist) >= 2
    unmatched = dict(route="<unmatched>", status="404")
    assert value(after, "whaticket_http_requests_total", **unmatched) >= 1
    assert not any("999991" in str(labels) for _n, labels, _v in after["whaticket_http_requests"])


def test_scrape_time_gauges_read_the_inbound_backlog_and_connections(
    client, prefix, token, company
):
    conn = factories.WhatsappFactory(company=company, provider="fake", status="CONNECTED")
    for n, status in enumerate(("pending", "pending", "failed", "done")):
        dbmod.db.session.add(
            InboundEvent(
                company_id=company.id,
                whatsapp_id=conn.id,
                provider="fake",
                dedupe_key=f"k{n}",
                payload="{}",
                status=status,
            )
        )
    dbmod.commit()
    families = scrape(client, prefix)
    assert value(families, "whaticket_inbound_events", status="pending") == 2
    assert value(families, "whaticket_inbound_events", status="failed") == 1
    assert value(families, "whaticket_connections", status="CONNECTED") >= 1
    assert value(families, "whaticket_scrape_up", source="database") == 1


def test_a_provider_send_and_its_job_are_counted(client, prefix, token, company, admin, auth):
    conn = factories.WhatsappFactory(
        company=company, provider="fake", status="CONNECTED", is_default=True
    )
    ticket = factories.TicketFactory(
        company=company, whatsapp=conn, status="open", user_id=admin.id
    )
    before = scrape(client, prefix)
    resp = client.post(f"{prefix}/messages/{ticket.id}", json={"body": "hi"}, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    jobs.enqueue("users.sweep_stale_online")
    dbmod.commit()  # inline backend: the job runs now
    after = scrape(client, prefix)
    sample = "whaticket_provider_send_duration_seconds_count"
    assert value(after, sample, provider="fake") == value(before, sample, provider="fake") + 1
    job = "whaticket_job_duration_seconds_count"
    name = "users.sweep_stale_online"
    assert value(after, job, job=name) == value(before, job, job=name) + 1


def test_socket_connections_gauge_follows_connects(client, prefix, token, admin, socket_client):
    before = value(scrape(client, prefix), "whaticket_socket_connections")
    sock = socket_client(admin)
    assert sock.is_connected()
    refused = socket_client(token="not-a-token")
    assert not refused.is_connected()
    assert value(scrape(client, prefix), "whaticket_socket_connections") == before + 1
    sock.disconnect()
    assert value(scrape(client, prefix), "whaticket_socket_connections") == before
