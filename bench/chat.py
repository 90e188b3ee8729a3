"""Internal chat benchmark: posting, listing and paging with many members, chats and messages.

    python bench/chat.py --members 50 --chats 200 --history 20000 --requests 200

Builds the app against DATABASE_URL (or --database-url), or a temporary SQLite file when
neither is given, seeds one company whose admin belongs to `--chats` chats; the first chat
has `--members` members and `--history` messages. Drives the Flask test client (sequential
requests, no network) and prints latency percentiles and SQL statements per request. The
figures show whether a post stays flat as members grow (one UPDATE for every unread
counter) and whether a deep page costs the same as the first. It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.auth_bench import (  # noqa: E402 - after the sys.path fix above
    WARMUP,
    Series,
    StatementCounter,
    build_app,
    expect,
    measure,
    report,
    seed,
)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50, help="members of the measured chat")
    parser.add_argument("--chats", type=int, default=200, help="chats the caller belongs to")
    parser.add_argument("--history", type=int, default=20000, help="messages already in the chat")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per kind")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or None,
        help="database to use (default: DATABASE_URL, else a temporary SQLite file)",
    )
    parser.add_argument("--redis-url", default=None, help="Redis (default: none)")
    parser.add_argument("--bcrypt-rounds", type=int, default=4)
    args = parser.parse_args()
    if min(args.members, args.chats, args.history, args.requests) < 1:
        parser.error("every count must be positive")
    return args


def seed_chats(company_id: int, admin_email: str, args: argparse.Namespace) -> tuple[int, int]:
    """The admin's chats, the members of the first one and its history (Core inserts)."""
    import sqlalchemy as sa

    from whaticket import db as dbmod
    from whaticket.db import utcnow
    from whaticket.extensions import db
    from whaticket.models import Chat, ChatMessage, ChatUser, User

    admin = db.session.scalar(sa.select(User).where(User.email == admin_email))
    others = db.session.scalars(
        sa.select(User.id).where(User.company_id == company_id, User.id != admin.id)
    ).all()
    now = utcnow()
    chats = [
        Chat(company_id=company_id, title=f"Chat {i}", owner_id=admin.id, last_message="")
        for i in range(args.chats)
    ]
    db.session.add_all(chats)
    db.session.flush()
    rows = [{"chat_id": c.id, "user_id": admin.id, "unreads": 0} for c in chats]
    rows += [
        {"chat_id": chats[0].id, "user_id": uid, "unreads": 0} for uid in others[: args.members - 1]
    ]
    stamp = {"created_at": now, "updated_at": now}
    db.session.execute(sa.insert(ChatUser), [r | stamp for r in rows])
    batch = 5000
    for start in range(0, args.history, batch):
        db.session.execute(
            sa.insert(ChatMessage),
            [
                {
                    "chat_id": chats[0].id,
                    "company_id": company_id,
                    "sender_id": admin.id,
                    "message": f"history {i}",
                }
                | stamp
                for i in range(start, min(start + batch, args.history))
            ],
        )
    dbmod.commit()
    return admin.id, chats[0].id


def main() -> None:
    """Seed, measure, print."""
    args = parse_args()
    database_url = args.database_url
    if not database_url:
        tmpdir = tempfile.mkdtemp(prefix="whaticket-bench-")
        database_url = f"sqlite:///{os.path.join(tmpdir, 'bench.sqlite3')}"

    import sqlalchemy as sa
    from flask_jwt_extended import create_access_token

    from whaticket.extensions import db
    from whaticket.models import User

    args.users = args.members + 5
    app = build_app(database_url, args)
    prefix = app.config["API_PREFIX"]
    run_id = uuid.uuid4().hex[:8]
    with app.app_context():
        t0 = time.perf_counter()
        company_id, _plan_id, admin_email, _emails = seed(args.users, run_id)
        admin_id, chat_id = seed_chats(company_id, admin_email, args)
        seed_seconds = time.perf_counter() - t0
        token = create_access_token(identity=db.session.get(User, admin_id))
        engine = db.engine
        dialect = f"{engine.dialect.name} {engine.dialect.server_version_info or ''}".strip()
        url = engine.url.render_as_string(hide_password=True)

    headers = {"Authorization": f"Bearer {token}"}
    counter = StatementCounter()
    sa.event.listen(engine, "before_cursor_execute", counter)
    client = app.test_client()
    pages = (args.history + 20) // 20

    print("whaticket internal chat benchmark")
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M UTC} | python {platform.python_version()} | "
        f"{platform.machine()} | {os.cpu_count()} CPUs"
    )
    print(f"database {dialect} ({url})")
    print(
        f"members {args.members} | chats {args.chats} | history {args.history} messages "
        f"({pages} pages) | requests per kind {args.requests} (+{WARMUP} warm-up) | "
        f"seeding took {seed_seconds:.1f} s"
    )
    print("one Flask test client, sequential requests: req/s = 1 / mean latency\n")

    base = f"{prefix}/chats/{chat_id}"
    series = [
        Series(f"POST message ({args.members} members)"),
        Series("GET /chats (page 1)"),
        Series("GET messages page 1"),
        Series(f"GET messages page {pages // 2}"),
        Series("POST read"),
    ]
    calls = [
        lambda i: expect(
            client.post(f"{base}/messages", json={"message": f"m{i}"}, headers=headers), "post"
        ),
        lambda i: expect(client.get(f"{prefix}/chats?pageNumber=1", headers=headers), "list"),
        lambda i: expect(client.get(f"{base}/messages?pageNumber=1", headers=headers), "page"),
        lambda i: expect(
            client.get(f"{base}/messages?pageNumber={pages // 2}", headers=headers), "deep"
        ),
        lambda i: expect(client.post(f"{base}/read", json={}, headers=headers), "read"),
    ]
    for s, call in zip(series, calls, strict=True):
        measure(s, counter, args.requests, call)
    report(series)


if __name__ == "__main__":
    main()
