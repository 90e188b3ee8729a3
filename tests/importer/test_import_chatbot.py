"""flask import-whaticket, chatbot and file lists: integrations, prompts (their keys), the
option trees (parents first), file lists with their files, and the queues and connections
pointed at them; again (no-op), interrupted, --since, dry run, company filter, merges."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.importer import test_import
from tests.importer.old_rows_chatbot import API_KEY
from tests.importer.test_import import new_id, run
from whaticket.extensions import db
from whaticket.models import (
    Company,
    FileList,
    FileListOption,
    Prompt,
    Queue,
    QueueIntegration,
    QueueOption,
    Whatsapp,
)
from whaticket.services.bots.prompts import api_key

# The old databases and public folder of test_import, as fixtures of this module too.
sqlite_url, old_url, public = test_import.sqlite_url, test_import.old_url, test_import.public

MODELS = (QueueIntegration, Prompt, QueueOption, FileList, FileListOption)
LATER = datetime(2024, 2, 1)


def counts() -> dict[str, int]:
    """Rows of our chatbot and file-list tables."""
    return {
        m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in MODELS
    }


def tree(queue_id: int) -> list[tuple[str, str, str | None]]:
    """A queue's options as (key, title, parent title), in id order."""
    options = db.session.scalars(
        sa.select(QueueOption).where(QueueOption.queue_id == queue_id).order_by(QueueOption.id)
    ).all()
    titles = {o.id: o.title for o in options}
    return [(o.option, o.title, titles.get(o.parent_id)) for o in options]


def old_exec(url: str, *statements) -> None:
    """Run statements (built from the reflected old tables) on the old database."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for build in statements:
            conn.execute(build(meta.tables))
    engine.dispose()


def check_chatbot(url: str) -> None:
    """What the chatbot rows became."""
    db.session.expire_all()
    acme = new_id(url, "Companies", 3)
    typebot = db.session.get(QueueIntegration, new_id(url, "QueueIntegrations", 1))
    assert (typebot.company_id, typebot.type, typebot.name, typebot.url_n8n) == (
        acme,
        "typebot",
        "Typebot Sales",
        "https://typebot.example.com",
    )
    assert (typebot.typebot_slug, typebot.typebot_expires, typebot.typebot_delay_message) == (
        "sales-flow",
        30,
        500,
    )
    assert (typebot.typebot_keyword_finish, typebot.typebot_keyword_restart) == ("#sair", "#reset")
    assert typebot.typebot_unknown_message == "Não entendi" and typebot.language == "pt-BR"
    assert new_id(url, "QueueIntegrations", 5) == typebot.id  # same name, other case
    hook = db.session.get(QueueIntegration, new_id(url, "QueueIntegrations", 2))
    assert hook.type == "webhook" and hook.typebot_delay_message == 1000
    assert new_id(url, "QueueIntegrations", 3) is None  # flowbuilder: not run here
    assert new_id(url, "QueueIntegrations", 4) is None  # orphan

    sales = new_id(url, "Queues", 5)
    assistant = db.session.get(Prompt, new_id(url, "Prompts", 1))
    assert (assistant.company_id, assistant.name, assistant.queue_id) == (acme, "Assistant", sales)
    assert api_key(assistant) == API_KEY and assistant.api_key_encrypted != API_KEY
    assert (assistant.max_tokens, assistant.max_messages, assistant.temperature) == (200, 5, 1.0)
    assert (assistant.total_tokens, assistant.voice, assistant.voice_key_encrypted) == (
        1234,
        "texto",
        None,
    )
    night = db.session.get(Prompt, new_id(url, "Prompts", 2))
    assert night.queue_id is None and api_key(night) == "sk-2"
    assert new_id(url, "Prompts", 3) is None

    support = db.session.get(Queue, new_id(url, "Queues", 6))
    assert (support.integration_id, support.prompt_id) == (typebot.id, assistant.id)
    assert db.session.get(Queue, sales).prompt_id is None
    bot_line = db.session.get(Whatsapp, new_id(url, "Whatsapps", 3))
    assert (bot_line.prompt_id, bot_line.integration_id) == (assistant.id, None)

    assert tree(sales) == [
        ("1", "Billing", None),
        ("1", "Second copy", "Billing"),
        ("2", "Payments", "Billing"),
        ("1", "Pix", "Payments"),  # came before its parent: waited for it
    ]
    billing = db.session.get(QueueOption, new_id(url, "QueueOptions", 10))
    assert billing.company_id == acme and billing.message == "Choose"
    assert billing.media_path is None and billing.media_name is None  # "" = no media
    assert new_id(url, "QueueOptions", 14) == new_id(url, "QueueOptions", 12)
    assert new_id(url, "QueueOptions", 15) is None and new_id(url, "QueueOptions", 16) is None
    assert tree(support.id) == [("1", "Tech", None)]

    kit = db.session.get(FileList, new_id(url, "Files", 1))
    assert (kit.company_id, kit.name, kit.message) == (acme, "Promo kit", "See attached")
    assert [(o.name, o.path, o.media_type, o.company_id) for o in kit.options] == [
        ("Price list", None, None, acme)
    ]
    assert new_id(url, "Files", 2) is None and new_id(url, "FilesOptions", 2) is None


def test_chatbot_rows(app, old_url, public):
    report = run(old_url, public).as_dict()
    check_chatbot(old_url)
    tables = report["tables"]
    assert counts() == {
        "queue_integrations": 2,
        "prompts": 2,
        "queue_options": 5,
        "files": 1,
        "files_options": 1,
    }
    reasons = {
        table: {(r["action"], r["reason"]): r["examples"] for r in tables[table]["reasons"]}
        for table in ("QueueIntegrations", "Prompts", "QueueOptions", "FilesOptions")
    }
    assert reasons["QueueIntegrations"][("skipped", "integration type 'flowbuilder' not supported")]
    assert reasons["QueueIntegrations"][
        ("merged", "integration of the same name already here")
    ] == ["5"]
    assert reasons["QueueIntegrations"][
        ("note", "connection points at a missing integration: kept without")
    ] == ["3"]
    assert reasons["QueueIntegrations"][("note", "queue pointed at its integration")] == ["6"]
    assert reasons["Prompts"][("note", "hand-off queue missing: none")] == ["2"]
    assert reasons["Prompts"][("note", "queue pointed at its prompt")] == ["6"]
    assert reasons["Prompts"][("note", "connection pointed at its prompt")] == ["3"]
    assert reasons["QueueOptions"][("skipped", "parent option missing (orphan)")] == ["15"]
    assert reasons["QueueOptions"][("skipped", "queue missing (orphan)")] == ["16"]
    assert reasons["QueueOptions"][("merged", "option of the same key under the same parent")] == [
        "14"
    ]
    assert reasons["FilesOptions"][("skipped", "file list missing (orphan)")] == ["2"]
    assert tables["QueueOptions"]["written"] == 5 and tables["QueueOptions"]["read"] == 8
    for table in ("QueueOptions", "QueueIntegrations", "Prompts", "Files", "FilesOptions"):
        assert table not in report["not_imported"]


def test_second_run_keeps_what_was_changed_here(app, sqlite_url, public):
    run(sqlite_url, public)
    before = counts()
    support = db.session.get(Queue, new_id(sqlite_url, "Queues", 6))
    support.prompt_id = None  # an admin unhooked the prompt after the first pass
    db.session.commit()
    report = run(sqlite_url, public)
    assert counts() == before
    for table in ("QueueIntegrations", "Prompts", "QueueOptions", "Files", "FilesOptions"):
        assert report.counts[table]["unchanged"] == report.counts[table]["read"] > 0
    db.session.expire_all()
    assert support.prompt_id is None and support.integration_id is not None


def test_since_pass_applies_changes(app, sqlite_url, public):
    run(sqlite_url, public)
    old_exec(
        sqlite_url,
        lambda t: (
            t["Queues"].update().where(t["Queues"].c.id == 6).values(promptId=None, updatedAt=LATER)
        ),
        lambda t: (
            t["Prompts"]
            .update()
            .where(t["Prompts"].c.id == 1)
            .values(apiKey="sk-new", maxTokens=50, updatedAt=LATER)
        ),
        lambda t: (
            t["QueueOptions"]
            .update()
            .where(t["QueueOptions"].c.id == 12)
            .values(title="2nd copy", updatedAt=LATER)
        ),
        lambda t: (
            t["QueueOptions"]
            .insert()
            .values(id=18, queueId=5, parentId=12, option="1", title="By e-mail")
            .values(createdAt=LATER, updatedAt=LATER)
        ),
        lambda t: (
            t["FilesOptions"]
            .update()
            .where(t["FilesOptions"].c.id == 1)
            .values(path="", mediaType="application/pdf", updatedAt=LATER)
        ),
    )
    report = run(sqlite_url, public, since=datetime(2024, 1, 20, tzinfo=UTC))
    assert report.counts["QueueOptions"]["read"] == 2
    assert report.counts["Prompts"]["updated"] == 1
    db.session.expire_all()
    assert db.session.get(Queue, new_id(sqlite_url, "Queues", 6)).prompt_id is None
    assistant = db.session.get(Prompt, new_id(sqlite_url, "Prompts", 1))
    assert api_key(assistant) == "sk-new" and assistant.max_tokens == 50
    sales = new_id(sqlite_url, "Queues", 5)
    assert ("1", "2nd copy", "Billing") in tree(sales)
    assert ("1", "By e-mail", "2nd copy") in tree(sales)
    option = db.session.get(FileListOption, new_id(sqlite_url, "FilesOptions", 1))
    assert option.media_type == "application/pdf"


def test_interrupted_tree_resumes(app, sqlite_url, public):
    class StopError(Exception):
        pass

    def hook(name: str, number: int) -> None:
        # Option 11 waits for its parent 13, which is in the next batch: stop between.
        if (name, number) == ("QueueOptions", 1):
            raise StopError

    with pytest.raises(StopError):
        run(sqlite_url, public, batch_size=2, on_batch=hook)
    assert counts()["queue_options"] == 1  # 10 only: 11 was not written without its parent
    run(sqlite_url, public, batch_size=2)
    check_chatbot(sqlite_url)
    assert counts()["queue_options"] == 5


def test_dry_run_and_company_filter(app, sqlite_url, public):
    report = run(sqlite_url, public, dry_run=True)
    assert report.counts["QueueOptions"]["written"] == 5
    assert report.counts["Prompts"]["written"] == 2
    assert all(n == 0 for n in counts().values())
    run(sqlite_url, public, company_ids=[4])
    assert all(n == 0 for n in counts().values())
    run(sqlite_url, public, company_ids=[3])
    check_chatbot(sqlite_url)


def test_merged_company_keeps_its_integration(app, sqlite_url, public):
    """An old company landing on ours of the same name: our integration of the same name
    stands for the old one, and the imported queue points at ours."""
    from tests.factories import CompanyFactory

    acme = CompanyFactory(name="Acme")
    ours = QueueIntegration(
        company_id=acme.id, type="webhook", name="TYPEBOT SALES", url_n8n="https://x.example"
    )
    db.session.add(ours)
    db.session.commit()
    report = run(sqlite_url, public)
    assert new_id(sqlite_url, "Companies", 3) == acme.id
    assert new_id(sqlite_url, "QueueIntegrations", 1) == ours.id
    assert report.counts["QueueIntegrations"]["merged"] == 2
    db.session.expire_all()
    assert ours.type == "webhook"  # ours is kept as it is
    assert db.session.get(Queue, new_id(sqlite_url, "Queues", 6)).integration_id == ours.id
    assert db.session.scalar(sa.select(Company.id).where(Company.name == "Acme")) == acme.id


def test_media_of_options_and_file_lists_is_copied(app, sqlite_url, public):
    (public / "company3").mkdir()
    (public / "company3" / "menu.jpg").write_bytes(b"\xff\xd8menu")
    (public / "fileList" / "1").mkdir(parents=True)
    (public / "fileList" / "1" / "catalog.pdf").write_bytes(b"%PDF-catalog")
    old_exec(
        sqlite_url,
        lambda t: (
            t["QueueOptions"]
            .insert()
            .values(
                id=20, queueId=6, option="2", title="Menu", mediaPath="menu.jpg", mediaName="Menu"
            )
            .values(createdAt=LATER, updatedAt=LATER)
        ),
        lambda t: (
            t["FilesOptions"]
            .insert()
            .values(id=3, fileId=1, name="Catalog", path="catalog.pdf", mediaType="application/pdf")
            .values(createdAt=LATER, updatedAt=LATER)
        ),
        lambda t: (
            t["FilesOptions"]
            .insert()
            .values(id=4, fileId=1, name="Gone", path="gone.pdf", createdAt=LATER, updatedAt=LATER)
        ),
    )
    report = run(sqlite_url, public)
    # Copied: menu.jpg, catalog.pdf, and the fixture's voice note and campaign attachment;
    # missing: gone.pdf and the fixture's message photo.
    assert report.media == {"copied": 4, "missing in the old public folder": 2}
    db.session.expire_all()
    root = Path(app.config["MEDIA_ROOT"])
    menu = db.session.get(QueueOption, new_id(sqlite_url, "QueueOptions", 20))
    assert menu.media_path.startswith("imported/queue_options/") and menu.media_name == "Menu"
    assert (root / str(menu.company_id) / menu.media_path).read_bytes() == b"\xff\xd8menu"
    catalog = db.session.get(FileListOption, new_id(sqlite_url, "FilesOptions", 3))
    assert catalog.path.startswith("imported/file_lists/") and catalog.path.endswith("catalog.pdf")
    assert (root / str(catalog.company_id) / catalog.path).read_bytes() == b"%PDF-catalog"
    gone = db.session.get(FileListOption, new_id(sqlite_url, "FilesOptions", 4))
    assert gone.path is None and gone.name == "Gone"
    # A run without --media later does not forget the files copied before.
    old_exec(
        sqlite_url,
        lambda t: (
            t["QueueOptions"]
            .update()
            .where(t["QueueOptions"].c.id == 20)
            .values(title="Menu!", updatedAt=datetime(2024, 3, 1))
        ),
    )
    run(sqlite_url)
    db.session.expire_all()
    assert menu.title == "Menu!" and menu.media_path.startswith("imported/queue_options/")
