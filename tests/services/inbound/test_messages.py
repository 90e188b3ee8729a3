"""The inbound core end to end, through the fake provider's HTTP face."""

from __future__ import annotations

import io
import threading
import uuid

import pytest
import sqlalchemy as sa

from tests import factories
from tests.api.test_messages import PNG
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.models import Contact, Message, Ticket, TicketTracking, UserRating
from whaticket.services.inbound.messages import handle_inbound
from whaticket.services.team import settings as settings_service
from whaticket.whatsapp.base import InboundMessage


@pytest.fixture
def conn(company):
    return factories.WhatsappFactory(
        company=company,
        provider="fake",
        status="CONNECTED",
        is_default=True,
        complation_message="Até logo!",
    )


def _inject(client, prefix, conn, admin, auth, **payload):
    payload.setdefault("from", "5511987654321")
    payload.setdefault("name", "Maria Cliente")
    resp = client.post(
        f"{prefix}/fake-gateway/{conn.id}/inbound", json=payload, headers=auth(admin)
    )
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()["id"]


def _count(model, **where):
    stmt = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


def test_full_conversation(client, prefix, company, conn, admin, auth, socket_client, other_admin):
    settings_service.update_setting(company.id, "userRating", "enabled")
    db.session.commit()
    mine, theirs = socket_client(admin), socket_client(other_admin)
    mine.emit("joinTickets", "pending", callback=True)
    mine.emit("joinNotification", callback=True)
    mine.get_received(), theirs.get_received()

    # 1. The customer writes: a pending ticket with one unread message appears.
    _inject(client, prefix, conn, admin, auth, body="Oi, preciso de ajuda", id="IN-1")
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.status == "pending" and ticket.unread_messages == 1
    assert ticket.contact.name == "Maria Cliente" and ticket.contact.number == "5511987654321"
    names = [e["name"] for e in mine.get_received()]
    assert f"company-{company.id}-appMessage" in names and f"company-{company.id}-ticket" in names
    assert not [e for e in theirs.get_received() if e["name"].startswith(f"company-{company.id}")]

    # 2. The agent accepts.
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}",
        json={"status": "open", "userId": admin.id},
        headers=auth(admin),
    )
    assert resp.status_code == 200 and resp.get_json()["unreadMessages"] == 0

    # 3. Replies with text and an image.
    text = client.post(
        f"{prefix}/messages/{ticket.id}", json={"body": "Claro, {{name}}!"}, headers=auth(admin)
    ).get_json()[0]
    image = client.post(
        f"{prefix}/messages/{ticket.id}",
        data={"medias": [(io.BytesIO(PNG), "foto.png")], "body": "veja"},
        headers=auth(admin),
        content_type="multipart/form-data",
    ).get_json()[0]
    assert text["body"] == "Claro, Maria Cliente!" and image["mediaType"] == "image"

    # 4. Acks move to read.
    for status in ("delivered", "read"):
        resp = client.post(
            f"{prefix}/fake-gateway/{conn.id}/status",
            json={"id": text["providerId"], "status": status},
            headers=auth(admin),
        )
        assert resp.status_code == 200
    assert db.session.get(Message, text["id"]).ack == 4

    # 5. Close with rating enabled: the prompt goes out, the ticket waits open.
    resp = client.put(
        f"{prefix}/tickets/{ticket.id}", json={"status": "closed"}, headers=auth(admin)
    )
    assert resp.get_json()["status"] == "open"

    # 6. The customer answers 3: rating stored, ticket closed, farewell sent.
    _inject(client, prefix, conn, admin, auth, body="3", id="IN-2")
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "closed"
    rating = db.session.scalar(sa.select(UserRating))
    assert rating.rate == 3 and rating.user_id == admin.id
    tracking = db.session.get(TicketTracking, rating.tracking_id)
    assert tracking.rated is True and tracking.finished_at is not None
    bodies = db.session.scalars(
        sa.select(Message.body).where(Message.ticket_id == ticket.id).order_by(Message.id)
    ).all()
    assert "3" in bodies and bodies[-1] == "Até logo!"


def test_redelivery_is_stored_once(client, prefix, conn, admin, auth):
    _inject(client, prefix, conn, admin, auth, body="hello", id="DUP-1")
    _inject(client, prefix, conn, admin, auth, body="hello", id="DUP-1")
    assert _count(Message) == 1
    assert db.session.scalar(sa.select(Ticket.unread_messages)) == 1


def test_inbound_on_closed_ticket_reopens_it_pending(client, prefix, company, conn, admin, auth):
    _inject(client, prefix, conn, admin, auth, body="a", id="R-1")
    ticket = db.session.scalar(sa.select(Ticket))
    client.put(f"{prefix}/tickets/{ticket.id}", json={"status": "closed"}, headers=auth(admin))
    _inject(client, prefix, conn, admin, auth, body="b", id="R-2")
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "pending" and ticket.user_id is None and ticket.queue_id is None
    assert _count(Ticket) == 1


def test_agent_set_name_is_never_overwritten(client, prefix, company, conn, admin, auth):
    factories.ContactFactory(company=company, number="5511987654321", name="Dona Maria (VIP)")
    _inject(client, prefix, conn, admin, auth, body="oi", name="maria")
    assert db.session.scalar(sa.select(Contact.name)) == "Dona Maria (VIP)"


def test_group_messages_follow_the_setting(client, prefix, company, conn, admin, auth):
    group = {"isGroup": True, "groupName": "Família", "participant": "5511911112222"}
    _inject(
        client,
        prefix,
        conn,
        admin,
        auth,
        body="g1",
        id="G-1",
        **{"from": "120363000000001"},
        **group,
    )
    assert _count(Message) == 0  # CheckMsgIsGroup is enabled by default: ignored
    settings_service.update_setting(company.id, "CheckMsgIsGroup", "disabled")
    db.session.commit()
    _inject(
        client,
        prefix,
        conn,
        admin,
        auth,
        body="g2",
        id="G-2",
        **{"from": "120363000000001"},
        **group,
    )
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.is_group and ticket.contact.is_group and ticket.contact.name == "Família"


def test_inbound_media_is_stored(client, prefix, conn, admin, auth):
    resp = client.post(
        f"{prefix}/fake-gateway/{conn.id}/inbound",
        data={
            "from": "5511987654321",
            "name": "M",
            "body": "",
            "media": (io.BytesIO(PNG), "x.png"),
        },
        headers=auth(admin),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 202, resp.get_json()
    message = db.session.scalar(sa.select(Message))
    assert message.media_type == "image" and message.media_path


@pytest.mark.real_db
@pytest.mark.shared_db
def test_concurrent_first_messages_make_one_contact_and_one_ticket(app, company, conn):
    """Two processes receive the first messages of a new number at the same time."""
    company_id, conn_id = company.id, conn.id
    db.session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            # Each thread's own app context gets its own session and connection.
            with app.app_context():
                barrier.wait(timeout=10)
                handle_inbound(
                    company_id,
                    conn_id,
                    InboundMessage(
                        provider_id=f"RACE-{n}-{uuid.uuid4().hex}",
                        chat_id="5521999990000",
                        body=f"msg {n}",
                        push_name="Racer",
                    ),
                )
                dbmod.commit()
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    db.session.expire_all()
    assert _count(Contact, number="5521999990000") == 1
    assert _count(Ticket) == 1
    assert _count(Message) == 2
    assert db.session.scalar(sa.select(Ticket.unread_messages)) == 2


def test_non_numeric_rating_reply_asks_again_once(client, prefix, company, conn, admin, auth):
    settings_service.update_setting(company.id, "userRating", "enabled")
    db.session.commit()
    _inject(client, prefix, conn, admin, auth, body="oi", id="RT-1")
    ticket = db.session.scalar(sa.select(Ticket))
    client.put(
        f"{prefix}/tickets/{ticket.id}",
        json={"status": "open", "userId": admin.id},
        headers=auth(admin),
    )
    client.put(f"{prefix}/tickets/{ticket.id}", json={"status": "closed"}, headers=auth(admin))

    def reminders() -> int:
        return _count(Message, body="Por favor, responda apenas com um número de 1 a 5.")

    _inject(client, prefix, conn, admin, auth, body="ótimo!", id="RT-2")
    _inject(client, prefix, conn, admin, auth, body="muito bom", id="RT-3")
    assert reminders() == 1
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "open"
    _inject(client, prefix, conn, admin, auth, body="5", id="RT-4")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "closed"
    assert db.session.scalar(sa.select(UserRating.rate)) == 5
