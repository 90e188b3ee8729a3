"""Forgot-password screen: `/forgetpassword/<email>` and `/resetpasswords/<email>/<code>/<pw>`
work for the unchanged page, without the reference's flaws (enumeration, reusable or
guessable codes, secrets in logs)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests import factories
from tests.stubs import smtp
from whaticket.extensions import db
from whaticket.models import PasswordResetToken, RefreshToken, User

smtp_capture = smtp.smtp_capture

PAGE = "src/pages/ForgetPassWord/index.js"
T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CODE_RE = re.compile(r"Código de verificação: (\d+)")
NEW = "N0vaSenha-forte"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def mail(app, smtp_capture):
    """The app mails through the local capture server, with the clock frozen at T0."""
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_capture.port,
        SMTP_SECURITY="none",
        FRONTEND_URL="https://app.example.com",
        FROZEN_NOW=T0,
    )
    return smtp_capture


def _send_email(client, prefix, email, ip="10.0.0.1"):
    """What handleSendEmail posts."""
    return client.post(f"{prefix}/forgetpassword/{email}", environ_base={"REMOTE_ADDR": ip})


def _reset(client, prefix, email, code, password=NEW, ip="10.0.0.1"):
    """What handleResetPassword posts (nothing is encoded, as the page builds it)."""
    return client.post(
        f"{prefix}/resetpasswords/{email}/{code}/{password}", environ_base={"REMOTE_ADDR": ip}
    )


def _code(captured) -> str:
    match = CODE_RE.search(captured.text())
    assert match, captured.text()
    return match.group(1)


def _login(client, prefix, email, password):
    return client.post(f"{prefix}/auth/login", json={"email": email, "password": password})


def _row(user_id: int) -> PasswordResetToken:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(PasswordResetToken).where(PasswordResetToken.user_id == user_id)
    ).one()


def _wrong(code: str) -> str:
    """Another code of the same shape."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


# -- sending the e-mail ------------------------------------------------------------


def test_send_email_answers_the_same_for_every_email(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js shows "Email não encontrado" when the answer's
    `status` is 404: never, so the page cannot tell which e-mails have accounts."""
    known = _send_email(client, prefix, admin.email)
    unknown = _send_email(client, prefix, "nobody-here@example.com")

    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert known.get_json().get("status") != 404
    assert set(known.get_json()) == {"message"}
    # Only the real account got a mail, carrying a short code and the link.
    assert [m.rcpt_to for m in mail.mails] == [[admin.email]]
    assert re.fullmatch(r"\d{8}", _code(mail.mails[0]))
    assert "https://app.example.com/reset-password?token=" in mail.mails[0].text()


def test_send_email_is_the_same_work_as_the_new_endpoint(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: the same answer as POST /auth/forgot-password."""
    old = _send_email(client, prefix, admin.email)
    new = client.post(f"{prefix}/auth/forgot-password", json={"email": "x@example.com"})
    assert old.get_data() == new.get_data()


def test_send_email_is_rate_limited_per_ip_and_per_email(app, client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: a flood gets 429 per IP; an e-mail gets a
    bounded number of mails while the answer stays the same."""
    app.config.update(PASSWORD_RESET_MAX_PER_IP=3, PASSWORD_RESET_MAX_PER_EMAIL=2)
    codes = [_send_email(client, prefix, f"u{i}@example.com").status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = _send_email(client, prefix, admin.email)
    assert limited.status_code == 429
    assert limited.get_json() == {"error": "ERR_TOO_MANY_ATTEMPTS"}

    answers = [_send_email(client, prefix, admin.email, ip=f"10.0.1.{i}") for i in range(4)]
    assert {r.status_code for r in answers} == {200}
    assert len({r.get_data() for r in answers}) == 1
    assert len(mail.mails) == 2


def test_send_email_refuses_a_malformed_email(client, prefix, mail):
    """src/pages/ForgetPassWord/index.js validates the e-mail; a bad one is 400, not 500."""
    resp = _send_email(client, prefix, "not-an-email")
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION"
    assert mail.mails == []


# -- resetting with the code ----------------------------------------------------------


def test_the_code_resets_the_password_and_ends_every_session(
    client, prefix, admin, auth, mail, socket_client
):
    """src/pages/ForgetPassWord/index.js toasts "Senha redefinida com sucesso." on a 2xx and
    goes to /login; every session of the old password ends."""
    assert _login(client, prefix, admin.email, factories.PASSWORD).status_code == 200
    old_headers = auth(admin)
    version = admin.token_version
    sock = socket_client(admin)
    sock.get_received()
    _send_email(client, prefix, admin.email)

    resp = _reset(client, prefix, admin.email, _code(mail.mails[0]))
    assert resp.status_code == 200, resp.get_json()
    assert set(resp.get_json()) == {"message"}

    assert _login(client, prefix, admin.email, NEW).status_code == 200
    assert _login(client, prefix, admin.email, factories.PASSWORD).status_code == 401
    db.session.expire_all()
    assert db.session.get(User, admin.id).token_version == version + 1
    assert client.get(f"{prefix}/auth/me", headers=old_headers).status_code == 403
    revoked = db.session.scalars(
        sa.select(RefreshToken).where(RefreshToken.user_id == admin.id)
    ).all()
    # The login before the reset is revoked; only the one after it is live.
    assert sum(1 for r in revoked if r.revoked_at is None) == 1
    # The tab hears that it must log out, and then its socket is closed (sock.queue: what
    # the test client received before the server disconnected it).
    events = [e for e in sock.queue if e["name"] == f"company-{admin.company_id}-auth"]
    assert events and events[-1]["args"][0]["user"]["id"] == admin.id
    assert not sock.is_connected()


def test_the_code_works_once(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: a used code is refused (400, no toast)."""
    _send_email(client, prefix, admin.email)
    code = _code(mail.mails[0])
    assert _reset(client, prefix, admin.email, code).status_code == 200

    again = _reset(client, prefix, admin.email, code, "Outra-Senh4")
    assert again.status_code == 400
    assert again.get_json() == {"error": "ERR_INVALID_RESET_TOKEN"}
    assert _login(client, prefix, admin.email, NEW).status_code == 200


def test_the_code_expires_with_the_token(app, client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: a code older than PASSWORD_RESET_TOKEN_MINUTES fails."""
    _send_email(client, prefix, admin.email)
    code = _code(mail.mails[0])
    assert _row(admin.id).expires_at == T0 + timedelta(minutes=60)

    app.config["FROZEN_NOW"] = T0 + timedelta(minutes=60, seconds=1)
    assert _reset(client, prefix, admin.email, code).status_code == 400
    app.config["FROZEN_NOW"] = T0 + timedelta(minutes=59)
    assert _reset(client, prefix, admin.email, code).status_code == 200


def test_the_code_dies_after_five_wrong_tries(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js lets anyone type codes: each try is counted
    before it is checked, and the fifth wrong one kills the code."""
    _send_email(client, prefix, admin.email)
    code = _code(mail.mails[0])
    for expected in range(1, 6):
        resp = _reset(client, prefix, admin.email, _wrong(code), ip=f"10.0.2.{expected}")
        assert resp.status_code == 400
        assert resp.get_json() == {"error": "ERR_INVALID_RESET_TOKEN"}
        assert _row(admin.id).code_attempts == expected

    assert _reset(client, prefix, admin.email, code).status_code == 400
    assert _row(admin.id).code_attempts == 5
    assert _login(client, prefix, admin.email, factories.PASSWORD).status_code == 200


def test_four_wrong_tries_leave_the_code_usable(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: a user who mistypes a few times still gets in."""
    _send_email(client, prefix, admin.email)
    code = _code(mail.mails[0])
    for _ in range(4):
        assert _reset(client, prefix, admin.email, _wrong(code)).status_code == 400
    assert _reset(client, prefix, admin.email, code).status_code == 200


def test_a_new_mail_voids_the_previous_code(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: "Enviar Email" twice; only the last code works."""
    _send_email(client, prefix, admin.email)
    _send_email(client, prefix, admin.email)
    first, second = (_code(m) for m in mail.mails)

    assert first != second
    assert _reset(client, prefix, admin.email, first).status_code == 400
    assert _reset(client, prefix, admin.email, second).status_code == 200


def test_a_code_belongs_to_its_email(client, prefix, admin, other_admin, mail):
    """src/pages/ForgetPassWord/index.js sends e-mail and code together: they must match."""
    _send_email(client, prefix, other_admin.email)
    code = _code(mail.mails[0])

    wrong_user = _reset(client, prefix, admin.email, code)
    unknown = _reset(client, prefix, "nobody-here@example.com", code)
    assert wrong_user.status_code == unknown.status_code == 400
    assert wrong_user.get_data() == unknown.get_data()
    assert _login(client, prefix, admin.email, factories.PASSWORD).status_code == 200
    assert _reset(client, prefix, other_admin.email, code).status_code == 200


def test_only_a_keyed_hash_of_the_code_is_stored(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: a leaked database cannot reset a password."""
    _send_email(client, prefix, admin.email)
    code = _code(mail.mails[0])
    row = _row(admin.id)

    stored = " ".join(str(v) for v in (row.token_hash, row.code_hash))
    assert code not in stored
    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()


def test_the_password_follows_the_users_rule_without_using_a_try(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: a refused password is 400 ERR_VALIDATION and the
    code stays usable."""
    _send_email(client, prefix, admin.email)
    code = _code(mail.mails[0])

    short = _reset(client, prefix, admin.email, code, "1234")
    assert short.status_code == 400
    assert short.get_json()["error"] == "ERR_VALIDATION"
    assert "password" in short.get_json()["fields"]
    assert _row(admin.id).code_attempts == 0
    assert _reset(client, prefix, admin.email, code).status_code == 200


@pytest.mark.parametrize("password", ["Ab1/with/slashes", "Ab1?x=1&y=2", "Ab1 espaço%C3%A7"])
def test_a_password_the_page_does_not_encode_arrives_whole(client, prefix, admin, mail, password):
    """src/pages/ForgetPassWord/index.js puts the new password in the path unencoded:
    slashes and a "?" in it still set exactly what the user typed."""
    _send_email(client, prefix, admin.email)
    assert _reset(client, prefix, admin.email, _code(mail.mails[0]), password).status_code == 200

    typed = password.replace("%C3%A7", "ç")  # what the browser's percent-encoding meant
    assert _login(client, prefix, admin.email, typed).status_code == 200


def test_resetting_tries_are_rate_limited_per_ip(app, client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js: one client cannot spray codes over many e-mails."""
    app.config["LOGIN_MAX_PER_IP"] = 3
    codes = [_reset(client, prefix, f"u{i}@example.com", "12345678").status_code for i in range(4)]
    assert codes == [400, 400, 400, 429]


def test_the_link_of_the_same_mail_still_works(client, prefix, admin, mail):
    """src/pages/ForgetPassWord/index.js gets a code; the same mail's link (POST
    /auth/reset-password) works too, and using either kills the other."""
    _send_email(client, prefix, admin.email)
    token = unquote(re.search(r"token=([A-Za-z0-9_\-%]+)", mail.mails[0].text()).group(1))
    resp = client.post(f"{prefix}/auth/reset-password", json={"token": token, "password": NEW})
    assert resp.status_code == 200
    # The code of that mail died with it.
    assert (
        _reset(client, prefix, admin.email, _code(mail.mails[0]), "Outra-Senh4").status_code == 400
    )


# -- no log line holds the path -------------------------------------------------------


SECRETS = ("leak-me@example.com", "87654321", "S3gredo-do-Log")


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


def test_app_log_records_are_redacted(app, caplog):
    """src/pages/ForgetPassWord/index.js puts e-mail, code and password in the path: a
    logger or error handler that prints it keeps nothing of them."""
    email, code, password = SECRETS
    path = f"/resetpasswords/{email}/{code}/{password}"
    caplog.set_level(logging.INFO)
    app.logger.error("Exception on %s [POST]", path)
    logging.getLogger("gunicorn.access").info(
        '%(h)s "%(r)s" %(s)s', {"h": "1.2.3.4", "r": f"POST {path} HTTP/1.1", "s": "200"}
    )
    try:
        raise RuntimeError(f"failed on {path}")
    except RuntimeError:
        logging.getLogger("whaticket.test").exception("while serving /forgetpassword/%s", email)

    text = caplog.text
    _assert_clean(text)
    assert "/resetpasswords/[redacted]" in text
    assert '"POST /resetpasswords/[redacted] HTTP/1.1" 200' in text
    assert "/forgetpassword/[redacted]" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str) -> int:
    req = urllib.request.Request(url, method="POST", data=b"")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _requests(base: str) -> list[int]:
    """The page's two calls (with an unknown e-mail: no mail is written to the log)."""
    email, code, password = SECRETS
    return [
        _post(f"{base}/forgetpassword/{email}"),
        _post(f"{base}/resetpasswords/{email}/{code}/{password}"),
    ]


@pytest.fixture
def werkzeug_server(app) -> Iterator[str]:
    """The app behind werkzeug's server (what `python wsgi.py` runs in threading mode)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{app.config['API_PREFIX']}"
    server.shutdown()
    thread.join(timeout=10)


def test_werkzeug_access_log_is_redacted(werkzeug_server, caplog):
    """src/pages/ForgetPassWord/index.js: werkzeug's access log keeps the method and status,
    not the e-mail, code or password."""
    caplog.set_level(logging.INFO, logger="werkzeug")
    assert _requests(werkzeug_server) == [200, 400]

    # werkzeug colours 4xx lines with ANSI escapes around the request line.
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    access = [ansi.sub("", r.getMessage()) for r in caplog.records if r.name == "werkzeug"]
    assert any('forgetpassword/[redacted] HTTP/1.1" 200' in m for m in access), access
    assert any('resetpasswords/[redacted] HTTP/1.1" 400' in m for m in access), access
    _assert_clean(caplog.text)


def _wait_for(port: int, proc: subprocess.Popen) -> None:
    """Until the server accepts connections (or the process died)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)


def _wait_for_text(log: Path, needle: str, proc: subprocess.Popen) -> None:
    """Until `needle` is in the log file (or the process died)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if needle in log.read_text():
            return
        time.sleep(0.1)


def test_dev_server_access_log_is_redacted(tmp_path):
    """src/pages/ForgetPassWord/index.js: `python wsgi.py` (eventlet, ACCESS_LOG on) logs
    each request without the e-mail, code or password of these paths."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEST_", "DATABASE_", "REDIS_", "SOCKETIO_", "JOBS_", "SMTP_"))
        and k not in ("APP_ENV", "BACKEND_URL", "API_PREFIX")
    }
    port = _free_port()
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        HOST="127.0.0.1",
        PORT=str(port),
        ACCESS_LOG="true",
        API_PREFIX="",
        PYTHONUNBUFFERED="1",
    )
    setup = (
        "from whaticket import create_app; from whaticket.extensions import db; "
        "app = create_app(); app.app_context().push(); db.create_all()"
    )
    subprocess.run([sys.executable, "-c", setup], cwd=REPO, env=env, check=True, timeout=120)
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "wsgi.py"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            _wait_for(port, proc)
            assert proc.poll() is None, log.read_text()
            assert _requests(f"http://127.0.0.1:{port}") == [200, 400]
            # eventlet writes the access line after the answer: wait for the last one.
            _wait_for_text(log, "/resetpasswords/", proc)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    assert '"POST /forgetpassword/[redacted] HTTP/1.1" 200' in text, text
    assert '"POST /resetpasswords/[redacted] HTTP/1.1" 400' in text, text
    _assert_clean(text)
