"""Password reset: forgot-password (one answer for every e-mail), mailed single-use token,
reset-password, and the SaaS page's path-based forgot-password giving the same answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.stubs import smtp
from whaticket.extensions import db
from whaticket.models import PasswordResetToken, RefreshToken, User

smtp_capture = smtp.smtp_capture

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TOKEN_RE = re.compile(r"token=([A-Za-z0-9_\-%]+)")


@pytest.fixture
def mail(app, smtp_capture):
    """The app mails through the local capture server, with the clock frozen at T0."""
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_capture.port,
        SMTP_SECURITY="none",
        MAIL_FROM="Help desk <no-reply@example.com>",
        FRONTEND_URL="https://app.example.com",
        FROZEN_NOW=T0,
    )
    return smtp_capture


def _forgot(client, prefix, email, ip="10.0.0.1"):
    return client.post(
        f"{prefix}/auth/forgot-password", json={"email": email}, environ_base={"REMOTE_ADDR": ip}
    )


def _reset(client, prefix, token, password, ip="10.0.0.1"):
    return client.post(
        f"{prefix}/auth/reset-password",
        json={"token": token, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def _login(client, prefix, email, password):
    return client.post(f"{prefix}/auth/login", json={"email": email, "password": password})


def _token_of(captured) -> str:
    from urllib.parse import unquote

    match = TOKEN_RE.search(captured.text())
    assert match, captured.text()
    return unquote(match.group(1))


def test_the_answer_is_identical_for_known_and_unknown_emails(client, prefix, admin, mail):
    known = _forgot(client, prefix, admin.email)
    unknown = _forgot(client, prefix, "nobody-here@example.com")

    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert known.headers.get("Content-Type") == unknown.headers.get("Content-Type")
    # Only the real account got a mail.
    assert [m.rcpt_to for m in mail.mails] == [[admin.email]]
    assert mail.mails[0].message["From"] == "Help desk <no-reply@example.com>"


def test_the_mailed_token_resets_the_password_once(client, prefix, admin, auth, mail):
    old_headers = auth(admin)
    version_before = admin.token_version
    _forgot(client, prefix, admin.email.upper())  # e-mails match case-insensitively
    token = _token_of(mail.mails[0])
    assert "https://app.example.com/reset-password?token=" in mail.mails[0].text()

    first = _reset(client, prefix, token, "n3w-secret")
    assert first.status_code == 200, first.get_json()
    second = _reset(client, prefix, token, "another-one")
    assert second.status_code == 400
    assert second.get_json() == {"error": "ERR_INVALID_RESET_TOKEN"}

    assert _login(client, prefix, admin.email, "n3w-secret").status_code == 200
    assert _login(client, prefix, admin.email, "another-one").status_code == 401
    db.session.expire_all()
    assert db.session.get(User, admin.id).token_version == version_before + 1
    # Access tokens issued with the old password stop working at once (403 makes the SPA
    # try a refresh, which then fails with 401 and logs it out).
    assert client.get(f"{prefix}/auth/me", headers=old_headers).status_code == 403


def test_reset_revokes_refresh_tokens(client, prefix, admin, mail):
    assert _login(client, prefix, admin.email, factories.PASSWORD).status_code == 200
    _forgot(client, prefix, admin.email)
    assert _reset(client, prefix, _token_of(mail.mails[0]), "n3w-secret").status_code == 200

    # The refresh cookie of the session opened with the old password no longer works.
    assert client.post(f"{prefix}/auth/refresh_token").status_code == 401

    live = db.session.scalars(
        sa.select(RefreshToken).where(
            RefreshToken.user_id == admin.id, RefreshToken.revoked_at.is_(None)
        )
    ).all()
    # Only the login above existed; the reset revoked it (the new login is after).
    assert live == []


def test_the_token_does_not_work_after_an_hour(app, client, prefix, admin, mail):
    _forgot(client, prefix, admin.email)
    token = _token_of(mail.mails[0])

    app.config["FROZEN_NOW"] = T0 + timedelta(minutes=60, seconds=1)
    resp = _reset(client, prefix, token, "n3w-secret")

    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_INVALID_RESET_TOKEN"
    assert _login(client, prefix, admin.email, factories.PASSWORD).status_code == 200


def test_the_token_works_just_before_the_hour(app, client, prefix, admin, mail):
    _forgot(client, prefix, admin.email)
    token = _token_of(mail.mails[0])

    app.config["FROZEN_NOW"] = T0 + timedelta(minutes=59)
    assert _reset(client, prefix, token, "n3w-secret").status_code == 200


def test_a_new_request_voids_the_previous_token(client, prefix, admin, mail):
    _forgot(client, prefix, admin.email)
    _forgot(client, prefix, admin.email)
    first, second = (_token_of(m) for m in mail.mails)
    assert first != second

    assert _reset(client, prefix, first, "n3w-secret").status_code == 400
    assert _reset(client, prefix, second, "n3w-secret").status_code == 200


def test_only_a_hash_of_the_token_is_stored(client, prefix, admin, mail):
    _forgot(client, prefix, admin.email)
    token = _token_of(mail.mails[0])

    rows = db.session.scalars(sa.select(PasswordResetToken)).all()
    assert len(rows) == 1
    assert rows[0].token_hash != token
    assert token not in rows[0].token_hash
    assert rows[0].expires_at == T0 + timedelta(hours=1)


def test_a_token_resets_only_its_own_user(client, prefix, admin, other_admin, mail):
    _forgot(client, prefix, other_admin.email)
    assert _reset(client, prefix, _token_of(mail.mails[0]), "n3w-secret").status_code == 200

    assert _login(client, prefix, other_admin.email, "n3w-secret").status_code == 200
    assert _login(client, prefix, admin.email, factories.PASSWORD).status_code == 200
    assert _login(client, prefix, admin.email, "n3w-secret").status_code == 401


def test_an_unknown_token_is_refused(client, prefix, admin, mail):
    resp = _reset(client, prefix, "x" * 43, "n3w-secret")
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "ERR_INVALID_RESET_TOKEN"}


def test_bad_input_is_refused_and_the_token_kept(client, prefix, admin, mail):
    assert client.post(f"{prefix}/auth/forgot-password", json={"email": "no"}).status_code == 400
    assert client.post(f"{prefix}/auth/forgot-password", json={}).status_code == 400
    assert mail.mails == []

    _forgot(client, prefix, admin.email)
    token = _token_of(mail.mails[0])
    short = _reset(client, prefix, token, "123")
    assert short.status_code == 400
    assert "password" in short.get_json()["fields"]
    assert client.post(f"{prefix}/auth/reset-password", json={"token": token}).status_code == 400
    # The refused attempts did not use the token up.
    assert _reset(client, prefix, token, "n3w-secret").status_code == 200


def test_too_many_requests_from_one_ip_are_429(app, client, prefix, admin, mail):
    app.config["PASSWORD_RESET_MAX_PER_IP"] = 3
    codes = [_forgot(client, prefix, f"u{i}@example.com").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = _forgot(client, prefix, admin.email)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert mail.mails == []
    # Another client is not affected.
    assert _forgot(client, prefix, admin.email, ip="10.0.0.2").status_code == 200
    assert len(mail.mails) == 1


def test_one_email_gets_a_bounded_number_of_mails(app, client, prefix, admin, mail):
    app.config["PASSWORD_RESET_MAX_PER_EMAIL"] = 2
    answers = [_forgot(client, prefix, admin.email, ip=f"10.0.1.{i}") for i in range(4)]

    assert {r.status_code for r in answers} == {200}
    assert len({r.get_data() for r in answers}) == 1
    assert len(mail.mails) == 2


def test_an_inactive_company_gets_no_mail(client, prefix, company, admin, mail):
    company.status = False
    db.session.commit()
    assert _forgot(client, prefix, admin.email).status_code == 200
    assert mail.mails == []


def test_a_mail_server_that_is_down_does_not_change_the_answer(app, client, prefix, admin):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_SECURITY="none")
    known = _forgot(client, prefix, admin.email)
    unknown = _forgot(client, prefix, "nobody-here@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()


def test_the_reset_logs_out_open_sessions(client, prefix, admin, mail, socket_client):
    sock = socket_client(admin)
    sock.get_received()
    _forgot(client, prefix, admin.email)
    assert _reset(client, prefix, _token_of(mail.mails[0]), "n3w-secret").status_code == 200

    # The tab hears that it must log out, and then its socket is closed (sock.queue: what
    # the test client received before the server disconnected it).
    events = [e for e in sock.queue if e["name"] == f"company-{admin.company_id}-auth"]
    assert events and events[-1]["args"][0]["user"]["id"] == admin.id
    assert not sock.is_connected()


def test_the_saas_page_path_answers_like_the_new_endpoint(client, prefix, admin, mail):
    # The path-based twins the SaaS page calls are covered in
    # tests/contract/test_forgot_password.py; here: one answer for both forms.
    old = client.post(f"{prefix}/forgetpassword/{admin.email}")
    new = _forgot(client, prefix, "nobody-here@example.com", ip="10.0.0.9")

    assert old.status_code == new.status_code == 200
    assert old.get_data() == new.get_data()
    assert [m.rcpt_to for m in mail.mails] == [[admin.email]]


def test_expired_and_used_tokens_are_purged(app, client, prefix, admin, other_admin, mail):
    from whaticket.jobs.users import purge_password_reset_tokens

    _forgot(client, prefix, admin.email)
    _forgot(client, prefix, other_admin.email)
    assert _reset(client, prefix, _token_of(mail.mails[0]), "n3w-secret").status_code == 200
    app.config["FROZEN_NOW"] = T0 + timedelta(hours=2)
    assert purge_password_reset_tokens() == 0  # nothing is a day past yet
    app.config["FROZEN_NOW"] = T0 + timedelta(days=1, hours=2)
    assert purge_password_reset_tokens() == 2
