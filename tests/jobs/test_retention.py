"""Retention (issue 15, item 21): old webhook deliveries, dead refresh tokens and finished
imports are purged in batches, and media files no row references are swept once older
than the grace period; `flask purge --dry-run` counts the same without deleting."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket.extensions import db
from whaticket.jobs import periodic
from whaticket.jobs import retention as retention_jobs
from whaticket.models import (
    Campaign,
    FileList,
    FileListOption,
    ImportJob,
    InboundEvent,
    Message,
    RefreshToken,
)
from whaticket.services.platform import media

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def clock(app):
    app.config["FROZEN_NOW"] = NOW
    return app


def _ids(model) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(model.id)))


# -- inbound events ----------------------------------------------------------------


def _event(conn, status: str, days_ago: float) -> int:
    at = NOW - timedelta(days=days_ago)
    row = InboundEvent(
        company_id=conn.company_id,
        whatsapp_id=conn.id,
        provider="fake",
        dedupe_key=uuid.uuid4().hex,
        payload='{"media": "' + "A" * 1000 + '"}',
        status=status,
        processed_at=at if status != "pending" else None,
        created_at=at,
        updated_at=at,
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def test_inbound_events_go_after_their_age_failed_ones_later(app, company):
    conn = factories.WhatsappFactory(company=company)
    db.session.flush()
    gone = {_event(conn, "done", 8), _event(conn, "done", 30), _event(conn, "failed", 31)}
    kept = {
        _event(conn, "done", 6),
        _event(conn, "failed", 8),  # admins still read why it failed
        _event(conn, "failed", 29),
        _event(conn, "pending", 60),  # not processed yet: never purged
    }
    db.session.commit()
    report = retention_jobs.purge_rows(dry_run=True)
    assert report["inbound_events"] == 3 and _ids(InboundEvent) == gone | kept
    report = retention_jobs.purge_rows()
    assert report["inbound_events"] == 3
    assert _ids(InboundEvent) == kept
    app.config.update(RETENTION_INBOUND_EVENTS_DAYS=1, RETENTION_FAILED_INBOUND_EVENTS_DAYS=2)
    assert retention_jobs.purge_rows()["inbound_events"] == 3
    assert len(_ids(InboundEvent)) == 1


def test_rows_go_in_batches_and_a_periodic_run_is_bounded(company):
    conn = factories.WhatsappFactory(company=company)
    db.session.flush()
    for _ in range(5):
        _event(conn, "done", 10)
    db.session.commit()
    assert retention_jobs.purge_rows(batch=2, max_batches=1)["inbound_events"] == 2
    assert len(_ids(InboundEvent)) == 3
    assert retention_jobs.purge_rows(batch=2)["inbound_events"] == 3
    assert _ids(InboundEvent) == set()


# -- refresh tokens ----------------------------------------------------------------


def _token(user, *, expires_days: float, revoked_days: float | None = None, used=False) -> int:
    row = RefreshToken(
        company_id=user.company_id,
        user_id=user.id,
        jti=uuid.uuid4().hex,
        family=uuid.uuid4().hex,
        expires_at=NOW + timedelta(days=expires_days),
        revoked_at=None if revoked_days is None else NOW - timedelta(days=revoked_days),
        used_at=NOW - timedelta(days=1) if used else None,
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def test_refresh_tokens_go_30_days_after_expiry_or_revocation(admin):
    gone = {
        _token(admin, expires_days=-31),
        _token(admin, expires_days=5, revoked_days=31),
    }
    kept = {
        _token(admin, expires_days=-29),  # expired, but not long enough
        _token(admin, expires_days=5, revoked_days=29),
        _token(admin, expires_days=5),  # alive
        _token(admin, expires_days=5, used=True),  # rotated: a replay must still be caught
    }
    db.session.commit()
    assert retention_jobs.purge_rows()["refresh_tokens"] == len(gone)
    assert _ids(RefreshToken) == kept


# -- imports -------------------------------------------------------------------------


def _import(company, status: str, finished_days: float | None, idle_days: float = 0) -> int:
    row = ImportJob(
        company_id=company.id,
        kind="contacts",
        filename="a.csv",
        status=status,
        finished_at=None if finished_days is None else NOW - timedelta(days=finished_days),
        updated_at=NOW - timedelta(days=idle_days),
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def test_finished_imports_go_after_their_age(company):
    gone = {
        _import(company, "done", 31),
        _import(company, "failed", 40),
        _import(company, "running", None, idle_days=31),  # its job gave up long ago
    }
    kept = {_import(company, "done", 29), _import(company, "running", None, idle_days=1)}
    db.session.commit()
    assert retention_jobs.purge_rows()["imports"] == len(gone)
    assert _ids(ImportJob) == kept


# -- orphan media files -------------------------------------------------------------


def _age(path: Path, hours: float) -> Path:
    when = (NOW - timedelta(hours=hours)).timestamp()
    os.utime(path, (when, when))
    return path


def _file(company_id: int, subdir: str, hours: float) -> tuple[str, Path]:
    stored = media.save(company_id, PNG, "f.png", "image/png", subdir=subdir)
    return stored.path, _age(media.absolute_path(company_id, stored.path), hours)


def test_orphan_files_go_after_the_grace_period_referenced_ones_stay(app, company, admin):
    ticket = factories.TicketFactory(company=company)
    db.session.flush()
    # Referenced by rows: a message's, a campaign's (also the campaign messages'), a file
    # list option's.
    msg_path, msg_file = _file(company.id, "messages", 48)
    factories.MessageFactory(ticket=ticket, media_path=msg_path)
    camp_path, camp_file = _file(company.id, "campaigns", 48)
    db.session.add(Campaign(company_id=company.id, name="Promo", media_path=camp_path))
    opt_path, opt_file = _file(company.id, "file-lists/1", 48)
    file_list = FileList(company_id=company.id, name="Fotos")
    db.session.add(file_list)
    db.session.flush()
    db.session.add(
        FileListOption(company_id=company.id, file_id=file_list.id, name="a", path=opt_path)
    )
    # Orphans: a deleted message's file, a replaced schedule file; and a young orphan a
    # request may be about to reference.
    _, orphan_msg = _file(company.id, "messages", 48)
    _, orphan_sched = _file(company.id, "schedules", 25)
    _, young = _file(company.id, "messages", 2)
    # Not ours to sweep: the fake gateway's outbox, anything outside the known folders.
    _, fake = _file(company.id, "fake-outbox", 48)
    # A deleted company's folder: every old file in it is an orphan.
    gone_company = media.company_root(company.id).parent / "999999" / "quick-messages"
    gone_company.mkdir(parents=True)
    gone_file = gone_company / "x.png"
    gone_file.write_bytes(PNG)
    _age(gone_file, 48)
    db.session.commit()

    assert retention_jobs.purge_files(dry_run=True) == 3
    assert orphan_msg.exists() and orphan_sched.exists() and gone_file.exists()

    assert retention_jobs.purge_files() == 3
    assert not orphan_msg.exists() and not orphan_sched.exists() and not gone_file.exists()
    for kept in (msg_file, camp_file, opt_file, young, fake):
        assert kept.exists(), kept
    # The message is deleted later (its ticket deleted, say): its file goes on the next sweep.
    db.session.execute(sa.delete(Message))
    db.session.commit()
    assert retention_jobs.purge_files() == 1 and not msg_file.exists()


def test_the_sweep_follows_no_symlink(app, company, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.png"
    secret.write_bytes(PNG)
    _age(secret, 48)
    folder = media.company_root(company.id) / "messages"
    folder.mkdir(parents=True)
    (folder / "link.png").symlink_to(secret)
    (folder / "dir").symlink_to(outside, target_is_directory=True)
    assert retention_jobs.purge_files() == 0
    assert secret.exists()


def test_an_import_waiting_for_its_job_keeps_its_file(company, admin):
    path, on_disk = _file(company.id, "imports", 48)
    db.session.add(
        ImportJob(company_id=company.id, kind="contacts", filename="a.csv", file_path=path, total=1)
    )
    db.session.commit()
    assert retention_jobs.purge_files() == 0 and on_disk.exists()


# -- the command and the worker ------------------------------------------------------


def test_flask_purge_and_its_dry_run(app, company, admin):
    conn = factories.WhatsappFactory(company=company)
    db.session.flush()
    _event(conn, "done", 10)
    _token(admin, expires_days=-40)
    _, orphan = _file(company.id, "messages", 48)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "would delete: 1 inbound event(s), 1 refresh token(s), 0 import(s), 1 orphan media file(s)"
    )
    assert orphan.exists() and len(_ids(InboundEvent)) == 1 and len(_ids(RefreshToken)) == 1
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("deleted: 1 inbound event(s), 1 refresh token(s)")
    assert not orphan.exists() and _ids(InboundEvent) == set() and _ids(RefreshToken) == set()


def test_the_worker_runs_the_sweeps():
    names = {job.name: job for job in periodic.PERIODIC_JOBS}
    assert names["retention-rows"].func is retention_jobs.purge_rows_periodic
    assert names["retention-orphan-files"].func is retention_jobs.purge_files_periodic
