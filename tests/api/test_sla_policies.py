"""`/sla-policies`: admins write, agents read, other companies see nothing; bad input
changes nothing; episodes take the first matching policy (rules by position, defaults last)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import SlaPolicy
from whaticket.services.sla import policies


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy))


def test_admin_creates_updates_and_deletes_agent_reads(client, prefix, admin, agent, auth):
    queue = factories.QueueFactory(company=admin.company)
    resp = client.post(
        f"{prefix}/sla-policies",
        json={"name": "Gold", "firstResponseMinutes": 15, "queueIds": [queue.id, queue.id]},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["queueIds"] == [queue.id] and body["warningFraction"] == 0.8
    assert body["businessHours"] is False and body["resolutionMinutes"] is None
    pid = body["id"]
    listed = client.get(f"{prefix}/sla-policies", headers=auth(agent)).get_json()
    assert [p["id"] for p in listed] == [pid]
    assert client.get(f"{prefix}/sla-policies/{pid}", headers=auth(agent)).status_code == 200
    resp = client.put(
        f"{prefix}/sla-policies/{pid}", json={"resolutionMinutes": 240}, headers=auth(admin)
    )
    assert resp.get_json()["resolutionMinutes"] == 240
    for method, url in (
        ("post", f"{prefix}/sla-policies"),
        ("put", f"{prefix}/sla-policies/{pid}"),
        ("delete", f"{prefix}/sla-policies/{pid}"),
    ):
        resp = getattr(client, method)(url, json={"name": "Agent's"}, headers=auth(agent))
        assert resp.status_code == 403
    assert client.delete(f"{prefix}/sla-policies/{pid}", headers=auth(admin)).status_code == 200
    assert _count() == 0


def test_another_company_gets_404(client, prefix, admin, other_admin, auth):
    policy = SlaPolicy(company_id=admin.company_id, name="Gold", first_response_minutes=5)
    db.session.add(policy)
    db.session.commit()
    url = f"{prefix}/sla-policies/{policy.id}"
    for resp in (
        client.get(url, headers=auth(other_admin)),
        client.put(url, json={"name": "Mine"}, headers=auth(other_admin)),
        client.delete(url, headers=auth(other_admin)),
    ):
        assert resp.status_code == 404
        assert resp.get_json() == {"error": "ERR_NO_SLA_POLICY_FOUND"}
    assert client.get(f"{prefix}/sla-policies", headers=auth(other_admin)).get_json() == []
    db.session.expire_all()
    assert db.session.get(SlaPolicy, policy.id).name == "Gold"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "X", "firstResponseMinutes": 0},
        {"name": "X", "warningFraction": 2},
        {"name": "X", "queueIds": ["a"]},
        {"name": "X", "tagIds": [99999999]},
        {"name": "X", "resolutionMinutes": 10**12},
    ],
)
def test_bad_input_is_400_and_changes_nothing(client, prefix, admin, auth, payload):
    resp = client.post(f"{prefix}/sla-policies", json=payload, headers=auth(admin))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["error"] == "ERR_VALIDATION"
    assert _count() == 0


def test_rules_must_name_the_companys_rows_and_names_are_unique(
    client, prefix, admin, other_admin, auth
):
    foreign_tag = factories.TagFactory(company=other_admin.company)
    resp = client.post(
        f"{prefix}/sla-policies",
        json={"name": "X", "tagIds": [foreign_tag.id]},
        headers=auth(admin),
    )
    assert resp.status_code == 400 and resp.get_json()["fields"] == {"tagIds": ["Unknown id."]}
    resp = client.post(f"{prefix}/sla-policies", json={"name": "X"}, headers=auth(admin))
    assert resp.status_code == 200
    resp = client.post(f"{prefix}/sla-policies", json={"name": "X"}, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {"error": "ERR_SLA_POLICY_NAME_EXISTS"}
    assert _count() == 1


def test_matching_order_rules_by_position_then_defaults(company):
    q1, q2 = factories.QueueFactory(company=company), factories.QueueFactory(company=company)
    vip = factories.TagFactory(company=company)
    w1, w2 = (factories.WhatsappFactory(company=company) for _ in range(2))

    def add(name: str, position: int, **rules) -> SlaPolicy:
        policy = SlaPolicy(company_id=company.id, name=name, position=position, **rules)
        db.session.add(policy)
        return policy

    default = add("Default", 0)
    by_queue = add("Queue 1", 2, queue_ids=[q1.id])
    by_tag = add("VIP", 1, tag_ids=[vip.id])
    by_conn = add("Connection 2 in queue 2", 3, whatsapp_ids=[w2.id], queue_ids=[q2.id])
    db.session.commit()

    def ticket(queue=None, tags=(), conn=w1):
        t = factories.TicketFactory(company=company, whatsapp=conn, queue_id=queue)
        t.tags.extend(tags)
        db.session.flush()
        return t

    assert policies.match(company.id, ticket(q1.id, [vip])).id == by_tag.id
    assert policies.match(company.id, ticket(q1.id)).id == by_queue.id
    assert policies.match(company.id, ticket(q2.id, conn=w2)).id == by_conn.id
    assert policies.match(company.id, ticket(q2.id, conn=w1)).id == default.id
    assert policies.match(company.id, ticket()).id == default.id
    assert [p.id for p in policies.list_policies(company.id)] == [
        by_tag.id,
        by_queue.id,
        by_conn.id,
        default.id,
    ]
    db.session.delete(default)
    db.session.flush()
    assert policies.match(company.id, ticket()) is None
