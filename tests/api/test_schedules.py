"""Schedules: CRUD, validation, owner/admin rules, tenancy, events and the attachment."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import jobs
from whaticket.db import utcnow
from whaticket.extensions import db
from whaticket.models import Schedule
from whaticket.services.platform import media

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Schedule.id)))


def _iso(minutes: float) -> str:
    """An ISO time `minutes` from now (negative: in the past), in whole milliseconds."""
    at = utcnow() + timedelta(minutes=minutes)
    return at.replace(microsecond=at.microsecond // 1000 * 1000).isoformat()


def _schedule(user, contact, status: str = "PENDENTE", **over) -> Schedule:
    """A schedule row of the user's company, committed."""
    record = Schedule(
        company_id=user.company_id,
        body=over.pop("body", "Lembrete da consulta"),
        send_at=over.pop("send_at", utcnow() + timedelta(hours=1)),
        status=status,
        contact_id=contact.id,
        user_id=user.id,
        **over,
    )
    db.session.add(record)
    db.session.commit()
    return record


def _reload(schedule_id: int) -> Schedule | None:
    db.session.expire_all()
    return db.session.get(Schedule, schedule_id)


def _events(sock) -> list[tuple[str, dict]]:
    return [(e["name"], e["args"][0]) for e in sock.get_received() if "schedule" in e["name"]]


@pytest.fixture
def contact(company):
    return factories.ContactFactory(company=company, name="Maria Silva")


@pytest.fixture
def other_contact(other_company):
    return factories.ContactFactory(company=other_company)


# -- create -----------------------------------------------------------------------


def test_create_is_pending_arms_the_send_and_emits_to_the_company(
    client, prefix, agent, contact, auth, socket_client, other_admin
):
    mine = socket_client(agent)
    foreign = socket_client(other_admin)
    mine.get_received(), foreign.get_received()
    send_at = _iso(30)
    resp = client.post(
        f"{prefix}/schedules",
        json={"body": "Olá {{name}}, lembrete!", "sendAt": send_at, "contactId": contact.id},
        headers=auth(agent),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "PENDENTE" and body["userId"] == agent.id
    assert body["contact"]["name"] == "Maria Silva" and body["user"]["id"] == agent.id
    assert body["sentAt"] is None and body["mediaPath"] is None
    row = _reload(body["id"])
    assert row.send_at.isoformat() == send_at
    # One delayed send armed for exactly sendAt.
    scheduled = [s for s in jobs.get_backend().scheduled if s.args[0] == body["id"]]
    assert [s.run_at for s in scheduled] == [row.send_at]
    events = _events(mine)
    assert events == [
        (f"company{agent.company_id}-schedule", {"action": "create", "schedule": body})
    ]
    assert _events(foreign) == []


def test_create_with_ticket_connection_and_user_of_the_company(
    client, prefix, admin, agent, contact, auth
):
    conn = factories.WhatsappFactory(company=admin.company)
    ticket = factories.TicketFactory(company=admin.company, contact=contact, whatsapp=conn)
    resp = client.post(
        f"{prefix}/schedules",
        json={
            "body": "Seu pedido chegou",
            "sendAt": _iso(5),
            "contactId": contact.id,
            "ticketId": ticket.id,
            "whatsappId": conn.id,
            "userId": agent.id,
        },
        headers=auth(admin),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["ticketId"], body["whatsappId"], body["userId"]) == (ticket.id, conn.id, agent.id)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "oi"}, "body"),
        ({"sendAt": "yesterday"}, "sendAt"),
        ({"sendAt": "PAST"}, "sendAt"),
        ({"contactId": None}, "contactId"),
        ({"contactId": "OTHER_CONTACT"}, "contactId"),
        ({"ticketId": "OTHER_TICKET"}, "ticketId"),
        ({"whatsappId": "OTHER_CONN"}, "whatsappId"),
        ({"userId": "OTHER_USER"}, "userId"),
        ({"ticketId": "ANOTHER_CONTACTS_TICKET"}, "ticketId"),
    ],
)
def test_create_validation_is_400_with_fields_and_stores_nothing(
    client, prefix, admin, contact, other_contact, other_admin, auth, payload, field
):
    other_conn = factories.WhatsappFactory(company=other_contact.company)
    other_ticket = factories.TicketFactory(company=other_contact.company, contact=other_contact)
    someone = factories.ContactFactory(company=admin.company)
    someones_ticket = factories.TicketFactory(company=admin.company, contact=someone)
    values = {
        "PAST": _iso(-1),
        "OTHER_CONTACT": other_contact.id,
        "OTHER_TICKET": other_ticket.id,
        "OTHER_CONN": other_conn.id,
        "OTHER_USER": other_admin.id,
        "ANOTHER_CONTACTS_TICKET": someones_ticket.id,
    }
    data = {"body": "Lembrete do pagamento", "sendAt": _iso(10), "contactId": contact.id}
    data.update({k: values.get(v, v) if isinstance(v, str) else v for k, v in payload.items()})
    data = {k: v for k, v in data.items() if v is not None}
    resp = client.post(f"{prefix}/schedules", json=data, headers=auth(admin))
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"] == "ERR_VALIDATION" and field in resp.get_json()["fields"]
    assert _count() == 0 and jobs.get_backend().scheduled == []


def test_agent_cannot_schedule_for_a_colleague(client, prefix, agent, contact, auth):
    colleague = factories.UserFactory(company=agent.company)
    resp = client.post(
        f"{prefix}/schedules",
        json={
            "body": "Lembrete do pagamento",
            "sendAt": _iso(10),
            "contactId": contact.id,
            "userId": colleague.id,
        },
        headers=auth(agent),
    )
    assert resp.status_code == 403 and _count() == 0


def test_unauthenticated_is_401(client, prefix):
    assert client.get(f"{prefix}/schedules").status_code == 401
    assert client.post(f"{prefix}/schedules", json={}).status_code == 401


# -- list and show ------------------------------------------------------------------


def test_agents_see_their_own_and_admins_the_company(
    client, prefix, admin, agent, contact, other_admin, other_contact, auth
):
    colleague = factories.UserFactory(company=agent.company)
    own = _schedule(agent, contact, send_at=utcnow() + timedelta(hours=2))
    theirs = _schedule(colleague, contact, send_at=utcnow() + timedelta(hours=1))
    _schedule(other_admin, other_contact)

    body = client.get(f"{prefix}/schedules", headers=auth(agent)).get_json()
    assert [s["id"] for s in body["schedules"]] == [own.id]
    assert body["count"] == 1 and body["hasMore"] is False
    assert body["schedules"][0]["contact"]["name"] == "Maria Silva"
    assert body["schedules"][0]["user"]["name"] == agent.name
    # An agent's userId cannot widen the view.
    body = client.get(f"{prefix}/schedules?userId={colleague.id}", headers=auth(agent)).get_json()
    assert [s["id"] for s in body["schedules"]] == [own.id]

    body = client.get(f"{prefix}/schedules", headers=auth(admin)).get_json()
    assert [s["id"] for s in body["schedules"]] == [theirs.id, own.id]
    body = client.get(f"{prefix}/schedules?userId={colleague.id}", headers=auth(admin)).get_json()
    assert [s["id"] for s in body["schedules"]] == [theirs.id]

    assert client.get(f"{prefix}/schedules/{own.id}", headers=auth(agent)).status_code == 200
    resp = client.get(f"{prefix}/schedules/{theirs.id}", headers=auth(agent))
    assert resp.status_code == 404 and resp.get_json()["error"] == "ERR_NO_SCHEDULE_FOUND"
    assert client.get(f"{prefix}/schedules/{theirs.id}", headers=auth(admin)).status_code == 200


def test_list_searches_body_and_contact_name_filters_and_paginates(
    client, prefix, admin, contact, auth
):
    joao = factories.ContactFactory(company=admin.company, name="João Pereira")
    for i in range(21):
        _schedule(admin, contact, body=f"Cobrança {i:02d}", send_at=utcnow() + timedelta(hours=i))
    by_name = _schedule(admin, joao, body="Aniversário da loja")

    body = client.get(f"{prefix}/schedules?searchParam=COBRAN", headers=auth(admin)).get_json()
    assert body["count"] == 21 and body["hasMore"] is True and len(body["schedules"]) == 20
    page2 = client.get(
        f"{prefix}/schedules?searchParam=cobran&pageNumber=2", headers=auth(admin)
    ).get_json()
    assert [s["body"] for s in page2["schedules"]] == ["Cobrança 20"] and not page2["hasMore"]

    body = client.get(f"{prefix}/schedules?searchParam=pereira", headers=auth(admin)).get_json()
    assert [s["id"] for s in body["schedules"]] == [by_name.id]
    body = client.get(f"{prefix}/schedules?contactId={joao.id}", headers=auth(admin)).get_json()
    assert [s["id"] for s in body["schedules"]] == [by_name.id]


# -- update -------------------------------------------------------------------------


def test_update_rearms_a_new_send_at_and_emits(client, prefix, agent, contact, auth, socket_client):
    record = _schedule(agent, contact)
    sock = socket_client(agent)
    sock.get_received()
    new_at = _iso(90)
    resp = client.put(
        f"{prefix}/schedules/{record.id}",
        json={"body": "Novo texto do lembrete", "sendAt": new_at, "sentAt": _iso(1)},
        headers=auth(agent),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["body"] == "Novo texto do lembrete" and body["sentAt"] is None
    row = _reload(record.id)
    assert row.send_at.isoformat() == new_at and row.status == "PENDENTE"
    assert [s.run_at for s in jobs.get_backend().scheduled] == [row.send_at]
    events = _events(sock)
    assert events == [
        (f"company{agent.company_id}-schedule", {"action": "update", "schedule": body})
    ]

    # The same time again arms nothing new.
    resp = client.put(
        f"{prefix}/schedules/{record.id}", json={"body": "Outro texto aqui"}, headers=auth(agent)
    )
    assert resp.status_code == 200 and len(jobs.get_backend().scheduled) == 1


def test_update_changes_the_contact_and_keeps_links_consistent(
    client, prefix, admin, contact, auth
):
    ticket = factories.TicketFactory(company=admin.company, contact=contact)
    record = _schedule(admin, contact, ticket_id=ticket.id)
    joao = factories.ContactFactory(company=admin.company, name="João")
    resp = client.put(
        f"{prefix}/schedules/{record.id}", json={"contactId": joao.id}, headers=auth(admin)
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["contactId"] == joao.id and body["contact"]["name"] == "João"
    assert body["ticketId"] is None  # the old contact's ticket no longer applies


def test_update_validation_changes_nothing(client, prefix, admin, contact, other_contact, auth):
    record = _schedule(admin, contact)
    before = (record.body, record.send_at, record.contact_id)
    for payload, field in (
        ({"body": "abc"}, "body"),
        ({"sendAt": _iso(-5)}, "sendAt"),
        ({"contactId": other_contact.id}, "contactId"),
    ):
        resp = client.put(f"{prefix}/schedules/{record.id}", json=payload, headers=auth(admin))
        assert resp.status_code == 400 and field in resp.get_json()["fields"]
    row = _reload(record.id)
    assert (row.body, row.send_at, row.contact_id) == before
    assert jobs.get_backend().scheduled == []


def test_sent_or_sending_schedules_cannot_change(client, prefix, admin, contact, auth):
    sent = _schedule(admin, contact, status="ENVIADA", sent_at=utcnow())
    sending = _schedule(admin, contact, status="AGENDADA")
    resp = client.put(
        f"{prefix}/schedules/{sent.id}", json={"body": "Mudando o texto"}, headers=auth(admin)
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_SCHEDULE_ALREADY_SENT"
    resp = client.put(
        f"{prefix}/schedules/{sending.id}", json={"body": "Mudando o texto"}, headers=auth(admin)
    )
    assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_SCHEDULE_IN_PROGRESS"
    assert _reload(sent.id).body == "Lembrete da consulta"


def test_editing_a_failed_schedule_tries_it_again(client, prefix, admin, contact, auth):
    failed = _schedule(admin, contact, status="ERRO", error="ERR_FAKE_REJECTED")
    new_at = _iso(15)
    resp = client.put(
        f"{prefix}/schedules/{failed.id}", json={"sendAt": new_at}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "PENDENTE" and resp.get_json()["error"] is None
    assert len(jobs.get_backend().scheduled) == 1


def test_owner_or_admin_edits_and_deletes(client, prefix, admin, agent, contact, auth):
    colleague = factories.UserFactory(company=agent.company)
    theirs = _schedule(colleague, contact)
    url = f"{prefix}/schedules/{theirs.id}"
    assert client.put(url, json={"body": "Nada disso"}, headers=auth(agent)).status_code == 404
    assert client.delete(url, headers=auth(agent)).status_code == 404
    assert _reload(theirs.id) is not None
    resp = client.put(url, json={"body": "Pelo admin"}, headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["userId"] == colleague.id
    # An admin may hand it to someone else; an agent may not take or give it.
    mine = _schedule(agent, contact)
    resp = client.put(
        f"{prefix}/schedules/{mine.id}", json={"userId": colleague.id}, headers=auth(agent)
    )
    assert resp.status_code == 403
    resp = client.put(url, json={"userId": agent.id}, headers=auth(admin))
    assert resp.status_code == 200 and resp.get_json()["userId"] == agent.id


# -- delete -------------------------------------------------------------------------


def test_delete_emits_the_id(client, prefix, agent, contact, auth, socket_client):
    record = _schedule(agent, contact)
    sock = socket_client(agent)
    sock.get_received()
    resp = client.delete(f"{prefix}/schedules/{record.id}", headers=auth(agent))
    assert resp.status_code == 200
    assert _reload(record.id) is None
    assert _events(sock) == [
        (f"company{agent.company_id}-schedule", {"action": "delete", "scheduleId": record.id})
    ]


# -- tenancy ------------------------------------------------------------------------


def test_another_companys_schedule_is_404_everywhere(
    client, prefix, admin, contact, other_admin, auth
):
    record = _schedule(admin, contact)
    url = f"{prefix}/schedules/{record.id}"
    headers = auth(other_admin)
    assert client.get(url, headers=headers).status_code == 404
    assert client.put(url, json={"body": "Invasão aqui"}, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404
    resp = client.post(
        f"{url}/media-upload",
        data={"file": (io.BytesIO(PNG), "a.png")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 404
    assert client.delete(f"{url}/media-upload", headers=headers).status_code == 404
    listed = client.get(f"{prefix}/schedules", headers=headers).get_json()
    assert listed["count"] == 0
    row = _reload(record.id)
    assert row.body == "Lembrete da consulta" and row.media_path is None


# -- attachment ---------------------------------------------------------------------


def test_media_upload_replace_and_delete(client, prefix, agent, contact, auth):
    record = _schedule(agent, contact)
    url = f"{prefix}/schedules/{record.id}/media-upload"

    def upload(name: str):
        return client.post(
            url,
            data={"file": (io.BytesIO(PNG), name)},
            headers=auth(agent),
            content_type="multipart/form-data",
        )

    resp = upload("boleto.png")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["mediaName"] == "boleto.png" and "sig=" in resp.get_json()["mediaPath"]
    row = _reload(record.id)
    assert row.media_path.startswith("schedules/")
    first = media.absolute_path(agent.company_id, row.media_path)
    assert first.read_bytes() == PNG

    assert upload("second.png").status_code == 200
    assert not first.exists()
    second = media.absolute_path(agent.company_id, _reload(record.id).media_path)

    resp = client.delete(url, headers=auth(agent))
    assert resp.status_code == 200 and resp.get_json()["mediaPath"] is None
    assert not second.exists() and _reload(record.id).media_name is None

    resp = client.post(url, data={}, headers=auth(agent), content_type="multipart/form-data")
    assert resp.status_code == 400 and "file" in resp.get_json()["fields"]


def test_deleting_a_schedule_deletes_its_file(client, prefix, agent, contact, auth):
    record = _schedule(agent, contact)
    client.post(
        f"{prefix}/schedules/{record.id}/media-upload",
        data={"file": (io.BytesIO(PNG), "a.png")},
        headers=auth(agent),
        content_type="multipart/form-data",
    )
    path = media.absolute_path(agent.company_id, _reload(record.id).media_path)
    assert client.delete(f"{prefix}/schedules/{record.id}", headers=auth(agent)).status_code == 200
    assert not path.exists()
