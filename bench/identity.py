"""Identity benchmark: deliveries for N people under mixed identifiers -> N contacts, N tickets.

    .venv/bin/python bench/identity.py                                  # 100 people, 1,000
    .venv/bin/python bench/identity.py --people 1000 --deliveries 10000 \
        --database-url mysql://root@127.0.0.1/wt_h20a

Builds the app in process (`JOBS_BACKEND=inline`: each delivery is drained right after its
webhook commits) on a fresh schema of `--database-url` (default: a temporary SQLite file;
the tables of a given database are dropped and created again: use a throw-away one), one
company and one Evolution connection. Every person has a phone and a LID; each delivery is
a real `messages.upsert` body POSTed to `/webhooks/evolution/<id>/<secret>` and names its
sender one of five ways: the phone JID, the 12-digit phone (no ninth digit), the LID with
the phone in `remoteJidAlt`, the phone with the LID in `remoteJidAlt`, or the LID alone.
Deliveries are shuffled (a LID alone often comes first, making a placeholder contact);
each person gets at least one delivery carrying both ids, as Evolution 2.3.6 sends them.
Prints the contacts, tickets, messages and automatic merges at the end, and the time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket.extensions import db  # noqa: E402

SECRET = "bench-identity-secret"
SHAPES = ("phone", "phone12", "lid+phone", "phone+lid", "lid")


def prepare(app) -> int:
    """Fresh tables, one company, one Evolution connection; its id."""
    from whaticket.models import Company, Plan, Whatsapp
    from whaticket.services.team import settings as settings_service
    from whaticket.utils.crypto import encrypt_json

    with app.app_context():
        db.drop_all()
        db.create_all()
        plan = Plan(name="Bench", users=10, connections=10, queues=10, value=0)
        db.session.add(plan)
        db.session.flush()
        company = Company(name="Identity Co", plan_id=plan.id, status=True)
        db.session.add(company)
        db.session.flush()
        settings_service.create_defaults(company.id)
        config = {
            "baseUrl": "http://127.0.0.1:9",  # never called: nothing is sent in this bench
            "apiKey": "bench",
            "instance": "bench",
            "webhookSecret": SECRET,
        }
        conn = Whatsapp(
            company_id=company.id,
            name="Evolution",
            provider="evolution",
            status="CONNECTED",
            is_default=True,
            greeting_message="",
            provider_account_id="bench",
            provider_config=encrypt_json(config),
        )
        db.session.add(conn)
        db.session.commit()
        return conn.id


def person(i: int) -> tuple[str, str, str]:
    """(13-digit phone, 12-digit phone, LID) of person i."""
    local = f"{8000_0000 + i:08d}"
    return f"55119{local}", f"5511{local}", f"{10**13 + i}"


def key_of(shape: str, i: int, n: int) -> dict:
    """The message key naming person i one way."""
    phone, phone12, lid = person(i)
    key: dict = {"fromMe": False, "id": f"BENCH{n:08d}"}
    if shape == "phone":
        key["remoteJid"] = f"{phone}@s.whatsapp.net"
    elif shape == "phone12":
        key["remoteJid"] = f"{phone12}@s.whatsapp.net"
    elif shape == "lid+phone":
        key.update(remoteJid=f"{lid}@lid", remoteJidAlt=f"{phone}@s.whatsapp.net")
    elif shape == "phone+lid":
        key.update(remoteJid=f"{phone}@s.whatsapp.net", remoteJidAlt=f"{lid}@lid")
    else:
        key["remoteJid"] = f"{lid}@lid"
    return key


def plan_deliveries(people: int, deliveries: int, seed: int) -> list[tuple[str, int]]:
    """(shape, person) of every delivery: each person at least once with both ids."""
    rng = random.Random(seed)
    plan = [(rng.choice(("lid+phone", "phone+lid")), i) for i in range(people)]
    plan += [(rng.choice(SHAPES), rng.randrange(people)) for _ in range(deliveries - people)]
    rng.shuffle(plan)
    return plan


def main() -> None:
    """Prepare, deliver, count, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    if args.deliveries < args.people:
        parser.error("--deliveries must be at least --people")
    tmp = None
    url = args.database_url
    if not url:
        handle, tmp = tempfile.mkstemp(suffix=".sqlite3")
        os.close(handle)
        url = f"sqlite:///{tmp}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": False,
            "REDIS_URL": None,
            "JOBS_BACKEND": "inline",
            "FAKE_GATEWAY_ENABLED": True,
        }
    )
    conn_id = prepare(app)
    client = app.test_client()
    prefix = app.config.get("API_PREFIX", "/api")
    plan = plan_deliveries(args.people, args.deliveries, args.seed)
    started = time.perf_counter()
    for n, (shape, i) in enumerate(plan):
        payload = {
            "event": "messages.upsert",
            "instance": "bench",
            "data": {
                "key": key_of(shape, i, n),
                "pushName": f"Person {i}",
                "status": "DELIVERY_ACK",
                "message": {"conversation": f"message {n}"},
                "messageType": "conversation",
                "messageTimestamp": 1767225600 + n,
            },
        }
        resp = client.post(
            f"{prefix}/webhooks/evolution/{conn_id}/{SECRET}",
            data=json.dumps(payload),
            content_type="application/json",
        )
        if resp.status_code != 200:
            raise SystemExit(f"delivery {n}: {resp.status_code} {resp.get_data(as_text=True)}")
    elapsed = time.perf_counter() - started
    from whaticket.models import Contact, ContactMerge, Message, Ticket

    with app.app_context():
        count = {
            m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Contact, Ticket, Message, ContactMerge)
        }
        db.engine.dispose()
    print(
        f"people {args.people}, deliveries {len(plan)} ({', '.join(SHAPES)}), {url.split('://')[0]}"
    )
    print(f"contacts {count['Contact']} (expected {args.people})")
    print(f"tickets {count['Ticket']} (expected {args.people})")
    print(f"messages {count['Message']} (expected {len(plan)})")
    print(f"automatic merges of LID placeholders {count['ContactMerge']}")
    print(f"time {elapsed:.1f} s, {len(plan) / elapsed:.0f} deliveries/s (webhook + inline drain)")
    if tmp is not None:
        os.unlink(tmp)
    ok = count["Contact"] == count["Ticket"] == args.people and count["Message"] == len(plan)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
