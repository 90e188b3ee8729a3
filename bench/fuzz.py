"""Fuzz every operation of openapi.json with schemathesis against a live local server.

    python bench/fuzz.py                                  # a temporary SQLite file
    python bench/fuzz.py --database-url sqlite --database-url mysql://root@127.0.0.1/wt_fuzz

Per database (a temporary SQLite file, or a MySQL/MariaDB database named in the URL,
created empty and dropped at the end: name a throw-away one): builds the app as `make
run` does (development), seeds two companies with an admin and an agent each, serves it with
werkzeug in a thread on a free loopback port, and runs schemathesis over `openapi.json` once
per role with `--max-examples` cases per operation and only the "not a server error" check.
Before each case the role's user is put back as seeded (a fuzzed request may have demoted or
deleted it) and a fresh token is minted. Prints the operations run, the cases sent, the
statuses and every 5xx found; exits 1 on any 5xx. Each (database, role) runs in a child
process of its own, all side by side.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import PIPE, STDOUT, Popen
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
import schemathesis  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask_jwt_extended import create_access_token  # noqa: E402
from schemathesis.cli import schemathesis as schemathesis_cli  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from whaticket import create_app  # noqa: E402
from whaticket import db as dbmod  # noqa: E402
from whaticket.extensions import db  # noqa: E402
from whaticket.models import Company, Plan, User, Whatsapp  # noqa: E402
from whaticket.security import hash_password  # noqa: E402
from whaticket.services.team import settings as settings_service  # noqa: E402

PASSWORD = "fuzz-password-123"
#: Only the 5xx check; one case at a time; no shrinking, retries or saved examples; the
#: events as ndjson (counted by `tally`).
SCHEMATHESIS_OPTIONS = (
    "--checks not_a_server_error --workers 1 --no-shrink --continue-on-failure "
    "--suppress-health-check all --no-color --warnings off --generation-database none "
    "--request-timeout 30 --report ndjson"
)


@dataclass
class Actor:
    """A seeded user the fuzzer acts as, and what it must look like before each case."""

    role: str
    email: str
    profile: str
    company_id: int


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        action="append",
        help="database to create, fuzz and drop; 'sqlite' (the default) is a temporary file. "
        "Several databases or roles are fuzzed side by side, one child process each",
    )
    parser.add_argument("--redis-url", default=None, help="Redis for rate limits (default: none)")
    parser.add_argument("--max-examples", type=int, default=5, help="cases per operation")
    parser.add_argument("--roles", default="admin,agent", help="comma-separated: admin, agent")
    # The coverage phase adds ~40 boundary cases per operation: minutes, not seconds.
    parser.add_argument("--phases", default="examples,fuzzing", help="schemathesis phases")
    parser.add_argument("--seed", type=int, default=None, help="schemathesis random seed")
    parser.add_argument("--include-path-regex", help="only the operations whose path matches")
    args = parser.parse_args()
    if args.max_examples < 1:
        parser.error("--max-examples must be positive")
    args.database_url = args.database_url or ["sqlite"]
    return args


@contextmanager
def throwaway_database(url: str | None) -> Iterator[str]:
    """A database for the run: a temporary SQLite file, or the named MySQL/MariaDB
    database, created empty now and dropped at the end."""
    if not url or url == "sqlite" or url.startswith("sqlite:"):
        folder = tempfile.mkdtemp(prefix="whaticket-fuzz-")
        try:
            yield url if url and url != "sqlite" else f"sqlite:///{folder}/fuzz.sqlite3"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    server_url, name = url.rsplit("/", 1)
    engine = sa.create_engine(
        "mysql+pymysql://" + server_url.split("://", 1)[1] + "/", isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield url
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        engine.dispose()


def build_app(database_url: str, media_root: str, redis_url: str | None) -> Flask:
    """The app as `make run` builds it (development), on `database_url`, schema created."""
    app = create_app(
        {
            "APP_ENV": "development",
            "TESTING": False,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MEDIA_ROOT": media_root,
            "REDIS_URL": redis_url,
            "JOBS_BACKEND": "inline",
            "SOCKETIO_MESSAGE_QUEUE": None,
            "SOCKETIO_ASYNC_MODE": "threading",
            "BCRYPT_ROUNDS": 4,
            "FAKE_GATEWAY_AUTO_ACKS": "",
        }
    )
    # The fuzzer logs in, signs up and resets passwords far more often than a person: no
    # rate limit (LOGIN_MAX_PER_IP, SIGNUP_MAX_PER_IP, ...) may hide an operation behind 429.
    for key in list(app.config):
        if re.search(r"_MAX_(PER|FAILURES)_", key):
            app.config[key] = 10**9
    with app.app_context():
        db.create_all()
        # Stamped at head: the schema is the models' own, and the readiness probe
        # (/health/ready) answers 503 on a database no migration was recorded in.
        flask_migrate.stamp(directory=str(ROOT / "migrations"), revision="head")
    # One access-log line per fuzzed request would drown the report.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def seed() -> list[Actor]:
    """Two companies, each with a plan, default settings, a fake connection, an admin and
    an agent; return the actors of the first (the second is someone else's data)."""
    actors: list[Actor] = []
    for n in (1, 2):
        plan = Plan(name=f"Fuzz plan {n}", users=50, connections=10, queues=10, value=30)
        db.session.add(plan)
        db.session.flush()
        due = datetime.now(UTC) + timedelta(days=3650)
        company = Company(name=f"Fuzz company {n}", plan_id=plan.id, status=True, due_date=due)
        db.session.add(company)
        db.session.flush()
        settings_service.create_defaults(company.id)
        fake = dict(provider="fake", status="CONNECTED", is_default=True)
        db.session.add(Whatsapp(company_id=company.id, name=f"Fuzz {n}", **fake))
        for role, profile in (("admin", "admin"), ("agent", "user")):
            actor = Actor(role, f"{role}{n}@fuzz.invalid", profile, company.id)
            if n == 1:
                actors.append(actor)
            restore(actor)
    dbmod.commit()
    return actors


def restore(actor: Actor) -> User:
    """Put the actor's company and user back as seeded when a fuzzed request changed them
    (writes only then); creates the user again if it was deleted."""
    company = db.session.get(Company, actor.company_id)
    soon = datetime.now(UTC) + timedelta(days=365)
    # UTCDateTime columns read back as aware UTC datetimes.
    if company is not None and (not company.status or (company.due_date or soon) <= soon):
        company.status = True
        company.due_date = soon + timedelta(days=3650)
    user = db.session.scalar(sa.select(User).where(User.email == actor.email))
    if user is None:
        user = User(
            company_id=actor.company_id,
            name=actor.role,
            email=actor.email,
            password_hash=hash_password(PASSWORD),
        )
        db.session.add(user)
    if (user.profile, user.super, user.company_id) != (actor.profile, False, actor.company_id):
        user.profile, user.super, user.company_id = actor.profile, False, actor.company_id
    db.session.flush()
    return user


class _Handler(WSGIRequestHandler):
    """werkzeug's handler with TCP_NODELAY, as wsgi.py's listener: without it each answer
    written in two pieces waits for the client's delayed ACK (about 40 ms)."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Server:
    """The app served by werkzeug in a daemon thread on a free loopback port."""

    def __init__(self, app: Flask, threaded: bool) -> None:
        self.httpd = make_server("127.0.0.1", 0, app, threaded=threaded, request_handler=_Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.thread.join(10)


class _State:
    """What the auth provider needs: the app and the actor of the current run."""

    app: Flask | None = None
    actor: Actor | None = None


@schemathesis.auth(refresh_interval=None)
class FreshToken:
    """Before each case: the actor restored and a new access token for it."""

    def get(self, case: Any, context: Any) -> str:
        """Restore the actor and mint its token."""
        assert _State.app is not None and _State.actor is not None
        with _State.app.app_context():
            user = restore(_State.actor)
            token = create_access_token(identity=user)
            if db.session.dirty or db.session.new:
                dbmod.commit()
            else:
                dbmod.rollback()
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        """Send the token as the SaaS frontend does."""
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def run_schemathesis(base: str, args: argparse.Namespace, report: Path) -> int:
    """One schemathesis run over the served openapi.json; its exit code."""
    # The document's paths carry API_PREFIX already: the base URL is the bare origin.
    argv = ["run", f"{base}/api/openapi.json", "--url", base, *SCHEMATHESIS_OPTIONS.split()]
    argv += ["--max-examples", str(args.max_examples), "--phases", args.phases]
    argv += ["--report-ndjson-path", str(report)]
    if args.seed is not None:
        argv += ["--seed", str(args.seed)]
    if args.include_path_regex:
        argv += ["--include-path-regex", args.include_path_regex]
    try:
        schemathesis_cli.main(argv, standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@dataclass
class Tally:
    """What one run did: operations, cases by status, and the 5xx found."""

    operations: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: dict[str, None] = field(default_factory=dict)  # ordered, deduplicated


def tally(report: Path) -> Tally:
    """Count operations, cases and 5xx answers from schemathesis's ndjson events."""
    result = Tally()
    for line in report.read_text().splitlines() if report.exists() else []:
        ((kind, event),) = json.loads(line).items()
        recorder = event.get("recorder") or {} if kind == "ScenarioFinished" else {}
        for interaction in (recorder.get("interactions") or {}).values():
            status = (interaction.get("response") or {}).get("status_code")
            if status is None:
                continue
            result.operations.add(recorder.get("label") or "")
            result.statuses[status] += 1
            if status >= 500:
                request = interaction.get("request") or {}
                body = request.get("body") or ""
                if isinstance(body, dict) and "$base64" in body:
                    body = base64.b64decode(body["$base64"]).decode("utf-8", "replace")
                what = f"{request.get('method')} {request.get('uri')} {str(body)[:300]}"
                result.server_errors[f"{status} {what}".strip()] = None
    return result


def fuzz_database(url: str, args: argparse.Namespace, workdir: str) -> bool:
    """Seed, serve and fuzz one database once per role, printing the tally; True when clean."""
    clean = True
    with throwaway_database(url) as real_url:
        app = build_app(real_url, os.path.join(workdir, "media"), args.redis_url)
        with app.app_context():
            actors = {a.role: a for a in seed()}
            dialect = db.engine.dialect.name
        _State.app = app
        # One request at a time on SQLite, as `make run` serves it; threads elsewhere.
        with Server(app, threaded=dialect != "sqlite") as server:
            for role in [r.strip() for r in args.roles.split(",") if r.strip()]:
                _State.actor = actors[role]
                report = Path(workdir) / f"events-{dialect}-{role}.ndjson"
                started = time.monotonic()
                code = run_schemathesis(server.base, args, report)
                result = tally(report)
                print(
                    f"fuzz {dialect} as {role}: {len(result.operations)} operations, "
                    f"{result.statuses.total()} cases, {len(result.server_errors)} distinct 5xx "
                    f"({time.monotonic() - started:.0f} s, schemathesis exit {code})"
                )
                print(f"  statuses: {dict(sorted(result.statuses.items()))}")
                for line in result.server_errors:
                    print(f"  5xx {line}")
                # Exit 1 is schemathesis's "failures found"; anything else it could not run.
                if result.server_errors or not result.operations or code not in (0, 1):
                    clean = False
    return clean


def fan_out(args: argparse.Namespace, roles: list[str]) -> int:
    """Fuzz each (database, role) in a child process, all side by side (each mostly waits on
    its server); print their tallies; 1 when any failed. A MySQL name gets the role added."""
    children, started = [], time.monotonic()
    for url, role in [(url, role) for url in args.database_url for role in roles]:
        argv = [sys.executable, __file__, "--roles", role, "--phases", args.phases]
        argv += ["--database-url", url if url.startswith("sqlite") else f"{url}_{role}"]
        for flag, value in vars(args).items():
            if flag in {"max_examples", "redis_url", "seed", "include_path_regex"} and value:
                argv += ["--" + flag.replace("_", "-"), str(value)]
        children.append((f"{url} as {role}", Popen(argv, stdout=PIPE, stderr=STDOUT)))
    # Stopped (CI's `timeout`), stop the children too: each drops its own database.
    signal.signal(signal.SIGTERM, lambda *_: [c.terminate() for _, c in children])
    failed = False
    for what, child in children:
        text = child.communicate()[0].decode("utf-8", "replace")
        if child.returncode:
            failed = True
            print(f"---- fuzz of {what}: FAILED (exit {child.returncode}), its whole output ----")
            print(text)
        else:
            # Only the tally: schemathesis's progress and the app's logs are noise here.
            print("\n".join(line for line in text.splitlines() if line.startswith(("fuzz", "  "))))
    verdict = "FAILED" if failed else "passed"
    print(f"fuzz {verdict}: {len(children)} runs side by side, {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


class Stopped(BaseException):
    """SIGTERM: not an Exception, so nothing on the way up swallows it."""

    @classmethod
    def throw(cls, *_args: object) -> None:
        """The signal handler."""
        raise cls


def main() -> int:
    """Fuzz the database(s) given; exit 1 when a 5xx was found."""
    args = parse_args()
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    if len(args.database_url) * len(roles) > 1:
        return fan_out(args, roles)
    # `timeout` (CI) sends SIGTERM: unwind (past schemathesis), so the database is dropped.
    signal.signal(signal.SIGTERM, Stopped.throw)
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="whaticket-fuzz-")
    home = os.getcwd()
    # schemathesis keeps a cache folder in the working directory: not in the checkout.
    os.chdir(workdir)
    try:
        clean = fuzz_database(args.database_url[0], args, workdir)
    except Stopped:
        print("fuzz stopped (SIGTERM)")
        return 143
    finally:
        os.chdir(home)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"fuzz {'passed' if clean else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
