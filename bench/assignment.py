"""Assignment benchmark: tickets entering 5 automatic queues of 50 agents, two RQ workers.

    .venv/bin/python bench/assignment.py --database-url mysql://root@127.0.0.1/wt_bench_assign \
        --redis-url redis://127.0.0.1:6379/8 --tickets 2000

Builds a fresh schema (migrations), one company, 5 queues (3 round robin, 2 least busy),
50 online agents each in 2 queues, capacities that fit every ticket. Then tickets enter
the queues in batches of `--batch` per commit (as the bot or transfers would put them
there: an episode queued now, and the assignment turn the trigger enqueues after the
commit), while two `flask worker` processes run the turns. Prints tickets assigned once,
tickets given twice (must be 0), tickets never assigned, (agent, queue) pairs over
capacity (must be 0) and the assignment latency p50/p99 (episode queued -> assigned).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from redis import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket import db as dbmod  # noqa: E402
from whaticket.extensions import db  # noqa: E402

QUEUES = 5
AGENTS = 50
QUEUES_PER_AGENT = 2


def prepare(url: str, tickets: int) -> dict:
    """Fresh schema; the company, queues, online agents and contacts; ids to use."""
    from flask_migrate import upgrade

    from whaticket.db import utcnow
    from whaticket.models import Company, Contact, Plan, Queue, User, Whatsapp
    from whaticket.models.queue import user_queues
    from whaticket.services.team import settings as settings_service

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "REDIS_URL": None})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(ROOT / "migrations"))
        plan = Plan(name="Bench", users=AGENTS + 5, connections=5, queues=QUEUES, value=0)
        db.session.add(plan)
        db.session.flush()
        company = Company(name="Assignment Co", plan_id=plan.id, status=True)
        db.session.add(company)
        db.session.flush()
        settings_service.create_defaults(company.id)
        conn = Whatsapp(company_id=company.id, name="Fake", provider="fake", status="CONNECTED")
        db.session.add(conn)
        # Room for every ticket: each queue's agents hold its share with a margin.
        per_queue = -(-tickets // QUEUES)
        agents_per_queue = AGENTS * QUEUES_PER_AGENT // QUEUES
        capacity = -(-per_queue // agents_per_queue) + 2
        queues = [
            Queue(
                company_id=company.id,
                name=f"Fila {n}",
                color=f"#0000{n:02x}",
                assignment="round_robin" if n < 3 else "least_busy",
                capacity=capacity,
                schedules=[],
            )
            for n in range(QUEUES)
        ]
        db.session.add_all(queues)
        now = utcnow()
        agents = [
            User(
                company_id=company.id,
                name=f"Agente {i}",
                email=f"agente{i}-{uuid.uuid4().hex[:6]}@bench.local",
                password_hash="x",
                online=True,
                last_seen_at=now,
            )
            for i in range(AGENTS)
        ]
        db.session.add_all(agents)
        db.session.flush()
        db.session.execute(
            sa.insert(user_queues),
            [
                {"user_id": agent.id, "queue_id": queues[(i + k) % QUEUES].id}
                for i, agent in enumerate(agents)
                for k in range(QUEUES_PER_AGENT)
            ],
        )
        db.session.execute(
            sa.insert(Contact),
            [
                {"company_id": company.id, "name": f"Cliente {i}", "number": f"5511{i:09d}"}
                for i in range(tickets)
            ],
        )
        dbmod.commit()
        contact_ids = list(
            db.session.scalars(sa.select(Contact.id).where(Contact.company_id == company.id))
        )
        return {
            "company_id": company.id,
            "conn_id": conn.id,
            "queue_ids": [q.id for q in queues],
            "contact_ids": contact_ids,
            "capacity": capacity,
        }


def worker(url: str, redis_url: str, prefix: str, log) -> subprocess.Popen:
    """One `flask worker` process (no cron: every turn comes from a trigger)."""
    env = dict(
        os.environ,
        APP_ENV="development",
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        RQ_QUEUE_PREFIX=prefix,
        USER_STALE_ONLINE_SECONDS="86400",
    )
    flask = str(Path(sys.executable).parent / "flask")
    return subprocess.Popen(
        [flask, "--app", "wsgi", "worker", "--no-cron", "-q", "high,default,low"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def enter(args, ids: dict, prefix: str) -> float:
    """Tickets enter the queues, `--batch` per commit; seconds it took."""
    from whaticket.db import utcnow
    from whaticket.models import Ticket, TicketTracking
    from whaticket.services.tickets import assignment_triggers

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "REDIS_URL": args.redis_url,
            "JOBS_BACKEND": "rq",
            "RQ_QUEUE_PREFIX": prefix,
            "TESTING": False,
        }
    )
    started = time.monotonic()
    with app.app_context():
        queue_ids = ids["queue_ids"]
        contacts = ids["contact_ids"][: args.tickets]
        for start in range(0, len(contacts), args.batch):
            for offset, contact_id in enumerate(contacts[start : start + args.batch]):
                queue_id = queue_ids[(start + offset) % len(queue_ids)]
                ticket = Ticket(
                    company_id=ids["company_id"],
                    contact_id=contact_id,
                    whatsapp_id=ids["conn_id"],
                    queue_id=queue_id,
                    status="pending",
                )
                db.session.add(ticket)
                db.session.flush()
                db.session.add(
                    TicketTracking(
                        company_id=ids["company_id"],
                        ticket_id=ticket.id,
                        whatsapp_id=ids["conn_id"],
                        queue_id=queue_id,
                        queued_at=utcnow(),
                    )
                )
                assignment_triggers.schedule_turn(queue_id, "queue_entered")
            dbmod.commit()
    return time.monotonic() - started


def measure(url: str, ids: dict, expected: int, timeout: float) -> dict:
    """Wait until every ticket is assigned (or the timeout); the figures."""
    from whaticket.models import Ticket, TicketAssignment, TicketTracking

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, "REDIS_URL": None})
    with app.app_context():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = db.session.scalar(
                sa.select(sa.func.count(sa.distinct(Ticket.id))).where(Ticket.status == "open")
            )
            db.session.rollback()
            if done >= expected:
                break
            time.sleep(0.5)
        per_ticket = dict(
            db.session.execute(
                sa.select(TicketAssignment.ticket_id, sa.func.count(TicketAssignment.id)).group_by(
                    TicketAssignment.ticket_id
                )
            ).all()
        )
        over = db.session.execute(
            sa.select(Ticket.queue_id, Ticket.user_id, sa.func.count(Ticket.id))
            .where(Ticket.status == "open")
            .group_by(Ticket.queue_id, Ticket.user_id)
            .having(sa.func.count(Ticket.id) > ids["capacity"])
        ).all()
        latencies = sorted(
            (assigned - queued).total_seconds() * 1000
            for assigned, queued in db.session.execute(
                sa.select(TicketAssignment.assigned_at, TicketTracking.queued_at).join(
                    TicketTracking, TicketTracking.ticket_id == TicketAssignment.ticket_id
                )
            )
        )
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "once": sum(1 for n in per_ticket.values() if n == 1),
        "twice": sum(1 for n in per_ticket.values() if n > 1),
        "never": expected - len(per_ticket),
        "over": len(over),
        "p50": cuts[49],
        "p99": cuts[98],
    }


def main() -> None:
    """Prepare, start two workers, let the tickets in, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "mysql://root@127.0.0.1/wt_bench_assign",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/8"
    )
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--batch", type=int, default=10, help="tickets entering per commit")
    parser.add_argument("--workers", type=int, default=2)
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
    ids = prepare(args.database_url, args.tickets)
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    log_path = Path("/tmp/bench-assignment-workers.log")
    with log_path.open("wb") as log:
        procs = [
            worker(args.database_url, args.redis_url, prefix, log) for _ in range(args.workers)
        ]
        try:
            time.sleep(3)  # let the workers connect
            entering = enter(args, ids, prefix)
            figures = measure(args.database_url, ids, args.tickets, args.timeout)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()
    print(
        f"tickets: {args.tickets} into {QUEUES} queues, {AGENTS} agents ({QUEUES_PER_AGENT} "
        f"queues each, capacity {ids['capacity']}), {args.workers} workers, "
        f"{args.batch} per commit; entered in {entering:.1f} s; worker log {log_path}"
    )
    print(
        f"assigned once: {figures['once']}  given twice: {figures['twice']}  "
        f"never assigned: {figures['never']}  agents over capacity: {figures['over']}"
    )
    print(f"assignment latency: p50 {figures['p50']:.0f} ms  p99 {figures['p99']:.0f} ms")


if __name__ == "__main__":
    main()
