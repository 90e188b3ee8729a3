"""Queue integrations: page, show, create, update, delete, secret; validation, roles, tenancy."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Queue, QueueIntegration, Ticket, Whatsapp

ROW_KEYS = {
    "id",
    "type",
    "name",
    "projectName",
    "jsonContent",
    "language",
    "urlN8N",
    "typebotSlug",
    "typebotExpires",
    "typebotKeywordFinish",
    "typebotUnknownMessage",
    "typebotDelayMessage",
    "typebotKeywordRestart",
    "typebotRestartMessage",
    "companyId",
    "createdAt",
    "updatedAt",
}
ADMIN_KEYS = ROW_KEYS | {"secret"}


def _typebot(**over):
    data = {
        "type": "typebot",
        "name": "Bot",
        "urlN8N": "https://typebot.example.com",
        "typebotSlug": "my-bot",
        "typebotExpires": 30,
        "typebotDelayMessage": 500,
        "typebotKeywordFinish": "#sair",
        "typebotKeywordRestart": "#reiniciar",
        "typebotUnknownMessage": "Não entendi",
        "typebotRestartMessage": "Vamos recomeçar",
    }
    data.update(over)
    return data


def _make(company, **over) -> QueueIntegration:
    values = {
        "type": "webhook",
        "name": "Hook",
        "url_n8n": "https://hooks.example.com/in",
    }
    values.update(over)
    record = QueueIntegration(company_id=company.id, **values)
    db.session.add(record)
    db.session.commit()
    return record


def _count(company_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(QueueIntegration.id)).where(
            QueueIntegration.company_id == company_id
        )
    )


def _events(sock, company_id: int) -> list[dict]:
    name = f"company-{company_id}-queueIntegration"
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


# -- list / show -------------------------------------------------------------------


def test_list_is_newest_first_searchable_and_scoped(client, prefix, agent, auth, other_admin):
    first = _make(agent.company, name="Alpha hook")
    second = _make(agent.company, name="Beta bot", type="n8n")
    _make(other_admin.company, name="Alpha theirs")
    resp = client.get(f"{prefix}/queueIntegration", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"queueIntegrations", "count", "hasMore"}
    assert [r["id"] for r in body["queueIntegrations"]] == [second.id, first.id]
    assert body["count"] == 2 and body["hasMore"] is False
    # Agents never see the signing secret.
    assert all(set(r) == ROW_KEYS for r in body["queueIntegrations"])

    resp = client.get(f"{prefix}/queueIntegration?searchParam=alpha", headers=auth(agent))
    assert [r["id"] for r in resp.get_json()["queueIntegrations"]] == [first.id]


def test_list_pages_of_twenty(client, prefix, admin, auth):
    for n in range(21):
        _make(admin.company, name=f"Hook {n}")
    body = client.get(f"{prefix}/queueIntegration", headers=auth(admin)).get_json()
    assert len(body["queueIntegrations"]) == 20 and body["hasMore"] is True
    assert body["count"] == 21
    page2 = client.get(f"{prefix}/queueIntegration?pageNumber=2", headers=auth(admin)).get_json()
    assert len(page2["queueIntegrations"]) == 1 and page2["hasMore"] is False


def test_admin_sees_secret_agent_does_not(client, prefix, admin, agent, auth):
    record = _make(admin.company)
    url = f"{prefix}/queueIntegration/{record.id}"
    body = client.get(url, headers=auth(admin)).get_json()
    assert set(body) == ADMIN_KEYS and body["secret"] == record.secret and len(record.secret) == 64
    body = client.get(url, headers=auth(agent)).get_json()
    assert set(body) == ROW_KEYS
    listed = client.get(f"{prefix}/queueIntegration", headers=auth(admin)).get_json()
    assert listed["queueIntegrations"][0]["secret"] == record.secret


def test_reads_need_a_token(client, prefix, admin):
    record = _make(admin.company)
    assert client.get(f"{prefix}/queueIntegration").status_code == 401
    assert client.get(f"{prefix}/queueIntegration/{record.id}").status_code == 401


def test_other_company_gets_404_everywhere(client, prefix, admin, auth, other_admin):
    theirs = _make(other_admin.company, name="Theirs")
    url = f"{prefix}/queueIntegration/{theirs.id}"
    for resp in (
        client.get(url, headers=auth(admin)),
        client.put(url, json={"name": "Mine now"}, headers=auth(admin)),
        client.delete(url, headers=auth(admin)),
        client.post(f"{url}/secret", headers=auth(admin)),
    ):
        assert resp.status_code == 404
        assert resp.get_json() == {"error": "ERR_QUEUE_INTEGRATION_NOT_FOUND"}
    db.session.expire_all()
    kept = db.session.get(QueueIntegration, theirs.id)
    assert kept.name == "Theirs" and kept.secret == theirs.secret
    listed = client.get(f"{prefix}/queueIntegration", headers=auth(admin)).get_json()
    assert listed["queueIntegrations"] == [] and listed["count"] == 0
    resp = client.get(f"{prefix}/queueIntegration/999999", headers=auth(admin))
    assert resp.status_code == 404


# -- create --------------------------------------------------------------------------


def test_admin_creates_typebot_and_the_company_hears_it(
    client, prefix, admin, auth, other_admin, socket_client
):
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.post(
        f"{prefix}/queueIntegration",
        json=_typebot(name="  Bot ", companyId=other_admin.company_id, secret="mine"),
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == ADMIN_KEYS
    assert body["name"] == "Bot" and body["type"] == "typebot"
    assert body["urlN8N"] == "https://typebot.example.com" and body["typebotSlug"] == "my-bot"
    assert body["typebotExpires"] == 30 and body["typebotDelayMessage"] == 500
    assert body["companyId"] == admin.company_id and body["secret"] != "mine"
    events = _events(mine, admin.company_id)
    assert len(events) == 1 and events[0]["action"] == "create"
    # Events reach every user of the company: no secret in them.
    assert set(events[0]["queueIntegration"]) == ROW_KEYS
    assert _events(theirs, admin.company_id) == []
    assert _count(other_admin.company_id) == 0


def test_create_webhook_with_defaults(client, prefix, admin, auth):
    resp = client.post(
        f"{prefix}/queueIntegration",
        json={"type": "webhook", "name": "Feed", "urlN8N": "https://hooks.example.net:8080/hook"},
        headers=auth(admin),
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["typebotExpires"] == 0 and body["typebotDelayMessage"] == 1000
    assert body["typebotSlug"] is None and body["projectName"] is None


def test_dialogflow_needs_no_url(client, prefix, admin, auth):
    resp = client.post(
        f"{prefix}/queueIntegration",
        json={"type": "dialogflow", "name": "DF", "projectName": "p", "language": "pt-BR"},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json()["urlN8N"] is None


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"type": "zapier"}, "type"),
        ({"type": None}, "type"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"urlN8N": ""}, "urlN8N"),
        ({"urlN8N": None}, "urlN8N"),
        ({"urlN8N": "ftp://files.example.com"}, "urlN8N"),
        ({"urlN8N": "typebot.example.com"}, "urlN8N"),
        ({"urlN8N": "https://" + "x" * 500}, "urlN8N"),
        ({"typebotSlug": ""}, "typebotSlug"),
        ({"typebotExpires": -1}, "typebotExpires"),
        ({"typebotExpires": "soon"}, "typebotExpires"),
        ({"typebotDelayMessage": -5}, "typebotDelayMessage"),
        ({"typebotDelayMessage": True}, "typebotDelayMessage"),
        ({"typebotUnknownMessage": "x" * 10001}, "typebotUnknownMessage"),
    ],
)
def test_create_validation(client, prefix, admin, auth, socket_client, over, field):
    mine = socket_client(admin)
    mine.get_received()
    resp = client.post(f"{prefix}/queueIntegration", json=_typebot(**over), headers=auth(admin))
    assert resp.status_code == 400, resp.get_json()
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and field in body["fields"]
    assert _count(admin.company_id) == 0
    assert _events(mine, admin.company_id) == []


@pytest.mark.parametrize("kind", ["webhook", "n8n"])
def test_webhook_types_need_a_url(client, prefix, admin, auth, kind):
    resp = client.post(
        f"{prefix}/queueIntegration", json={"type": kind, "name": "X"}, headers=auth(admin)
    )
    assert resp.status_code == 400 and "urlN8N" in resp.get_json()["fields"]


def test_create_requires_type_and_name(client, prefix, admin, auth):
    resp = client.post(f"{prefix}/queueIntegration", json={}, headers=auth(admin))
    assert resp.status_code == 400
    assert {"type", "name"} <= set(resp.get_json()["fields"])


def test_name_is_unique_per_company(client, prefix, admin, auth, other_admin):
    _make(admin.company, name="Hook")
    _make(other_admin.company, name="Shared")
    url = f"{prefix}/queueIntegration"
    resp = client.post(url, json=_typebot(name="hook"), headers=auth(admin))
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_QUEUE_INTEGRATION_NAME_ALREADY_EXISTS"}
    assert _count(admin.company_id) == 1
    # Another company's names do not count.
    assert client.post(url, json=_typebot(name="Shared"), headers=auth(admin)).status_code == 200


def test_writes_need_token_and_admin(client, prefix, agent, auth):
    record = _make(agent.company)
    url = f"{prefix}/queueIntegration"
    assert client.post(url, json=_typebot()).status_code == 401
    assert client.post(url, json=_typebot(), headers=auth(agent)).status_code == 403
    one = f"{url}/{record.id}"
    assert client.put(one, json={"name": "N"}, headers=auth(agent)).status_code == 403
    assert client.delete(one, headers=auth(agent)).status_code == 403
    assert client.post(f"{one}/secret", headers=auth(agent)).status_code == 403
    db.session.expire_all()
    assert _count(agent.company_id) == 1
    assert db.session.get(QueueIntegration, record.id).name == "Hook"


# -- update / secret / delete ------------------------------------------------------------


def test_update_changes_only_the_keys_sent(client, prefix, admin, auth, socket_client):
    record = _make(admin.company, name="Hook", project_name="proj")
    mine = socket_client(admin)
    mine.get_received()
    resp = client.put(
        f"{prefix}/queueIntegration/{record.id}",
        json={"name": "Hook 2", "typebotExpires": None, "projectName": "  "},
        headers=auth(admin),
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["name"] == "Hook 2" and body["urlN8N"] == "https://hooks.example.com/in"
    assert body["projectName"] is None and body["typebotExpires"] == 0
    assert body["secret"] == record.secret
    events = _events(mine, admin.company_id)
    assert [e["action"] for e in events] == ["update"]
    assert events[0]["queueIntegration"]["name"] == "Hook 2"
    assert "secret" not in events[0]["queueIntegration"]


def test_update_checks_the_resulting_row(client, prefix, admin, auth):
    record = _make(admin.company)
    _make(admin.company, name="Other")
    url = f"{prefix}/queueIntegration/{record.id}"
    # A webhook turned into a Typebot needs a slug; keeping its own name is fine.
    resp = client.put(url, json={"type": "typebot", "name": "HOOK"}, headers=auth(admin))
    assert resp.status_code == 400 and "typebotSlug" in resp.get_json()["fields"]
    resp = client.put(url, json={"urlN8N": None}, headers=auth(admin))
    assert resp.status_code == 400 and "urlN8N" in resp.get_json()["fields"]
    resp = client.put(url, json={"name": "other"}, headers=auth(admin))
    assert resp.get_json()["error"] == "ERR_QUEUE_INTEGRATION_NAME_ALREADY_EXISTS"
    resp = client.put(url, json={"typebotDelayMessage": -1}, headers=auth(admin))
    assert resp.status_code == 400
    db.session.expire_all()
    kept = db.session.get(QueueIntegration, record.id)
    assert (kept.type, kept.name, kept.url_n8n) == (
        "webhook",
        "Hook",
        "https://hooks.example.com/in",
    )
    resp = client.put(url, json={"type": "typebot", "typebotSlug": "s"}, headers=auth(admin))
    assert resp.status_code == 201 and resp.get_json()["type"] == "typebot"


def test_rotate_secret(client, prefix, admin, auth):
    record = _make(admin.company)
    old = record.secret
    resp = client.post(f"{prefix}/queueIntegration/{record.id}/secret", headers=auth(admin))
    assert resp.status_code == 200
    new = resp.get_json()["secret"]
    assert new != old and len(new) == 64
    db.session.expire_all()
    assert db.session.get(QueueIntegration, record.id).secret == new


def test_delete_releases_queues_connections_and_tickets(client, prefix, admin, auth, socket_client):
    record = _make(admin.company, type="typebot", typebot_slug="s")
    queue = factories.QueueFactory(company=admin.company, integration_id=record.id)
    conn = factories.WhatsappFactory(company=admin.company, integration_id=record.id)
    ticket = factories.TicketFactory(
        company=admin.company,
        whatsapp=conn,
        use_integration=True,
        integration_id=record.id,
        typebot_session_id="sess-1",
    )
    mine = socket_client(admin)
    mine.get_received()
    resp = client.delete(f"{prefix}/queueIntegration/{record.id}", headers=auth(admin))
    assert resp.status_code == 200
    assert _events(mine, admin.company_id) == [{"action": "delete", "integrationId": record.id}]
    db.session.expire_all()
    assert db.session.get(QueueIntegration, record.id) is None
    assert db.session.get(Queue, queue.id).integration_id is None
    assert db.session.get(Whatsapp, conn.id).integration_id is None
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.integration_id is None and ticket.use_integration is False
    assert ticket.typebot_session_id is None


# -- queues and connections name an integration -------------------------------------------


def test_queue_takes_a_company_integration(client, prefix, admin, auth, other_admin):
    mine = _make(admin.company)
    theirs = _make(other_admin.company, name="Theirs")
    resp = client.post(
        f"{prefix}/queue",
        json={"name": "Sales", "color": "#00ff00", "integrationId": mine.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json()["integrationId"] == mine.id
    queue_id = resp.get_json()["id"]
    for bad in (theirs.id, 999999):
        resp = client.put(
            f"{prefix}/queue/{queue_id}", json={"integrationId": bad}, headers=auth(admin)
        )
        assert resp.status_code == 400 and "integrationId" in resp.get_json()["fields"]
        resp = client.post(
            f"{prefix}/queue",
            json={"name": f"Q{bad}", "color": "#00ff01", "integrationId": bad},
            headers=auth(admin),
        )
        assert resp.status_code == 400 and "integrationId" in resp.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(Queue, queue_id).integration_id == mine.id
    resp = client.put(f"{prefix}/queue/{queue_id}", json={"integrationId": ""}, headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["integrationId"] is None


def test_connection_takes_a_company_integration(client, prefix, admin, auth, other_admin):
    mine = _make(admin.company)
    theirs = _make(other_admin.company, name="Theirs")
    resp = client.post(
        f"{prefix}/whatsapp",
        json={"name": "Main", "integrationId": theirs.id},
        headers=auth(admin),
    )
    assert resp.status_code == 400 and "integrationId" in resp.get_json()["fields"]
    resp = client.post(
        f"{prefix}/whatsapp", json={"name": "Main", "integrationId": mine.id}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    conn_id = resp.get_json()["id"]
    assert resp.get_json()["integrationId"] == mine.id
    url = f"{prefix}/whatsapp/{conn_id}"
    resp = client.put(url, json={"integrationId": 999999}, headers=auth(admin))
    assert resp.status_code == 400 and "integrationId" in resp.get_json()["fields"]
    db.session.expire_all()
    assert db.session.get(Whatsapp, conn_id).integration_id == mine.id
    resp = client.put(url, json={"integrationId": None}, headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["integrationId"] is None
