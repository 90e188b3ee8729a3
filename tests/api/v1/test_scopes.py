"""Every v1 route declares one scope (in the view and in OpenAPI), and each scope allows
exactly its operations: a token without the route's scope gets 403 ERR_INSUFFICIENT_SCOPE,
a token with it gets an answer decided by the input (2xx, or a 4xx other than 401/403)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.v1.conftest import bearer
from tests.stubs import webhook_receiver as receivers
from tests.webhooks import subscribe
from whaticket import db as dbmod
from whaticket.api import roles
from whaticket.extensions import db
from whaticket.models import API_SCOPES, Campaign
from whaticket.services.integrations import deliveries

receiver = receivers.receiver

#: Declared scopes no v1 route uses (every one has its operations now).
UNWIRED: set[str] = set()
INSUFFICIENT = {"error": "ERR_INSUFFICIENT_SCOPE"}


def _v1_rules(app) -> list:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("v1_")),
        key=lambda rule: (rule.rule, sorted(rule.methods or ())),
    )


def _scope(app, endpoint: str) -> str | None:
    return getattr(app.view_functions[endpoint], "required_scope", None)


@pytest.fixture
def calls(app, company, conn, receiver) -> list[tuple[str, str, str, str]]:
    """(scope, endpoint, method, url) of every v1 route, with ids of real rows."""
    ticket = factories.TicketFactory(company=company, whatsapp=conn, status="open")
    message = factories.MessageFactory(ticket=ticket)
    # Not startable (no list): resume, pause and cancel answer 400 without sending.
    campaign = Campaign(company_id=company.id, name="Natal", status="INATIVA", whatsapp_id=conn.id)
    db.session.add(campaign)
    subscription = subscribe(company.id, receiver, ["contact.created"])
    ping = deliveries.ping(company.id, subscription.id)
    dbmod.commit()
    ids = {
        "ticket_id": ticket.id,
        "message_id": message.id,
        "contact_id": ticket.contact_id,
        "campaign_id": campaign.id,
        "subscription_id": subscription.id,
        "delivery_id": ping.id,
    }
    adapter = app.url_map.bind("localhost")
    out = []
    for rule in _v1_rules(app):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            url = adapter.build(rule.endpoint, {k: ids[k] for k in rule.arguments}, method=method)
            out.append((_scope(app, rule.endpoint), rule.endpoint, method, url))
    return out


def test_every_v1_route_declares_a_known_scope_and_is_a_token_route(app):
    rules = _v1_rules(app)
    assert len(rules) >= 20
    for rule in rules:
        assert _scope(app, rule.endpoint) in API_SCOPES, rule.endpoint
        if (rule.methods or set()) & roles.WRITE_METHODS:
            assert roles.ROLES[rule.endpoint] == roles.TOKEN, rule.endpoint
    used = {_scope(app, rule.endpoint) for rule in rules}
    assert used == set(API_SCOPES) - UNWIRED


def test_the_openapi_document_names_the_token_scheme_and_each_operation_scope(app, client, prefix):
    spec = client.get(f"{prefix}/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    for rule in _v1_rules(app):
        path = rule.rule.replace("<int:", "{").replace(">", "}")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            operation = spec["paths"][path][method.lower()]
            assert operation["security"] == [{"apiToken": []}], (path, method)
            assert operation["x-scope"] == _scope(app, rule.endpoint), (path, method)


def test_each_scope_allows_exactly_its_operations(client, token, calls):
    for scope in API_SCOPES:
        headers = bearer(token(scope))
        for route_scope, endpoint, method, url in calls:
            resp = client.open(url, method=method, json={}, headers=headers)
            if route_scope == scope:
                assert resp.status_code < 500, (scope, endpoint, resp.get_json())
                assert resp.status_code not in (401, 403), (scope, endpoint, resp.get_json())
            else:
                assert (resp.status_code, resp.get_json()) == (403, INSUFFICIENT), (
                    scope,
                    endpoint,
                )


def test_a_token_with_every_other_scope_is_refused(client, token, calls):
    for scope in set(API_SCOPES) - UNWIRED:
        headers = bearer(token(*(set(API_SCOPES) - {scope})))
        for route_scope, endpoint, method, url in calls:
            if route_scope != scope:
                continue
            resp = client.open(url, method=method, json={}, headers=headers)
            assert (resp.status_code, resp.get_json()) == (403, INSUFFICIENT), endpoint


def test_every_v1_route_wants_a_token(app, client, calls, auth, admin):
    # Missing, unknown, or an access JWT (a user's, not an API token): all 401 (so many
    # from one address that the guessing limit is raised for the test).
    app.config["EXTERNAL_API_MAX_FAILURES_PER_IP"] = 1000
    for headers in ({}, bearer("wtk_unknown"), auth(admin)):
        for _scope_name, endpoint, method, url in calls:
            resp = client.open(url, method=method, json={}, headers=headers)
            assert (resp.status_code, resp.get_json()) == (
                401,
                {"error": "ERR_INVALID_TOKEN"},
            ), endpoint
