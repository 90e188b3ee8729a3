"""Big spreadsheet imports run as jobs (issue 15, item 16): a file past
IMPORT_INLINE_MAX_ROWS answers 202 `{jobId, status, rows}` at once, a job imports it in
batches (a progress event after each commit), the answer echoes no row, and
IMPORT_MAX_ROWS caps every upload. Jobs run inline right after the request commits."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import db as dbmod
from whaticket.extensions import db
from whaticket.jobs import imports as import_jobs
from whaticket.models import Contact, ContactList, ContactListItem, ImportJob
from whaticket.services.platform import imports as import_service
from whaticket.services.platform import media
from whaticket.whatsapp.fake import FakeGateway

ROWS = 2500
#: Rows 7 and 11 of every hundred are refused (no number, bad e-mail).
BAD_EVERY = 100


def _csv(rows: int = ROWS, start: int = 0) -> bytes:
    lines = ["nome;numero;email"]
    for n in range(start, start + rows):
        if n % BAD_EVERY == 7:
            lines.append(f"Sem número {n};;")
        elif n % BAD_EVERY == 11:
            lines.append(f"Mau email {n};55119{n:08d};not-an-email")
        else:
            lines.append(f"Pessoa {n};55119{n:08d};p{n}@example.com")
    return ("\n".join(lines) + "\n").encode()


def _bad_rows(rows: int = ROWS) -> int:
    return sum(1 for n in range(rows) if n % BAD_EVERY in (7, 11))


@pytest.fixture(autouse=True)
def small_thresholds(app):
    """A few thousand rows stand for a big file: the inline limit and the batch shrink."""
    app.config.update(IMPORT_INLINE_MAX_ROWS=100, IMPORT_BATCH_ROWS=1000, IMPORT_MAX_ROWS=5000)


def _post(client, url: str, headers: dict, content: bytes, name: str = "big.csv"):
    return client.post(
        url,
        data={"file": (io.BytesIO(content), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def _events(sock, name: str) -> list[dict]:
    return [e["args"][0] for e in sock.get_received() if e["name"] == name]


def _imports_dir(app, company_id: int) -> Path:
    return Path(app.config["MEDIA_ROOT"]) / str(company_id) / import_service.MEDIA_SUBDIR


def test_a_big_contacts_file_becomes_a_job_with_progress(
    app, client, prefix, admin, agent, auth, socket_client
):
    mine, colleague = socket_client(admin), socket_client(agent)
    mine.get_received(), colleague.get_received()
    resp = _post(client, f"{prefix}/contacts/upload", auth(admin), _csv())
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "queued" and body["rows"] == ROWS and body["jobId"] > 0
    # A summary, not an echo of 2,500 contacts.
    assert len(resp.data) < 1000 and "records" not in body

    good = ROWS - _bad_rows()
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Contact)
        .where(Contact.company_id == admin.company_id)
    )
    assert count == good

    progress = _events(mine, f"company-{admin.company_id}-import")
    assert [(e["status"], e["done"]) for e in progress] == [
        ("running", 1000),
        ("running", 2000),
        ("running", ROWS),
        ("done", ROWS),
    ]
    assert {e["jobId"] for e in progress} == {body["jobId"]}
    assert all(e["total"] == ROWS for e in progress)
    assert progress[-1]["errors"] == _bad_rows() and progress[-1]["created"] == good
    # Progress goes to the uploader; a colleague's Contacts page hears no echo of each row.
    assert _events(colleague, f"company-{admin.company_id}-import") == []
    assert len(_events(colleague, f"company-{admin.company_id}-contact")) <= 3

    summary = client.get(f"{prefix}/imports/{body['jobId']}", headers=auth(agent)).get_json()
    assert summary["status"] == "done" and summary["done"] == summary["total"] == ROWS
    assert summary["created"] == good and summary["errors"] == _bad_rows()
    assert summary["errorRows"][:2] == [
        {"row": 9, "error": "ERR_MISSING_NUMBER"},
        {"row": 13, "error": "ERR_INVALID_EMAIL"},
    ]
    assert summary["finishedAt"] is not None
    # The stored spreadsheet goes once the job is done.
    assert list(_imports_dir(app, admin.company_id).rglob("*.*")) == []
    assert db.session.get(ImportJob, body["jobId"]).file_path is None


def test_a_small_file_is_still_imported_in_the_request(client, prefix, admin, auth):
    resp = _post(client, f"{prefix}/contacts/upload", auth(admin), _csv(50))
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body["created"]) == 50 - _bad_rows(50) and len(body["errors"]) == _bad_rows(50)


def test_a_big_contact_list_file_fills_the_list_batch_by_batch(
    app, client, prefix, admin, auth, socket_client
):
    record = ContactList(company_id=admin.company_id, name="Grande")
    db.session.add(record)
    db.session.commit()
    sock = socket_client(admin)
    sock.get_received()
    resp = _post(client, f"{prefix}/contact-lists/{record.id}/upload", auth(admin), _csv())
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "queued" and body["rows"] == ROWS
    assert len(resp.data) < 1000

    good = ROWS - _bad_rows()
    items = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ContactListItem)
        .where(ContactListItem.contact_list_id == record.id)
    )
    assert items == good
    received = sock.get_received()
    cid = admin.company_id
    progress = [e["args"][0] for e in received if e["name"] == f"company-{cid}-import"]
    assert [e["done"] for e in progress] == [1000, 2000, ROWS, ROWS]
    assert progress[-1]["status"] == "done" and progress[-1]["contactListId"] == record.id
    # The list's page (ContactListItems) hears each batch's items, never the whole file at once.
    reloads = [
        e["args"][0] for e in received if e["name"] == f"company-{cid}-ContactListItem-{record.id}"
    ]
    assert len(reloads) == 3 and all(r["action"] == "reload" for r in reloads)
    assert max(len(r["records"]) for r in reloads) <= 1000
    assert sum(len(r["records"]) for r in reloads) == good
    # The Contact Lists page shows the new count.
    counts = [
        e["args"][0]["record"]["contactsCount"]
        for e in received
        if e["name"] == f"company-{cid}-ContactList"
    ]
    assert counts[-1] == good
    summary = client.get(f"{prefix}/imports/{body['jobId']}", headers=auth(admin)).get_json()
    assert summary["created"] == good and summary["kind"] == "contact-list"


def test_a_big_list_import_checks_numbers_after_each_commit(
    client, prefix, admin, auth, monkeypatch
):
    """Each batch is committed before WhatsApp is asked about its numbers: no provider
    call while the import holds row locks."""
    factories.WhatsappFactory(
        company=admin.company, is_default=True, provider="fake", status="CONNECTED"
    )
    record = ContactList(company_id=admin.company_id, name="Checada")
    db.session.add(record)
    db.session.commit()
    asked: list[bool] = []

    def _check(self, conn, number):
        asked.append(dbmod.holding_locks())
        return None if number.endswith("3") else number

    monkeypatch.setattr(FakeGateway, "check_number", _check)
    resp = _post(client, f"{prefix}/contact-lists/{record.id}/upload", auth(admin), _csv(300))
    assert resp.status_code == 202
    good = 300 - _bad_rows(300)
    assert len(asked) == good and not any(asked)
    db.session.expire_all()
    valid = dict(
        db.session.execute(
            sa.select(ContactListItem.number, ContactListItem.is_whatsapp_valid).where(
                ContactListItem.contact_list_id == record.id
            )
        ).all()
    )
    assert len(valid) == good
    assert all(ok is (not number.endswith("3")) for number, ok in valid.items())


def test_the_row_cap_refuses_the_file_and_names_it(app, client, prefix, admin, auth):
    app.config["IMPORT_MAX_ROWS"] = 2000
    record = ContactList(company_id=admin.company_id, name="Cap")
    db.session.add(record)
    db.session.commit()
    for url in (f"{prefix}/contacts/upload", f"{prefix}/contact-lists/{record.id}/upload"):
        resp = _post(client, url, auth(admin), _csv(2001))
        assert resp.status_code == 400, url
        assert resp.get_json() == {
            "error": "ERR_TOO_MANY_ROWS",
            "fields": {"file": ["At most 2000 rows."]},
        }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0
    assert not _imports_dir(app, admin.company_id).exists()
    # Exactly at the cap is fine.
    assert _post(client, f"{prefix}/contacts/upload", auth(admin), _csv(2000)).status_code == 202


def test_an_import_of_another_company_is_404(client, prefix, admin, other_admin, auth):
    resp = _post(client, f"{prefix}/contacts/upload", auth(admin), _csv(300))
    job_id = resp.get_json()["jobId"]
    assert client.get(f"{prefix}/imports/{job_id}", headers=auth(other_admin)).status_code == 404
    assert client.get(f"{prefix}/imports/{job_id}").status_code == 401


def _stored_job(company, user, content: bytes, **values) -> ImportJob:
    stored = media.write(company.id, content, "big.csv", "text/csv", import_service.MEDIA_SUBDIR)
    record = ImportJob(
        company_id=company.id,
        user_id=user.id,
        kind="contacts",
        filename="big.csv",
        file_path=stored.path,
        total=ROWS,
        **values,
    )
    db.session.add(record)
    db.session.commit()
    return record


def test_a_dead_run_is_resumed_from_its_last_batch(app, company, admin):
    """A worker died after committing 2 batches: the next run imports only the rest."""
    lease = app.config["PENDING_JOB_LEASE_SECONDS"]
    record = _stored_job(company, admin, _csv(), status="running", done=2000)
    stale = record.updated_at - timedelta(seconds=lease + 1)
    db.session.execute(sa.update(ImportJob).values(updated_at=stale))
    db.session.commit()
    import_jobs.run(record.id)
    db.session.expire_all()
    done = db.session.get(ImportJob, record.id)
    assert done.status == "done" and done.done == ROWS
    expected = sum(1 for n in range(2000, ROWS) if n % BAD_EVERY not in (7, 11))
    assert done.created == expected
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == expected


def test_a_live_run_is_not_run_twice(company, admin):
    record = _stored_job(company, admin, _csv(), status="running", done=1000)
    with pytest.raises(import_service.ImportBusyError):
        import_jobs.run(record.id)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_a_business_error_fails_the_import_and_drops_its_file(app, company, admin):
    """The list was deleted before the job ran: failed with the reason, file gone."""
    record = _stored_job(company, admin, _csv(), status="queued")
    record.kind, record.target_id = "contact-list", 999_999
    db.session.commit()
    path = media.absolute_path(company.id, record.file_path)
    import_jobs.run(record.id)
    db.session.expire_all()
    failed = db.session.get(ImportJob, record.id)
    assert failed.status == "failed" and failed.error == "ERR_CONTACT_LIST_NOT_FOUND"
    assert not path.exists() and failed.file_path is None
    assert json.loads(failed.error_rows or "[]") == []


def test_a_finished_import_is_not_run_again(company, admin):
    record = _stored_job(company, admin, _csv(10), status="done")
    import_jobs.run(record.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
