"""Campaign live-event benchmark: what one `company-{cid}-campaign` event costs to build.

    .venv/bin/python bench/campaign_event.py --contacts 5000
    .venv/bin/python bench/campaign_event.py --contacts 5000 \
        --database-url mysql://root@127.0.0.1/wt_bench_event

The SaaS report page counts `shipping[]` and `contactList.contacts[]` of each event's
record, so every event carries all the campaign's rows. This sends an N-contact campaign
to the fake provider in process (inline jobs, no pacing), counting the events emitted
while it sends (throttled by CAMPAIGN_PROGRESS_EVERY, `--progress-every`), then builds
the finished campaign's event `--repeat` times and prints the time per event (rows read,
record dumped, payload JSON-encoded; no network), its SQL statements and its size.
On a given database it drops and recreates every table: use a throw-away database.
Without one it uses a temporary SQLite file. It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from whaticket import create_app  # noqa: E402
from whaticket import db as dbmod  # noqa: E402
from whaticket.extensions import db, socketio  # noqa: E402


class Captured:
    """Counts and measures the campaign frames the app emits (instead of sending them)."""

    def __init__(self) -> None:
        self.frames: list[int] = []
        self.encode_seconds: list[float] = []

    def __call__(self, event: str, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if not event.endswith("-campaign"):
            return
        started = time.perf_counter()
        size = len(json.dumps(data, separators=(",", ":")))  # what the socket layer does
        self.encode_seconds.append(time.perf_counter() - started)
        self.frames.append(size)


def seed(contacts: int) -> tuple[int, int]:
    """One company, a connected fake connection, an N-number list and a campaign."""
    from whaticket.models import Company, ContactList, ContactListItem, Plan, Whatsapp
    from whaticket.services.campaigns import campaign_settings, campaigns
    from whaticket.services.team import settings as settings_service

    plan = Plan(name="Bench", users=10, connections=10, queues=10, value=0)
    db.session.add(plan)
    db.session.flush()
    company = Company(name="Event Co", plan_id=plan.id, status=True)
    db.session.add(company)
    db.session.flush()
    settings_service.create_defaults(company.id)
    conn = Whatsapp(
        company_id=company.id, name="Fake", provider="fake", status="CONNECTED", is_default=True
    )
    contact_list = ContactList(company_id=company.id, name="Bench list")
    db.session.add_all([conn, contact_list])
    db.session.flush()
    db.session.execute(
        sa.insert(ContactListItem),
        [
            {
                "company_id": company.id,
                "contact_list_id": contact_list.id,
                "name": f"Cliente {i}",
                "number": f"55119{i:08d}",
                "email": f"cliente{i}@example.com",
                "is_whatsapp_valid": i % 20 != 0,  # 5% known invalid
            }
            for i in range(contacts)
        ],
    )
    campaign_settings.save_settings(
        company.id, {"messageInterval": 0, "greaterInterval": 0, "longerIntervalAfter": 0}
    )
    campaign = campaigns.create_campaign(
        company.id,
        {
            "name": "Bench",
            "contact_list_id": contact_list.id,
            "whatsapp_id": conn.id,
            "message1": "Oi {nome}, temos uma oferta!",
        },
    )
    dbmod.commit()
    return company.id, campaign.id


class Statements:
    """SQL statements sent to the database (before_cursor_execute)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--progress-every", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp: str | None = None
    url = args.database_url
    if not url:
        handle, tmp = tempfile.mkstemp(suffix=".db")
        os.close(handle)
        url = f"sqlite:///{tmp}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": False,
            "REDIS_URL": None,
            "JOBS_BACKEND": "inline",
            "FAKE_GATEWAY_OUTBOX_MAX": args.contacts + 10,
            "CAMPAIGN_DISPATCHERS": 1,
            "CAMPAIGN_DISPATCH_BUDGET": 3600,
            "CAMPAIGN_PROGRESS_EVERY": args.progress_every,
            "CAMPAIGN_DETAIL_ROWS_MAX": max(args.contacts, 1),
        }
    )
    captured = Captured()
    socketio.emit = captured  # type: ignore[method-assign]
    with app.app_context():
        from whaticket.models import Campaign
        from whaticket.services.campaigns import campaigns
        from whaticket.services.campaigns import report as campaign_report

        db.drop_all()
        db.create_all()
        company_id, campaign_id = seed(args.contacts)
        captured.frames.clear()
        started = time.perf_counter()
        campaigns.restart_campaign(company_id, campaign_id)
        dbmod.commit()
        send_seconds = time.perf_counter() - started
        status = db.session.get(Campaign, campaign_id).status
        events_while_sending = len(captured.frames)

        statements = Statements()
        sa.event.listen(db.engine, "before_cursor_execute", statements)
        seconds: list[float] = []
        captured.frames.clear()
        captured.encode_seconds.clear()
        for _ in range(args.repeat):
            db.session.expire_all()
            campaign = db.session.get(Campaign, campaign_id)
            started = time.perf_counter()
            campaign_report.emit(campaign, "update")
            dbmod.commit()
            seconds.append(time.perf_counter() - started)
        sa.event.remove(db.engine, "before_cursor_execute", statements)
        dialect = db.engine.dialect.name
        db.session.remove()
        db.drop_all()

    ms = sorted(s * 1000 for s in seconds)
    print(f"database: {dialect}; contacts: {args.contacts}; campaign {status}")
    print(
        f"sending: {send_seconds:.1f} s, {events_while_sending} campaign events emitted "
        f"(CAMPAIGN_PROGRESS_EVERY={args.progress_every})"
    )
    print(
        f"one event ({args.repeat} runs): median {statistics.median(ms):.1f} ms, "
        f"min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms, of which JSON encoding "
        f"{statistics.median(captured.encode_seconds) * 1000:.1f} ms; "
        f"{statements.count / args.repeat:.0f} SQL statements; "
        f"payload {statistics.median(captured.frames) / 1024:.0f} KiB"
    )
    if tmp is not None:
        Path(tmp).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
