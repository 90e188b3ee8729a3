"""`/webhooks/subscriptions` (admins): subscriptions with a secret shown once and rotated,
URLs checked when saved, the delivery log with its filters, redelivery and the test ping;
agents get 403 and another company's admin 404 on every route."""

from __future__ import annotations

import pytest

from tests.stubs import webhook_receiver as receivers
from tests.stubs.base import TRUSTED
from tests.webhooks import deliveries, fresh, subscribe
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import WebhookSubscription
from whaticket.services.contacts import contacts as contact_service

receiver = receivers.receiver
untrusted_receiver = receivers.untrusted_receiver

BASE = "/webhooks/subscriptions"


def _create(client, prefix, auth, admin, url, **fields):
    body = {"url": url, "events": ["contact.created", "ticket.created"], **fields}
    return client.post(f"{prefix}{BASE}", json=body, headers=auth(admin))


def _event(company, number: str = "11987650000") -> None:
    contact_service.create_contact(company.id, {"name": "Cliente", "number": number})
    dbmod.commit()


# -- subscriptions and their secret ---------------------------------------------------------------


def test_the_secret_is_shown_once_and_signs_the_deliveries(
    client, prefix, auth, admin, company, receiver
):
    resp = _create(client, prefix, auth, admin, receiver.url, description="CRM")
    assert resp.status_code == 201, resp.get_json()
    created = resp.get_json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["secretHint"] == secret[-4:] and created["status"] == "healthy"
    assert created["events"] == ["contact.created", "ticket.created"]
    assert (created["active"], created["ordered"], created["description"]) == (True, False, "CRM")
    shown = client.get(f"{prefix}{BASE}/{created['id']}", headers=auth(admin)).get_json()
    listed = client.get(f"{prefix}{BASE}", headers=auth(admin)).get_json()
    assert "secret" not in shown and shown["secretHint"] == secret[-4:]
    assert listed["count"] == 1 and "secret" not in listed["subscriptions"][0]
    assert secret not in fresh(_subscription(created["id"])).secret_encrypted  # encrypted
    receiver.secret = secret
    _event(company)
    assert receiver.events()[0].verified


def test_rotating_the_secret_signs_with_the_new_one(client, prefix, auth, admin, company, receiver):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    old = receiver.secret
    resp = client.post(f"{prefix}{BASE}/{subscription.id}/secret", headers=auth(admin))
    assert resp.status_code == 200
    new = resp.get_json()["secret"]
    assert new != old and resp.get_json()["secretHint"] == new[-4:]
    receiver.secret = new
    _event(company)
    assert receiver.events()[0].verified


def _subscription(subscription_id: int) -> WebhookSubscription:
    return db.session.get(WebhookSubscription, subscription_id)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"url": "https://hooks.example.com/x", "events": []}, "events"),
        ({"url": "https://hooks.example.com/x", "events": ["ticket.exploded"]}, "events"),
        ({"url": "https://hooks.example.com/x"}, "events"),
        ({"events": ["ticket.created"]}, "url"),
        ({"url": "ftp://hooks.example.com/x", "events": ["ticket.created"]}, "url"),
        ({"url": "http://localhost:8080/x", "events": ["ticket.created"]}, "url"),
        ({"url": "http://10.0.0.7/x", "events": ["ticket.created"]}, "url"),
        ({"url": "http://169.254.169.254/latest", "events": ["ticket.created"]}, "url"),
        ({"url": "https://x.example/" + "a" * 2048, "events": ["ticket.created"]}, "url"),
        ({"url": "https://hooks.example.com/x", "events": ["ping"]}, "events"),
    ],
)
def test_validation(client, prefix, auth, admin, body, field):
    resp = client.post(f"{prefix}{BASE}", json=body, headers=auth(admin))
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"] == "ERR_VALIDATION" and field in resp.get_json()["fields"]


def test_an_internal_address_is_refused_unless_the_operator_allows_it(
    app, client, prefix, auth, admin, untrusted_receiver
):
    resp = _create(client, prefix, auth, admin, untrusted_receiver.url)
    assert resp.status_code == 400
    assert resp.get_json()["fields"]["url"] == ["Internal addresses are not allowed."]
    app.config["OUTBOUND_ALLOWED_HOSTS"] = {*TRUSTED, untrusted_receiver.url.split("/")[2]}
    assert _create(client, prefix, auth, admin, untrusted_receiver.url).status_code == 201


def test_a_company_has_a_limited_number_of_subscriptions(app, client, prefix, auth, admin):
    app.config["WEBHOOK_MAX_SUBSCRIPTIONS"] = 2
    for _ in range(2):
        assert (
            _create(client, prefix, auth, admin, "https://hooks.example.com/x").status_code == 201
        )
    resp = _create(client, prefix, auth, admin, "https://hooks.example.com/x")
    assert resp.status_code == 400 and resp.get_json() == {
        "error": "ERR_WEBHOOK_SUBSCRIPTION_LIMIT"
    }


def test_update_and_switching_back_on_clears_the_failures(
    client, prefix, auth, admin, company, receiver
):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    record = fresh(subscription)
    record.active, record.status, record.failing_since = False, "disabled", record.created_at
    dbmod.commit()
    url = f"{prefix}{BASE}/{subscription.id}"
    resp = client.put(
        url, json={"events": ["contact.updated"], "ordered": True}, headers=auth(admin)
    )
    body = resp.get_json()
    assert resp.status_code == 200 and body["events"] == ["contact.updated"] and body["ordered"]
    assert (body["active"], body["status"]) == (False, "disabled")
    body = client.put(url, json={"active": True}, headers=auth(admin)).get_json()
    assert (body["active"], body["status"], body["failingSince"]) == (True, "healthy", None)
    resp = client.put(url, json={"url": "http://127.0.0.1:1/x"}, headers=auth(admin))
    assert resp.status_code == 400 and "url" in resp.get_json()["fields"]


def test_delete_removes_the_subscription_and_its_log(
    client, prefix, auth, admin, company, receiver
):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    _event(company)
    resp = client.delete(f"{prefix}{BASE}/{subscription.id}", headers=auth(admin))
    assert resp.status_code == 200
    assert client.get(f"{prefix}{BASE}/{subscription.id}", headers=auth(admin)).status_code == 404
    assert deliveries() == []


# -- the delivery log, redelivery, test --------------------------------------------------------


def test_the_log_is_filtered_by_status_and_event_and_paginated(
    client, prefix, auth, admin, company, receiver
):
    subscription = subscribe(company.id, receiver, ["contact.created", "contact.updated"])
    receiver.answer_next(404)
    for n in range(22):
        _event(company, f"119876500{n:02d}")
    first_contact = receiver.events()[0].json()["data"]["contact"]["id"]
    contact_service.update_contact(company.id, first_contact, {"name": "Outro"})
    dbmod.commit()
    url = f"{prefix}{BASE}/{subscription.id}/deliveries"
    page = client.get(url, headers=auth(admin)).get_json()
    assert (page["count"], len(page["deliveries"]), page["hasMore"]) == (23, 20, True)
    assert page["deliveries"][0]["event"] == "contact.updated"  # newest first
    second = client.get(url, query_string={"pageNumber": 2}, headers=auth(admin)).get_json()
    assert (len(second["deliveries"]), second["hasMore"]) == (3, False)
    failed = client.get(url, query_string={"status": "failed"}, headers=auth(admin)).get_json()
    assert failed["count"] == 1 and failed["deliveries"][0]["responseCode"] == 404
    updates = client.get(url, query_string={"event": "contact.updated"}, headers=auth(admin))
    assert updates.get_json()["count"] == 1
    bad = client.get(url, query_string={"status": "lost"}, headers=auth(admin))
    assert bad.status_code == 400 and "status" in bad.get_json()["fields"]
    one = failed["deliveries"][0]
    detail = client.get(f"{url}/{one['id']}", headers=auth(admin)).get_json()
    assert (
        detail["payload"]["type"] == "contact.created" and detail["deliveryId"] == one["deliveryId"]
    )
    assert [(a["number"], a["status"], a["responseCode"]) for a in detail["attemptLog"]] == [
        (1, "failed", 404)
    ]


def test_redeliver_sends_the_same_delivery_again(client, prefix, auth, admin, company, receiver):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    receiver.answer_next(410)
    _event(company)
    (row,) = deliveries()
    assert row.status == "failed"
    url = f"{prefix}{BASE}/{subscription.id}/deliveries/{row.id}/redeliver"
    resp = client.post(url, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["status"], body["attempts"], body["responseCode"]) == ("succeeded", 2, 200)
    assert [a["manual"] for a in body["attemptLog"]] == [False, True]
    first, again = receiver.events()
    assert again.delivery == first.delivery == row.uuid and again.raw == first.raw
    assert again.verified


def test_redelivering_a_delivery_in_flight_is_409(client, prefix, auth, admin, company, receiver):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    _event(company)
    (row,) = deliveries()
    row.claimed_at = row.updated_at
    row.status = "pending"
    dbmod.commit()
    url = f"{prefix}{BASE}/{subscription.id}/deliveries/{row.id}/redeliver"
    resp = client.post(url, headers=auth(admin))
    assert resp.status_code == 409 and resp.get_json() == {
        "error": "ERR_WEBHOOK_DELIVERY_IN_FLIGHT"
    }


def test_test_sends_a_ping_even_to_a_switched_off_subscription(
    client, prefix, auth, admin, company, receiver
):
    subscription = subscribe(company.id, receiver, ["contact.created"], active=False)
    resp = client.post(f"{prefix}{BASE}/{subscription.id}/test", headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["event"], body["status"], body["responseCode"]) == ("ping", "succeeded", 200)
    (got,) = receiver.events()
    assert got.event == "ping" and got.verified
    assert got.json()["data"] == {"subscriptionId": subscription.id, "events": ["contact.created"]}
    receiver.answer_next(500)
    body = client.post(f"{prefix}{BASE}/{subscription.id}/test", headers=auth(admin)).get_json()
    assert (body["status"], body["lastError"]) == ("failed", "HTTP 500")  # a ping is not retried
    assert fresh(subscription).status == "healthy"  # and does not count against it


def test_a_delivery_of_another_subscription_is_404(client, prefix, auth, admin, company, receiver):
    first = subscribe(company.id, receiver, ["contact.created"])
    second = subscribe(company.id, receiver, ["ticket.created"])
    _event(company)
    (row,) = deliveries(first.id)
    url = f"{prefix}{BASE}/{second.id}/deliveries/{row.id}"
    assert client.get(url, headers=auth(admin)).status_code == 404
    resp = client.post(f"{url}/redeliver", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {
        "error": "ERR_WEBHOOK_DELIVERY_NOT_FOUND"
    }


# -- who may call what --------------------------------------------------------------------------


def _routes(subscription_id: int, delivery_id: int) -> list[tuple[str, str, dict]]:
    one = f"{BASE}/{subscription_id}"
    return [
        ("get", BASE, {}),
        ("post", BASE, {"json": {"url": "https://h.example/x", "events": ["ticket.created"]}}),
        ("get", one, {}),
        ("put", one, {"json": {"description": "x"}}),
        ("post", f"{one}/secret", {}),
        ("post", f"{one}/test", {}),
        ("get", f"{one}/deliveries", {}),
        ("get", f"{one}/deliveries/{delivery_id}", {}),
        ("post", f"{one}/deliveries/{delivery_id}/redeliver", {}),
        ("delete", one, {}),
    ]


@pytest.fixture
def logged(company, receiver):
    subscription = subscribe(company.id, receiver, ["contact.created"])
    _event(company)
    (row,) = deliveries()
    return subscription.id, row.id


def test_agents_get_403_on_every_route(client, prefix, auth, agent, logged):
    for method, path, kwargs in _routes(*logged):
        resp = getattr(client, method)(f"{prefix}{path}", headers=auth(agent), **kwargs)
        assert resp.status_code == 403, (method, path)
        assert resp.get_json() == {"error": "ERR_NO_PERMISSION"}


def test_no_token_is_401_on_every_route(client, prefix, logged):
    for method, path, kwargs in _routes(*logged):
        assert getattr(client, method)(f"{prefix}{path}", **kwargs).status_code == 401


def test_another_companys_admin_gets_404_on_every_route(
    client, prefix, auth, other_admin, logged, receiver
):
    sent = len(receiver.events())
    for method, path, kwargs in _routes(*logged):
        if path == BASE:
            continue  # their own list and create
        resp = getattr(client, method)(f"{prefix}{path}", headers=auth(other_admin), **kwargs)
        assert resp.status_code == 404, (method, path)
        assert resp.get_json() == {"error": "ERR_WEBHOOK_SUBSCRIPTION_NOT_FOUND"}
    listed = client.get(f"{prefix}{BASE}", headers=auth(other_admin)).get_json()
    assert listed["count"] == 0
    assert len(receiver.events()) == sent  # nothing was sent for them
