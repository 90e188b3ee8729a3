"""Workspace benchmark: a big company on a live server; latency, req/s, CPU and SQL per request.

    .venv/bin/python bench/workspace.py --database-url mysql://root@127.0.0.1/wt_bench17 --scale 1
    .venv/bin/python bench/workspace.py --database-url mysql://root@127.0.0.1/wt_bench17x10 \\
        --scale 10 --keep

Generates 10,000 contacts, 20,000 tickets and about 200,000 messages (times --scale) in one
company (bench/workspace_data.py; `--keep` reuses a complete data set of the same scale),
starts `python wsgi.py` (eventlet, the production web process) on a loopback port, and
measures each endpoint at concurrency 1 and 16 (bench/workspace_load.py): p50/p95 latency,
requests/s, the server process's CPU time per request (from /proc) and the SQL statements
per request (counted in-process with the Flask test client). Then: the floor's latency with
and without logins running at the same time, and two endpoints' throughput on one web
process and on two. Each figure with a goal is printed with the goal and PASS or MISS.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workspace_data import (  # noqa: E402
    EMAIL,
    PASSWORD,
    Info,
    ensure_database,
    generate,
    load_info,
    make_app,
)
from workspace_load import Load, Pass, Req, Server, measure, start_server, stop_server  # noqa: E402

from whaticket.extensions import db  # noqa: E402

SEARCH = "pedido"
LOGIN_BLOCK_GOAL = 1.20


@dataclass(frozen=True)
class Endpoint:
    """A measured request and its goals (None: no goal)."""

    label: str
    method: str
    paths: tuple[str, ...]
    cpu_goal: float | None = None  # ms of server CPU per request, at both concurrencies
    sql_goal: int | None = None  # statements per request
    p50_goal: float | None = None  # ms at c=16 (strictly below)
    login: bool = False


def endpoints(info: Info) -> list[Endpoint]:
    """Every measured endpoint; the floor first."""
    queues = "[" + ",".join(str(q) for q in info.queue_ids) + "]"
    # As the SaaS TicketsManager sends them (axios keeps [ ] and , unescaped): the inbox
    # tab with the caller's queues selected, and the search tab (status left out).
    ui = f"pageNumber=1&status=open&showAll=true&queueIds={queues}"
    ui_search = f"searchParam={SEARCH}&pageNumber=1&tags=[]&users=[]&showAll=true&queueIds={queues}"
    messages = tuple(f"/api/messages/{t}?pageNumber=1" for t in info.ticket_ids)
    return [
        Endpoint("floor GET /auth/me", "GET", ("/api/auth/me",), 1.5, 3),
        Endpoint("GET /tickets?status=open", "GET", ("/api/tickets?status=open",), 5, 4),
        Endpoint("GET /tickets (UI inbox)", "GET", (f"/api/tickets?{ui}",), 5, 4),
        Endpoint(
            f"GET /tickets?searchParam={SEARCH}",
            "GET",
            (f"/api/tickets?searchParam={SEARCH}",),
            sql_goal=4,
            p50_goal=150,
        ),
        Endpoint("GET /tickets (UI search)", "GET", (f"/api/tickets?{ui_search}",), None, 4, 150),
        Endpoint("GET /contacts", "GET", ("/api/contacts?searchParam=&pageNumber=1",), 4, 4),
        Endpoint("GET /messages/:ticketId", "GET", messages, 6, 5),
        Endpoint("POST /auth/login", "POST", ("/api/auth/login",), login=True),
    ]


def login_bodies(info: Info) -> tuple[dict[str, str], ...]:
    """One agent per client thread: concurrent logins of one user would queue on its row."""
    return tuple({"email": e, "password": PASSWORD} for e in info.agent_emails)


def count_sql(app: Flask, info: Info, eps: list[Endpoint]) -> dict[str, float]:
    """Median SQL statements per request of each endpoint, in process on the same database."""
    counts: dict[str, float] = {}
    with app.app_context():
        client = app.test_client()
        token = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
        seen = [0]

        def count(*_: object) -> None:
            seen[0] += 1

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            for ep in eps:
                runs = []
                for _ in range(3):
                    db.session.remove()  # a fresh session, as each server request has
                    seen[0] = 0
                    body = login_bodies(info)[0] if ep.login else None
                    resp = client.open(ep.paths[0], method=ep.method, json=body, headers=headers)
                    if resp.status_code >= 400:
                        raise SystemExit(f"{ep.label}: {resp.status_code} {resp.get_data()[:200]}")
                    runs.append(seen[0])
                counts[ep.label] = statistics.median(runs)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    return counts


def page_size(base: str, token: str, ep: Endpoint, info: Info) -> str:
    """'rows/count' of the endpoint's first answer (also its warm-up), or '-'."""
    if ep.login:
        resp = requests.post(base + ep.paths[0], json=login_bodies(info)[0], timeout=60)
        resp.raise_for_status()
        return "-"
    resp = requests.get(
        base + ep.paths[0], headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    resp.raise_for_status()
    data = resp.json()
    rows = [v for v in data.values() if isinstance(v, list)] if isinstance(data, dict) else []
    return f"{len(rows[0])}/{data.get('count', '?')}" if rows else "-"


def verdict(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def goal_cell(value: float, goal: float | None, fmt: str) -> str:
    """'value <=goal PASS' (or only the value when there is no goal)."""
    if goal is None:
        return f"{value:{fmt}}"
    return f"{value:{fmt}} <={goal:g} {verdict(value <= goal)}"


def request_of(ep: Endpoint, token: str, info: Info) -> Req:
    """The load generator's request for an endpoint."""
    if ep.login:
        return Req(ep.method, ep.paths, None, login_bodies(info))
    return Req(ep.method, ep.paths, token)


def main_table(
    base: str, pid: int, token: str, info: Info, sql: dict[str, float], args: argparse.Namespace
) -> dict[tuple[str, int], Pass]:
    """Every endpoint at c=1 and c=16: print the table, return the passes."""
    print(
        f"\n{'endpoint':32} {'c':>2} {'n':>5} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'CPU ms/req':<18} {'SQL/req':<13} {'rows/count':>11}"
    )
    passes: dict[tuple[str, int], Pass] = {}
    for ep in endpoints(info):
        rows = page_size(base, token, ep, info)
        for conc in (1, 16):
            seconds = args.seconds if conc == 16 else args.seconds / 2
            p = measure([base], request_of(ep, token, info), conc, seconds, [pid], 2 * conc + 3)
            passes[(ep.label, conc)] = p
            extra = ""
            if ep.p50_goal is not None and conc == 16:
                extra = f"  p50 <{ep.p50_goal:g} {verdict(p.p50 < ep.p50_goal)}"
            if p.errors:
                extra += f"  {p.errors} errors, first: {p.first_error}"
            print(
                f"{ep.label:32} {conc:>2} {p.n:>5} {p.rps:>7.1f} {p.p50:>8.2f} {p.p95:>8.2f} "
                f"{goal_cell(p.cpu_ms, ep.cpu_goal, '5.2f'):<18} "
                f"{goal_cell(sql[ep.label], ep.sql_goal, '3.0f'):<13} {rows:>11}{extra}"
            )
    return passes


def login_block(base: str, pid: int, token: str, info: Info, seconds: float) -> float:
    """The floor's p50 at c=16 alone and while logins run at c=16; print and return the ratio."""
    floor, login = endpoints(info)[0], endpoints(info)[-1]
    alone = measure([base], request_of(floor, token, info), 16, seconds, [pid], 35)
    logins = Load([base], request_of(login, token, info), 16)
    logins.start()
    time.sleep(0.5)  # every login thread has a request in flight
    started = logins.done()
    busy = measure([base], request_of(floor, token, info), 16, seconds, [pid], 35)
    during = logins.done() - started
    logins.stop()
    ratio = busy.p50 / alone.p50 if alone.p50 else float("inf")
    failed = {
        "floor alone": alone.errors,
        "during logins": busy.errors,
        "logins": len(logins.errors),
    }
    print(
        "\nlogin does not block (one web process; floor at c=16, logins at c=16 in other threads)"
    )
    print(
        f"  floor alone           p50 {alone.p50:8.2f} ms  p95 {alone.p95:8.2f} ms  "
        f"{alone.rps:7.1f} req/s"
    )
    print(
        f"  floor during logins   p50 {busy.p50:8.2f} ms  p95 {busy.p95:8.2f} ms  "
        f"{busy.rps:7.1f} req/s  ({during / busy.wall:.1f} logins/s alongside)"
    )
    print(
        f"  ratio {ratio:.2f} (goal <= {LOGIN_BLOCK_GOAL:.2f}): "
        f"{verdict(ratio <= LOGIN_BLOCK_GOAL)}"
    )
    if any(failed.values()):
        first = alone.first_error or busy.first_error or logins.errors[0]
        print(f"  errors: {failed}; first: {first}")
    return ratio


def scale_out(servers: list[Server], token: str, info: Info, seconds: float) -> None:
    """Ticket list and message page at c=16 on one web process, then on two."""
    bases = [f"http://127.0.0.1:{server.port}" for server in servers]
    pids = [server.pid for server in servers]
    print("\nscale across cores (c=16; with 2 processes the client threads alternate ports)")
    print(
        f"  {'endpoint':32} {'1 proc req/s':>12} {'2 procs req/s':>13} {'gain':>6} "
        f"{'CPU ms/req 1/2':>15} {'client CPU':>10}"
    )
    eps = endpoints(info)
    for ep in (eps[1], eps[6]):
        req = request_of(ep, token, info)
        one = measure(bases[:1], req, 16, seconds, pids[:1], 35)
        two = measure(bases, req, 16, seconds, pids, 35)
        print(
            f"  {ep.label:32} {one.rps:>12.1f} {two.rps:>13.1f} {two.rps / one.rps:>5.2f}x "
            f"{one.cpu_ms:>7.2f}/{two.cpu_ms:<7.2f} "
            f"{one.client_cpu:>4.0%}/{two.client_cpu:.0%}"
        )
        for p in (one, two):
            if p.errors:
                print(f"    {p.errors} errors, first: {p.first_error}")


def goals(passes: dict[tuple[str, int], Pass], sql: dict[str, float], info: Info, ratio: float):
    """One line per goal: the figure, the goal, PASS or MISS."""
    print("\ngoals (CPU/req: the worse of c=1 and c=16)")
    checks: list[tuple[str, str, str, bool]] = []
    for ep in endpoints(info):
        if ep.cpu_goal is not None:
            cpu = max(passes[(ep.label, c)].cpu_ms for c in (1, 16))
            checks.append(
                (
                    f"CPU/req {ep.label}",
                    f"{cpu:.2f} ms",
                    f"<= {ep.cpu_goal:g} ms",
                    cpu <= ep.cpu_goal,
                )
            )
        if ep.sql_goal is not None:
            n = sql[ep.label]
            checks.append(
                (f"SQL/req {ep.label}", f"{n:.0f}", f"<= {ep.sql_goal}", n <= ep.sql_goal)
            )
        if ep.p50_goal is not None:
            p50 = passes[(ep.label, 16)].p50
            checks.append(
                (
                    f"p50 c=16 {ep.label}",
                    f"{p50:.1f} ms",
                    f"< {ep.p50_goal:g} ms",
                    p50 < ep.p50_goal,
                )
            )
    checks.append(
        (
            "floor p50 during logins / alone",
            f"{ratio:.2f}",
            f"<= {LOGIN_BLOCK_GOAL:.2f}",
            ratio <= LOGIN_BLOCK_GOAL,
        )
    )
    for name, value, goal, ok in checks:
        print(f"  {name:44} {value:>10} {goal:>10}  {verdict(ok)}")
    print(f"  {sum(ok for *_, ok in checks)} of {len(checks)} goals met")


def machine_speed() -> float:
    """CPU milliseconds of a fixed pure-Python loop (best of 3): this machine's speed now.

    A shared virtual machine runs faster or slower by the hour (seen here: 20-50%); CPU per
    request is only comparable between runs next to this figure.
    """
    best = float("inf")
    for _ in range(3):
        t0, total = time.process_time(), 0
        for i in range(3_000_000):
            total += i
        best = min(best, time.process_time() - t0)
    return best * 1000


def main() -> None:
    """Generate (or reuse), serve, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="reuse the data if it is there")
    parser.add_argument(
        "--seconds", type=float, default=6.0, help="length of a c=16 pass (c=1: half)"
    )
    parser.add_argument("--port", type=int, default=18777, help="and port+1 for a second process")
    args = parser.parse_args()
    started = time.perf_counter()
    url = args.database_url or f"sqlite:///{ROOT / 'instance' / 'bench_workspace.sqlite3'}"
    print(
        f"whaticket workspace benchmark | {datetime.now(UTC):%Y-%m-%d %H:%M} UTC | "
        f"{os.cpu_count()} CPUs | load {os.getloadavg()[0]:.2f} | scale {args.scale} | "
        f"{url.split('@')[-1]}"
    )
    print(
        f"machine speed: a fixed Python loop takes {machine_speed():.0f} ms of CPU (lower: faster)"
    )
    ensure_database(url)
    app = make_app(url)
    info = load_info(app, args.scale) if args.keep else None
    if info is None:
        info = generate(app, args.scale)
    else:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
        print(f"kept {info.counts} (--keep)")
    sql = count_sql(app, info, endpoints(info))
    # Both processes start now, on the same code (others may be editing the tree); the
    # second one idles until the scale-out passes.
    servers = [start_server(url, args.port)]
    base = f"http://127.0.0.1:{args.port}"
    try:
        servers.append(start_server(url, args.port + 1))
        token = requests.post(
            f"{base}/api/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=60
        ).json()["token"]
        passes = main_table(base, servers[0].pid, token, info, sql, args)
        ratio = login_block(base, servers[0].pid, token, info, args.seconds)
        scale_out(servers, token, info, args.seconds)
    finally:
        for server in servers:
            stop_server(server)
    goals(passes, sql, info, ratio)
    print(
        f"\ntotal run time {time.perf_counter() - started:.0f} s | "
        f"load {os.getloadavg()[0]:.2f} at the end | machine speed {machine_speed():.0f} ms"
    )


if __name__ == "__main__":
    main()
