"""Import benchmark: a generated old Whaticket database imported by `flask import-whaticket`.

    .venv/bin/python bench/import.py                   # 10,000 contacts, 20,000 tickets,
                                                       # 200,000 messages (MariaDB)
    .venv/bin/python bench/import.py --contacts 1000 --tickets 2000 --messages 20000

Builds the old database at `--source-url` (default mysql://root@127.0.0.1/wt_bench_import_old,
recreated: the old schema of tests/importer/old_schema.py) with one company, its plan,
2 connections, 3 queues, 10 agents, the contacts (1 in 50 a ninth-digit duplicate of
another), tickets (2 per contact, so the second of each pair is merged into the first),
one episode per ticket, and messages spread over the tickets (1 in 10 quoting the
previous one). Then imports it into `--target-url` (default
mysql://root@127.0.0.1/wt_bench_import, every table dropped and recreated) and prints
rows/s and the total time, then runs the import again (nothing to do) and prints that too.
`--database-url` is an alias of `--target-url`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.importer import old_schema  # noqa: E402
from whaticket import create_app  # noqa: E402
from whaticket.extensions import db  # noqa: E402
from whaticket.importer import Options, run_import  # noqa: E402
from whaticket.importer.source import engine_url  # noqa: E402

CHUNK = 5000
START = datetime(2023, 1, 1)
#: bcrypt of "old-secret" ($2a$, as bcryptjs writes it).
OLD_HASH = "$2a$04$6LNUTxiEb2vz8cAX/mbCEedYFkYObS4Cao8r3vM6vFhApSZGTOYji"


def _recreate_database(url: str) -> None:
    """DROP and CREATE the database a MariaDB URL names (SQLite files are replaced)."""
    parsed = make_url(engine_url(url))
    if parsed.drivername.startswith("sqlite"):
        if parsed.database:
            Path(parsed.database).unlink(missing_ok=True)
        return
    server = sa.create_engine(parsed.set(database=""))
    with server.begin() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
        conn.exec_driver_sql(f"CREATE DATABASE `{parsed.database}` CHARACTER SET utf8mb4")
    server.dispose()


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), rows[i : i + CHUNK])


def _stamp(at: datetime) -> dict[str, datetime]:
    return {"createdAt": at, "updatedAt": at}


def generate(url: str, contacts: int, tickets: int, messages: int) -> int:
    """Build and fill the old database; the number of rows written."""
    _recreate_database(url)
    engine = sa.create_engine(engine_url(url))
    meta = old_schema.build()
    meta.create_all(engine)
    rnd = random.Random(21)
    t = meta.tables
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in t}
    rows["Plans"].append(
        {
            "id": 1,
            "name": "Plano Bench",
            "users": 50,
            "connections": 5,
            "queues": 10,
            "value": 99,
            **_stamp(START),
        }
    )
    rows["Companies"].append(
        {
            "id": 1,
            "name": "Bench Co",
            "status": True,
            "planId": 1,
            "dueDate": datetime(2030, 1, 1),
            "recurrence": "MENSAL",
            "schedules": [],
            **_stamp(START),
        }
    )
    for i, key in enumerate(("userRating", "scheduleType", "call"), 1):
        rows["Settings"].append(
            {"id": i, "key": key, "value": "disabled", "companyId": 1, **_stamp(START)}
        )
    for q in range(1, 4):
        rows["Queues"].append(
            {
                "id": q,
                "name": f"Queue {q}",
                "color": f"#00000{q}",
                "companyId": 1,
                "schedules": [],
                **_stamp(START),
            }
        )
    for w in range(1, 3):
        rows["Whatsapps"].append(
            {
                "id": w,
                "name": f"Conn {w}",
                "status": "CONNECTED",
                "isDefault": w == 1,
                "retries": 0,
                "companyId": 1,
                "provider": "beta",
                **_stamp(START),
            }
        )
        rows["WhatsappQueues"] += [
            {"whatsappId": w, "queueId": q, **_stamp(START)} for q in range(1, 4)
        ]
    for u in range(1, 11):
        rows["Users"].append(
            {
                "id": u,
                "name": f"Agent {u}",
                "email": f"agent{u}@bench.test",
                "passwordHash": OLD_HASH,
                "tokenVersion": 0,
                "profile": "admin" if u == 1 else "user",
                "companyId": 1,
                **_stamp(START),
            }
        )
        rows["UserQueues"].append({"userId": u, "queueId": 1 + u % 3, **_stamp(START)})
    for c in range(1, contacts + 1):
        base = 11_980_000_000 + c  # DDD 11, a mobile: 9 then 8
        number = f"55{base}"
        if c % 50 == 0:  # the same person as contact c-1, without the ninth digit
            prev = 11_980_000_000 + c - 1
            number = f"55{str(prev)[:2]}{str(prev)[3:]}"
        rows["Contacts"].append(
            {
                "id": c,
                "name": f"Contact {c}",
                "number": number,
                "email": "",
                "isGroup": False,
                "companyId": 1,
                **_stamp(START),
            }
        )
    for k in range(1, tickets + 1):
        contact = 1 + (k - 1) // 2 % contacts
        at = START + timedelta(minutes=k)
        rows["Tickets"].append(
            {
                "id": k,
                "status": rnd.choice(("closed", "closed", "open", "pending")),
                "lastMessage": "...",
                "contactId": contact,
                "userId": rnd.randint(1, 10),
                "whatsappId": 1,
                "isGroup": False,
                "unreadMessages": 0,
                "queueId": rnd.randint(1, 3),
                "companyId": 1,
                "uuid": f"00000000-0000-4000-8000-{k:012d}",
                **_stamp(at),
            }
        )
        rows["TicketTraking"].append(
            {
                "id": k,
                "ticketId": k,
                "companyId": 1,
                "whatsappId": 1,
                "userId": rnd.randint(1, 10),
                "queuedAt": at,
                "startedAt": at,
                "finishedAt": at + timedelta(minutes=5),
                "rated": False,
                **_stamp(at),
            }
        )
    with engine.begin() as conn:
        for name in (
            "Plans",
            "Companies",
            "Settings",
            "Queues",
            "Whatsapps",
            "WhatsappQueues",
            "Users",
            "UserQueues",
            "Contacts",
            "Tickets",
            "TicketTraking",
        ):
            _insert(conn, t[name], rows[name])
    written = sum(len(v) for v in rows.values())
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for m in range(1, messages + 1):
            ticket = 1 + m % tickets
            at = START + timedelta(seconds=m * 7)
            batch.append(
                {
                    "id": f"3EB0{m:016X}",
                    "body": f"message {m} about order {rnd.randint(1, 99999)}",
                    "ack": rnd.randint(0, 4),
                    "read": True,
                    "mediaType": "chat",
                    "mediaUrl": None,
                    "ticketId": ticket,
                    "fromMe": m % 2 == 0,
                    "isDeleted": False,
                    "contactId": 1 + (ticket - 1) // 2 % contacts,
                    "quotedMsgId": f"3EB0{m - 1:016X}" if m % 10 == 0 else None,
                    "companyId": 1,
                    "remoteJid": None,
                    "dataJson": None,
                    "participant": None,
                    "queueId": None,
                    "isEdited": False,
                    **_stamp(at),
                }
            )
            if len(batch) == CHUNK:
                _insert(conn, t["Messages"], batch)
                batch = []
        _insert(conn, t["Messages"], batch)
    engine.dispose()
    return written + messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source-url", default="mysql://root@127.0.0.1/wt_bench_import_old")
    parser.add_argument(
        "--target-url",
        "--database-url",
        dest="target_url",
        default="mysql://root@127.0.0.1/wt_bench_import",
    )
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--reuse-source", action="store_true", help="Import the old database a run generated."
    )
    args = parser.parse_args()

    if not args.reuse_source:
        started = time.monotonic()
        rows = generate(args.source_url, args.contacts, args.tickets, args.messages)
        print(f"generated {rows} old rows in {time.monotonic() - started:.1f} s")

    _recreate_database(args.target_url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.target_url,
            "JOBS_BACKEND": "inline",
            "TESTING": False,
            "REDIS_URL": None,
            "MEDIA_ROOT": str(ROOT / "instance" / "bench-import-media"),
        }
    )
    with app.app_context():
        db.create_all()
        for label in ("import", "second run (nothing to do)"):
            report = run_import(Options(source_url=args.source_url, batch_size=args.batch_size))
            data = report.as_dict()
            read, seconds = data["rows_read"], data["seconds"]
            print(f"{label}: {read} rows read in {seconds:.1f} s = {read / seconds:,.0f} rows/s")
            for table in ("Contacts", "Tickets", "Messages"):
                n = data["tables"][table]
                print(f"  {table}: written {n['written']}, merged {n['merged']}, ", end="")
                print(f"unchanged {n['unchanged']}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
