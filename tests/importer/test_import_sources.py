"""flask import-whaticket from PostgreSQL (timestamptz, JSONB, a server zone that is not
UTC, the CLI's postgresql:// URL), and media brought by a later --media run: files of rows
imported without them are copied and attached, never by writing the rows again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.importer import old_rows
from tests.importer.old_rows import AUDIO
from tests.importer.old_servers import postgres_old_db
from tests.importer.test_import import (
    check_rows,
    counts,
    msg,
    new_id,
    run,
)
from whaticket.extensions import db
from whaticket.importer import media
from whaticket.importer.source import engine_url
from whaticket.models import ImportMap, Message, Queue, QuickMessage, User
from whaticket.services.platform import media as media_service

PHOTO = b"\xff\xd8\xff\xe0" + b"\x00" * 60
GREETING = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
HELLO = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def pg_url():
    """The old database on a throw-away PostgreSQL database (skips when none answers)."""
    with postgres_old_db() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """An old SQLite database whose queue and quick message also name a file."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = old_rows.create(url)
    meta = sa.MetaData()
    meta.reflect(engine, only=["Queues", "QuickMessages"])
    with engine.begin() as conn:
        queues, quick = meta.tables["Queues"], meta.tables["QuickMessages"]
        conn.execute(queues.update().where(queues.c.id == 5).values(mediaPath="greeting.png"))
        conn.execute(quick.update().where(quick.c.id == 1).values(mediaPath="hello.pdf"))
    engine.dispose()
    return url


def served(client, prefix: str, auth, message: Message) -> bytes | None:
    """The bytes the message list's media URL serves to Alice (None: no URL or no file)."""
    alice = db.session.scalar(sa.select(User).where(User.email == "alice@acme.com"))
    page = client.get(f"{prefix}/messages/{message.ticket_id}", headers=auth(alice)).get_json()
    url = next(m["mediaUrl"] for m in page["messages"] if m["id"] == message.id)
    if not url:
        return None
    parts = urlsplit(url)
    resp = client.get(f"{parts.path}?{parts.query}")
    data = resp.data if resp.status_code == 200 else None
    resp.close()
    return data


def pending(url: str) -> set[tuple[str, str]]:
    """The (table, old id) the map marks as waiting for their file."""
    rows = db.session.execute(
        sa.select(ImportMap.source_table, ImportMap.old_id).where(ImportMap.reason == media.PENDING)
    )
    return {(table, old_id) for table, old_id in rows}


def stored(company_id: int, rel: str) -> bytes:
    """A file under our company's media folder."""
    return (media_service.company_root(company_id) / rel).read_bytes()


def test_postgresql_source_is_read_in_utc_and_a_since_pass_compares_instants(app, pg_url, tmp_path):
    public = old_rows.write_media(tmp_path / "public")
    run(pg_url, public)
    check_rows(pg_url)
    before = counts()
    again = run(pg_url, public)
    assert counts() == before and again.total("unchanged") == again.total("read")

    # Sequelize writes instants; a server in another zone hands them back with its offset.
    brt, plus5 = timezone(timedelta(hours=-3)), timezone(timedelta(hours=5))
    engine = sa.create_engine(engine_url(pg_url))
    meta = sa.MetaData()
    meta.reflect(engine, only=["Messages"])
    messages = meta.tables["Messages"]
    with engine.begin() as conn:
        # 12:00 UTC: after --since. 08:00 UTC: before it, though its wall clock (13:00) is not.
        at_noon = datetime(2024, 2, 1, 9, tzinfo=brt)
        conn.execute(
            messages.update().where(messages.c.id == "3EB0AAA8").values(ack=4, updatedAt=at_noon)
        )
        conn.execute(
            messages.update()
            .where(messages.c.id == "3EB0AAA7")
            .values(ack=3, updatedAt=datetime(2024, 2, 1, 13, tzinfo=plus5))
        )
        conn.execute(
            messages.insert().values(
                id="3EB0AAA9",
                body="new one",
                ack=0,
                read=False,
                ticketId=203,
                fromMe=False,
                isDeleted=False,
                contactId=102,
                companyId=3,
                createdAt=at_noon,
                updatedAt=at_noon,
            )
        )
    engine.dispose()
    report = run(pg_url, public, since=datetime(2024, 2, 1, 11, tzinfo=UTC))
    assert report.counts["Messages"]["read"] == 2 and report.counts["Tickets"]["read"] == 0
    db.session.expire_all()
    assert msg("3EB0AAA8").ack == 4 and msg("3EB0AAA7").ack == 1
    assert msg("3EB0AAA9").created_at == datetime(2024, 2, 1, 12, tzinfo=UTC)


def test_cli_takes_a_postgresql_url(app, pg_url, tmp_path):
    public = old_rows.write_media(tmp_path / "public")
    result = app.test_cli_runner().invoke(
        args=["import-whaticket", "--source", pg_url, "--media", str(public), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "duplicate contact by number variant" in result.output
    assert counts()["messages"] == 7
    before = counts()
    # postgres:// (Heroku's spelling) names the same source: nothing is imported twice.
    again = app.test_cli_runner().invoke(
        args=["import-whaticket", "--source", pg_url.replace("postgresql://", "postgres://")]
    )
    assert again.exit_code == 0, again.output
    assert counts() == before
    check_rows(pg_url)


def test_a_later_media_run_attaches_the_files(app, client, prefix, auth, sqlite_url, tmp_path):
    first = run(sqlite_url)  # no --media: rows imported, files noted as not copied
    assert first.media == {"not copied (no --media)": 4}
    m3 = msg("3EB0AAA3")
    assert m3.media_path is None and m3.media_error == media.NOT_COPIED
    assert served(client, prefix, auth, m3) is None
    assert pending(sqlite_url) == {
        ("Messages", "3EB0AAA3"),
        ("Messages", "3EB0AAA6"),
        ("Queues", "5"),
        ("QuickMessages", "1"),
    }
    written = [
        r for r in first.as_dict()["tables"]["Messages"]["reasons"] if r["action"] == "written"
    ]
    assert [(r["reason"], r["count"], r["examples"]) for r in written] == [
        (media.PENDING, 2, ["3EB0AAA3", "3EB0AAA6"])
    ]
    queue = db.session.get(Queue, new_id(sqlite_url, "Queues", 5))
    queue.greeting_message = "edited here"  # an edit made after the move is kept
    db.session.commit()
    before = counts()

    public = old_rows.write_media(tmp_path / "public")
    (public / "greeting.png").write_bytes(GREETING)
    (public / "quickMessage").mkdir()
    (public / "quickMessage" / "hello.pdf").write_bytes(HELLO)

    dry = run(sqlite_url, public, dry_run=True)
    assert dry.media["would copy"] == 3
    db.session.expire_all()
    assert msg("3EB0AAA3").media_path is None
    assert not any(Path(app.config["MEDIA_ROOT"]).rglob("*.ogg"))

    second = run(sqlite_url, public)
    assert counts() == before  # nothing written twice
    assert second.total("written") == second.total("updated") == 0
    assert second.media == {
        "copied": 3,
        "attached to rows imported before": 3,
        "missing in the old public folder": 1,
    }
    db.session.expire_all()
    m3 = msg("3EB0AAA3")
    assert m3.media_path.startswith("imported/messages/") and m3.media_error is None
    assert m3.media_name == "audio1.ogg"
    assert served(client, prefix, auth, m3) == AUDIO
    queue = db.session.get(Queue, new_id(sqlite_url, "Queues", 5))
    assert stored(queue.company_id, queue.media_path) == GREETING
    assert queue.greeting_message == "edited here"
    quick = db.session.get(QuickMessage, new_id(sqlite_url, "QuickMessages", 1))
    assert stored(quick.company_id, quick.media_path) == HELLO
    assert quick.media_name == "hello.pdf"
    assert pending(sqlite_url) == {("Messages", "3EB0AAA6")}  # its file is still missing

    third = run(sqlite_url, public)
    assert third.media == {"missing in the old public folder": 1}
    assert counts() == before


def test_a_file_missing_from_the_public_folder_is_attached_once_it_is_there(
    app, client, prefix, auth, sqlite_url, tmp_path
):
    public = old_rows.write_media(tmp_path / "public")
    (public / "greeting.png").write_bytes(GREETING)
    (public / "quickMessage").mkdir()
    (public / "quickMessage" / "hello.pdf").write_bytes(HELLO)
    report = run(sqlite_url, public)
    assert report.media == {"copied": 3, "missing in the old public folder": 1}  # not fatal
    m6 = msg("3EB0AAA6")
    assert m6.media_path is None and m6.media_error == media.MISSING
    assert m6.media_name == "photo.jpg"
    before = counts()

    (public / "photo.jpg").write_bytes(PHOTO)
    later = run(sqlite_url, public)
    assert later.media == {"copied": 1, "attached to rows imported before": 1}
    assert counts() == before
    db.session.expire_all()
    m6 = msg("3EB0AAA6")
    assert m6.media_error is None and served(client, prefix, auth, m6) == PHOTO
    assert pending(sqlite_url) == set()
    assert run(sqlite_url, public).media == {}
