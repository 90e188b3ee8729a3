"""flask import-whaticket: internal chat, ticket notes, announcements, helps and invoices,
row by row; again (no-op), a --since pass, a dry run, the company filter, media, and
invoices imported as history (nothing charged, queued or mailed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.importer import test_import as base
from tests.importer.old_rows_internal import CHAT_UUID
from tests.importer.test_import import new_id, run
from whaticket.config import TestingConfig
from whaticket.extensions import db
from whaticket.models import (
    Announcement,
    Chat,
    ChatMessage,
    ChatUser,
    Help,
    Invoice,
    Payment,
    PendingJob,
    TicketNote,
)
from whaticket.services.billing.invoices import generate_invoices

# The old databases and the public folder of the main import tests.
sqlite_url, old_url, public = base.sqlite_url, base.old_url, base.public

MINE = (Chat, ChatUser, ChatMessage, TicketNote, Announcement, Help, Invoice)


def counts() -> dict[str, int]:
    """Rows per table of ours (this module's tables)."""
    return {
        m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in MINE
    }


def reasons(report, table: str) -> dict[tuple[str, str], list[str]]:
    """(action, reason) -> example old ids of one table's report."""
    rows = report.as_dict()["tables"][table]["reasons"]
    return {(r["action"], r["reason"]): r["examples"] for r in rows}


def check_rows(url: str) -> None:
    """The import's result for these tables, row by row."""
    db.session.expire_all()
    acme = new_id(url, "Companies", 3)
    alice, bob = new_id(url, "Users", 10), new_id(url, "Users", 11)

    chat = db.session.get(Chat, new_id(url, "Chats", 1))
    assert (chat.company_id, chat.uuid, chat.title, chat.owner_id, chat.last_message) == (
        acme,
        CHAT_UUID,
        "Team",
        alice,
        "Bob: ok",
    )
    ghosts = db.session.get(Chat, new_id(url, "Chats", 2))
    assert ghosts.owner_id is None and uuid.UUID(ghosts.uuid)  # blank uuid: a new one
    assert new_id(url, "Chats", 3) is None
    assert {m.user_id: m.unreads for m in chat.members} == {alice: 0, bob: 5}
    assert [m.user_id for m in ghosts.members] == [alice]
    said = db.session.execute(
        sa.select(ChatMessage.message, ChatMessage.sender_id, ChatMessage.created_at)
        .where(ChatMessage.chat_id == chat.id)
        .order_by(ChatMessage.id)
    ).all()
    assert said == [
        ("hi team", alice, datetime(2024, 1, 2, 10, 0, tzinfo=UTC)),
        ("boo", None, datetime(2024, 1, 2, 10, 3, tzinfo=UTC)),
        ("ok", bob, datetime(2024, 1, 2, 10, 5, tzinfo=UTC)),
    ]
    assert new_id(url, "ChatMessages", 4) is None

    joao_ticket = new_id(url, "Tickets", 200)
    note = db.session.get(TicketNote, new_id(url, "TicketNotes", 1))
    assert (note.company_id, note.ticket_id, note.contact_id, note.user_id, note.note) == (
        acme,
        joao_ticket,  # ticket 202 was merged into 200's: the note follows
        new_id(url, "Contacts", 100),
        alice,
        "called him",
    )
    assert db.session.get(TicketNote, new_id(url, "TicketNotes", 2)).ticket_id == new_id(
        url, "Tickets", 203
    )
    assert new_id(url, "TicketNotes", 3) is None
    kept = db.session.get(TicketNote, new_id(url, "TicketNotes", 4))
    assert (kept.ticket_id, kept.contact_id, kept.user_id) == (
        None,
        new_id(url, "Contacts", 102),
        None,
    )

    on = db.session.get(Announcement, new_id(url, "Announcements", 1))
    off = db.session.get(Announcement, new_id(url, "Announcements", 2))
    assert (on.company_id, on.priority, on.status, on.title, on.text) == (
        acme,
        1,
        True,
        "Maintenance",
        "Sunday 2am",
    )
    assert (off.priority, off.status) == (2, False)
    assert new_id(url, "Announcements", 3) is None

    assert new_id(url, "Helps", 2) == new_id(url, "Helps", 1)
    tutorial = db.session.get(Help, new_id(url, "Helps", 3))
    assert (tutorial.video, tutorial.link) == ("abc123", "https://help.example")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Help)) == 2

    paid = db.session.get(Invoice, new_id(url, "Invoices", 1))
    assert (paid.company_id, paid.status, paid.value, paid.period, paid.detail) == (
        acme,
        "paid",
        Decimal("199.90"),
        "2026-12-31",
        "Gold",
    )
    assert paid.due_date == datetime(2027, 1, 1, tzinfo=UTC)
    assert paid.paid_at == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert new_id(url, "Invoices", 3) == paid.id  # the cron's duplicate: merged, still paid
    current = db.session.get(Invoice, new_id(url, "Invoices", 2))
    assert (current.status, current.period, current.paid_at) == ("open", "2027-01-30", None)
    assert current.due_date == datetime(2027, 1, 31, tzinfo=UTC)
    bare = db.session.get(Invoice, new_id(url, "Invoices", 4))
    assert new_id(url, "Invoices", 5) == bare.id and bare.status == "paid"  # paid wins
    assert (bare.period, bare.due_date) == ("2026-11-30", datetime(2026, 11, 30, 3, tzinfo=UTC))
    assert new_id(url, "Invoices", 6) is None and new_id(url, "Invoices", 7) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 3


def test_internal_rows(app, old_url, public):
    report = run(old_url, public)
    check_rows(old_url)
    members = reasons(report, "ChatUsers")
    assert members[("skipped", "user not imported: member dropped")] == ["3"]
    assert members[("skipped", "chat missing (orphan)")] == ["4"]
    assert members[("merged", "same user twice in the chat")] == ["5"]
    assert reasons(report, "Chats")[("note", "owner missing: kept without")] == ["2"]
    assert reasons(report, "ChatMessages")[("note", "sender missing: kept without")] == ["3"]
    notes = reasons(report, "TicketNotes")
    assert notes[("skipped", "contact missing (orphan)")] == ["3"]
    assert notes[("note", "ticket missing: kept on the contact")] == ["4"]
    invoices = reasons(report, "Invoices")
    assert invoices[("merged", "invoice of the same period already here")] == ["3", "5"]
    assert invoices[("skipped", "company missing (orphan)")] == ["6"]
    assert invoices[("skipped", "due date unreadable")] == ["7"]
    help_merge = ("merged", "help of the same title and video already here")
    assert reasons(report, "Helps")[help_merge] == ["2"]
    not_imported = report.as_dict()["not_imported"]
    assert not {"Chats", "TicketNotes", "Invoices", "Helps"} & set(not_imported)


def test_second_run_changes_nothing(app, sqlite_url, public):
    run(sqlite_url, public)
    before = counts()
    report = run(sqlite_url, public)
    assert counts() == before
    for table in ("Chats", "ChatUsers", "ChatMessages", "TicketNotes", "Invoices", "Helps"):
        row = report.counts[table]
        assert row["unchanged"] == row["read"] > 0 and row["written"] == row["merged"] == 0
    check_rows(sqlite_url)


def test_since_pass_brings_changes_and_new_rows(app, sqlite_url, public):
    run(sqlite_url, public)
    engine = sa.create_engine(sqlite_url)
    meta = sa.MetaData()
    meta.reflect(engine)
    later = datetime(2024, 2, 1)
    t = meta.tables
    with engine.begin() as conn:
        conn.execute(
            t["Invoices"]
            .update()
            .where(t["Invoices"].c.id == 2)
            .values(status="paid", updatedAt=later)
        )
        conn.execute(
            t["Announcements"]
            .update()
            .where(t["Announcements"].c.id == 2)
            .values(status=True, updatedAt=later)
        )
        conn.execute(
            t["ChatUsers"]
            .update()
            .where(t["ChatUsers"].c.id == 2)
            .values(unreads=0, updatedAt=later)
        )
        conn.execute(
            t["ChatMessages"]
            .insert()
            .values(
                id=9, chatId=1, senderId=10, message="new one", createdAt=later, updatedAt=later
            )
        )
    engine.dispose()
    report = run(sqlite_url, public, since=datetime(2024, 1, 20, tzinfo=UTC))
    assert report.counts["Invoices"]["updated"] == 1 and report.counts["ChatUsers"]["read"] == 1
    db.session.expire_all()
    invoice = db.session.get(Invoice, new_id(sqlite_url, "Invoices", 2))
    assert invoice.status == "paid" and invoice.paid_at == datetime(2024, 2, 1, tzinfo=UTC)
    assert db.session.get(Announcement, new_id(sqlite_url, "Announcements", 2)).status is True
    assert db.session.get(ChatUser, new_id(sqlite_url, "ChatUsers", 2)).unreads == 0
    newest = db.session.get(ChatMessage, new_id(sqlite_url, "ChatMessages", 9))
    assert newest.message == "new one" and newest.id > new_id(sqlite_url, "ChatMessages", 1)


def test_dry_run_writes_nothing(app, sqlite_url, public):
    report = run(sqlite_url, public, dry_run=True)
    assert (
        report.counts["Invoices"]["written"] == 3 and report.counts["ChatMessages"]["written"] == 3
    )
    assert all(n == 0 for n in counts().values())


def test_company_filter(app, sqlite_url, public):
    run(sqlite_url, public, company_ids=[4])
    mine = counts()
    assert mine.pop("helps") == 2  # global: not per company
    assert all(n == 0 for n in mine.values())


def test_media_of_chats_and_announcements_is_copied(app, sqlite_url, public):
    engine = sa.create_engine(sqlite_url)
    meta = sa.MetaData()
    meta.reflect(engine)
    stamp = {"createdAt": datetime(2024, 1, 3), "updatedAt": datetime(2024, 1, 3)}
    with engine.begin() as conn:
        conn.execute(
            meta.tables["ChatMessages"]
            .insert()
            .values(id=8, chatId=1, senderId=10, message="", mediaPath="shot.png", **stamp)
        )
        conn.execute(
            meta.tables["Announcements"]
            .update()
            .where(meta.tables["Announcements"].c.id == 1)
            .values(mediaPath="banner.png", mediaName="banner.png")
        )
    engine.dispose()
    (public / "shot.png").write_bytes(b"\x89PNG shot")
    (public / "announcements").mkdir()
    (public / "announcements" / "banner.png").write_bytes(b"\x89PNG banner")
    report = run(sqlite_url, public)
    # The message's audio, the campaign's attachment, the shot and the banner.
    assert report.media["copied"] == 4
    from whaticket.services.platform import media

    acme = new_id(sqlite_url, "Companies", 3)
    shot = db.session.get(ChatMessage, new_id(sqlite_url, "ChatMessages", 8))
    banner = db.session.get(Announcement, new_id(sqlite_url, "Announcements", 1))
    assert shot.media_path.startswith("imported/chats/") and shot.media_name == "shot.png"
    assert banner.media_path.startswith("imported/announcements/")
    assert (media.company_root(acme) / shot.media_path).read_bytes() == b"\x89PNG shot"
    assert (media.company_root(acme) / banner.media_path).read_bytes() == b"\x89PNG banner"


@pytest.mark.skipif(not TestingConfig.REDIS_URL, reason="no Redis (TEST_REDIS_URL)")
def test_invoices_are_history_nothing_charged_queued_or_mailed(
    app, sqlite_url, public, monkeypatch
):
    from whaticket.jobs.rq_backend import RQBackend

    monkeypatch.setitem(app.config, "RQ_QUEUE_PREFIX", f"wt-test-{uuid.uuid4().hex[:8]}")
    backend = RQBackend(app)
    monkeypatch.setitem(app.extensions, "whaticket_jobs", backend)
    run(sqlite_url, public)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 3
    # No Pix charge, no stored job (mails and billing jobs are durable), nothing on RQ.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingJob)) == 0
    for name in ("high", "default", "low"):
        queue = backend.queue(name)
        assert queue.count == 0 and queue.scheduled_job_registry.count == 0
    # The generator finds the imported invoice of Acme's current period: no second one.
    acme = new_id(sqlite_url, "Companies", 3)
    assert generate_invoices(datetime(2027, 1, 20, tzinfo=UTC), company_id=acme) == 0
