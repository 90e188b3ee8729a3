"""Hot pages, in process: CPU and SQL statements per request of the ticket list, a ticket's
history and the contacts page, with an optional pyinstrument profile of each.

    .venv/bin/python bench/hot_pages.py --database-url mysql://root@127.0.0.1/wt_h7
    .venv/bin/python bench/hot_pages.py --database-url ... --skip-generate --profile /tmp/prof

Generates one company (3,000 tickets, 1,500 contacts with custom fields, 30,000 messages,
some quoting others, tags, queues and agents by default) through Core inserts, then sends
`--requests` requests of each page through the Flask test client on a fresh session each
(as a server request has), after `GET /auth/me` (the floor: authentication and the
framework alone). CPU is this process's (the test client's share included, the same for
every page), so a page's own cost is its CPU less the floor's. It prints figures only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_jwt_extended import create_access_token

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket.extensions import db  # noqa: E402
from whaticket.models import (  # noqa: E402
    Company,
    Contact,
    ContactCustomField,
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
from whaticket.services.team import settings as settings_service  # noqa: E402

EMAIL = "hot-pages-admin@example.com"
BATCH = 5000


def _app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "JOBS_BACKEND": "inline",
            "TESTING": False,
            "REDIS_URL": None,
            "FAKE_GATEWAY_AUTO_ACKS": "",
        }
    )


def _insert(table: sa.Table, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(table), rows[i : i + BATCH])
    db.session.commit()


def generate(n_tickets: int) -> None:
    """A fresh schema and one company of `n_tickets` tickets, half as many contacts."""
    rng = random.Random(17)
    db.drop_all()
    db.create_all()
    plan = Plan(name="Hot", users=100, connections=10, queues=10, value=0)
    db.session.add(plan)
    db.session.flush()
    company = Company(name="Hot Co", plan_id=plan.id, status=True)
    db.session.add(company)
    db.session.flush()
    settings_service.create_defaults(company.id)
    cid = company.id
    admin = User(company_id=cid, name="Admin", email=EMAIL, password_hash="x", profile="admin")
    agents = [
        User(company_id=cid, name=f"Agent {i}", email=f"a{i}@x.com", password_hash="x")
        for i in range(5)
    ]
    conns = [Whatsapp(company_id=cid, name=f"Line {i}", provider="fake") for i in range(2)]
    queues = [Queue(company_id=cid, name=f"Queue {i}", color=f"#00000{i}") for i in range(3)]
    tags = [Tag(company_id=cid, name=f"Tag {i}", kanban=i % 2) for i in range(6)]
    db.session.add_all([admin, *agents, *conns, *queues, *tags])
    db.session.commit()
    _insert(
        user_queues,
        [{"user_id": a.id, "queue_id": queues[i % 3].id} for i, a in enumerate(agents)],
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    n_contacts = max(n_tickets // 2, 1)
    _insert(
        Contact.__table__,
        [
            {
                "company_id": cid,
                "name": f"Cliente {i:06d}",
                "number": f"55119{i:08d}",
                "email": f"c{i}@example.com" if i % 3 else "",
                "profile_pic_url": None if i % 2 else f"https://pics.example/{i}.jpg",
                "is_group": False,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n_contacts)
        ],
    )
    contact_ids = list(db.session.scalars(sa.select(Contact.id).order_by(Contact.id)))
    _insert(
        ContactCustomField.__table__,
        [
            {
                "company_id": cid,
                "contact_id": c,
                "name": f"campo {k}",
                "value": f"valor {k}",
                "created_at": now,
                "updated_at": now,
            }
            for c in contact_ids
            for k in range(2)
        ],
    )
    statuses = ["open"] * 10 + ["pending"] * 20 + ["closed"] * 70
    rows = []
    for i in range(n_tickets):
        status = rng.choice(statuses)
        ts = now - timedelta(minutes=rng.randint(0, 60 * 24 * 90))
        rows.append(
            {
                "company_id": cid,
                "uuid": f"{i:08d}-0000-4000-8000-000000000017",
                "status": status,
                "unread_messages": 0,
                "last_message": f"mensagem {i}",
                "contact_id": contact_ids[i % n_contacts],
                "whatsapp_id": conns[i // n_contacts % 2].id,
                "user_id": rng.choice([admin, *agents]).id if status == "open" else None,
                "queue_id": rng.choice([None, *(q.id for q in queues)]),
                "created_at": ts,
                "updated_at": ts,
            }
        )
    _insert(Ticket.__table__, rows)
    ticket_ids = list(db.session.scalars(sa.select(Ticket.id).order_by(Ticket.id)))
    _insert(
        ticket_tags,
        [
            {"ticket_id": t, "tag_id": tag.id}
            for t in ticket_ids
            for tag in rng.sample(tags, rng.randint(0, 3))
        ],
    )
    messages = []
    for t, (contact_id, wid) in zip(
        ticket_ids, ((r["contact_id"], r["whatsapp_id"]) for r in rows), strict=True
    ):
        for j in range(10):
            messages.append(
                {
                    "company_id": cid,
                    "ticket_id": t,
                    "whatsapp_id": wid,
                    "contact_id": contact_id,
                    "provider_id": f"H{t}-{j}",
                    "body": f"msg {j} do ticket {t}",
                    "ack": 4,
                    "read": True,
                    "from_me": j % 2 == 1,
                    "media_type": "chat",
                    "created_at": now - timedelta(minutes=10 - j),
                    "updated_at": now - timedelta(minutes=10 - j),
                }
            )
    _insert(Message.__table__, messages)
    # Every fifth message quotes the one before it.
    db.session.execute(
        sa.update(Message)
        .where(Message.id % 5 == 0)
        .values(quoted_msg_id=Message.id - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    print(
        f"generated {n_contacts} contacts, {n_tickets} tickets, {len(messages)} messages",
        flush=True,
    )


def pages(ticket_id: int) -> list[tuple[str, str]]:
    """(label, path) of each measured page."""
    return [
        ("floor GET /auth/me", "/api/auth/me"),
        ("GET /tickets?status=open", "/api/tickets?status=open&pageNumber=1&showAll=true"),
        ("GET /tickets?pending+queues", "/api/tickets?status=pending&queueIds=[1,2]"),
        ("GET /tickets?searchParam", "/api/tickets?searchParam=cliente%2000012&showAll=true"),
        (f"GET /messages/{ticket_id}", f"/api/messages/{ticket_id}"),
        ("GET /contacts", "/api/contacts?pageNumber=2"),
    ]


def main() -> None:
    """Generate (unless told not to), then measure and optionally profile each page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--profile", help="write a pyinstrument text profile per page here")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("--database-url (or DATABASE_URL) is required")
    app = _app(args.database_url)
    with app.app_context():
        if not args.skip_generate:
            generate(args.tickets)
        user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
        ticket_id = db.session.scalar(
            sa.select(Ticket.id).where(Ticket.status == "open").order_by(Ticket.id).limit(1)
        )
        headers = {"Authorization": f"Bearer {create_access_token(identity=user)}"}
        db.session.remove()
        client = app.test_client()
        seen = [0]

        def _count(*_a: object, **_k: object) -> None:
            seen[0] += 1

        sa.event.listen(db.engine, "before_cursor_execute", _count)
        print(f"{'page':30} {'n':>5} {'wall ms':>8} {'CPU ms':>8} {'SQL/req':>8}")
        for index, (label, path) in enumerate(pages(ticket_id)):
            for _ in range(10):  # warm-up: compiled statement caches, imports
                client.get(path, headers=headers)
                db.session.remove()
            counts = []
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(args.requests):
                seen[0] = 0
                resp = client.get(path, headers=headers)
                if resp.status_code != 200:
                    raise SystemExit(f"{path}: {resp.status_code} {resp.get_data(as_text=True)}")
                db.session.remove()  # a fresh session, as each server request has
                counts.append(seen[0])
            wall = (time.perf_counter() - wall0) * 1000 / args.requests
            cpu = (time.process_time() - cpu0) * 1000 / args.requests
            print(
                f"{label:30} {args.requests:>5} {wall:>8.2f} {cpu:>8.2f} "
                f"{statistics.median(counts):>8.0f}",
                flush=True,
            )
            if args.profile:
                _profile(client, path, headers, args.requests, Path(args.profile) / f"{index}.txt")


def _profile(client, path: str, headers: dict, requests: int, out: Path) -> None:
    """The same requests again under pyinstrument (a separate pass: it slows them down)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(requests):
        client.get(path, headers=headers)
        db.session.remove()
    profiler.stop()
    out.parent.mkdir(parents=True, exist_ok=True)
    tree = profiler.output_text(unicode=False, color=False)
    flat = profiler.output_text(unicode=False, color=False, flat=True, show_all=True)
    out.write_text(f"{path}\n{tree}\nBy own time:\n{flat}")


if __name__ == "__main__":
    main()
