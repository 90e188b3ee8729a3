"""AI prompts: page, show, create, update, delete; keys never shown, roles, plan, tenancy, events.

Also `promptId` on queues and connections (only the company's own prompts).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.models import Prompt, Queue, Ticket, Whatsapp
from whaticket.schemas.prompts import KEY_PLACEHOLDER
from whaticket.services.bots import prompts as prompt_service
from whaticket.utils.crypto import encrypt_str

API_KEY = "sk-proj-PLAINKEY-0123456789abcdef"
VOICE_KEY = "azure-VOICEKEY-abcdef0123"

ROW_KEYS = {
    "id",
    "name",
    "prompt",
    "apiKey",
    "apiKeySet",
    "queueId",
    "queue",
    "maxMessages",
    "maxTokens",
    "temperature",
    "model",
    "baseUrl",
    "promptTokens",
    "completionTokens",
    "totalTokens",
    "voice",
    "voiceKey",
    "voiceKeySet",
    "voiceRegion",
    "companyId",
    "createdAt",
    "updatedAt",
}


def _body(queue_id: int, **over) -> dict:
    data = {
        "name": "Atendente virtual",
        "apiKey": API_KEY,
        "prompt": "Você é o assistente da Loja Exemplo. Responda com educação.",
        "queueId": queue_id,
        "maxMessages": 10,
        "maxTokens": 150,
        "temperature": 0.7,
        "voice": "texto",
        "voiceKey": "",
        "voiceRegion": "",
    }
    data.update(over)
    return data


def _make(company, queue=None, **over) -> Prompt:
    queue = queue or factories.QueueFactory(company=company)
    values = {
        "name": "Bot",
        "prompt": "Seja gentil.",
        "api_key_encrypted": encrypt_str(API_KEY),
        "queue_id": queue.id,
        "max_messages": 10,
        "max_tokens": 300,
        "temperature": 1.0,
        "voice": "texto",
    }
    values.update(over)
    record = Prompt(company_id=company.id, **values)
    db.session.add(record)
    db.session.commit()
    return record


def _count(company_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Prompt.id)).where(Prompt.company_id == company_id)
    )


def _events(sock, company_id: int) -> list[dict]:
    name = f"company-{company_id}-prompt"
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def _no_secret(text: str) -> None:
    assert API_KEY not in text and API_KEY[-4:] not in text
    assert VOICE_KEY not in text and VOICE_KEY[-4:] not in text


# -- list / show ------------------------------------------------------------------------


def test_any_user_lists_the_company_prompts_with_their_queue(
    client, prefix, agent, auth, other_admin
):
    queue = factories.QueueFactory(company=agent.company, name="Humanos")
    beta = _make(agent.company, queue, name="Beta")
    alpha = _make(agent.company, queue, name="Alpha")
    _make(other_admin.company, name="Alpha deles")
    resp = client.get(f"{prefix}/prompt", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"prompts", "count", "hasMore"}
    assert [p["id"] for p in body["prompts"]] == [alpha.id, beta.id]
    assert body["count"] == 2 and body["hasMore"] is False
    row = body["prompts"][0]
    assert set(row) == ROW_KEYS
    assert row["queue"] == {"id": queue.id, "name": "Humanos"} and row["queueId"] == queue.id
    assert row["apiKey"] == KEY_PLACEHOLDER and row["apiKeySet"] is True
    assert row["voiceKey"] == "" and row["voiceKeySet"] is False
    _no_secret(resp.get_data(as_text=True))

    resp = client.get(f"{prefix}/prompt?searchParam=alp", headers=auth(agent))
    assert [p["id"] for p in resp.get_json()["prompts"]] == [alpha.id]


def test_list_pages_of_twenty(client, prefix, admin, auth):
    queue = factories.QueueFactory(company=admin.company)
    for n in range(21):
        _make(admin.company, queue, name=f"Bot {n:02d}")
    body = client.get(f"{prefix}/prompt", headers=auth(admin)).get_json()
    assert len(body["prompts"]) == 20 and body["hasMore"] is True and body["count"] == 21
    page2 = client.get(f"{prefix}/prompt?pageNumber=2", headers=auth(admin)).get_json()
    assert [p["name"] for p in page2["prompts"]] == ["Bot 20"] and page2["hasMore"] is False


def test_show_one_prompt(client, prefix, agent, auth):
    record = _make(agent.company, max_messages=7, model="llama3.1", base_url="http://llm:8000/v1")
    resp = client.get(f"{prefix}/prompt/{record.id}", headers=auth(agent))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["id"] == record.id and body["maxMessages"] == 7
    assert body["model"] == "llama3.1" and body["baseUrl"] == "http://llm:8000/v1"
    _no_secret(resp.get_data(as_text=True))


def test_reads_need_a_token(client, prefix, admin):
    record = _make(admin.company)
    assert client.get(f"{prefix}/prompt").status_code == 401
    assert client.get(f"{prefix}/prompt/{record.id}").status_code == 401


def test_other_company_gets_404_everywhere(client, prefix, admin, auth, other_admin):
    theirs = _make(other_admin.company, name="Deles")
    url = f"{prefix}/prompt/{theirs.id}"
    own_queue = factories.QueueFactory(company=admin.company)
    for resp in (
        client.get(url, headers=auth(admin)),
        client.put(url, json={"name": "Meu agora", "queueId": own_queue.id}, headers=auth(admin)),
        client.delete(url, headers=auth(admin)),
    ):
        assert resp.status_code == 404
        assert resp.get_json() == {"error": "ERR_PROMPT_NOT_FOUND"}
    db.session.expire_all()
    kept = db.session.get(Prompt, theirs.id)
    assert kept.name == "Deles" and kept.queue_id == theirs.queue_id
    listed = client.get(f"{prefix}/prompt", headers=auth(admin)).get_json()
    assert listed["prompts"] == [] and listed["count"] == 0
    assert client.get(f"{prefix}/prompt/999999", headers=auth(admin)).status_code == 404


# -- create ----------------------------------------------------------------------------------


def test_admin_creates_a_prompt_key_encrypted_and_never_shown(
    client, prefix, admin, auth, other_admin, socket_client
):
    queue = factories.QueueFactory(company=admin.company, name="Suporte")
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.post(
        f"{prefix}/prompt",
        json=_body(
            queue.id,
            name="  Atendente virtual ",
            voice="pt-BR-FranciscaNeural",
            voiceKey=VOICE_KEY,
            voiceRegion="brazilsouth",
            # Usage counters and the company come from the server, never from the body.
            promptTokens=999,
            completionTokens=999,
            totalTokens=999,
            companyId=other_admin.company_id,
        ),
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == ROW_KEYS
    assert body["name"] == "Atendente virtual" and body["companyId"] == admin.company_id
    assert body["queue"] == {"id": queue.id, "name": "Suporte"}
    assert body["maxMessages"] == 10 and body["maxTokens"] == 150 and body["temperature"] == 0.7
    assert body["promptTokens"] == body["completionTokens"] == body["totalTokens"] == 0
    assert body["voice"] == "pt-BR-FranciscaNeural" and body["voiceRegion"] == "brazilsouth"
    assert body["apiKeySet"] is True and body["voiceKeySet"] is True
    assert body["apiKey"] == body["voiceKey"] == KEY_PLACEHOLDER
    assert body["model"] is None and body["baseUrl"] is None
    _no_secret(resp.get_data(as_text=True))

    # Encrypted at rest: the column holds neither key, and decrypts back to it.
    row = db.session.execute(
        sa.text("SELECT api_key_encrypted, voice_key_encrypted FROM prompts WHERE id = :id"),
        {"id": body["id"]},
    ).one()
    assert API_KEY not in row[0] and VOICE_KEY not in row[1]
    record = db.session.get(Prompt, body["id"])
    assert prompt_service.api_key(record) == API_KEY

    events = _events(mine, admin.company_id)
    assert [e["action"] for e in events] == ["create"]
    assert events[0]["prompt"]["id"] == body["id"] and set(events[0]["prompt"]) == ROW_KEYS
    _no_secret(json.dumps(events))
    assert _events(theirs, admin.company_id) == [] and _count(other_admin.company_id) == 0


def test_create_with_defaults_and_own_endpoint(client, prefix, admin, auth):
    queue = factories.QueueFactory(company=admin.company)
    data = _body(queue.id, model=" llama3.1 ", baseUrl="http://ollama.example.net:11434/v1/")
    for key in ("maxTokens", "temperature", "voice", "voiceKey", "voiceRegion"):
        data.pop(key)
    resp = client.post(f"{prefix}/prompt", json=data, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["maxTokens"] == 300 and body["temperature"] == 1.0 and body["voice"] == "texto"
    assert body["voiceKeySet"] is False and body["voiceKey"] == "" and body["voiceRegion"] is None
    assert body["model"] == "llama3.1" and body["baseUrl"] == "http://ollama.example.net:11434/v1"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"prompt": " "}, "prompt"),
        ({"apiKey": ""}, "apiKey"),
        ({"apiKey": None}, "apiKey"),
        ({"apiKey": "********"}, "apiKey"),
        ({"queueId": None}, "queueId"),
        ({"queueId": ""}, "queueId"),
        ({"queueId": "abc"}, "queueId"),
        ({"maxMessages": ""}, "maxMessages"),
        ({"maxMessages": 0}, "maxMessages"),
        ({"maxMessages": 101}, "maxMessages"),
        ({"maxTokens": 0}, "maxTokens"),
        ({"maxTokens": "many"}, "maxTokens"),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -1}, "temperature"),
        ({"baseUrl": "ftp://llm.example.com"}, "baseUrl"),
        ({"baseUrl": "not a url"}, "baseUrl"),
        ({"model": "m" * 121}, "model"),
    ],
)
def test_create_validation(client, prefix, admin, auth, over, field):
    queue = factories.QueueFactory(company=admin.company)
    resp = client.post(f"{prefix}/prompt", json=_body(queue.id, **over), headers=auth(admin))
    assert resp.status_code == 400, resp.get_json()
    body = resp.get_json()
    assert body["error"] == "ERR_VALIDATION" and field in body["fields"]
    assert _count(admin.company_id) == 0


@pytest.mark.parametrize("missing", ["name", "prompt", "apiKey", "queueId", "maxMessages"])
def test_create_requires_the_reference_fields(client, prefix, admin, auth, missing):
    queue = factories.QueueFactory(company=admin.company)
    data = _body(queue.id)
    data.pop(missing)
    resp = client.post(f"{prefix}/prompt", json=data, headers=auth(admin))
    assert resp.status_code == 400 and missing in resp.get_json()["fields"]
    assert _count(admin.company_id) == 0


def test_create_refuses_another_company_queue(client, prefix, admin, auth, other_company):
    theirs = factories.QueueFactory(company=other_company)
    resp = client.post(f"{prefix}/prompt", json=_body(theirs.id), headers=auth(admin))
    assert resp.status_code == 400
    assert resp.get_json()["fields"] == {"queueId": ["Unknown queue."]}
    assert _count(admin.company_id) == 0 and _count(other_company.id) == 0


def test_names_are_unique_per_company(client, prefix, admin, auth, other_admin):
    queue = factories.QueueFactory(company=admin.company)
    _make(other_admin.company, name="Atendente virtual")
    first = client.post(f"{prefix}/prompt", json=_body(queue.id), headers=auth(admin))
    assert first.status_code == 200
    again = client.post(
        f"{prefix}/prompt", json=_body(queue.id, name="ATENDENTE virtual "), headers=auth(admin)
    )
    assert again.status_code == 400
    assert again.get_json() == {"error": "ERR_PROMPT_NAME_ALREADY_EXISTS"}
    assert _count(admin.company_id) == 1


def test_writes_are_for_admins(client, prefix, agent, auth):
    queue = factories.QueueFactory(company=agent.company)
    record = _make(agent.company, queue, name="Bot")
    url = f"{prefix}/prompt/{record.id}"
    for resp in (
        client.post(f"{prefix}/prompt", json=_body(queue.id, name="Outro"), headers=auth(agent)),
        client.put(url, json={"name": "Renamed"}, headers=auth(agent)),
        client.delete(url, headers=auth(agent)),
    ):
        assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_NO_PERMISSION"}
    db.session.expire_all()
    assert db.session.get(Prompt, record.id).name == "Bot" and _count(agent.company_id) == 1


def test_writes_need_a_token(client, prefix, admin):
    record = _make(admin.company)
    assert client.post(f"{prefix}/prompt", json={}).status_code == 401
    assert client.put(f"{prefix}/prompt/{record.id}", json={}).status_code == 401
    assert client.delete(f"{prefix}/prompt/{record.id}").status_code == 401


# -- update ----------------------------------------------------------------------------------


def _stored_key(prompt_id: int) -> str | None:
    db.session.expire_all()
    return prompt_service.api_key(db.session.get(Prompt, prompt_id))


@pytest.mark.parametrize("sent", [{}, {"apiKey": ""}, {"apiKey": None}, {"apiKey": "********"}])
def test_update_without_a_new_key_keeps_the_stored_one(client, prefix, admin, auth, sent):
    record = _make(admin.company, name="Bot")
    before = db.session.get(Prompt, record.id).api_key_encrypted
    resp = client.put(
        f"{prefix}/prompt/{record.id}", json={"name": "Bot 2", **sent}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["name"] == "Bot 2" and resp.get_json()["apiKeySet"] is True
    assert _stored_key(record.id) == API_KEY
    assert db.session.get(Prompt, record.id).api_key_encrypted == before


def test_the_edit_form_round_trip_keeps_the_keys(client, prefix, admin, auth):
    """The SPA loads the prompt into its form and PUTs every field back."""
    record = _make(admin.company, voice_key_encrypted=encrypt_str(VOICE_KEY))
    shown = client.get(f"{prefix}/prompt/{record.id}", headers=auth(admin)).get_json()
    shown["temperature"] = "0.3"
    resp = client.put(f"{prefix}/prompt/{record.id}", json=shown, headers=auth(admin))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["temperature"] == 0.3
    db.session.expire_all()
    stored = db.session.get(Prompt, record.id)
    assert prompt_service.api_key(stored) == API_KEY
    assert VOICE_KEY not in stored.voice_key_encrypted


def test_update_replaces_the_key_and_fields(
    client, prefix, admin, auth, socket_client, other_admin
):
    record = _make(admin.company)
    other_queue = factories.QueueFactory(company=admin.company, name="Vendas")
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.put(
        f"{prefix}/prompt/{record.id}",
        json={
            "apiKey": "sk-new-KEY-9876543210",
            "queueId": other_queue.id,
            "maxMessages": 4,
            "maxTokens": None,  # null restores the default
            "totalTokens": 5,  # ignored: a usage counter
            "model": "",
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["queue"] == {"id": other_queue.id, "name": "Vendas"} and body["maxMessages"] == 4
    assert body["maxTokens"] == 300 and body["totalTokens"] == 0 and body["model"] is None
    assert "sk-new-KEY" not in resp.get_data(as_text=True)
    assert _stored_key(record.id) == "sk-new-KEY-9876543210"
    events = _events(mine, admin.company_id)
    assert [e["action"] for e in events] == ["update"] and events[0]["prompt"]["maxMessages"] == 4
    assert "sk-new-KEY" not in json.dumps(events)
    assert _events(theirs, admin.company_id) == []


@pytest.mark.parametrize(
    ("over", "field"),
    [({"queueId": None}, "queueId"), ({"name": ""}, "name"), ({"temperature": 3}, "temperature")],
)
def test_update_validation(client, prefix, admin, auth, over, field):
    record = _make(admin.company, name="Bot")
    resp = client.put(f"{prefix}/prompt/{record.id}", json=over, headers=auth(admin))
    assert resp.status_code == 400 and field in resp.get_json()["fields"]


def test_update_refuses_another_company_queue_and_changes_nothing(
    client, prefix, admin, auth, other_company
):
    record = _make(admin.company, name="Bot")
    theirs = factories.QueueFactory(company=other_company)
    resp = client.put(
        f"{prefix}/prompt/{record.id}",
        json={"name": "Changed", "queueId": theirs.id},
        headers=auth(admin),
    )
    assert resp.status_code == 400 and resp.get_json()["fields"] == {"queueId": ["Unknown queue."]}
    db.session.expire_all()
    kept = db.session.get(Prompt, record.id)
    assert kept.name == "Bot" and kept.queue_id == record.queue_id


def test_update_name_clash(client, prefix, admin, auth):
    _make(admin.company, name="Alpha")
    record = _make(admin.company, name="Beta")
    resp = client.put(f"{prefix}/prompt/{record.id}", json={"name": "alpha"}, headers=auth(admin))
    assert resp.status_code == 400 and resp.get_json() == {
        "error": "ERR_PROMPT_NAME_ALREADY_EXISTS"
    }
    same = client.put(f"{prefix}/prompt/{record.id}", json={"name": "BETA"}, headers=auth(admin))
    assert same.status_code == 200


# -- delete ----------------------------------------------------------------------------------


def test_delete_refused_while_a_queue_or_connection_uses_it(client, prefix, admin, auth, company):
    record = _make(company)
    queue = factories.QueueFactory(company=company, prompt_id=record.id)
    url = f"{prefix}/prompt/{record.id}"
    resp = client.delete(url, headers=auth(admin))
    assert resp.status_code == 409 and resp.get_json() == {"error": "ERR_PROMPT_IN_USE"}

    queue.prompt_id = None
    conn = factories.WhatsappFactory(company=company, prompt_id=record.id)
    db.session.commit()
    assert client.delete(url, headers=auth(admin)).status_code == 409

    conn.prompt_id = None
    db.session.commit()
    assert client.delete(url, headers=auth(admin)).status_code == 200
    assert _count(company.id) == 0


def test_delete_lets_tickets_go_and_tells_the_company(
    client, prefix, admin, auth, company, socket_client, other_admin
):
    record = _make(company)
    contact = factories.ContactFactory(company=company)
    conn = factories.WhatsappFactory(company=company)
    ticket = factories.TicketFactory(
        company=company, contact=contact, whatsapp=conn, use_integration=True, prompt_id=record.id
    )
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.get_received(), theirs.get_received()
    resp = client.delete(f"{prefix}/prompt/{record.id}", headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json() == {"message": "Prompt deleted"}
    db.session.expire_all()
    kept = db.session.get(Ticket, ticket.id)
    assert kept.prompt_id is None and kept.use_integration is False
    # The frontend reads promptId; the SaaS server sent intelligenceId: both are there.
    assert _events(mine, company.id) == [
        {"action": "delete", "promptId": record.id, "intelligenceId": record.id}
    ]
    assert _events(theirs, company.id) == []


# -- plan ------------------------------------------------------------------------------------


def test_plan_without_ai_is_403_everywhere(client, prefix, admin, agent, auth, company):
    record = _make(company)
    company.plan.use_open_ai = False
    db.session.commit()
    url = f"{prefix}/prompt/{record.id}"
    for user in (admin, agent):
        for resp in (
            client.get(f"{prefix}/prompt", headers=auth(user)),
            client.get(url, headers=auth(user)),
            client.post(f"{prefix}/prompt", json=_body(record.queue_id), headers=auth(user)),
            client.put(url, json={"name": "X"}, headers=auth(user)),
            client.delete(url, headers=auth(user)),
        ):
            assert resp.status_code == 403
            assert resp.get_json() == {"error": "ERR_PLAN_FEATURE_DISABLED"}
    assert _count(company.id) == 1
    # Without a token it is still the usual 401 (the frontend logs out on 401 only).
    assert client.get(f"{prefix}/prompt").status_code == 401


# -- promptId on queues and connections --------------------------------------------------------


def test_queue_takes_a_prompt_of_its_company(client, prefix, admin, auth, company, other_company):
    mine = _make(company)
    theirs = _make(other_company, name="Deles")
    resp = client.post(
        f"{prefix}/queue",
        json={"name": "IA", "color": "#123456", "promptId": mine.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    queue_id = resp.get_json()["id"]
    assert resp.get_json()["promptId"] == mine.id
    shown = client.get(f"{prefix}/queue/{queue_id}", headers=auth(admin)).get_json()
    assert shown["promptId"] == mine.id

    resp = client.put(
        f"{prefix}/queue/{queue_id}",
        json={"name": "IA 2", "promptId": theirs.id},
        headers=auth(admin),
    )
    assert resp.status_code == 400 and resp.get_json()["fields"] == {
        "promptId": ["Unknown prompt."]
    }
    db.session.expire_all()
    kept = db.session.get(Queue, queue_id)
    assert kept.prompt_id == mine.id and kept.name == "IA"

    refused = client.post(
        f"{prefix}/queue",
        json={"name": "Outra", "color": "#654321", "promptId": theirs.id},
        headers=auth(admin),
    )
    assert refused.status_code == 400
    assert db.session.scalar(sa.select(Queue.id).where(Queue.name == "Outra")) is None

    cleared = client.put(f"{prefix}/queue/{queue_id}", json={"promptId": ""}, headers=auth(admin))
    assert cleared.status_code == 200 and cleared.get_json()["promptId"] is None


def test_connection_takes_a_prompt_of_its_company(
    client, prefix, admin, auth, company, other_company
):
    mine = _make(company)
    theirs = _make(other_company, name="Deles")
    refused = client.post(
        f"{prefix}/whatsapp", json={"name": "Main", "promptId": theirs.id}, headers=auth(admin)
    )
    assert refused.status_code == 400
    assert refused.get_json()["fields"] == {"promptId": ["Unknown prompt."]}
    assert db.session.scalar(sa.select(sa.func.count(Whatsapp.id))) == 0

    resp = client.post(
        f"{prefix}/whatsapp", json={"name": "Main", "promptId": mine.id}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    conn_id = resp.get_json()["id"]
    assert resp.get_json()["promptId"] == mine.id
    listed = client.get(f"{prefix}/whatsapp", headers=auth(admin)).get_json()
    assert listed[0]["promptId"] == mine.id

    resp = client.put(
        f"{prefix}/whatsapp/{conn_id}",
        json={"name": "Renamed", "promptId": theirs.id},
        headers=auth(admin),
    )
    assert resp.status_code == 400
    db.session.expire_all()
    kept = db.session.get(Whatsapp, conn_id)
    assert kept.prompt_id == mine.id and kept.name == "Main"

    cleared = client.put(
        f"{prefix}/whatsapp/{conn_id}", json={"promptId": None}, headers=auth(admin)
    )
    assert cleared.status_code == 200 and cleared.get_json()["promptId"] is None
