"""Reports benchmark: summary and dashboard latency at 1x and 10x tickets, two shapes of growth.

    .venv/bin/python bench/reports.py                       # 20,000 -> 200,000 tickets
    .venv/bin/python bench/reports.py --tickets 2000 --runs 5 --scenario history

Builds a throw-away MariaDB database (`--database-url`, default
mysql://root@127.0.0.1/wt_bench_reports, created if missing; every table is dropped and
recreated). A small neighbour company gets activity too, so the company filter matters.
Each measured company has 10 agents, 5 queues, 2 connections and 8 report events plus one
service episode per ticket. Measured with the Flask test client (in process, sequential):
`GET /reports/summary?groupBy=agent` and `GET /dashboard` over the last `--window` local
days, median of `--runs` after 2 warm-ups, at N tickets and again at 10 N:

- history: the extra 9 N tickets lie in older history, before the queried window — the
  window's volume stays the same and only the table grows (what an index must absorb);
- dense: the extra 9 N tickets lie in the same 90 days — the window holds 10x the events,
  so any exact aggregate must read 10x the rows.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket.extensions import db  # noqa: E402

CHUNK = 5000
SPREAD_DAYS = 90
AGENTS, QUEUES, CONNECTIONS = 10, 5, 2


def _app(url: str) -> Any:
    """The app on the bench database, jobs inline, no Redis."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "JOBS_BACKEND": "inline",
            "TESTING": False,
            "REDIS_URL": None,
            "FAKE_GATEWAY_AUTO_ACKS": "",
        }
    )


def _ensure_database(url: str) -> None:
    """CREATE DATABASE IF NOT EXISTS on the server named by the URL."""
    parsed = make_url(url)
    if not parsed.drivername.startswith(("mysql", "mariadb")):
        return
    name = parsed.database
    server = sa.create_engine(parsed._replace(database=None, drivername="mysql+pymysql"))
    with server.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"))
    server.dispose()


def _insert(table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Bulk Core insert in executemany chunks (PyMySQL sends multi-row INSERTs)."""
    for i in range(0, len(rows), CHUNK):
        db.session.execute(table.insert(), rows[i : i + CHUNK])


class Tenant:
    """A measured company: its agents, queues, connections and a contact counter."""

    def __init__(self, name: str, plan_id: int) -> None:
        from whaticket.models import Company, Queue, User, Whatsapp
        from whaticket.security import hash_password

        company = Company(name=name, plan_id=plan_id, timezone="America/Sao_Paulo")
        db.session.add(company)
        db.session.flush()
        self.id = company.id
        pw = hash_password("bench-password")
        self.admin = User(
            company_id=company.id,
            name=f"{name} admin",
            email=f"admin@{name.lower().replace(' ', '-')}.example",
            password_hash=pw,
            profile="admin",
        )
        db.session.add(self.admin)
        agents = [
            User(
                company_id=company.id,
                name=f"Agent {i}",
                email=f"agent{i}@{name.lower().replace(' ', '-')}.example",
                password_hash=pw,
                profile="user",
            )
            for i in range(AGENTS)
        ]
        queues = [
            Queue(company_id=company.id, name=f"Queue {i}", color=f"#00000{i}")
            for i in range(QUEUES)
        ]
        whatsapps = [
            Whatsapp(company_id=company.id, name=f"Connection {i}") for i in range(CONNECTIONS)
        ]
        db.session.add_all([*agents, *queues, *whatsapps])
        db.session.flush()
        self.agents = [u.id for u in agents]
        self.queues = [q.id for q in queues]
        self.whatsapps = [w.id for w in whatsapps]
        self.contacts = 0
        db.session.commit()

    def add_tickets(self, n: int, oldest: int, newest: int, now: datetime, rng: random.Random):
        """n tickets (with contact, episode and 8 events each) opened between `oldest` and
        `newest` days ago."""
        from whaticket.models import Contact, ReportEvent, Ticket, TicketTracking

        for start in range(0, n, 20_000):
            batch = min(20_000, n - start)
            first = self.contacts
            self.contacts += batch
            _insert(
                Contact.__table__,
                [
                    {
                        "company_id": self.id,
                        "name": f"Contact {i}",
                        "number": f"55{self.id:03d}{i:09d}",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(first, first + batch)
                ],
            )
            contact_ids = db.session.scalars(
                sa.select(Contact.id)
                .where(Contact.company_id == self.id)
                .order_by(Contact.id.desc())
                .limit(batch)
            ).all()
            plans = []
            for cid in contact_ids:
                opened = now - timedelta(seconds=rng.uniform(newest * 86400, oldest * 86400))
                plans.append(
                    {
                        "contact": cid,
                        "opened": opened,
                        "agent": rng.choice(self.agents),
                        "queue": rng.choice(self.queues),
                        "wa": rng.choice(self.whatsapps),
                        "wait": rng.uniform(10, 900),
                        "first": rng.uniform(5, 600),
                        "reply": rng.uniform(5, 300),
                        "resolution": rng.uniform(600, 86400),
                        "status": rng.choices(("closed", "open", "pending"), (90, 5, 5))[0],
                    }
                )
            _insert(
                Ticket.__table__,
                [
                    {
                        "company_id": self.id,
                        "uuid": f"{self.id}-{p['contact']}",
                        "status": p["status"],
                        "unread_messages": 1 if p["status"] == "pending" else 0,
                        "last_message": "",
                        "is_group": False,
                        "from_me": False,
                        "chatbot": False,
                        "amount_used_bot_queues": 0,
                        "bot_retries": 0,
                        "use_integration": False,
                        "contact_id": p["contact"],
                        "whatsapp_id": p["wa"],
                        "user_id": p["agent"] if p["status"] != "pending" else None,
                        "queue_id": p["queue"],
                        "created_at": p["opened"],
                        "updated_at": p["opened"],
                    }
                    for p in plans
                ],
            )
            ticket_ids = dict(
                db.session.execute(
                    sa.select(Ticket.contact_id, Ticket.id).where(
                        Ticket.company_id == self.id, Ticket.contact_id.in_(contact_ids)
                    )
                ).all()
            )
            episodes, events = [], []
            for p in plans:
                tid, t0 = ticket_ids[p["contact"]], p["opened"]
                accepted = t0 + timedelta(seconds=p["wait"])
                answered = accepted + timedelta(seconds=p["first"])
                closed = t0 + timedelta(seconds=p["resolution"])
                episodes.append(
                    {
                        "company_id": self.id,
                        "ticket_id": tid,
                        "whatsapp_id": p["wa"],
                        "user_id": p["agent"],
                        "queue_id": p["queue"],
                        "queued_at": t0,
                        "started_at": accepted,
                        "finished_at": closed if p["status"] == "closed" else None,
                        "rated": False,
                        "created_at": t0,
                        "updated_at": t0,
                    }
                )
                common = {
                    "company_id": self.id,
                    "ticket_id": tid,
                    "queue_id": p["queue"],
                    "whatsapp_id": p["wa"],
                    "created_at": t0,
                    "updated_at": t0,
                }
                for kind, at, value, rating, agent in (
                    ("conversation", t0, None, None, None),
                    ("message_in", t0, None, None, None),
                    ("wait", accepted, p["wait"], None, p["agent"]),
                    ("first_response", answered, p["first"], None, p["agent"]),
                    ("message_out", answered, None, None, p["agent"]),
                    ("reply_time", answered + timedelta(minutes=5), p["reply"], None, p["agent"]),
                    ("resolution", closed, p["resolution"], None, p["agent"]),
                    ("rating", closed, None, rng.randint(1, 5), p["agent"]),
                ):
                    events.append(
                        {
                            **common,
                            "kind": kind,
                            "occurred_at": at,
                            "value": value,
                            "business_value": value * 0.6 if value is not None else None,
                            "rating": rating,
                            "user_id": agent,
                        }
                    )
            _insert(TicketTracking.__table__, episodes)
            _insert(ReportEvent.__table__, events)
            db.session.commit()
        # Live recording keeps the daily rollup as events happen; bulk-loaded events get
        # it recomputed once, as `flask reports rebuild` would.
        from whaticket.services.reports.rebuild import rollup_from_events

        rollup_from_events(self.id)
        db.session.commit()


def _measure(app: Any, tenant: Tenant, window: int, runs: int) -> dict[str, float]:
    """Median latency in ms of the summary and the dashboard over the last `window` days."""
    from flask_jwt_extended import create_access_token

    from whaticket.models import User

    today = datetime.now(UTC).date()
    first = today - timedelta(days=window - 1)
    period = f"from={first}&to={today}"
    urls = {
        "summary": f"/api/reports/summary?groupBy=agent&{period}",
        "dashboard": f"/api/dashboard?date_from={first}&date_to={today}",
    }
    client = app.test_client()
    with app.test_request_context():
        token = create_access_token(identity=db.session.get(User, tenant.admin.id))
    headers = {"Authorization": f"Bearer {token}"}
    out = {}
    for name, url in urls.items():
        for _ in range(2):
            assert client.get(url, headers=headers).status_code == 200
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            resp = client.get(url, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            assert resp.status_code == 200, resp.get_json()
        out[name] = statistics.median(samples)
    db.session.remove()
    return out


def _window_events(tenant: Tenant, window: int, now: datetime) -> int:
    from whaticket.models import ReportEvent

    return db.session.scalar(
        sa.select(sa.func.count(ReportEvent.id)).where(
            ReportEvent.company_id == tenant.id,
            ReportEvent.occurred_at >= now - timedelta(days=window + 1),
        )
    )


def main() -> None:
    """Build the data, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="mysql://root@127.0.0.1/wt_bench_reports")
    parser.add_argument("--tickets", type=int, default=20_000, help="tickets at 1x")
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--window", type=int, default=30, help="queried local days")
    parser.add_argument("--scenario", choices=("history", "dense", "both"), default="both")
    args = parser.parse_args()

    from whaticket.models import Plan

    _ensure_database(args.database_url)
    app = _app(args.database_url)
    rng = random.Random(8)
    now = datetime.now(UTC).replace(tzinfo=None)
    n, extra = args.tickets, args.tickets * (args.factor - 1)
    with app.app_context():
        started = time.perf_counter()
        db.drop_all()
        db.create_all()
        plan = Plan(name="Bench", users=100, connections=10, queues=10, value=0)
        db.session.add(plan)
        db.session.commit()
        neighbour = Tenant("Neighbour", plan.id)
        neighbour.add_tickets(max(n // 10, 100), SPREAD_DAYS, 0, now, rng)
        print(f"database: {args.database_url}  window: last {args.window} local days")
        print(f"runs: median of {args.runs}; 8 events + 1 episode per ticket\n")

        scenarios = ("history", "dense") if args.scenario == "both" else (args.scenario,)
        for scenario in scenarios:
            tenant = Tenant(f"Bench {scenario}", plan.id)
            t0 = time.perf_counter()
            tenant.add_tickets(n, SPREAD_DAYS, 0, now, rng)
            setup = time.perf_counter() - t0
            base = _measure(app, tenant, args.window, args.runs)
            base_events = _window_events(tenant, args.window, now)
            t0 = time.perf_counter()
            if scenario == "history":
                # Older history: from 90 days back to ~2.5 years back, outside the window.
                tenant.add_tickets(extra, SPREAD_DAYS + 900, SPREAD_DAYS + 1, now, rng)
            else:
                tenant.add_tickets(extra, SPREAD_DAYS, 0, now, rng)
            setup += time.perf_counter() - t0
            grown = _measure(app, tenant, args.window, args.runs)
            grown_events = _window_events(tenant, args.window, now)
            print(f"scenario {scenario} (setup {setup:.0f} s)")
            print(
                f"  {'tickets':>9} {'events in window':>17} {'summary ms':>11} {'dashboard ms':>13}"
            )
            print(
                f"  {n:>9,} {base_events:>17,} {base['summary']:>11.1f} {base['dashboard']:>13.1f}"
            )
            print(
                f"  {n + extra:>9,} {grown_events:>17,} {grown['summary']:>11.1f}"
                f" {grown['dashboard']:>13.1f}"
            )
            print(
                f"  ratio {args.factor}x/1x: summary {grown['summary'] / base['summary']:.2f}"
                f"  dashboard {grown['dashboard'] / base['dashboard']:.2f}\n"
            )
        print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
