"""Workspace benchmark data: one big company generated in bulk, or found again (`--keep`).

Per `--scale` unit: 10,000 contacts, 20,000 tickets (10 % open, 20 % pending, 70 % closed)
on two connections and four queues, and about 200,000 messages (2 to 18 per ticket). The
admin and 30 agents share one password. "pedido" (order) is in about 1 % of contact names
and 3 % of message bodies, in mixed case, as it is in a shop's help desk.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket.extensions import db  # noqa: E402
from whaticket.models import (  # noqa: E402
    Company,
    Contact,
    Message,
    Plan,
    Queue,
    Tag,
    Ticket,
    User,
    Whatsapp,
    ticket_tags,
    user_queues,
)
from whaticket.security import hash_password  # noqa: E402
from whaticket.services.team import settings as settings_service  # noqa: E402

PASSWORD = "bench-password"
EMAIL = "bench-admin@example.com"
AGENTS = 30
BATCH = 5000
CONTACTS, TICKETS, MESSAGES = 10_000, 20_000, 200_000
#: Tickets of the admin whose message pages are measured: a full page and more behind it.
HEAVY_TICKETS, HEAVY_MESSAGES = 16, 60
NAME_RATE, BODY_RATE = 0.01, 0.03
QUEUES = {"Vendas": "#2E7D32", "Suporte": "#1565C0", "Financeiro": "#F9A825", "Entregas": "#6A1B9A"}
FIRST = ("Ana", "Bruno", "Carla", "Diego", "Elaine", "Fabio", "Gabriela", "João", "Marina")
LAST = ("Silva", "Souza", "Oliveira", "Santos", "Lima", "Pereira", "Costa", "Araújo")
PHRASES = (
    "bom dia",
    "boa tarde, tudo bem?",
    "obrigado!",
    "qual o horário de atendimento?",
    "pode me mandar o boleto?",
    "já fiz o pagamento, segue o comprovante",
    "ok, aguardo",
    "vocês entregam no sábado?",
    "qual o valor do frete para o meu CEP?",
    "preciso trocar o tamanho",
    "perfeito, muito obrigada pela ajuda",
    "👍",
    "o produto chegou com defeito, como faço a devolução?",
    "tem em estoque?",
)
PEDIDO = (
    "meu pedido ainda não chegou",
    "qual o status do pedido {n}?",
    "Pedido {n} confirmado, obrigado",
    "quero cancelar o PEDIDO {n}",
    "o código de rastreio do pedido é BR{n}",
)


@dataclass(frozen=True)
class Info:
    """What the measurements need from the data set."""

    admin_id: int
    queue_ids: list[int]
    ticket_ids: list[int]  # the admin's heavy open tickets (message pages)
    agent_emails: list[str]
    counts: dict[str, int]


def make_app(url: str) -> Flask:
    """The app on the bench database: jobs inline, no Redis, no login throttling."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "API_PREFIX": "/api",
            "JOBS_BACKEND": "inline",
            "LOGIN_MAX_PER_IP": 10**9,
            "TESTING": False,
            "REDIS_URL": None,
            "FAKE_GATEWAY_AUTO_ACKS": "",
        }
    )


def ensure_database(url: str) -> None:
    """CREATE DATABASE IF NOT EXISTS for a MariaDB/MySQL URL (other URLs: nothing)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith(("mysql", "mariadb")) or not parsed.database:
        return
    # URL.set(database=None) keeps the name: _replace drops it.
    engine = sa.create_engine(parsed._replace(database=None, drivername="mysql+pymysql"))
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"CREATE DATABASE IF NOT EXISTS `{parsed.database}` CHARACTER SET utf8mb4")
        )
    engine.dispose()


def _company_name(scale: int) -> str:
    """The name the company gets once its data is complete (`--keep` looks for it)."""
    return f"Bench Co x{scale}"


def _uuid(i: int) -> str:
    """The uuid of the i-th generated ticket (the heavy ones are found by it)."""
    return f"{i:08d}-0000-4000-8000-000000000000"


def load_info(app: Flask, scale: int) -> Info | None:
    """The ids of a complete data set at `scale` on this database, or None."""
    with app.app_context():
        if not sa.inspect(db.engine).has_table("companies"):
            return None
        cid = db.session.scalar(sa.select(Company.id).where(Company.name == _company_name(scale)))
        if cid is None:
            return None
        admin_id = db.session.scalar(sa.select(User.id).where(User.email == EMAIL))
        queue_ids = list(
            db.session.scalars(
                sa.select(Queue.id).where(Queue.company_id == cid).order_by(Queue.id)
            )
        )
        heavy = [_uuid(i) for i in range(HEAVY_TICKETS)]
        ticket_ids = list(
            db.session.scalars(
                sa.select(Ticket.id)
                .where(Ticket.company_id == cid, Ticket.uuid.in_(heavy))
                .order_by(Ticket.id)
            )
        )
        agents = db.session.scalars(
            sa.select(User.email).where(User.company_id == cid, User.profile == "user")
        )
        counts = {
            name: db.session.scalar(
                sa.select(sa.func.count()).select_from(model).where(model.company_id == cid)
            )
            or 0
            for name, model in (("contacts", Contact), ("tickets", Ticket), ("messages", Message))
        }
    return Info(admin_id, queue_ids, ticket_ids, sorted(agents), counts)


def _insert(table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
    """Multi-row INSERTs of BATCH rows, one commit each; `rows` is consumed lazily."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == BATCH:
            db.session.execute(sa.insert(table), chunk)
            db.session.commit()
            chunk = []
    if chunk:
        db.session.execute(sa.insert(table), chunk)
    db.session.commit()


def _body(rng: random.Random) -> str:
    """One message body; BODY_RATE of them mention a "pedido"."""
    if rng.random() < BODY_RATE:
        return rng.choice(PEDIDO).format(n=rng.randint(100_000, 999_999))
    return rng.choice(PHRASES)


def _name(rng: random.Random, i: int) -> str:
    """The i-th contact's name; NAME_RATE of them are shops with "Pedido" in the name."""
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
    if rng.random() < NAME_RATE:
        name = rng.choice(("Pedidos ", "Loja Pedido Certo - ")) + name
    return name


def _setup(scale: int) -> tuple[int, int, list[int], list[int], list[int], list[int]]:
    """Plan, company, settings, connections, queues, tags, admin and agents."""
    plan = Plan(name="Bench", users=100, connections=10, queues=10, value=0)
    db.session.add(plan)
    db.session.flush()
    company = Company(name=f"Bench Co x{scale} (generating)", plan_id=plan.id, status=True)
    db.session.add(company)
    db.session.flush()
    cid = company.id
    settings_service.create_defaults(cid)
    conns = [
        Whatsapp(
            company_id=cid, name=f"Line {i}", provider="fake", status="CONNECTED", is_default=i == 0
        )
        for i in range(2)
    ]
    queues = [Queue(company_id=cid, name=name, color=color) for name, color in QUEUES.items()]
    tags = [Tag(company_id=cid, name=f"Tag {i}", color=f"#00000{i}") for i in range(6)]
    digest = hash_password(PASSWORD)  # one bcrypt hash for every user: seeding stays fast
    users = [
        User(company_id=cid, name="Bench Admin", email=EMAIL, password_hash=digest, profile="admin")
    ]
    users += [
        User(
            company_id=cid,
            name=f"Agente {i:02d}",
            email=f"bench-agent{i:02d}@example.com",
            password_hash=digest,
            profile="user",
        )
        for i in range(AGENTS)
    ]
    db.session.add_all([*conns, *queues, *tags, *users])
    db.session.flush()
    queue_ids = [q.id for q in queues]
    links = [{"user_id": users[0].id, "queue_id": q} for q in queue_ids]
    links += [{"user_id": u.id, "queue_id": queue_ids[i % 4]} for i, u in enumerate(users[1:])]
    db.session.execute(sa.insert(user_queues), links)
    db.session.commit()
    return (
        cid,
        users[0].id,
        [u.id for u in users[1:]],
        [c.id for c in conns],
        queue_ids,
        [t.id for t in tags],
    )


def _tickets(
    rng: random.Random, n: int, contact_ids: list[int], ids: tuple[list, list, list, int]
) -> Iterator[dict[str, Any]]:
    """Ticket rows: one per (connection, contact); the admin holds a fifth of the open ones."""
    agent_ids, conn_ids, queue_ids, admin_id = ids
    statuses = ["open"] * 10 + ["pending"] * 20 + ["closed"] * 70
    now = datetime.now(UTC).replace(tzinfo=None)
    for i in range(n):
        # The first tickets are the admin's heavy open ones, most recently active.
        status = "open" if i < HEAVY_TICKETS else rng.choice(statuses)
        owner = admin_id if i < HEAVY_TICKETS or rng.random() < 0.2 else rng.choice(agent_ids)
        ts = now - timedelta(minutes=i if i < HEAVY_TICKETS else rng.randint(60, 129_600))
        yield {
            "uuid": _uuid(i),
            "status": status,
            "unread_messages": 0 if status == "closed" else rng.randint(0, 3),
            "contact_id": contact_ids[i % len(contact_ids)],
            "whatsapp_id": conn_ids[i // len(contact_ids) % 2],
            "queue_id": rng.choice(queue_ids) if rng.random() < 0.85 else None,
            "user_id": owner if status != "pending" else None,
            "updated_at": ts,
        }


def generate(app: Flask, scale: int) -> Info:
    """Drop every table, migrate, and bulk-insert the data set; return its ids."""
    n_contacts, n_tickets = CONTACTS * scale, TICKETS * scale
    rng = random.Random(7)
    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        # "heads": other branches' migrations may not be chained yet.
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        cid, admin_id, agent_ids, conn_ids, queue_ids, tag_ids = _setup(scale)
        now = datetime.now(UTC).replace(tzinfo=None)
        stamp = {"company_id": cid, "created_at": now, "updated_at": now}
        names = (_name(rng, i) for i in range(n_contacts))
        _insert(
            Contact.__table__,
            (
                {**stamp, "name": name, "number": f"55119{i:08d}", "email": "", "is_group": False}
                for i, name in enumerate(names)
            ),
        )
        contact_ids = list(
            db.session.scalars(
                sa.select(Contact.id).where(Contact.company_id == cid).order_by(Contact.id)
            )
        )
        bodies: list[list[str]] = []  # per ticket, in id order: the messages come after

        def tickets() -> Iterator[dict[str, Any]]:
            ids = (agent_ids, conn_ids, queue_ids, admin_id)
            for i, row in enumerate(_tickets(rng, n_tickets, contact_ids, ids)):
                count = HEAVY_MESSAGES if i < HEAVY_TICKETS else rng.randint(2, 18)
                bodies.append([_body(rng) for _ in range(count)])
                first_at = row["updated_at"] - timedelta(minutes=3 * count)
                yield {
                    **stamp,
                    **row,
                    "last_message": bodies[-1][-1],
                    "is_group": False,
                    "from_me": False,
                    "chatbot": False,
                    "amount_used_bot_queues": 0,
                    "created_at": first_at,
                }

        _insert(Ticket.__table__, tickets())
        rows = db.session.execute(
            sa.select(
                Ticket.id, Ticket.contact_id, Ticket.whatsapp_id, Ticket.queue_id, Ticket.updated_at
            )
            .where(Ticket.company_id == cid)
            .order_by(Ticket.id)
        ).all()
        _insert(
            ticket_tags,
            (
                {
                    "ticket_id": r[0],
                    "tag_id": rng.choice(tag_ids),
                    "created_at": now,
                    "updated_at": now,
                }
                for r in rows
                if rng.random() < 0.15
            ),
        )

        def messages() -> Iterator[dict[str, Any]]:
            for (t_id, contact_id, wid, qid, last_at), texts in zip(rows, bodies, strict=True):
                for j, body in enumerate(texts):
                    ts = last_at - timedelta(minutes=3 * (len(texts) - 1 - j))
                    yield {
                        "company_id": cid,
                        "ticket_id": t_id,
                        "whatsapp_id": wid,
                        "contact_id": contact_id,
                        "queue_id": qid,
                        "provider_id": f"B{t_id}-{j}",
                        "body": body,
                        "ack": 3,
                        "read": True,
                        "from_me": j % 2 == 1,
                        "media_type": "chat",
                        "is_deleted": False,
                        "is_edited": False,
                        "created_at": ts,
                        "updated_at": ts,
                    }

        _insert(Message.__table__, messages())
        # Only now is the data set complete: --keep trusts a company with this name.
        db.session.execute(
            sa.update(Company).where(Company.id == cid).values(name=_company_name(scale))
        )
        db.session.commit()
    info = load_info(app, scale)
    assert info is not None
    print(
        f"generated {info.counts['contacts']} contacts, {info.counts['tickets']} tickets, "
        f"{info.counts['messages']} messages in {time.perf_counter() - started:.1f} s"
    )
    return info
