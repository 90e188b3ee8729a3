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
from tests.importer.old_rows_campaigns import PROMO
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
from whaticket.models import (
    Announcement,
    Campaign,
    ChatMessage,
    FileListOption,
    ImportMap,
    Message,
    Queue,
    QueueOption,
    QuickMessage,
    Schedule,
    User,
)
from whaticket.services.platform import media as media_service

PHOTO = b"\xff\xd8\xff\xe0" + b"\x00" * 60
GREETING = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
HELLO = b"%PDF-1.4\n%%EOF\n"
#: Files the old rows below name (besides old_rows.write_media's): where the old backend
#: keeps each, relative to its public folder, and the bytes.
FILES = {
    "greeting.png": GREETING,  # queue 5
    "quickMessage/hello.pdf": HELLO,  # quick message 1
    "company3/menu.jpg": b"\xff\xd8menu",  # chatbot option 10 (queue 5 of company 3)
    "fileList/1/price.pdf": b"%PDF-price",  # file 1 of file list 1
    "chats/shot.png": b"\x89PNG shot",  # internal chat message 2
    "reminder.pdf": b"%PDF-reminder",  # schedule 1, waiting
    "tomorrow.pdf": b"%PDF-tomorrow",  # schedule 5, sent here between the two runs
    "announcements/banner.png": b"\x89PNG banner",  # announcement 1
}


@pytest.fixture
def pg_url():
    """The old database on a throw-away PostgreSQL database (skips when none answers)."""
    with postgres_old_db() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """An old SQLite database where every table that holds media names a file (FILES; the
    message's voice note and photo and the campaign's attachment come with old_rows)."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = old_rows.create(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        for table, old_id, values in (
            ("Queues", 5, {"mediaPath": "greeting.png"}),
            ("QuickMessages", 1, {"mediaPath": "hello.pdf"}),
            ("QueueOptions", 10, {"mediaPath": "menu.jpg", "mediaName": "Menu"}),
            ("FilesOptions", 1, {"path": "price.pdf", "mediaType": "application/pdf"}),
            ("ChatMessages", 2, {"mediaPath": "shot.png", "mediaName": "shot.png"}),
            ("Schedules", 1, {"mediaPath": "reminder.pdf"}),
            ("Schedules", 5, {"mediaPath": "tomorrow.pdf"}),
            ("Announcements", 1, {"mediaPath": "banner.png"}),
        ):
            conn.execute(t[table].update().where(t[table].c.id == old_id).values(**values))
    engine.dispose()
    return url


def write_public(tmp_path: Path) -> Path:
    """The old public folder with every file the rows name but the message's photo."""
    public = old_rows.write_media(tmp_path / "public")
    for rel, data in FILES.items():
        (public / rel).parent.mkdir(parents=True, exist_ok=True)
        (public / rel).write_bytes(data)
    return public


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
    assert first.media == {"not copied (no --media)": 11}
    m3 = msg("3EB0AAA3")
    assert m3.media_path is None and m3.media_error == media.NOT_COPIED
    assert served(client, prefix, auth, m3) is None
    assert pending(sqlite_url) == {
        ("Messages", "3EB0AAA3"),
        ("Messages", "3EB0AAA6"),
        ("Queues", "5"),
        ("QuickMessages", "1"),
        ("QueueOptions", "10"),
        ("FilesOptions", "1"),
        ("ChatMessages", "2"),
        ("Announcements", "1"),
        ("Campaigns", "2"),
        ("Schedules", "1"),
        ("Schedules", "5"),
    }
    written = [
        r for r in first.as_dict()["tables"]["Messages"]["reasons"] if r["action"] == "written"
    ]
    assert [(r["reason"], r["count"], r["examples"]) for r in written] == [
        (media.PENDING, 2, ["3EB0AAA3", "3EB0AAA6"])
    ]
    ours = {
        model: db.session.get(model, new_id(sqlite_url, table, old_id))
        for model, table, old_id in (
            (Queue, "Queues", 5),
            (QueueOption, "QueueOptions", 10),
            (FileListOption, "FilesOptions", 1),
            (ChatMessage, "ChatMessages", 2),
            (Announcement, "Announcements", 1),
            (Campaign, "Campaigns", 2),
            (Schedule, "Schedules", 1),
        )
    }
    assert all(getattr(o, "media_path", None) is None for o in ours.values())
    assert ours[FileListOption].path is None
    ours[Queue].greeting_message = "edited here"  # an edit made after the move is kept
    ours[Campaign].name = "Black Friday (ours)"
    # Sent here without its file: a later run leaves it as what went out.
    sent_here = db.session.get(Schedule, new_id(sqlite_url, "Schedules", 5))
    sent_here.status = "ENVIADA"
    db.session.commit()
    before = counts()

    public = write_public(tmp_path)
    dry = run(sqlite_url, public, dry_run=True)
    assert dry.media["would copy"] == 9
    db.session.expire_all()
    assert msg("3EB0AAA3").media_path is None
    assert not any(Path(app.config["MEDIA_ROOT"]).rglob("*.ogg"))

    second = run(sqlite_url, public)
    assert counts() == before  # nothing written twice
    assert second.total("written") == second.total("updated") == 0
    assert second.media == {
        "copied": 9,
        "attached to rows imported before": 9,
        "missing in the old public folder": 1,
    }
    db.session.expire_all()
    m3 = msg("3EB0AAA3")
    assert m3.media_path.startswith("imported/messages/") and m3.media_error is None
    assert m3.media_name == "audio1.ogg"
    assert served(client, prefix, auth, m3) == AUDIO
    queue = ours[Queue]
    assert stored(queue.company_id, queue.media_path) == GREETING
    assert queue.greeting_message == "edited here"
    quick = db.session.get(QuickMessage, new_id(sqlite_url, "QuickMessages", 1))
    assert stored(quick.company_id, quick.media_path) == HELLO
    assert quick.media_name == "hello.pdf"
    # Each new table's row points at its own file, under its own folder, named as before.
    for model, (rel, kind, name) in {
        QueueOption: ("company3/menu.jpg", "queue_options", "Menu"),
        ChatMessage: ("chats/shot.png", "chats", "shot.png"),
        Announcement: ("announcements/banner.png", "announcements", "banner.png"),
        Schedule: ("reminder.pdf", "schedules", "reminder.pdf"),
    }.items():
        row = ours[model]
        assert row.media_path.startswith(f"imported/{kind}/") and row.media_name == name
        assert stored(row.company_id, row.media_path) == FILES[rel]
    campaign = ours[Campaign]
    assert campaign.media_path.startswith("imported/campaigns/")
    assert campaign.media_name == "promo.jpg" and campaign.name == "Black Friday (ours)"
    assert stored(campaign.company_id, campaign.media_path) == PROMO
    price = ours[FileListOption]
    assert price.path.startswith("imported/file_lists/") and price.name == "Price list"
    assert stored(price.company_id, price.path) == FILES["fileList/1/price.pdf"]
    assert sent_here.media_path is None and sent_here.media_name is None
    notes = {r["reason"] for r in second.as_dict()["tables"]["Schedules"]["reasons"]}
    assert "sent here since: file not attached" in notes
    assert pending(sqlite_url) == {("Messages", "3EB0AAA6")}  # its file is still missing

    third = run(sqlite_url, public)
    assert third.media == {"missing in the old public folder": 1}
    assert counts() == before


def test_a_file_missing_from_the_public_folder_is_attached_once_it_is_there(
    app, client, prefix, auth, sqlite_url, tmp_path
):
    public = write_public(tmp_path)
    report = run(sqlite_url, public)
    # Every file but the message's photo (the fixture's voice note and attachment too).
    assert report.media == {"copied": 10, "missing in the old public folder": 1}  # not fatal
    assert pending(sqlite_url) == {("Messages", "3EB0AAA6")}
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
