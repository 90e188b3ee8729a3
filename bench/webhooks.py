"""Company webhooks benchmark: deliveries per second from one worker to a local receiver, and
the lag from commit to delivery (p50, p99).

    .venv/bin/python bench/webhooks.py --database-url mysql://root@127.0.0.1/wt_bench \
        --redis-url redis://127.0.0.1:6379/8 --events 2000 --lag-events 500 --rate 50

Builds a fresh schema (the migrations) on the given database with one company subscribed to
`contact.created` at a receiver on 127.0.0.1 (an allowed host), which checks every
signature as docs/integrations.md says and answers 200. Then, in this process, with the
app on RQ as in production:

1. throughput: commits `--events` contacts (one transaction each: the contact and its
   delivery row) with no worker running, then starts one `flask worker` (RQ SimpleWorker,
   no cron) and times the deliveries from the first to the last one received;
2. lag: with that worker running, commits `--lag-events` contacts at `--rate` per second
   and measures, per event, the time from the commit call to the receiver getting it.

Prints deliveries/s, the lag percentiles, and the count of bad signatures (must be 0). The
Redis database given is flushed first: use a spare one.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from whaticket import create_app  # noqa: E402
from whaticket import db as dbmod  # noqa: E402
from whaticket.extensions import db  # noqa: E402
from whaticket.models import Company, Plan  # noqa: E402
from whaticket.services.contacts import contacts as contact_service  # noqa: E402
from whaticket.services.integrations import subscriptions  # noqa: E402
from whaticket.services.team import settings as settings_service  # noqa: E402

SECRET_KEY = "bench-webhooks-secret-key-0123456789abcdef"


class Receiver:
    """A threaded HTTP receiver: checks signatures, records when each event arrived."""

    def __init__(self, port: int) -> None:
        self.secret = ""
        self.arrived: dict[int, float] = {}
        self.bad = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.monotonic()
                stamp = self.headers.get("X-Whaticket-Timestamp", "")
                mac = hmac.new(receiver.secret.encode(), stamp.encode() + b"." + raw, "sha256")
                good = hmac.compare_digest(
                    "sha256=" + mac.hexdigest(), self.headers.get("X-Whaticket-Signature", "")
                )
                index = int(json.loads(raw)["data"]["contact"]["name"].split("-")[1])
                with receiver.lock:
                    receiver.arrived.setdefault(index, now)
                    receiver.bad += 0 if good else 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/whaticket"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, indexes: range, timeout: float) -> bool:
        """Whether every index arrived within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(i in self.arrived for i in indexes):
                    return True
            time.sleep(0.02)
        return False


def prepare(app, receiver: Receiver) -> int:
    """Fresh schema, one company subscribed to contact.created; its id."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(ROOT / "migrations"))
        plan = Plan(name="Bench", users=10, connections=10, queues=10, value=0)
        db.session.add(plan)
        db.session.flush()
        company = Company(name="Webhooks Co", plan_id=plan.id, status=True)
        db.session.add(company)
        db.session.flush()
        settings_service.create_defaults(company.id)
        _sub, secret = subscriptions.create_subscription(
            company.id, {"url": receiver.url, "events": ["contact.created"]}
        )
        dbmod.commit()
        receiver.secret = secret
        return company.id


def commit_events(app, company_id: int, indexes: range, rate: float | None) -> dict[int, float]:
    """One contact per transaction; when each commit was called (paced at `rate`/s)."""
    committed: dict[int, float] = {}
    with app.app_context():
        start = time.monotonic()
        for n, i in enumerate(indexes):
            if rate:
                pause = start + n / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            contact_service.create_contact(
                company_id, {"name": f"bench-{i}", "number": f"1198{i:07d}"}
            )
            committed[i] = time.monotonic()
            dbmod.commit()  # the delivery row commits with the contact; its job is queued
            db.session.remove()
    return committed


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> None:
    """Prepare, burst with the worker stopped, then paced events; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--events", type=int, default=2000, help="throughput phase")
    parser.add_argument("--lag-events", type=int, default=500, help="lag phase")
    parser.add_argument("--rate", type=float, default=50.0, help="lag phase events per second")
    parser.add_argument("--port", type=int, default=0, help="receiver port (0: any)")
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("--redis-url is required: deliveries go through an RQ worker")
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/webhooks.sqlite3"
    receiver = Receiver(args.port)
    host = receiver.url.split("/")[2]
    Redis.from_url(args.redis_url).flushdb()  # a spare Redis database: start empty
    batch = int(os.environ.get("WEBHOOK_BATCH_SIZE") or 50)
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "REDIS_URL": args.redis_url,
        "JOBS_BACKEND": "rq",
        "TESTING": False,
        "SECRET_KEY": SECRET_KEY,
        "OUTBOUND_ALLOWED_HOSTS": host,
    }
    app = create_app(settings)
    company_id = prepare(app, receiver)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        JOBS_BACKEND="rq",
        SECRET_KEY=SECRET_KEY,
        OUTBOUND_ALLOWED_HOSTS=host,
        APP_ENV="development",
    )
    burst = range(args.events)
    t0 = time.monotonic()
    commit_events(app, company_id, burst, None)
    commit_secs = time.monotonic() - t0
    flask = str(Path(sys.executable).parent / "flask")
    worker = subprocess.Popen(
        [flask, "--app", "wsgi", "worker", "--no-cron"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not receiver.wait(burst, timeout=max(120.0, args.events / 20)):
            raise SystemExit(f"throughput phase: only {len(receiver.arrived)} delivered")
        times = [receiver.arrived[i] for i in burst]
        span = max(times) - min(times)
        per_second = (len(times) - 1) / span if span > 0 else float("inf")
        lag_range = range(args.events, args.events + args.lag_events)
        committed = commit_events(app, company_id, lag_range, args.rate)
        if not receiver.wait(lag_range, timeout=120.0):
            raise SystemExit(f"lag phase: {len(receiver.arrived) - args.events} delivered")
        lags = [(receiver.arrived[i] - committed[i]) * 1000 for i in lag_range]
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    backend = url.split("@")[-1] if "@" in url else "SQLite file"
    redis_db = args.redis_url.rsplit("/", 1)[-1]
    print(f"{os.cpu_count()} CPUs | {backend} | Redis db {redis_db} | 1 worker, batch {batch}")
    print(
        f"throughput: {args.events} deliveries in {span:.2f} s = {per_second:.0f} deliveries/s "
        f"from one worker (committing them took {commit_secs:.2f} s)"
    )
    print(
        f"lag, commit -> received, {args.lag_events} events at {args.rate:.0f}/s: "
        f"p50 {pct(lags, 50):.1f} ms, p99 {pct(lags, 99):.1f} ms, "
        f"max {max(lags):.1f} ms, mean {statistics.mean(lags):.1f} ms"
    )
    print(f"bad signatures: {receiver.bad}")


if __name__ == "__main__":
    main()
