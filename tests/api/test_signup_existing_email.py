"""Public sign-up with an e-mail that already has an account: the answer is a sign-up's
(same status and shape, same password hashing), nothing is kept, and the account's owner
is told by mail. The SaaS page reads the status only (docs/frontend-contract.md 3.2)."""

from __future__ import annotations

import bcrypt
import pytest
import sqlalchemy as sa

from tests import factories
from tests.api.test_companies import COMPANY_KEYS
from tests.api.test_signup import _body, _signup
from tests.factories import PASSWORD
from tests.stubs import smtp
from whaticket.extensions import db
from whaticket.models import Company, Setting, User

smtp_capture = smtp.smtp_capture


@pytest.fixture
def mail(app, smtp_capture):
    """The app mails through the local capture server."""
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_capture.port,
        SMTP_SECURITY="none",
        FRONTEND_URL="https://app.example.com",
    )
    return smtp_capture


@pytest.fixture
def plan(app):
    plan = factories.PlanFactory(name="Básico")
    db.session.commit()
    return plan


@pytest.fixture
def hashings(monkeypatch) -> list[bytes]:
    """Every password bcrypt hashes (the spy calls through)."""
    seen: list[bytes] = []
    real = bcrypt.hashpw

    def spy(password: bytes, salt: bytes) -> bytes:
        seen.append(password)
        return real(password, salt)

    monkeypatch.setattr(bcrypt, "hashpw", spy)
    return seen


def _counts() -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Company, User, Setting)
    )


def test_a_taken_email_answers_like_a_signup_keeps_nothing_and_tells_the_owner(
    client, prefix, admin, plan, mail
):
    before = _counts()
    body = _body(plan.id, email=admin.email.upper(), password="other-secret")
    resp = _signup(client, prefix, body)

    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()
    assert set(data) == COMPANY_KEYS
    assert data["name"] == "Padaria Pão Quente" and data["email"] == admin.email.upper()
    assert data["status"] is True and data["planId"] == plan.id
    assert isinstance(data["id"], int)
    assert _counts() == before
    # The account is untouched: its password still works, the one typed here does not.
    login = f"{prefix}/auth/login"
    assert client.post(login, json={"email": admin.email, "password": PASSWORD}).status_code == 200
    wrong = client.post(login, json={"email": admin.email, "password": "other-secret"})
    assert wrong.status_code == 401

    [notice] = mail.mails
    assert notice.rcpt_to == [admin.email]
    assert "https://app.example.com/login" in notice.text()
    assert "other-secret" not in notice.text()


def test_a_taken_email_hashes_the_password_like_a_real_signup(
    client, prefix, admin, plan, mail, hashings
):
    fresh = _signup(client, prefix, _body(plan.id, name="Loja Nova", email="nova@x.example"))
    assert fresh.status_code == 200 and len(hashings) == 1
    taken = _signup(client, prefix, _body(plan.id, email=admin.email))
    assert taken.status_code == 200
    assert len(hashings) == 2
    assert set(taken.get_json()) == set(fresh.get_json())


def test_a_honeypot_hit_with_a_taken_email_mails_nobody(client, prefix, admin, plan, mail):
    before = _counts()
    resp = _signup(client, prefix, _body(plan.id, email=admin.email, website="spam"))
    assert resp.status_code == 200 and set(resp.get_json()) == COMPANY_KEYS
    assert _counts() == before
    assert mail.mails == []


def test_notices_per_email_are_limited(client, prefix, app, admin, plan, mail):
    app.config["SIGNUP_NOTICES_PER_EMAIL"] = 1
    ips = ("203.0.113.1", "203.0.113.2", "203.0.113.3")
    codes = [
        _signup(client, prefix, _body(plan.id, email=admin.email), ip).status_code for ip in ips
    ]
    assert codes == [200, 200, 200]
    assert [m.rcpt_to for m in mail.mails] == [[admin.email]]


def test_taken_email_signups_count_towards_the_ip_limit(client, prefix, app, admin, plan, mail):
    app.config["SIGNUP_MAX_PER_IP"] = 2
    assert _signup(client, prefix, _body(plan.id, email=admin.email)).status_code == 200
    assert _signup(client, prefix, _body(plan.id, email=admin.email)).status_code == 200
    assert _signup(client, prefix, _body(plan.id, email=admin.email)).status_code == 429
