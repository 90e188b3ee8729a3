"""flask import-whaticket: an old Whaticket database (SQLite; MariaDB, PostgreSQL when they answer)
with a row for every quirk, imported and checked row by row; again (no-op), interrupted
and resumed, a --since pass, a dry run, the old password, the media route and search."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.importer import old_rows
from tests.importer.old_rows import AUDIO, OLD_PASSWORD
from tests.importer.old_servers import mariadb_old_db, postgres_old_db
from whaticket.extensions import db
from whaticket.importer import Options, run_import
from whaticket.importer.source import source_name
from whaticket.models import (
    Company,
    Contact,
    ContactCustomField,
    ImportMap,
    Message,
    Plan,
    Queue,
    QuickMessage,
    Setting,
    Tag,
    Ticket,
    TicketTracking,
    User,
    UserRating,
    Whatsapp,
    ticket_tags,
    user_queues,
    whatsapp_queues,
)

COUNTED = (
    Plan,
    Company,
    Setting,
    Queue,
    Whatsapp,
    User,
    Tag,
    QuickMessage,
    Contact,
    ContactCustomField,
    Ticket,
    TicketTracking,
    UserRating,
    Message,
    ImportMap,
)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """An old database in a SQLite file."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old_rows.create(url).dispose()
    return url


@pytest.fixture(params=["sqlite", "mariadb", "postgres"])
def old_url(request, tmp_path):
    """The old database on SQLite, then on a throw-away MariaDB and PostgreSQL database."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    server = postgres_old_db if request.param == "postgres" else mariadb_old_db
    with server() as url:
        yield url


@pytest.fixture
def public(tmp_path):
    """The old backend's public folder."""
    return old_rows.write_media(tmp_path / "public")


def run(url: str, public=None, **kw):
    """Import with the progress bar off."""
    return run_import(
        Options(source_url=url, media_dir=str(public) if public else None, quiet=True, **kw)
    )


def counts() -> dict[str, int]:
    """Rows per table of ours."""
    out = {
        m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in COUNTED
    }
    for table in (ticket_tags, user_queues, whatsapp_queues):
        out[table.name] = db.session.scalar(sa.select(sa.func.count()).select_from(table))
    return out


def new_id(url: str, table: str, old_id) -> int | None:
    """Our id of an old row."""
    return db.session.scalar(
        sa.select(ImportMap.new_id).where(
            ImportMap.source == source_name(url),
            ImportMap.source_table == table,
            ImportMap.old_id == str(old_id),
        )
    )


def msg(provider_id: str) -> Message:
    return db.session.scalar(sa.select(Message).where(Message.provider_id == provider_id))


def check_rows(url: str, media_copied: bool = True) -> None:
    """The import's result, row by row."""
    db.session.expire_all()
    plan = db.session.get(Plan, new_id(url, "Plans", 7))
    assert (plan.name, plan.users, plan.connections, plan.queues, int(plan.value)) == (
        "Gold",
        5,
        2,
        4,
        199,
    )
    assert (plan.use_campaigns, plan.use_schedules, plan.use_kanban) == (False, True, False)

    acme = db.session.get(Company, new_id(url, "Companies", 3))
    assert acme.name == "Acme" and acme.status is True and acme.plan_id == plan.id
    assert acme.due_date == datetime(2027, 1, 31, tzinfo=UTC)
    assert acme.recurrence == "MENSAL" and acme.schedules[0]["weekdayEn"] == "monday"
    beta = db.session.get(Company, new_id(url, "Companies", 4))
    assert beta.status is False and beta.plan_id is None  # its plan was missing

    settings = dict(
        db.session.execute(
            sa.select(Setting.key, Setting.value).where(Setting.company_id == acme.id)
        ).all()
    )
    assert settings == {"userRating": "enabled", "scheduleType": "queue"}
    assert new_id(url, "Settings", 3) is None  # orphan

    queue = db.session.get(Queue, new_id(url, "Queues", 5))
    assert (queue.company_id, queue.name, queue.color, queue.greeting_message) == (
        acme.id,
        "Sales",
        "#FF0000",
        "Hi from sales",
    )

    conn = db.session.get(Whatsapp, new_id(url, "Whatsapps", 2))
    assert conn.company_id == acme.id and conn.name == "Main" and conn.is_default
    assert conn.token == "tok-abc" and conn.greeting_message == "Welcome"
    assert (conn.max_use_bot_queues, conn.time_use_bot_queues, conn.transfer_queue_id) == (
        4,
        30,
        queue.id,
    )
    assert [q.id for q in conn.queues] == [queue.id]

    alice = db.session.scalar(sa.select(User).where(User.email == "alice@acme.com"))
    assert alice.id == new_id(url, "Users", 10) and alice.company_id == acme.id
    assert alice.password_hash == old_rows.OLD_HASH  # the bcrypt hash as it was
    assert (alice.profile, alice.token_version, alice.all_ticket, alice.online) == (
        "admin",
        2,
        "enabled",
        False,
    )
    assert alice.whatsapp_id == conn.id and [q.id for q in alice.queues] == [queue.id]
    assert db.session.scalar(sa.select(User).where(User.email == "ghost@gone.com")) is None

    tag = db.session.get(Tag, new_id(url, "Tags", 1))
    assert (tag.name, tag.kanban) == ("VIP", 1)
    assert db.session.get(QuickMessage, new_id(url, "QuickMessages", 1)).message == "Olá!"

    joao = db.session.get(Contact, new_id(url, "Contacts", 100))
    assert joao.number == "5511987654321" and joao.name == "João"
    assert new_id(url, "Contacts", 101) == joao.id  # ninth-digit variant merged
    assert [(f.name, f.value) for f in joao.extra_info] == [("cpf", "123")]
    group = db.session.get(Contact, new_id(url, "Contacts", 104))
    assert group.is_group and group.number == "120363040000000000"
    assert new_id(url, "Contacts", 103) is None and new_id(url, "Contacts", 105) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 3

    ticket = db.session.get(Ticket, new_id(url, "Tickets", 200))
    assert new_id(url, "Tickets", 201) == ticket.id == new_id(url, "Tickets", 202)
    # The latest old ticket (201) sets the state: open, Alice's, in Sales.
    assert (ticket.status, ticket.user_id, ticket.queue_id, ticket.unread_messages) == (
        "open",
        alice.id,
        queue.id,
        2,
    )
    assert ticket.last_message == "need help" and ticket.uuid.endswith("000000000200")
    assert ticket.contact_id == joao.id and ticket.whatsapp_id == conn.id
    assert [t.id for t in ticket.tags] == [tag.id]
    maria = db.session.get(Ticket, new_id(url, "Tickets", 203))
    assert maria.status == "pending" and maria.queue_id == queue.id
    assert new_id(url, "Tickets", 204) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 2

    tracking = db.session.get(TicketTracking, new_id(url, "TicketTraking", 1))
    assert tracking.ticket_id == ticket.id and tracking.user_id == alice.id and tracking.rated
    assert tracking.finished_at == datetime(2024, 1, 3, 18, tzinfo=UTC)
    assert db.session.get(UserRating, new_id(url, "UserRatings", 1)).rate == 5

    m1, m2, m3, m4 = (msg(f"3EB0AAA{n}") for n in (1, 2, 3, 4))
    assert [m.ticket_id for m in (m1, m2, m3, m4)] == [ticket.id] * 4
    assert (m1.body, m1.from_me, m1.origin, m1.created_at) == (
        "ola tudo bem com o boleto",
        False,
        None,
        datetime(2024, 1, 3, 12, tzinfo=UTC),
    )
    assert (m2.body, m2.origin, m2.ack) == ("Escolha uma opção", "bot", 3)  # marker removed
    assert (m4.origin, m4.ack, m4.quoted_msg_id) == ("agent", 2, None)  # quote was missing
    assert m3.quoted_msg_id == m1.id and m3.ack == 4 and m3.media_type == "audio"
    assert m3.contact_id == joao.id and m3.whatsapp_id == conn.id
    if media_copied:
        assert m3.media_path.startswith("imported/messages/") and m3.media_error is None
    history = db.session.scalars(
        sa.select(Message.provider_id)
        .where(Message.ticket_id == ticket.id)
        .order_by(Message.created_at, Message.id)
    ).all()
    assert history == ["3EB0AAA1", "3EB0AAA2", "3EB0AAA4", "3EB0AAA3"]
    m6, m7, m8 = msg("3EB0AAA6"), msg("3EB0AAA7"), msg("3EB0AAA8")
    assert m6.media_path is None and m6.media_error and m6.media_name == "photo.jpg"
    assert m7.quoted_msg_id == m8.id  # quoted a later message: linked at the end
    assert msg("3EB0AAA5") is None  # orphan


def test_import_row_by_row(app, old_url, public):
    report = run(old_url, public)
    check_rows(old_url)
    data = report.as_dict()
    tables = data["tables"]
    assert tables["Contacts"]["read"] == 6 and tables["Contacts"]["written"] == 3
    assert tables["Contacts"]["merged"] == 1 and tables["Contacts"]["skipped"] == 2
    reasons = {(r["action"], r["reason"]): r for r in tables["Tickets"]["reasons"]}
    assert reasons[("merged", "duplicate open ticket of the contact")]["examples"] == ["202"]
    assert reasons[("skipped", "contact missing (orphan)")]["examples"] == ["204"]
    assert tables["Messages"]["written"] == 7 and tables["Messages"]["skipped"] == 1
    # Copied: a message's voice note and a campaign's attachment; missing: a message's photo.
    assert data["media"] == {"copied": 2, "missing in the old public folder": 1}
    assert "Baileys" in data["not_imported"]


def test_second_run_changes_nothing(app, sqlite_url, public):
    run(sqlite_url, public)
    before = counts()
    report = run(sqlite_url, public)
    assert counts() == before
    assert report.total("written") == report.total("merged") == report.total("updated") == 0
    assert report.total("unchanged") == report.total("read")
    check_rows(sqlite_url)


def test_interrupted_run_resumes(app, sqlite_url, public):
    class StopError(Exception):
        pass

    def stop_at(table: str, batch: int):
        def hook(name: str, number: int) -> None:
            if (name, number) == (table, batch):
                raise StopError

        return hook

    with pytest.raises(StopError):
        run(sqlite_url, public, batch_size=2, on_batch=stop_at("Contacts", 1))
    with pytest.raises(StopError):
        run(sqlite_url, public, batch_size=2, on_batch=stop_at("Messages", 2))
    run(sqlite_url, public, batch_size=2)
    check_rows(sqlite_url)
    # Nothing twice: the counts of a clean run.
    assert counts()["messages"] == 7 and counts()["contacts"] == 3 and counts()["tickets"] == 2


def test_since_pass_brings_changes_and_new_rows(app, sqlite_url, public):
    run(sqlite_url, public)
    engine = sa.create_engine(sqlite_url)
    meta = sa.MetaData()
    meta.reflect(engine)
    later = datetime(2024, 2, 1)
    with engine.begin() as conn:
        tickets, messages = meta.tables["Tickets"], meta.tables["Messages"]
        conn.execute(
            tickets.update().where(tickets.c.id == 203).values(status="closed", updatedAt=later)
        )
        conn.execute(
            messages.update().where(messages.c.id == "3EB0AAA8").values(ack=4, updatedAt=later)
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
                createdAt=later,
                updatedAt=later,
            )
        )
    engine.dispose()
    report = run(sqlite_url, public, since=datetime(2024, 1, 20, tzinfo=UTC))
    assert report.counts["Messages"]["read"] == 2 and report.counts["Contacts"]["read"] == 0
    db.session.expire_all()
    assert db.session.get(Ticket, new_id(sqlite_url, "Tickets", 203)).status == "closed"
    assert msg("3EB0AAA8").ack == 4 and msg("3EB0AAA9").body == "new one"


def test_redelivered_message_is_recognised(app, sqlite_url, public):
    """A message ours stored after the switch (the provider redelivered it) is not doubled."""
    run(sqlite_url, public)
    m1 = msg("3EB0AAA1")
    db.session.execute(
        sa.delete(ImportMap).where(
            ImportMap.source_table == "Messages", ImportMap.old_id == "3EB0AAA1"
        )
    )
    db.session.commit()
    report = run(sqlite_url, public)
    assert report.counts["Messages"]["merged"] == 1 and msg("3EB0AAA1").id == m1.id


def test_dry_run_writes_nothing(app, sqlite_url, public):
    report = run(sqlite_url, public, dry_run=True)
    assert report.counts["Messages"]["written"] == 7 and report.media["would copy"] == 2
    assert all(n == 0 for n in counts().values())
    assert not any(Path(app.config["MEDIA_ROOT"]).rglob("*.ogg"))


def test_company_filter(app, sqlite_url, public):
    run(sqlite_url, public, company_ids=[4])
    assert db.session.scalars(sa.select(Company.name)).all() == ["Beta"]
    assert counts()["contacts"] == 0 and counts()["messages"] == 0


def test_old_user_logs_in_and_media_is_served(app, client, prefix, auth, sqlite_url, public):
    run(sqlite_url, public)
    resp = client.post(
        f"{prefix}/auth/login", json={"email": "alice@acme.com", "password": OLD_PASSWORD}
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["user"]["email"] == "alice@acme.com"
    wrong = client.post(
        f"{prefix}/auth/login", json={"email": "alice@acme.com", "password": "nope"}
    )
    assert wrong.status_code == 401
    m3 = msg("3EB0AAA3")
    alice = db.session.scalar(sa.select(User).where(User.email == "alice@acme.com"))
    # The URL the message list gives the frontend serves the copied file.
    page = client.get(f"{prefix}/messages/{m3.ticket_id}", headers=auth(alice)).get_json()
    url = next(m["mediaUrl"] for m in page["messages"] if m["id"] == m3.id)
    parts = urlsplit(url)
    served = client.get(f"{parts.path}?{parts.query}")
    assert served.status_code == 200 and served.data == AUDIO
    served.close()
    unsigned = f"{prefix}/public/{m3.company_id}/{m3.media_path}"
    served = client.get(unsigned, headers=auth(alice))
    assert served.status_code == 200
    served.close()
    # Another company's user gets the same 404 as a missing file.
    beta_user = User(
        company_id=new_id(sqlite_url, "Companies", 4),
        name="B",
        email="b@beta.com",
        password_hash="x",
    )
    db.session.add(beta_user)
    db.session.commit()
    assert client.get(unsigned, headers=auth(beta_user)).status_code == 404


def test_imported_messages_are_searchable(app, client, prefix, auth, sqlite_url, public):
    run(sqlite_url, public)
    alice = db.session.scalar(sa.select(User).where(User.email == "alice@acme.com"))
    resp = client.get(
        f"{prefix}/tickets",
        query_string={"searchParam": "boleto", "showAll": "true"},
        headers=auth(alice),
    )
    assert resp.status_code == 200
    assert [t["id"] for t in resp.get_json()["tickets"]] == [new_id(sqlite_url, "Tickets", 200)]


def test_cli_prints_and_saves_the_report(app, sqlite_url, public, tmp_path):
    path = tmp_path / "report.json"
    result = app.test_cli_runner().invoke(
        args=[
            "import-whaticket",
            "--source",
            sqlite_url,
            "--media",
            str(public),
            "--report",
            str(path),
            "--quiet",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "duplicate contact by number variant" in result.output
    saved = json.loads(path.read_text())
    assert saved["tables"]["Tickets"]["merged"] == 2
    bad = app.test_cli_runner().invoke(
        args=["import-whaticket", "--source", sqlite_url, "--since", "yesterday"]
    )
    assert bad.exit_code != 0 and "--since" in bad.output
