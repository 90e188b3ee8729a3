"""Campaign benchmark: a 10,000-contact campaign on the fake provider with real RQ workers.

    .venv/bin/python bench/campaign.py --database-url mysql://root@127.0.0.1/wt_bench_campaign \
        --redis-url redis://127.0.0.1:6379/7 --contacts 10000

Intervals are 0. Runs the campaign with one worker process, then with two, and prints
messages/s for each (first send to last, from the stored send times); then runs it with
two workers again, SIGKILLs one halfway, starts a fresh one, lets the watchdog revive the
campaign, and prints how many contacts got more than one message (must be 0) and how many
got none (must be 0).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket import db as dbmod  # noqa: E402
from whaticket.extensions import db  # noqa: E402


def make_app(url: str, redis_url: str, dispatchers: int, prefix: str, namespace: str):
    """The operator's app: jobs go to RQ (the workers run them)."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "JOBS_BACKEND": "rq",
            "RQ_QUEUE_PREFIX": prefix,
            "FAKE_GATEWAY_NAMESPACE": namespace,
            "FAKE_GATEWAY_OUTBOX_MAX": 100000,
            "CAMPAIGN_DISPATCHERS": dispatchers,
            "CAMPAIGN_STALL": 2,
            "TESTING": False,
        }
    )


def prepare(url: str, contacts: int, runs: int = 3) -> tuple[int, int, list[int]]:
    """Fresh schema, one company, a fake connection and one list of new numbers per run.

    Each run sends to numbers never seen before, so each does the same work (creating the
    contact and its ticket, as a campaign to a fresh audience does).
    """
    from flask_migrate import upgrade

    from whaticket.models import Company, ContactList, ContactListItem, Plan, Whatsapp
    from whaticket.services.campaigns import campaign_settings
    from whaticket.services.team import settings as settings_service

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "REDIS_URL": None})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(ROOT / "migrations"))
        plan = Plan(name="Bench", users=10, connections=10, queues=10, value=0)
        db.session.add(plan)
        db.session.flush()
        company = Company(name="Campaign Co", plan_id=plan.id, status=True)
        db.session.add(company)
        db.session.flush()
        settings_service.create_defaults(company.id)
        conn = Whatsapp(
            company_id=company.id, name="Fake", provider="fake", status="CONNECTED", is_default=True
        )
        db.session.add(conn)
        db.session.flush()
        list_ids = []
        for run in range(runs):
            contact_list = ContactList(company_id=company.id, name=f"Bench list {run}")
            db.session.add(contact_list)
            db.session.flush()
            list_ids.append(contact_list.id)
            db.session.execute(
                sa.insert(ContactListItem),
                [
                    {
                        "company_id": company.id,
                        "contact_list_id": contact_list.id,
                        "name": f"Cliente {i}",
                        "number": f"55{11 + run}9{i:08d}",
                        "email": None,
                        "is_whatsapp_valid": True,
                    }
                    for i in range(contacts)
                ],
            )
        campaign_settings.save_settings(
            company.id, {"messageInterval": 0, "greaterInterval": 0, "longerIntervalAfter": 0}
        )
        dbmod.commit()
        return company.id, conn.id, list_ids


def worker(url: str, redis_url: str, prefix: str, namespace: str, log) -> subprocess.Popen:
    """One `flask worker` process (no cron: the bench plays the watchdog)."""
    env = dict(
        os.environ,
        APP_ENV="development",
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        RQ_QUEUE_PREFIX=prefix,
        FAKE_GATEWAY_NAMESPACE=namespace,
        FAKE_GATEWAY_AUTO_ACKS="",
        FAKE_GATEWAY_OUTBOX_MAX="100000",
        CAMPAIGN_CLAIM_STALE="10",
    )
    flask = str(Path(sys.executable).parent / "flask")
    return subprocess.Popen(
        [flask, "--app", "wsgi", "worker", "--no-cron", "-q", "low,default,high"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def run(args, ids, list_id: int, workers: int, kill: bool, log) -> dict:
    """One campaign with `workers` processes; returns the measured figures."""
    from whaticket.jobs import campaigns as campaign_jobs
    from whaticket.models import Campaign, CampaignShipping
    from whaticket.services.campaigns import campaigns
    from whaticket.services.connections import fake_whatsapp as fake

    company_id, conn_id, _ = ids
    prefix, namespace = f"bench-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    app = make_app(args.database_url, args.redis_url, workers, prefix, namespace)
    procs = [
        worker(args.database_url, args.redis_url, prefix, namespace, log) for _ in range(workers)
    ]
    time.sleep(3)  # let the workers connect
    with app.app_context():
        campaign = campaigns.create_campaign(
            company_id,
            {
                "name": f"Bench {workers}{' kill' if kill else ''} {prefix}",
                "contact_list_id": list_id,
                "whatsapp_id": conn_id,
                "message1": "Oi {nome}, temos uma oferta!",
            },
        )
        dbmod.commit()
        campaigns.restart_campaign(company_id, campaign.id)
        dbmod.commit()
        killed = False
        deadline = time.monotonic() + args.timeout
        try:
            while True:
                time.sleep(0.5)
                db.session.rollback()
                sent = db.session.scalar(
                    sa.select(sa.func.count(CampaignShipping.id)).where(
                        CampaignShipping.campaign_id == campaign.id,
                        CampaignShipping.status == "sent",
                    )
                )
                if kill and not killed and sent >= args.contacts // 2:
                    procs[0].send_signal(signal.SIGKILL)
                    procs[0].wait()
                    procs.append(worker(args.database_url, args.redis_url, prefix, namespace, log))
                    killed = True
                if kill and killed:
                    campaign_jobs.watchdog()
                status = db.session.get(Campaign, campaign.id).status
                db.session.expire_all()
                if status == "FINALIZADA" or time.monotonic() > deadline:
                    break
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                proc.wait()
        first, last = db.session.execute(
            sa.select(
                sa.func.min(CampaignShipping.delivered_at),
                sa.func.max(CampaignShipping.delivered_at),
            ).where(CampaignShipping.campaign_id == campaign.id)
        ).one()
        counts = Counter(e["to"] for e in fake.read_outbox(conn_id) if e["type"] == "text")
        fake.clear_outbox(conn_id)
        elapsed = max((last - first).total_seconds(), 1e-6) if first and last else float("nan")
        return {
            "status": status,
            "sent": sent,
            "rate": sent / elapsed,
            "elapsed": elapsed,
            "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "missing": args.contacts - len(counts),
        }


def main() -> None:
    """Prepare, run with 1 and 2 workers and with a kill, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "mysql://root@127.0.0.1/wt_bench_campaign",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/7"
    )
    parser.add_argument("--contacts", type=int, default=10000)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if args.database_url.startswith("mysql"):
        import pymysql

        name = args.database_url.rsplit("/", 1)[1]
        server = pymysql.connect(host="127.0.0.1", user="root")
        with server.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        server.close()
    Redis.from_url(args.redis_url).flushdb()  # a dedicated Redis database: start empty
    ids = prepare(args.database_url, args.contacts)
    log_path = Path("/tmp/bench-campaign-workers.log")
    with log_path.open("wb") as log:
        one = run(args, ids, ids[2][0], 1, False, log)
        two = run(args, ids, ids[2][1], 2, False, log)
        killed = run(args, ids, ids[2][2], 2, True, log)
    print(f"contacts: {args.contacts}, intervals 0, fake provider, worker log {log_path}")
    for label, res in (("1 worker ", one), ("2 workers", two)):
        print(
            f"{label}: {res['rate']:8.1f} msg/s  ({res['sent']} sent in "
            f"{res['elapsed']:.1f} s, {res['status']})"
        )
    print(f"speed-up with 2 workers: {two['rate'] / one['rate']:.2f}x")
    print(
        f"kill one of 2 halfway: {killed['sent']} sent, status {killed['status']}, "
        f"duplicates {killed['duplicates']}, missing {killed['missing']}"
    )


if __name__ == "__main__":
    main()
