"""`/v1/webhooks/subscriptions` (`webhooks:manage`): the admins' company webhooks for an
integration: subscriptions with a secret shown once and rotated with a grace period, the
delivery log paged by cursor, redelivery and the test ping; another company's token gets
404, bad input 400 with its fields; the plan's integrations flag gates all of it, and
the deliveries themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories, webhooks
from tests.api.v1.conftest import bearer
from tests.stubs import webhook_receiver as receivers
from tests.webhooks import T0, contact_event, deliveries, fresh, run_due, subscribe
from whaticket.extensions import db
from whaticket.models import ApiToken, Plan, WebhookSubscription

receiver = receivers.receiver
untrusted_receiver = receivers.untrusted_receiver
clock = webhooks.clock  # the delivery tests' frozen clock (not the feed's)

BASE = "/v1/webhooks/subscriptions"
SCOPE = "webhooks:manage"


def _switch(company, flag: str, value: bool) -> None:
    plan = db.session.get(Plan, company.plan_id)
    setattr(plan, flag, value)
    db.session.commit()


def test_create_list_show_update_and_delete(client, prefix, token, company, receiver):
    headers = bearer(token(SCOPE))
    body = {"url": receiver.url, "events": ["contact.created"], "description": "CRM"}
    resp = client.post(f"{prefix}{BASE}", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    assert (
        created["secret"].startswith("whsec_") and created["secretHint"] == created["secret"][-4:]
    )
    assert created["previousSecretExpiresAt"] is None
    sid = created["id"]
    listed = client.get(f"{prefix}{BASE}", headers=headers).get_json()
    assert [s["id"] for s in listed["subscriptions"]] == [sid]
    assert "secret" not in listed["subscriptions"][0]
    shown = client.get(f"{prefix}{BASE}/{sid}", headers=headers).get_json()
    assert shown["description"] == "CRM" and "secret" not in shown
    patched = client.patch(f"{prefix}{BASE}/{sid}", json={"ordered": True}, headers=headers)
    assert patched.status_code == 200
    assert (patched.get_json()["ordered"], patched.get_json()["description"]) == (True, "CRM")
    receiver.secret = created["secret"]
    contact_event(company)
    assert receiver.events()[0].verified
    assert client.delete(f"{prefix}{BASE}/{sid}", headers=headers).status_code == 200
    assert db.session.get(WebhookSubscription, sid) is None
    assert deliveries() == []


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("post", "", {"url": "https://hooks.example.com/x", "events": []}, "events"),
        ("post", "", {"url": "ftp://hooks.example.com/x", "events": ["ticket.created"]}, "url"),
        ("post", "", {"events": ["ticket.created"]}, "url"),
        ("patch", "/{sid}", {"events": ["ticket.exploded"]}, "events"),
        ("patch", "/{sid}", {"active": "maybe"}, "active"),
        ("post", "/{sid}/secret", {"expireOld": "soon"}, "expireOld"),
    ],
)
def test_bad_input_is_400_with_its_field_and_changes_nothing(
    client, prefix, token, company, receiver, method, path, body, field
):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    before = (fresh(subscription).events, fresh(subscription).secret_encrypted)
    url = f"{prefix}{BASE}{path.format(sid=subscription.id)}"
    resp = getattr(client, method)(url, json=body, headers=bearer(token(SCOPE)))
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"] == "ERR_VALIDATION" and field in resp.get_json()["fields"]
    assert (fresh(subscription).events, fresh(subscription).secret_encrypted) == before
    assert db.session.query(WebhookSubscription).count() == 1


def test_an_internal_address_is_refused(client, prefix, token, untrusted_receiver):
    body = {"url": untrusted_receiver.url, "events": ["contact.created"]}
    resp = client.post(f"{prefix}{BASE}", json=body, headers=bearer(token(SCOPE)))
    assert resp.status_code == 400 and "url" in resp.get_json()["fields"]


def test_rotating_keeps_the_old_secret_signing_for_the_grace_unless_expired_at_once(
    client, prefix, token, company, receiver, clock
):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    old = receiver.secret
    headers = bearer(token(SCOPE))
    resp = client.post(f"{prefix}{BASE}/{subscription.id}/secret", headers=headers)
    assert resp.status_code == 200
    rotated = resp.get_json()
    assert rotated["secret"] != old
    assert rotated["previousSecretExpiresAt"] == "2026-12-02T12:00:00.000Z"  # a day
    contact_event(company)  # a receiver still holding the old secret accepts it
    assert receiver.events()[-1].verified
    receiver.secret = rotated["secret"]  # and one that switched already
    contact_event(company)
    assert receiver.events()[-1].verified
    resp = client.post(
        f"{prefix}{BASE}/{subscription.id}/secret", json={"expireOld": True}, headers=headers
    )
    assert resp.get_json()["previousSecretExpiresAt"] is None
    contact_event(company)  # signed with the newest secret only: the last one no longer holds
    assert not receiver.events()[-1].verified
    assert "," not in receiver.events()[-1].headers["X-Whaticket-Signature"]


def test_the_log_pages_by_cursor_newest_first_and_filters(client, prefix, token, company, receiver):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    receiver.answer_next(410)  # the first fails for good
    for _ in range(5):
        contact_event(company)
    rows = deliveries(subscription.id)
    headers = bearer(token(SCOPE))
    url = f"{prefix}{BASE}/{subscription.id}/deliveries"
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, query_string=query, headers=headers).get_json()
        seen += [d["id"] for d in page["deliveries"]]
        if not page["hasMore"]:
            assert page["nextCursor"] is None
            break
        cursor = page["nextCursor"]
    assert seen == [r.id for r in reversed(rows)]
    failed = client.get(url, query_string={"status": "failed"}, headers=headers).get_json()
    assert [d["id"] for d in failed["deliveries"]] == [rows[0].id]
    assert failed["deliveries"][0]["event"] == "contact.created"
    none = client.get(url, query_string={"event": "ticket.created"}, headers=headers).get_json()
    assert none == {"deliveries": [], "hasMore": False, "nextCursor": None}
    bad = client.get(url, query_string={"cursor": "nonsense!"}, headers=headers)
    assert bad.status_code == 400 and "cursor" in bad.get_json()["fields"]
    bad = client.get(url, query_string={"limit": 0}, headers=headers)
    assert bad.status_code == 400 and "limit" in bad.get_json()["fields"]
    detail = client.get(f"{url}/{rows[0].id}", headers=headers).get_json()
    assert detail["attemptLog"][0]["responseCode"] == 410 and detail["payload"]["type"]


def test_redeliver_and_test_send_now(client, prefix, token, company, receiver):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    receiver.answer_next(410)
    contact_event(company)
    (row,) = deliveries()
    headers = bearer(token(SCOPE))
    base = f"{prefix}{BASE}/{subscription.id}"
    resp = client.post(f"{base}/deliveries/{row.id}/redeliver", headers=headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "succeeded"
    assert [r.delivery for r in receiver.events()] == [row.uuid, row.uuid]
    ping = client.post(f"{base}/test", headers=headers)
    assert ping.status_code == 200 and ping.get_json()["event"] == "ping"
    assert receiver.events()[-1].event == "ping" and receiver.events()[-1].verified


def _routes(sid: int, did: int) -> list[tuple[str, str, dict]]:
    base = f"{BASE}/{sid}"
    return [
        ("get", base, {}),
        ("patch", base, {"json": {"description": "x"}}),
        ("post", f"{base}/secret", {}),
        ("get", f"{base}/deliveries", {}),
        ("get", f"{base}/deliveries/{did}", {}),
        ("post", f"{base}/deliveries/{did}/redeliver", {}),
        ("post", f"{base}/test", {}),
        ("delete", base, {}),
    ]


@pytest.fixture
def logged(company, receiver):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    contact_event(company)
    (row,) = deliveries()
    return subscription.id, row.id


def test_another_companys_token_gets_404_and_sees_none(
    client, prefix, token, other_company, logged, receiver
):
    headers = bearer(
        token(SCOPE, company=other_company, creator=factories.AdminFactory(company=other_company))
    )
    sent, secret = len(receiver.events()), fresh_secret(logged[0])
    for method, path, kwargs in _routes(*logged):
        resp = getattr(client, method)(f"{prefix}{path}", headers=headers, **kwargs)
        assert resp.status_code == 404, (method, path)
        assert resp.get_json() == {"error": "ERR_WEBHOOK_SUBSCRIPTION_NOT_FOUND"}
    assert client.get(f"{prefix}{BASE}", headers=headers).get_json() == {"subscriptions": []}
    assert len(receiver.events()) == sent and fresh_secret(logged[0]) == secret


def fresh_secret(subscription_id: int) -> str:
    return fresh(db.session.get(WebhookSubscription, subscription_id)).secret_encrypted


def test_the_scope_is_never_held_with_limits(client, prefix, auth, admin, conn):
    queue = factories.QueueFactory(company=conn.company)
    for limits in ({"whatsappIds": [conn.id]}, {"queueIds": [queue.id]}):
        body = {"name": "Hooks", "scopes": [SCOPE], **limits}
        resp = client.post(f"{prefix}/api-tokens", json=body, headers=auth(admin))
        assert resp.status_code == 400 and "scopes" in resp.get_json()["fields"]


def test_a_token_edited_to_hold_limits_is_refused(client, prefix, token, conn):
    secret = token(SCOPE)
    record = db.session.query(ApiToken).one()
    record.whatsapp_ids = [conn.id]
    db.session.commit()
    resp = client.get(f"{prefix}{BASE}", headers=bearer(secret))
    assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_INSUFFICIENT_SCOPE"})


# -- the plan's integrations flag -----------------------------------------------------------------


def test_without_integrations_in_the_plan_the_api_is_403_and_nothing_is_delivered(
    client, prefix, auth, admin, token, company, receiver, logged, clock
):
    sid, did = logged
    receiver.answer_next(500)
    contact_event(company)  # fails: waits a minute for its retry
    waiting = deliveries()[-1]
    assert waiting.status == "pending"
    headers = bearer(token(SCOPE))
    _switch(company, "use_integrations", False)
    for method, path, kwargs in [
        ("get", BASE, {}),
        ("post", BASE, {"json": {}}),
        *_routes(sid, did),
    ]:
        resp = getattr(client, method)(f"{prefix}{path}", headers=headers, **kwargs)
        assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_PLAN_FEATURE_DISABLED"})
        admin_path = path.removeprefix("/v1")
        if method == "patch":
            method = "put"
        resp = getattr(client, method)(f"{prefix}{admin_path}", headers=auth(admin), **kwargs)
        assert (resp.status_code, resp.get_json()) == (403, {"error": "ERR_PLAN_FEATURE_DISABLED"})
    sent, rows = len(receiver.events()), len(deliveries())
    contact_event(company)  # no delivery recorded for it
    assert len(deliveries()) == rows
    clock.now = T0 + timedelta(minutes=5)
    run_due(clock.now)  # the retry waiting fails without a request
    assert len(receiver.events()) == sent
    assert fresh(waiting).status == "failed" and "plan" in fresh(waiting).last_error
    _switch(company, "use_integrations", True)  # back on: events are delivered again
    contact_event(company)
    assert len(receiver.events()) == sent + 1
