"""Auth and user-list benchmark: latency percentiles, throughput and SQL statements per request.

Wrong-password logins are timed for a known and an unknown e-mail (they should match).

    python bench/auth_bench.py --users 500 --requests 300

Builds the app against DATABASE_URL (or --database-url), or a temporary SQLite file
when neither is given, creates the schema, seeds one company with N users through the
models and drives the Flask test client (one client, sequential requests, no network).
It prints figures only and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WARMUP = 5
PASSWORD = "bench-password"


@dataclass
class Series:
    """Timings (seconds) and SQL statement counts of one measured operation."""

    name: str
    seconds: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)

    def add(self, elapsed: float, statements: int) -> None:
        """Record one request."""
        self.seconds.append(elapsed)
        self.statements.append(statements)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of `values` (pct in 0..100)."""
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


class StatementCounter:
    """Counts SQL statements sent to the database (before_cursor_execute)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        self.count += 1


def parse_args() -> argparse.Namespace:
    """Command-line options; DATABASE_URL is read before the app loads any .env file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500, help="users seeded in the company")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per kind")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="database to use (default: DATABASE_URL, else a temporary SQLite file)",
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        help="Redis for the login rate-limit counters (default: in-process counters)",
    )
    parser.add_argument("--bcrypt-rounds", type=int, default=10)
    args = parser.parse_args()
    if args.users < 1 or args.requests < 1:
        parser.error("--users and --requests must be positive")
    return args


def build_app(database_url: str, args: argparse.Namespace):
    """The app with the benchmark's configuration, schema created."""
    from whaticket import create_app
    from whaticket.extensions import db

    app = create_app(
        {
            "APP_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BCRYPT_ROUNDS": args.bcrypt_rounds,
            "JOBS_BACKEND": "inline",
            "LOGIN_MAX_PER_IP": 10**9,
            "LOGIN_MAX_FAILURES_PER_IP_EMAIL": 10**9,
            "TESTING": False,
            "REDIS_URL": args.redis_url,
            "SOCKETIO_MESSAGE_QUEUE": None,
            "SOCKETIO_ASYNC_MODE": "threading",
        }
    )
    with app.app_context():
        db.create_all()
    return app


def seed(n_users: int, run_id: str) -> tuple[int, int, str, list[str]]:
    """One plan, one company with default settings, an admin and n users.

    Returns (company id, plan id, admin e-mail, user e-mails). Every user shares one
    bcrypt hash so that seeding does not dominate the run.
    """
    from whaticket import db as dbmod
    from whaticket.extensions import db
    from whaticket.models import Company, Plan, User
    from whaticket.security import hash_password
    from whaticket.services.team import settings as settings_service

    plan = Plan(name=f"Bench plan {run_id}", users=n_users + 10, connections=10, queues=10)
    db.session.add(plan)
    db.session.flush()
    company = Company(
        name=f"Bench {run_id}",
        plan_id=plan.id,
        status=True,
        recurrence="MENSAL",
        due_date=datetime.now(UTC) + timedelta(days=365),
    )
    db.session.add(company)
    db.session.flush()
    settings_service.create_defaults(company.id)
    password_hash = hash_password(PASSWORD)
    admin_email = f"admin-{run_id}@bench.invalid"
    db.session.add(
        User(
            company_id=company.id,
            name="Bench admin",
            email=admin_email,
            password_hash=password_hash,
            profile="admin",
        )
    )
    emails = [f"user{i}-{run_id}@bench.invalid" for i in range(n_users)]
    db.session.add_all(
        User(
            company_id=company.id,
            name=f"Bench user {i}",
            email=email,
            password_hash=password_hash,
            profile="user",
        )
        for i, email in enumerate(emails)
    )
    dbmod.commit()
    return company.id, plan.id, admin_email, emails


def measure(
    series: Series,
    counter: StatementCounter,
    n: int,
    call: Callable[[int], Any],
) -> None:
    """Run call(i) WARMUP times unmeasured, then n times measured."""
    for i in range(WARMUP):
        call(i)
    for i in range(n):
        counter.count = 0
        start = time.perf_counter()
        call(i)
        elapsed = time.perf_counter() - start
        series.add(elapsed, counter.count)


def expect(resp: Any, what: str) -> Any:
    """Stop the run when a request fails: its figures would mean nothing."""
    if resp.status_code != 200:
        raise SystemExit(f"{what}: HTTP {resp.status_code} {resp.get_data(as_text=True)[:200]}")
    return resp


def report(all_series: list[Series]) -> None:
    """Print one line of figures per measured operation."""
    head = (
        f"{'operation':<34}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'mean ms':>9}{'req/s':>9}{'SQL/req':>9}{'SQL min-max':>13}"
    )
    print(head)
    print("-" * len(head))
    for s in all_series:
        ms = [x * 1000 for x in s.seconds]
        total = sum(s.seconds)
        print(
            f"{s.name:<34}{len(ms):>6}{percentile(ms, 50):>9.2f}{percentile(ms, 95):>9.2f}"
            f"{percentile(ms, 99):>9.2f}{statistics.fmean(ms):>9.2f}"
            f"{len(ms) / total if total else 0:>9.1f}{statistics.fmean(s.statements):>9.2f}"
            f"{f'{min(s.statements)}-{max(s.statements)}':>13}"
        )


def cleanup(company_id: int, plan_id: int) -> None:
    """Remove the benchmark's company (its rows cascade) and plan from a kept database."""
    import sqlalchemy as sa

    from whaticket.extensions import db
    from whaticket.models import Company, Plan, RefreshToken, Setting, User

    for model in (RefreshToken, Setting, User):
        db.session.execute(sa.delete(model).where(model.company_id == company_id))
    db.session.execute(sa.delete(Company).where(Company.id == company_id))
    db.session.execute(sa.delete(Plan).where(Plan.id == plan_id))
    db.session.commit()


def main() -> None:
    """Seed, measure, print."""
    args = parse_args()
    tmpdir = None
    database_url = args.database_url
    if not database_url:
        tmpdir = tempfile.mkdtemp(prefix="whaticket-bench-")
        database_url = f"sqlite:///{os.path.join(tmpdir, 'bench.sqlite3')}"

    import sqlalchemy as sa

    from whaticket.extensions import db

    app = build_app(database_url, args)
    prefix = app.config["API_PREFIX"]
    run_id = uuid.uuid4().hex[:8]
    with app.app_context():
        t0 = time.perf_counter()
        company_id, plan_id, admin_email, emails = seed(args.users, run_id)
        seed_seconds = time.perf_counter() - t0
        engine = db.engine
        dialect = f"{engine.dialect.name} {engine.dialect.server_version_info or ''}".strip()
        url = engine.url.render_as_string(hide_password=True)

    counter = StatementCounter()
    sa.event.listen(engine, "before_cursor_execute", counter)
    client = app.test_client()

    print("whaticket auth benchmark")
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M UTC} | python {platform.python_version()} | "
        f"{platform.machine()} | {os.cpu_count()} CPUs"
    )
    print(f"database {dialect} ({url})")
    print(
        f"users {args.users} | requests per kind {args.requests} (+{WARMUP} warm-up) | "
        f"bcrypt rounds {args.bcrypt_rounds} | rate-limit counters "
        f"{'redis' if args.redis_url else 'in-process'} | seeding took {seed_seconds:.1f} s"
    )
    print("one Flask test client, sequential requests: req/s = 1 / mean latency\n")

    login = Series("POST /auth/login")

    def do_login(i: int) -> None:
        email = emails[i % len(emails)]
        expect(
            client.post(f"{prefix}/auth/login", json={"email": email, "password": PASSWORD}),
            "login",
        )

    measure(login, counter, args.requests, do_login)

    # A wrong password for an existing e-mail and for an unknown one: both pay one bcrypt
    # check (the unknown one against a dummy hash), so their timings should match. The two
    # alternate, so that a change in the machine's load weighs on both alike.
    wrong_known = Series("POST /auth/login 401 known e-mail")
    wrong_unknown = Series("POST /auth/login 401 unknown e-mail")

    def wrong_login(email: str) -> None:
        resp = client.post(f"{prefix}/auth/login", json={"email": email, "password": "wrong"})
        if resp.status_code != 401:
            raise SystemExit(f"wrong login: HTTP {resp.status_code}")

    def unknown_email(i: int) -> str:
        return f"nobody{i}-{run_id}@bench.invalid"

    for i in range(args.requests + WARMUP):
        for series, email in (
            (wrong_known, emails[i % len(emails)]),
            (wrong_unknown, unknown_email(i)),
        ):
            counter.count = 0
            start = time.perf_counter()
            wrong_login(email)
            if i >= WARMUP:
                series.add(time.perf_counter() - start, counter.count)

    # Refresh: one session whose cookie rotates on every call (the client keeps it).
    resp = expect(
        client.post(f"{prefix}/auth/login", json={"email": admin_email, "password": PASSWORD}),
        "admin login",
    )
    headers = {"Authorization": f"Bearer {resp.get_json()['token']}"}
    refresh = Series("POST /auth/refresh_token")
    measure(
        refresh,
        counter,
        args.requests,
        lambda _i: expect(client.post(f"{prefix}/auth/refresh_token"), "refresh"),
    )

    pages = max((args.users + 1 + 19) // 20, 1)
    listing = Series(f"GET /users?pageNumber=k (k=1..{pages})")
    measure(
        listing,
        counter,
        args.requests,
        lambda i: expect(
            client.get(f"{prefix}/users?pageNumber={i % pages + 1}", headers=headers),
            "users list",
        ),
    )
    sa.event.remove(engine, "before_cursor_execute", counter)

    report([login, wrong_known, wrong_unknown, refresh, listing])

    with app.app_context():
        if tmpdir is None:
            cleanup(company_id, plan_id)
        db.engine.dispose()
    if tmpdir is not None:
        import shutil

        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
