"""Workspace benchmark: a big company on a live server; latency, throughput and SQL per request.

    .venv/bin/python bench/workspace.py --database-url mysql://root@127.0.0.1/wt_bench --scale 1

Generates 10,000 contacts, 20,000 tickets and 200,000 messages (times --scale) in one
company, starts `python wsgi.py` (eventlet, the production web process) on a loopback
port, and measures each endpoint at concurrency 1 and 16 against the floor endpoint
(`GET /auth/me`, trivial but authenticated). SQL statements per request are counted
in-process with the Flask test client on the same database. It prints figures only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket.extensions import db  # noqa: E402

PASSWORD = "bench-password"
EMAIL = "bench-admin@example.com"
BATCH = 5000


def _app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "JOBS_BACKEND": "inline",
            "LOGIN_MAX_PER_IP": 10**9,
            "TESTING": False,
            "REDIS_URL": None,
            "FAKE_GATEWAY_AUTO_ACKS": "",
        }
    )


def generate(url: str, scale: int) -> dict:
    """Create the schema and the data set; return ids the measurements need."""
    from flask_migrate import upgrade

    from whaticket.models import (
        Company,
        Contact,
        Message,
        Plan,
        Ticket,
        User,
        Whatsapp,
    )
    from whaticket.security import hash_password
    from whaticket.services.team import settings as settings_service

    app = _app(url)
    n_contacts, n_tickets, n_messages = 10_000 * scale, 20_000 * scale, 200_000 * scale
    started = time.perf_counter()
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(ROOT / "migrations"))
        plan = Plan(name="Bench", users=100, connections=10, queues=10, value=0)
        db.session.add(plan)
        db.session.flush()
        company = Company(name="Bench Co", plan_id=plan.id, status=True)
        db.session.add(company)
        db.session.flush()
        settings_service.create_defaults(company.id)
        admin = User(
            company_id=company.id,
            name="Bench Admin",
            email=EMAIL,
            password_hash=hash_password(PASSWORD),
            profile="admin",
        )
        conns = [
            Whatsapp(
                company_id=company.id,
                name=f"Line {i}",
                provider="fake",
                status="CONNECTED",
                is_default=i == 0,
            )
            for i in range(2)
        ]
        db.session.add_all([admin, *conns])
        db.session.commit()
        cid, uid, conn_ids = company.id, admin.id, [c.id for c in conns]
        now = datetime.now(UTC).replace(tzinfo=None)

        def insert(table, rows):
            for i in range(0, len(rows), BATCH):
                db.session.execute(sa.insert(table), rows[i : i + BATCH])
            db.session.commit()

        insert(
            Contact.__table__,
            [
                {
                    "company_id": cid,
                    "name": f"Cliente {i:06d}",
                    "number": f"55119{i:08d}",
                    "email": "",
                    "is_group": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n_contacts)
            ],
        )
        contact_ids = list(
            db.session.scalars(
                sa.select(Contact.id).where(Contact.company_id == cid).order_by(Contact.id)
            )
        )
        rng = random.Random(7)
        statuses = ["open"] * 10 + ["pending"] * 20 + ["closed"] * 70
        tickets = []
        for i in range(n_tickets):
            status = rng.choice(statuses)
            ts = now - timedelta(minutes=rng.randint(0, 60 * 24 * 90))
            tickets.append(
                {
                    "company_id": cid,
                    "uuid": f"{i:08d}-0000-4000-8000-000000000000",
                    "status": status,
                    "unread_messages": rng.randint(0, 3),
                    "last_message": f"mensagem {i}",
                    "is_group": False,
                    "from_me": False,
                    "chatbot": False,
                    "amount_used_bot_queues": 0,
                    "contact_id": contact_ids[i % n_contacts],
                    "whatsapp_id": conn_ids[i // n_contacts % 2],
                    "user_id": uid if status == "open" else None,
                    "created_at": ts,
                    "updated_at": ts,
                }
            )
        insert(Ticket.__table__, tickets)
        ticket_rows = db.session.execute(
            sa.select(Ticket.id, Ticket.contact_id, Ticket.whatsapp_id)
            .where(Ticket.company_id == cid)
            .order_by(Ticket.id)
        ).all()
        per_ticket = n_messages // n_tickets
        batch = []
        for t_id, contact_id, wid in ticket_rows:
            for j in range(per_ticket):
                ts = now - timedelta(minutes=per_ticket - j)
                batch.append(
                    {
                        "company_id": cid,
                        "ticket_id": t_id,
                        "whatsapp_id": wid,
                        "contact_id": contact_id,
                        "provider_id": f"B{t_id}-{j}",
                        "body": f"mensagem {j} do ticket {t_id} sobre boleto"
                        if j == 3
                        else f"msg {j}",
                        "ack": 4,
                        "read": True,
                        "from_me": j % 2 == 1,
                        "media_type": "chat",
                        "is_deleted": False,
                        "is_edited": False,
                        "created_at": ts,
                        "updated_at": ts,
                    }
                )
            if len(batch) >= BATCH * 4:
                insert(Message.__table__, batch)
                batch = []
        insert(Message.__table__, batch)
        open_ticket = db.session.scalar(
            sa.select(Ticket.id)
            .where(Ticket.company_id == cid, Ticket.status == "open", Ticket.user_id == uid)
            .limit(1)
        )
    took = time.perf_counter() - started
    print(
        f"generated {n_contacts} contacts, {n_tickets} tickets, {n_messages} messages "
        f"in {took:.1f} s"
    )
    return {"ticket_id": open_ticket}


def endpoints(ticket_id: int) -> list[tuple[str, str, str, dict | None]]:
    """(label, method, path, json) of each measured request; the floor first."""
    return [
        ("floor GET /auth/me", "GET", "/api/auth/me", None),
        (
            "GET /tickets?status=open",
            "GET",
            "/api/tickets?status=open&pageNumber=1&showAll=true",
            None,
        ),
        (
            "GET /tickets?searchParam",
            "GET",
            "/api/tickets?searchParam=cliente%20000123&showAll=true",
            None,
        ),
        ("GET /contacts", "GET", "/api/contacts?pageNumber=1", None),
        ("GET /messages/<id>", "GET", f"/api/messages/{ticket_id}", None),
        ("POST /messages/<id>", "POST", f"/api/messages/{ticket_id}", {"body": "resposta"}),
    ]


def count_sql(url: str, ticket_id: int) -> dict[str, float]:
    """SQL statements per request of each endpoint, in-process on the same database."""
    from flask_jwt_extended import create_access_token

    from whaticket.models import User

    app = _app(url)
    counts: dict[str, float] = {}
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
        headers = {"Authorization": f"Bearer {create_access_token(identity=user)}"}
        client = app.test_client()
        seen = [0]
        sa.event.listen(
            db.engine, "before_cursor_execute", lambda *a, **k: seen.__setitem__(0, seen[0] + 1)
        )
        for label, method, path, body in endpoints(ticket_id):
            runs = []
            for _ in range(3):
                db.session.remove()  # a fresh session, as each server request has
                seen[0] = 0
                client.open(path, method=method, json=body, headers=headers)
                runs.append(seen[0])
            counts[label] = statistics.median(runs)
    return counts


def start_server(url: str, port: int) -> subprocess.Popen:
    """`python wsgi.py` on the bench database, as the Procfile's web process runs."""
    env = dict(
        os.environ,
        DATABASE_URL=url,
        PORT=str(port),
        HOST="127.0.0.1",
        LOGIN_MAX_PER_IP=str(10**9),
        FAKE_GATEWAY_AUTO_ACKS="",
        REDIS_URL="",
        JOBS_BACKEND="thread",
    )
    proc = subprocess.Popen(
        [sys.executable, "wsgi.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


def measure(
    base: str, token: str, method: str, path: str, body: dict | None, concurrency: int, total: int
) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) for `total` requests spread over `concurrency` threads."""
    local = threading.local()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {token}"
        t0 = time.perf_counter()
        resp = session.request(method, base + path, json=body, timeout=60)
        took = time.perf_counter() - t0
        if resp.status_code >= 400:
            raise SystemExit(f"{method} {path}: {resp.status_code} {resp.text[:200]}")
        with lock:
            latencies.append(took)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(total)))
    wall = time.perf_counter() - started
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return total / wall, p50, p99


def main() -> None:
    """Generate, serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200, help="requests per measurement")
    parser.add_argument(
        "--search-requests",
        type=int,
        default=30,
        help="requests per measurement for the message-body search (a full scan: slow)",
    )
    parser.add_argument("--port", type=int, default=18777)
    parser.add_argument("--skip-generate", action="store_true")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    print(
        f"whaticket workspace benchmark | {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | "
        f"{os.cpu_count()} CPUs | scale {args.scale} | {url.split('@')[-1]}"
    )
    if args.skip_generate:
        with _app(url).app_context():
            from whaticket.models import Ticket, User

            uid = db.session.scalar(sa.select(User.id).where(User.email == EMAIL))
            ticket_id = db.session.scalar(
                sa.select(Ticket.id).where(Ticket.status == "open", Ticket.user_id == uid).limit(1)
            )
        info = {"ticket_id": ticket_id}
    else:
        info = generate(url, args.scale)
    sql = count_sql(url, info["ticket_id"])
    proc = start_server(url, args.port)
    base = f"http://127.0.0.1:{args.port}"
    try:
        token = requests.post(
            f"{base}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}
        ).json()["token"]
        print(
            f"\n{'endpoint':28} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'p50/floor':>9} {'rps/floor':>9} {'SQL/req':>7}"
        )
        floor: dict[int, tuple[float, float, float]] = {}
        for label, method, path, body in endpoints(info["ticket_id"]):
            total = args.search_requests if "searchParam" in label else args.requests
            for conc in (1, 16):
                measure(base, token, method, path, body, conc, min(10, total))  # warm-up
                rps, p50, p99 = measure(base, token, method, path, body, conc, total)
                if label.startswith("floor"):
                    floor[conc] = (rps, p50, p99)
                f_rps, f_p50, _ = floor[conc]
                print(
                    f"{label:28} {conc:>4} {rps:>8.1f} {p50:>8.2f} {p99:>8.2f} "
                    f"{p50 / f_p50:>9.2f} {rps / f_rps:>9.2f} {sql[label]:>7.0f}"
                )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
