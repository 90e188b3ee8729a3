"""Inbound benchmark: signed Cloud API webhooks into a live server and worker, each sent twice.

    .venv/bin/python bench/inbound.py --database-url mysql://root@127.0.0.1/wt_inbound \
        --redis-url redis://127.0.0.1:6379/6 --contacts 500 --messages 4

Starts `python wsgi.py` (one web process) and `flask worker` (one worker) on the given
database and Redis, posts `contacts x messages` Cloud API deliveries at concurrency 16,
every delivery twice (as Meta's at-least-once retries do), waits until the worker stored
them, and prints deliveries/s accepted, messages/s stored end to end, p50/p99 latency from
first delivery to stored row, and the number of duplicate messages (must be 0).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client as http_client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests
import sqlalchemy as sa
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket.extensions import db  # noqa: E402

APP_SECRET = "bench-app-secret"
PNID = "100000000000001"


def prepare(url: str) -> None:
    """Fresh schema with one company and one cloud connection."""
    from flask_migrate import upgrade

    from whaticket.models import Company, Plan, Whatsapp
    from whaticket.services.team import settings as settings_service
    from whaticket.utils.crypto import encrypt_json

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "REDIS_URL": None})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(ROOT / "migrations"))
        plan = Plan(name="Bench", users=10, connections=10, queues=10, value=0)
        db.session.add(plan)
        db.session.flush()
        company = Company(name="Inbound Co", plan_id=plan.id, status=True)
        db.session.add(company)
        db.session.flush()
        settings_service.create_defaults(company.id)
        config = {
            "phoneNumberId": PNID,
            "accessToken": "bench-token",
            "appSecret": APP_SECRET,
            "verifyToken": "bench-verify",
            "baseUrl": "http://127.0.0.1:9",  # never called: nothing is sent in this bench
        }
        db.session.add(
            Whatsapp(
                company_id=company.id,
                name="Cloud",
                provider="cloud",
                status="CONNECTED",
                is_default=True,
                provider_account_id=PNID,
                provider_config=encrypt_json(config),
            )
        )
        db.session.commit()


def delivery(n: int, contact: int) -> tuple[str, bytes]:
    """One Cloud API `messages` webhook body (gateways.md §1.7 shape) and its wamid."""
    wamid = f"wamid.BENCH{n:09d}"
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": PNID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": f"Bench {contact}"},
                                    "wa_id": f"55119{contact:08d}",
                                }
                            ],
                            "messages": [
                                {
                                    "from": f"55119{contact:08d}",
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": f"mensagem {n}"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return wamid, json.dumps(body).encode()


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def main() -> None:
    """Prepare, serve, deliver twice, wait, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--contacts", type=int, default=500)
    parser.add_argument("--messages", type=int, default=4, help="messages per contact")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=18780)
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("--redis-url is required: the web process hands work to an RQ worker")
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/inbound.sqlite3"
    prepare(url)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        PORT=str(args.port),
        HOST="127.0.0.1",
        JOBS_BACKEND="rq",
    )
    Redis.from_url(args.redis_url).flushdb()  # a dedicated Redis database: start empty
    web = start([sys.executable, "wsgi.py"], env)
    worker = start(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker", "--no-cron"], env
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/api/openapi.json", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        total = args.contacts * args.messages
        bodies = [delivery(n, n % args.contacts) for n in range(total)]
        sent_at: dict[str, float] = {}
        lock = threading.Lock()
        local = threading.local()

        signed = [
            (wamid, raw, "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest())
            for wamid, raw in bodies
        ]

        def post(item: tuple[str, bytes, str]) -> int:
            # A bare keep-alive http.client per thread: the sender should cost the 2-CPU box
            # as little as Meta's servers cost a real deployment.
            wamid, raw, sig = item
            http = getattr(local, "http", None)
            if http is None:
                http = local.http = http_client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            with lock:
                sent_at.setdefault(wamid, time.time())
            http.request(
                "POST",
                "/api/webhooks/cloud",
                body=raw,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig},
            )
            resp = http.getresponse()
            resp.read()
            return resp.status

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            codes = list(pool.map(post, signed + signed))  # every delivery twice
        accepted_s = time.perf_counter() - started
        bad = [c for c in codes if c != 200]

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "REDIS_URL": None})
        from whaticket.models import Message

        with app.app_context():
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                stored = db.session.scalar(sa.select(sa.func.count(Message.id)))
                db.session.rollback()
                if stored >= total:
                    break
                time.sleep(0.5)
            e2e_s = time.perf_counter() - started
            rows = db.session.execute(sa.select(Message.provider_id, Message.updated_at)).all()
            dupes = db.session.scalar(
                sa.select(sa.func.count()).select_from(
                    sa.select(Message.provider_id)
                    .group_by(Message.provider_id)
                    .having(sa.func.count() > 1)
                    .subquery()
                )
            )
        latencies = sorted(
            max(0.0, row.updated_at.timestamp() - sent_at[row.provider_id])
            for row in rows
            if row.provider_id in sent_at
        )
        p = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000  # noqa: E731
        print(
            f"whaticket inbound benchmark | {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | "
            f"{os.cpu_count()} CPUs | {url.split('@')[-1]} | 1 web + 1 worker"
        )
        print(f"deliveries posted      {len(codes)} ({total} messages x 2), non-200: {len(bad)}")
        print(f"deliveries/s accepted  {len(codes) / accepted_s:.1f}")
        print(f"messages stored        {len(rows)} of {total}")
        print(f"messages/s end to end  {len(rows) / e2e_s:.1f}")
        if latencies:
            print(f"delivery->stored ms    p50 {p(0.5):.0f}   p99 {p(0.99):.0f}")
        print(f"duplicate messages     {dupes}")
    finally:
        web.terminate()
        worker.terminate()
        web.wait(timeout=10)
        worker.wait(timeout=10)


if __name__ == "__main__":
    main()
