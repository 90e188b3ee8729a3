"""Public API v1 reports: the company's summary, with the agents' report arguments."""

from __future__ import annotations

from tests.api.v1.conftest import bearer
from whaticket.extensions import db
from whaticket.models import ApiToken


def test_the_summary(client, prefix, token):
    headers = bearer(token("reports:read"))
    resp = client.get(
        f"{prefix}/v1/reports/summary", query_string={"groupBy": "queue"}, headers=headers
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["groupBy"] == "queue" and body["total"]["conversations"] == 0
    bad = client.get(
        f"{prefix}/v1/reports/summary",
        query_string={"from": "2026-02-01", "to": "2026-01-01"},
        headers=headers,
    )
    assert bad.status_code == 400 and "to" in bad.get_json()["fields"]


def test_a_restricted_token_never_reads_company_wide_numbers(client, prefix, token, conn):
    secret = token("reports:read")
    # Restrictions cannot be combined with reports:read (api-tokens refuses it); a row
    # changed behind the API's back is refused at call time too.
    row = db.session.query(ApiToken).one()
    row.whatsapp_ids = [conn.id]
    db.session.commit()
    resp = client.get(f"{prefix}/v1/reports/summary", headers=bearer(secret))
    assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_INSUFFICIENT_SCOPE"})
