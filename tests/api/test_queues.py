"""Queues: list, show, create, update, delete; validation, roles, plan limit, tenancy, events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Queue, user_queues, whatsapp_queues

SCHEDULES = [
    {"weekday": "Segunda-feira", "weekdayEn": "monday", "startTime": "08:00", "endTime": "18:00"},
    {"weekday": "Sexta-feira", "weekdayEn": "friday", "startTime": "22:00", "endTime": "02:00"},
    {"weekday": "Domingo", "weekdayEn": "sunday", "startTime": "", "endTime": ""},
]

ROW_KEYS = {
    "id",
    "name",
    "color",
    "greetingMessage",
    "outOfHoursMessage",
    "orderQueue",
    "schedules",
    "mediaPath",
    "mediaName",
    "integrationId",
    "promptId",
    # Automatic assignment (docs/assignment.md): extra keys the SaaS frontend ignores.
    "assignment",
    "capacity",
    "reassignAfter",
    "companyId",
    "createdAt",
    "updatedAt",
}


def _new_queue(**over):
    data = {"name": "Sales", "color": "#00ff00", "greetingMessage": "Hi", "orderQueue": 1}
    data.update(over)
    return data


def _count(company_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Queue.id)).where(Queue.company_id == company_id)
    )


def _links(table: sa.Table, column: str, queue_id: int) -> list[int]:
    rows = db.session.execute(
        sa.select(getattr(table.c, column)).where(table.c.queue_id == queue_id)
    )
    return sorted(r[0] for r in rows)


def _events(sock, company_id: int) -> list[dict]:
    return [e for e in sock.get_received() if e["name"] == f"company-{company_id}-queue"]


# -- list / show -----------------------------------------------------------------


def test_list_is_ordered_by_order_queue_and_scoped(client, prefix, agent, auth, other_admin):
    c = agent.company
    third = factories.QueueFactory(company=c, name="C", order_queue=2)
    first = factories.QueueFactory(company=c, name="A", order_queue=0)
    second = factories.QueueFactory(company=c, name="B", order_queue=1)
    unset = factories.QueueFactory(company=c, name="D", order_queue=None)
    factories.QueueFactory(company=other_admin.company, name="Theirs")
    db.session.commit()
    url = f"{prefix}/queue?companyId={other_admin.company_id}"
    resp = client.get(url, headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert [q["id"] for q in body] == [first.id, second.id, third.id, unset.id]
    assert set(body[0]) == ROW_KEYS
    assert all(q["companyId"] == c.id for q in body)


def test_list_and_show_need_a_token(client, prefix, admin):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    assert client.get(f"{prefix}/queue").status_code == 401
    assert client.get(f"{prefix}/queue/{queue.id}").status_code == 401


def test_show_returns_the_queue(client, prefix, agent, auth):
    queue = factories.QueueFactory(
        company=agent.company, greeting_message="Hello", schedules=SCHEDULES[:1]
    )
    db.session.commit()
    resp = client.get(f"{prefix}/queue/{queue.id}", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == queue.name and body["greetingMessage"] == "Hello"
    assert body["schedules"] == SCHEDULES[:1] and set(body) == ROW_KEYS


def test_show_other_company_or_missing_queue_is_404(client, prefix, admin, auth, other_admin):
    theirs = factories.QueueFactory(company=other_admin.company)
    db.session.commit()
    resp = client.get(f"{prefix}/queue/{theirs.id}", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_QUEUE_NOT_FOUND"}
    assert client.get(f"{prefix}/queue/999999", headers=auth(admin)).status_code == 404


# -- create ------------------------------------------------------------------------


def test_admin_creates_queue_with_users_connections_and_schedules(
    client, prefix, admin, agent, auth
):
    conn = factories.WhatsappFactory(company=admin.company)
    db.session.commit()
    resp = client.post(
        f"{prefix}/queue",
        json=_new_queue(
            name="  Sales ",
            outOfHoursMessage="   ",
            schedules=SCHEDULES,
            userIds=[agent.id, admin.id, agent.id],
            whatsappIds=[conn.id],
            companyId=999,
        ),
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == ROW_KEYS
    assert body["name"] == "Sales" and body["color"] == "#00ff00"
    assert body["greetingMessage"] == "Hi" and body["outOfHoursMessage"] is None
    assert body["orderQueue"] == 1 and body["schedules"] == SCHEDULES
    assert body["companyId"] == admin.company_id
    db.session.expire_all()
    queue = db.session.get(Queue, body["id"])
    assert queue.company_id == admin.company_id and queue.schedules == SCHEDULES
    assert _links(user_queues, "user_id", queue.id) == sorted([agent.id, admin.id])
    assert _links(whatsapp_queues, "whatsapp_id", queue.id) == [conn.id]


def test_create_minimal_queue(client, prefix, admin, auth):
    resp = client.post(f"{prefix}/queue", json={"name": "X", "color": "#abc"}, headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["schedules"] == [] and body["orderQueue"] is None
    assert body["greetingMessage"] is None
    assert _count(admin.company_id) == 1


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"color": "green"}, "color"),
        ({"color": "#12345"}, "color"),
        ({"orderQueue": -1}, "orderQueue"),
        ({"orderQueue": "abc"}, "orderQueue"),
        ({"greetingMessage": "x" * 10001}, "greetingMessage"),
        (
            {"schedules": [{"weekdayEn": "funday", "startTime": "08:00", "endTime": "09:00"}]},
            "schedules",
        ),
        (
            {"schedules": [{"weekdayEn": "monday", "startTime": "24:00", "endTime": "09:00"}]},
            "schedules",
        ),
        (
            {"schedules": [{"weekdayEn": "monday", "startTime": "8:00", "endTime": "09:00"}]},
            "schedules",
        ),
        (
            {"schedules": [{"weekdayEn": "monday", "startTime": "08:00", "endTime": ""}]},
            "schedules",
        ),
        ({"schedules": [{"weekdayEn": "monday", "startTime": "08:00"}]}, "schedules"),
        ({"schedules": [SCHEDULES[0], SCHEDULES[0]]}, "schedules"),
        ({"schedules": "mon"}, "schedules"),
        ({"userIds": ["a"]}, "userIds"),
        ({"whatsappIds": "1"}, "whatsappIds"),
    ],
)
def test_create_validation(client, prefix, admin, auth, over, field):
    resp = client.post(f"{prefix}/queue", json=_new_queue(**over), headers=auth(admin))
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and field in body["fields"]
    assert _count(admin.company_id) == 0


def test_create_requires_name_and_color(client, prefix, admin, auth):
    resp = client.post(f"{prefix}/queue", json={}, headers=auth(admin))
    assert resp.status_code == 400
    assert {"name", "color"} <= set(resp.get_json()["fields"])
    assert _count(admin.company_id) == 0


def test_create_needs_token_and_admin(client, prefix, agent, auth):
    assert client.post(f"{prefix}/queue", json=_new_queue()).status_code == 401
    resp = client.post(f"{prefix}/queue", json=_new_queue(), headers=auth(agent))
    assert resp.status_code == 403
    assert _count(agent.company_id) == 0


def test_create_rejects_other_company_users_and_connections(
    client, prefix, admin, auth, other_admin
):
    their_conn = factories.WhatsappFactory(company=other_admin.company)
    db.session.commit()
    resp = client.post(
        f"{prefix}/queue", json=_new_queue(userIds=[other_admin.id]), headers=auth(admin)
    )
    assert resp.status_code == 400 and "userIds" in resp.get_json()["fields"]
    resp = client.post(
        f"{prefix}/queue", json=_new_queue(whatsappIds=[their_conn.id]), headers=auth(admin)
    )
    assert resp.status_code == 400 and "whatsappIds" in resp.get_json()["fields"]
    assert _count(admin.company_id) == 0


def test_create_enforces_plan_limit(client, prefix, admin, auth):
    admin.company.plan.queues = 1
    factories.QueueFactory(company=admin.company)
    db.session.commit()
    resp = client.post(f"{prefix}/queue", json=_new_queue(), headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_QUEUE_LIMIT_REACHED"
    assert _count(admin.company_id) == 1


def test_plan_limit_counts_only_own_company(client, prefix, admin, auth, other_admin):
    admin.company.plan.queues = 1
    factories.QueueFactory(company=other_admin.company)
    db.session.commit()
    resp = client.post(f"{prefix}/queue", json=_new_queue(), headers=auth(admin))
    assert resp.status_code == 200


def test_name_and_color_unique_per_company_case_insensitive(
    client, prefix, admin, auth, other_admin
):
    factories.QueueFactory(company=admin.company, name="Sales", color="#AABBCC")
    db.session.commit()
    resp = client.post(
        f"{prefix}/queue", json=_new_queue(name="SALES", color="#123"), headers=auth(admin)
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_QUEUE_NAME_ALREADY_EXISTS"
    resp = client.post(
        f"{prefix}/queue", json=_new_queue(name="Other", color="#aabbcc"), headers=auth(admin)
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_QUEUE_COLOR_ALREADY_EXISTS"
    assert _count(admin.company_id) == 1
    # Another company may reuse both.
    resp = client.post(
        f"{prefix}/queue", json=_new_queue(name="Sales", color="#AABBCC"), headers=auth(other_admin)
    )
    assert resp.status_code == 200


def test_create_emits_queue_event_to_own_company_only(
    client, prefix, admin, auth, other_admin, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.post(f"{prefix}/queue", json=_new_queue(), headers=auth(admin))
    events = _events(mine, admin.company_id)
    assert len(events) == 1
    assert events[0]["args"][0]["action"] == "update"
    assert events[0]["args"][0]["queue"] == resp.get_json()
    assert not [e for e in theirs.get_received() if e["name"].endswith("-queue")]


def test_failed_create_emits_nothing(client, prefix, admin, auth, socket_client):
    mine = socket_client(admin)
    mine.get_received()
    client.post(f"{prefix}/queue", json=_new_queue(userIds=[999999]), headers=auth(admin))
    assert _events(mine, admin.company_id) == []


# -- update ------------------------------------------------------------------------


def test_update_changes_only_sent_keys(client, prefix, admin, agent, auth):
    queue = factories.QueueFactory(
        company=admin.company,
        name="Old",
        color="#111111",
        greeting_message="Hello",
        out_of_hours_message="Closed",
        order_queue=3,
        schedules=SCHEDULES[:1],
    )
    conn = factories.WhatsappFactory(company=admin.company)
    agent.queues = [queue]
    conn.queues = [queue]
    db.session.commit()
    resp = client.put(
        f"{prefix}/queue/{queue.id}", json={"name": "New", "orderQueue": 0}, headers=auth(admin)
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "New" and body["orderQueue"] == 0
    assert body["color"] == "#111111" and body["greetingMessage"] == "Hello"
    assert body["outOfHoursMessage"] == "Closed" and body["schedules"] == SCHEDULES[:1]
    assert _links(user_queues, "user_id", queue.id) == [agent.id]
    assert _links(whatsapp_queues, "whatsapp_id", queue.id) == [conn.id]


def test_update_replaces_users_connections_and_schedules(client, prefix, admin, agent, auth):
    queue = factories.QueueFactory(company=admin.company, name="Q")
    old_conn = factories.WhatsappFactory(company=admin.company)
    new_conn = factories.WhatsappFactory(company=admin.company)
    agent.queues = [queue]
    old_conn.queues = [queue]
    db.session.commit()
    resp = client.put(
        f"{prefix}/queue/{queue.id}",
        json={
            "userIds": [admin.id],
            "whatsappIds": [new_conn.id],
            "schedules": SCHEDULES[1:2],
            "greetingMessage": "",
            "color": "#FED",
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["schedules"] == SCHEDULES[1:2] and body["greetingMessage"] is None
    assert body["color"] == "#FED"
    assert _links(user_queues, "user_id", queue.id) == [admin.id]
    assert _links(whatsapp_queues, "whatsapp_id", queue.id) == [new_conn.id]
    resp = client.put(
        f"{prefix}/queue/{queue.id}", json={"userIds": [], "whatsappIds": []}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert _links(user_queues, "user_id", queue.id) == []
    assert _links(whatsapp_queues, "whatsapp_id", queue.id) == []


def test_update_may_keep_its_own_name_and_color(client, prefix, admin, auth):
    queue = factories.QueueFactory(company=admin.company, name="Sales", color="#abcdef")
    db.session.commit()
    resp = client.put(
        f"{prefix}/queue/{queue.id}",
        json={"name": "SALES", "color": "#ABCDEF"},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json()["name"] == "SALES"


def test_update_rejects_taken_name_and_color(client, prefix, admin, auth):
    factories.QueueFactory(company=admin.company, name="Sales", color="#abcdef")
    queue = factories.QueueFactory(company=admin.company, name="Support", color="#123456")
    db.session.commit()
    url = f"{prefix}/queue/{queue.id}"
    resp = client.put(url, json={"name": "sales"}, headers=auth(admin))
    assert resp.get_json()["error"] == "ERR_QUEUE_NAME_ALREADY_EXISTS"
    resp = client.put(url, json={"color": "#ABCDEF"}, headers=auth(admin))
    assert resp.get_json()["error"] == "ERR_QUEUE_COLOR_ALREADY_EXISTS"
    db.session.expire_all()
    assert db.session.get(Queue, queue.id).name == "Support"


def test_update_validation_leaves_queue_unchanged(client, prefix, admin, agent, auth):
    queue = factories.QueueFactory(company=admin.company, name="Keep", color="#010101")
    agent.queues = [queue]
    db.session.commit()
    url = f"{prefix}/queue/{queue.id}"
    resp = client.put(url, json={"name": "", "color": "nope"}, headers=auth(admin))
    assert resp.status_code == 400
    assert {"name", "color"} <= set(resp.get_json()["fields"])
    resp = client.put(url, json={"name": "Changed", "userIds": [999999]}, headers=auth(admin))
    assert resp.status_code == 400 and "userIds" in resp.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(Queue, queue.id).name == "Keep"
    assert _links(user_queues, "user_id", queue.id) == [agent.id]


def test_update_needs_admin_and_own_company(client, prefix, admin, agent, auth, other_admin):
    queue = factories.QueueFactory(company=admin.company, name="Mine")
    theirs = factories.QueueFactory(company=other_admin.company, name="Theirs")
    db.session.commit()
    assert client.put(f"{prefix}/queue/{queue.id}", json={"name": "X"}).status_code == 401
    resp = client.put(f"{prefix}/queue/{queue.id}", json={"name": "X"}, headers=auth(agent))
    assert resp.status_code == 403
    resp = client.put(f"{prefix}/queue/{theirs.id}", json={"name": "X"}, headers=auth(admin))
    assert resp.status_code == 404
    db.session.expire_all()
    assert db.session.get(Queue, queue.id).name == "Mine"
    assert db.session.get(Queue, theirs.id).name == "Theirs"


def test_update_emits_queue_event_to_own_company_only(
    client, prefix, admin, auth, other_admin, socket_client
):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    client.put(f"{prefix}/queue/{queue.id}", json={"name": "Renamed"}, headers=auth(admin))
    events = _events(mine, admin.company_id)
    assert len(events) == 1
    assert events[0]["args"][0]["action"] == "update"
    assert events[0]["args"][0]["queue"]["name"] == "Renamed"
    assert not [e for e in theirs.get_received() if e["name"].endswith("-queue")]


# -- delete ------------------------------------------------------------------------


def test_delete_removes_queue_and_links(client, prefix, admin, agent, auth):
    queue = factories.QueueFactory(company=admin.company)
    conn = factories.WhatsappFactory(company=admin.company)
    agent.queues = [queue]
    conn.queues = [queue]
    db.session.commit()
    queue_id = queue.id
    resp = client.delete(f"{prefix}/queue/{queue_id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Queue deleted"}
    db.session.expire_all()
    assert db.session.get(Queue, queue_id) is None
    assert _links(user_queues, "user_id", queue_id) == []
    assert _links(whatsapp_queues, "whatsapp_id", queue_id) == []


def test_delete_needs_admin_and_own_company(client, prefix, admin, agent, auth, other_admin):
    queue = factories.QueueFactory(company=admin.company)
    theirs = factories.QueueFactory(company=other_admin.company)
    db.session.commit()
    assert client.delete(f"{prefix}/queue/{queue.id}").status_code == 401
    assert client.delete(f"{prefix}/queue/{queue.id}", headers=auth(agent)).status_code == 403
    resp = client.delete(f"{prefix}/queue/{theirs.id}", headers=auth(admin))
    assert resp.status_code == 404 and resp.get_json() == {"error": "ERR_QUEUE_NOT_FOUND"}
    assert _count(admin.company_id) == 1 and _count(other_admin.company_id) == 1


def test_delete_emits_queue_event_to_own_company_only(
    client, prefix, admin, auth, other_admin, socket_client
):
    queue = factories.QueueFactory(company=admin.company)
    db.session.commit()
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    client.delete(f"{prefix}/queue/{queue.id}", headers=auth(admin))
    events = _events(mine, admin.company_id)
    assert [e["args"][0] for e in events] == [{"action": "delete", "queueId": queue.id}]
    assert not [e for e in theirs.get_received() if e["name"].endswith("-queue")]
