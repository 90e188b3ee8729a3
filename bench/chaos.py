"""Chaos benchmark: the fault runs of the hardening issue, replayed on MariaDB + Redis.

    make chaos                     # or: .venv/bin/python bench/chaos.py [--contacts 600]

Starts its own Redis (a throw-away `redis-server` on a free port, so stopping it harms
nothing else) and reaches MariaDB through a TCP proxy it can cut. Web (`python wsgi.py`)
and worker (`flask worker`, with its periodic sweeps) run as in production. Four runs:

1. a campaign to N contacts while the worker is killed (-9) three times;
2. a campaign while Redis is down for 30 s;
3. 2,000 inbound messages, each delivered one to three times, at concurrency 16;
4. inbound messages while the database is unreachable for 25 s (senders retry on non-200,
   as Meta does).

Each prints: sent (or delivered), stored, duplicates, lost, and seconds to recover (from
the end of the fault to the next unit of progress), with the goal next to it: 0
duplicates, 0 lost, recovery under 30 s, no manual restart. It prints figures only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import campaign as campaign_bench  # noqa: E402
import inbound as inbound_bench  # noqa: E402

# The throw-away Redis, the TCP proxy and the worker processes of the outage tests.
from tests.outages import (  # noqa: E402
    RedisProcess,
    TcpProxy,
    free_port,
    kill_group,
    worker_process,
)
from whaticket import create_app  # noqa: E402
from whaticket import db as dbmod  # noqa: E402
from whaticket.extensions import db  # noqa: E402

RECOVERY_GOAL = 30.0


def proxied(url: str, proxy: TcpProxy) -> str:
    """The same database URL, through the proxy."""
    scheme, rest = url.split("://", 1)
    creds, _, tail = rest.rpartition("@")
    name = tail.split("/", 1)[1]
    return f"{scheme}://{creds + '@' if creds else ''}127.0.0.1:{proxy.port}/{name}"


def ensure_database(url: str) -> None:
    """CREATE DATABASE IF NOT EXISTS for a MariaDB URL."""
    import pymysql

    name = url.rsplit("/", 1)[1]
    server = pymysql.connect(host="127.0.0.1", user="root")
    with server.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
    server.close()


def process(cmd: list[str], env: dict[str, str], log) -> subprocess.Popen:
    """A web or worker process in its own process group (so -9 takes its children too)."""
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_group(proc)


def wait_progress(read: Callable[[], int], after: int, timeout: float) -> float | None:
    """Seconds until `read()` exceeds `after` (None: it never did within `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if read() > after:
            return time.monotonic() - start
        time.sleep(0.2)
    return None


# -- campaigns -----------------------------------------------------------------------


def campaign_run(args, redis: RedisProcess, db_url: str, fault: str, log) -> dict:
    """One campaign with the worker killed three times ("kill") or Redis down 30 s ("redis")."""
    from whaticket.models import Campaign, CampaignShipping
    from whaticket.services.campaigns import campaign_settings, campaigns
    from whaticket.services.connections import fake_whatsapp as fake

    company_id, conn_id, lists = campaign_bench.prepare(db_url, args.contacts, runs=1)
    prefix, namespace = f"chaos-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    env = dict(
        os.environ,
        APP_ENV="development",
        DATABASE_URL=db_url,
        REDIS_URL=redis.url,
        JOBS_BACKEND="rq",
        RQ_QUEUE_PREFIX=prefix,
        FAKE_GATEWAY_NAMESPACE=namespace,
        FAKE_GATEWAY_AUTO_ACKS="",
        FAKE_GATEWAY_OUTBOX_MAX="100000",
        CAMPAIGN_CLAIM_STALE="10",
    )
    app = campaign_bench.make_app(db_url, redis.url, 2, prefix, namespace)
    workers = [worker_process(env, log)]
    time.sleep(3)
    recoveries: list[float | None] = []
    before: Counter = Counter()
    with app.app_context():
        campaign_settings.save_settings(
            company_id,
            {"messageInterval": args.interval, "greaterInterval": 0, "longerIntervalAfter": 0},
        )
        camp = campaigns.create_campaign(
            company_id,
            {
                "name": f"Chaos {fault}",
                "contact_list_id": lists[0],
                "whatsapp_id": conn_id,
                "message1": "Oi {nome}, temos uma oferta!",
            },
        )
        dbmod.commit()
        campaigns.restart_campaign(company_id, camp.id)
        dbmod.commit()

        def sent() -> int:
            db.session.rollback()
            return db.session.scalar(
                sa.select(sa.func.count(CampaignShipping.id)).where(
                    CampaignShipping.campaign_id == camp.id, CampaignShipping.status == "sent"
                )
            )

        marks = [args.contacts // 4, args.contacts // 2, 3 * args.contacts // 4]
        if fault == "redis":
            marks = [args.contacts // 3]
        deadline = time.monotonic() + args.timeout
        status = ""
        while time.monotonic() < deadline:
            now_sent = sent()
            if marks and now_sent >= marks[0]:
                marks.pop(0)
                if fault == "kill":
                    kill_group(workers[-1])
                    workers.append(worker_process(env, log))
                    recoveries.append(wait_progress(sent, sent(), args.timeout))
                else:
                    # The fake provider's outbox lives in this Redis: count it before the
                    # outage wipes it (a real provider would still know what it sent).
                    before.update(e["to"] for e in fake.read_outbox(conn_id) if e["type"] == "text")
                    redis.kill()
                    time.sleep(args.redis_down)
                    redis.start()
                    recoveries.append(wait_progress(sent, sent(), args.timeout))
            status = db.session.get(Campaign, camp.id).status
            db.session.expire_all()
            if status == "FINALIZADA":
                break
            time.sleep(0.3)
        alive = all(w.poll() is None for w in workers[-1:])
        counts = before + Counter(e["to"] for e in fake.read_outbox(conn_id) if e["type"] == "text")
        final_sent = sent()
    stop(workers)
    return {
        "sent": final_sent,
        "delivered": sum(counts.values()),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "lost": args.contacts - len(counts),
        "recovery": recoveries,
        "status": status,
        "worker_alive": alive,
    }


# -- inbound -------------------------------------------------------------------------------


def inbound_run(
    args, redis: RedisProcess, proxy: TcpProxy, db_url: str, messages: int, outage: float, log
) -> dict:
    """`messages` Cloud deliveries, each sent 1-3 times at concurrency 16; a database cut of
    `outage` seconds a third of the way through (0: none). Senders retry until 200."""
    from whaticket.models import Message

    inbound_bench.prepare(db_url)
    port = free_port()
    via_proxy = proxied(db_url, proxy)
    env = dict(
        os.environ,
        APP_ENV="development",
        DATABASE_URL=via_proxy,
        REDIS_URL=redis.url,
        JOBS_BACKEND="rq",
        PORT=str(port),
        HOST="127.0.0.1",
        RQ_QUEUE_PREFIX=f"chaos-{uuid.uuid4().hex[:6]}",
    )
    procs = [process([sys.executable, "wsgi.py"], env, log), worker_process(env, log)]
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if requests.get(f"{base}/api/openapi.json", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    rng = random.Random(7)
    contacts = max(1, messages // 4)
    items = []
    for n in range(messages):
        _wamid, raw = inbound_bench.delivery(n, n % contacts)
        sig = (
            "sha256=" + hmac.new(inbound_bench.APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        )
        items += [(raw, sig)] * rng.randint(1, 3)  # Meta delivers at least once
    rng.shuffle(items)
    refused = Counter()
    local = threading.local()

    def post(item: tuple[bytes, str]) -> None:
        raw, sig = item
        session = getattr(local, "s", None) or requests.Session()
        local.s = session
        while True:  # a provider retries until it gets a 2xx
            try:
                resp = session.post(
                    f"{base}/api/webhooks/cloud",
                    data=raw,
                    timeout=30,
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": sig},
                )
                if resp.status_code == 200:
                    return
                refused[resp.status_code] += 1
            except requests.RequestException:
                refused["error"] += 1
            time.sleep(0.5)

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "TESTING": False, "REDIS_URL": None})
    recovery = None
    with app.app_context():

        def stored() -> int:
            db.session.rollback()
            return db.session.scalar(sa.select(sa.func.count(Message.id)))

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            futures = [pool.submit(post, item) for item in items]
            if outage:
                while stored() < messages // 3 and time.monotonic() - started < args.timeout:
                    time.sleep(0.2)
                proxy.stop()
                time.sleep(outage)
                proxy.start()
                recovery = wait_progress(stored, stored(), args.timeout)
            for future in futures:
                future.result()
        deadline = time.monotonic() + args.timeout
        while stored() < messages and time.monotonic() < deadline:
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        rows = db.session.execute(
            sa.select(Message.provider_id, sa.func.count()).group_by(Message.provider_id)
        ).all()
        alive = all(p.poll() is None for p in procs)
    stop(procs)
    return {
        "deliveries": len(items),
        "stored": sum(n for _, n in rows),
        "duplicates": sum(n - 1 for _, n in rows if n > 1),
        "lost": messages - len(rows),
        "recovery": [recovery] if outage else [],
        "refused": dict(refused),
        "seconds": elapsed,
        "alive": alive,
    }


# -- report --------------------------------------------------------------------------------


def verdict(res: dict) -> str:
    recov = [r for r in res["recovery"]]
    slow = any(r is None or r > RECOVERY_GOAL for r in recov)
    ok = res["duplicates"] == 0 and res["lost"] == 0 and not slow
    return "PASS" if ok else "MISS"


def fmt_recovery(values: list[float | None]) -> str:
    if not values:
        return "-"
    return ", ".join("never" if v is None else f"{v:.1f} s" for v in values)


def main() -> None:
    """Run the four fault runs and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1/wt_chaos")
    parser.add_argument("--contacts", type=int, default=600)
    parser.add_argument("--interval", type=float, default=0.05, help="campaign messageInterval")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--redis-down", type=float, default=30)
    parser.add_argument("--db-down", type=float, default=25)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--only", default="kill,redis,inbound,db", help="runs to do")
    args = parser.parse_args()
    if not args.database_url.startswith("mysql"):
        raise SystemExit("the chaos runs need MariaDB (a database several processes share)")
    host_port = args.database_url.split("@", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    proxy = TcpProxy(host or "127.0.0.1", int(port or 3306)).start()
    redis = RedisProcess().start()
    log_path = Path(tempfile.gettempdir()) / "wt-chaos.log"
    only = set(args.only.split(","))
    began = time.monotonic()
    print(f"whaticket chaos | MariaDB via proxy + own Redis | process log {log_path}")
    print(
        f"{'run':44} {'sent':>6} {'stored':>6} {'dup':>4} {'lost':>4}  recovery "
        f"(goal < {RECOVERY_GOAL:.0f} s)   verdict",
        flush=True,
    )
    try:
        with log_path.open("wb") as log:
            # Each run its own database: a run's leftovers never lock the next one's schema.
            def run_db(name: str) -> str:
                url = f"{args.database_url}_{name}"
                ensure_database(url)
                return url

            # The campaign runs reach MariaDB directly: a killed worker's connections then
            # close as they would in production (the proxy is for the database outage).
            if "kill" in only:
                res = campaign_run(args, redis, run_db("kill"), "kill", log)
                report(f"campaign {args.contacts}, worker kill -9 x3", res)
            if "redis" in only:
                res = campaign_run(args, redis, run_db("redis"), "redis", log)
                report(f"campaign {args.contacts}, Redis down {args.redis_down:.0f} s", res)
            if "inbound" in only:
                res = inbound_run(args, redis, proxy, run_db("inbound"), args.messages, 0, log)
                report(f"{args.messages} inbound x1-3 at c={args.concurrency}", res)
            if "db" in only:
                res = inbound_run(
                    args, redis, proxy, run_db("db"), args.messages // 2, args.db_down, log
                )
                report(f"{args.messages // 2} inbound, database down {args.db_down:.0f} s", res)
    finally:
        redis.kill()
        proxy.stop()
    print(f"total {time.monotonic() - began:.0f} s")


def report(label: str, res: dict) -> None:
    """One run's row, printed as soon as the run ends."""
    sent = res.get("delivered", res.get("deliveries"))
    stored = res.get("sent", res.get("stored"))
    print(
        f"{label:44} {sent:>6} {stored:>6} {res['duplicates']:>4} {res['lost']:>4}  "
        f"{fmt_recovery(res['recovery']):28} {verdict(res)}"
    )
    keys = ("status", "worker_alive", "refused", "alive", "seconds")
    print(f"{'':44} { ({k: v for k, v in res.items() if k in keys}) }", flush=True)


if __name__ == "__main__":
    main()
