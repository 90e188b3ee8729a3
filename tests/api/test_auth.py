"""Auth: login, refresh rotation, me, logout, throttling per IP, 401 vs 403.

The failed-login lockout and the equal work for unknown e-mails: test_auth_probing.py.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

import bcrypt
import pytest

from tests import factories
from tests.factories import PASSWORD
from whaticket.extensions import db


def _login(client, prefix, email, password=PASSWORD):
    return client.post(f"{prefix}/auth/login", json={"email": email, "password": password})


def _jrt(resp) -> str | None:
    for header in resp.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if "jrt" in cookie:
            return cookie["jrt"].value
    return None


def _refresh(app, prefix, cookie):
    fresh = app.test_client()  # a client with no cookie jar of its own
    if cookie is not None:
        fresh.set_cookie("jrt", cookie)
    return fresh.post(f"{prefix}/auth/refresh_token")


def test_login_returns_token_user_and_httponly_cookie(client, prefix, admin):
    resp = _login(client, prefix, admin.email)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["token"].count(".") == 2
    user = body["user"]
    assert user["id"] == admin.id and user["companyId"] == admin.company_id
    assert user["profile"] == "admin" and user["super"] is False
    assert user["company"]["id"] == admin.company_id
    assert "dueDate" in user["company"] and isinstance(user["company"]["settings"], list)
    assert user["queues"] == []
    assert "passwordHash" not in user and "password" not in user
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("jrt="))
    assert "HttpOnly" in header and "Path=/" in header
    db.session.refresh(admin)
    assert admin.online is True


def test_login_is_case_insensitive_on_email(client, prefix, admin):
    assert _login(client, prefix, admin.email.upper()).status_code == 200


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_bad_password_is_401_invalid_credentials(client, prefix, admin, password):
    resp = _login(client, prefix, admin.email, password)
    if password == "":
        assert resp.status_code == 400 and resp.get_json()["error"] == "ERR_VALIDATION"
    else:
        assert resp.status_code == 401
        assert resp.get_json() == {"error": "ERR_INVALID_CREDENTIALS"}
    assert _jrt(resp) is None


def test_unknown_email_is_401(client, prefix, app):
    resp = _login(client, prefix, "nobody@example.com")
    assert resp.status_code == 401 and resp.get_json()["error"] == "ERR_INVALID_CREDENTIALS"


def test_login_validation_lists_fields(client, prefix, app):
    resp = client.post(f"{prefix}/auth/login", json={"email": "a@b.c"})
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "ERR_VALIDATION"
    assert "password" in resp.get_json()["fields"]


def test_inactive_company_cannot_log_in(client, prefix, admin):
    admin.company.status = False
    db.session.commit()
    resp = _login(client, prefix, admin.email)
    assert resp.status_code == 401 and resp.get_json()["error"] == "ERR_COMPANY_INACTIVE"


@pytest.mark.parametrize("prefix_", ["$2a$", "$2b$", "$2y$"])
def test_existing_whaticket_bcrypt_hashes_verify(client, prefix, admin, prefix_):
    raw = bcrypt.hashpw(b"legacy-pass", bcrypt.gensalt(4)).decode()
    admin.password_hash = prefix_ + raw[4:]
    db.session.commit()
    assert _login(client, prefix, admin.email, "legacy-pass").status_code == 200
    assert _login(client, prefix, admin.email, "other-pass").status_code == 401


def test_login_throttled_per_ip(client, prefix, app):
    app.config["LOGIN_MAX_PER_IP"] = 3
    codes = [_login(client, prefix, f"u{i}@example.com").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_refresh_rotates_and_old_cookie_is_refused(client, prefix, admin, app):
    first = _jrt(_login(client, prefix, admin.email))
    resp = _refresh(app, prefix, first)
    assert resp.status_code == 200
    assert resp.get_json()["token"] and resp.get_json()["user"]["id"] == admin.id
    second = _jrt(resp)
    assert second and second != first
    reused = _refresh(app, prefix, first)
    assert reused.status_code == 401
    assert reused.get_json() == {"error": "ERR_SESSION_EXPIRED"}


def test_reusing_a_rotated_token_revokes_the_whole_login(client, prefix, admin, app):
    first = _jrt(_login(client, prefix, admin.email))
    second = _jrt(_refresh(app, prefix, first))
    assert _refresh(app, prefix, first).status_code == 401
    # The replay ended that login: the legitimate successor is dead too.
    assert _refresh(app, prefix, second).status_code == 401


def test_grace_window_tolerates_parallel_refreshes(client, prefix, admin, app):
    app.config["REFRESH_REUSE_GRACE_SECONDS"] = 30
    first = _jrt(_login(client, prefix, admin.email))
    a = _refresh(app, prefix, first)
    b = _refresh(app, prefix, first)
    assert a.status_code == 200 and b.status_code == 200
    assert _refresh(app, prefix, _jrt(b)).status_code == 200


def test_refresh_without_or_with_garbage_cookie_is_401(client, prefix, app):
    assert _refresh(app, prefix, None).status_code == 401
    resp = _refresh(app, prefix, "not-a-jwt")
    assert resp.status_code == 401 and resp.get_json()["error"] == "ERR_SESSION_EXPIRED"


def test_access_token_is_not_a_refresh_token(client, prefix, admin, app):
    token = _login(client, prefix, admin.email).get_json()["token"]
    assert _refresh(app, prefix, token).status_code == 401


def test_logout_revokes_the_refresh_cookie(client, prefix, admin, app, auth):
    login = _login(client, prefix, admin.email)
    cookie = _jrt(login)
    token = login.get_json()["token"]
    out = app.test_client()
    out.set_cookie("jrt", cookie)
    resp = out.delete(f"{prefix}/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    assert any(h.startswith("jrt=;") for h in resp.headers.getlist("Set-Cookie"))
    assert _refresh(app, prefix, cookie).status_code == 401
    db.session.refresh(admin)
    assert admin.online is False


def test_logout_needs_a_token(client, prefix, app):
    assert client.delete(f"{prefix}/auth/logout").status_code == 401


def test_password_change_revokes_every_session(client, prefix, admin, app, auth):
    cookie = _jrt(_login(client, prefix, admin.email))
    headers = auth(admin)
    resp = client.put(
        f"{prefix}/users/{admin.id}", json={"password": "new-secret"}, headers=headers
    )
    assert resp.status_code == 200
    assert _refresh(app, prefix, cookie).status_code == 401
    # The access token minted before the change is stale too: 403 makes the SPA refresh.
    assert client.get(f"{prefix}/auth/me", headers=headers).status_code == 403
    assert _login(client, prefix, admin.email, "new-secret").status_code == 200


def test_me(client, prefix, admin, auth):
    resp = client.get(f"{prefix}/auth/me", headers=auth(admin))
    assert resp.status_code == 200
    assert resp.get_json() == {
        "id": admin.id,
        "name": admin.name,
        "profile": "admin",
        "super": False,
        "companyId": admin.company_id,
    }


def test_missing_token_is_401_and_bad_token_is_403(client, prefix, app):
    resp = client.get(f"{prefix}/auth/me")
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}
    resp = client.get(f"{prefix}/auth/me", headers={"Authorization": "Bearer garbage"})
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_INVALID_TOKEN"}


def test_expired_access_token_is_403(client, prefix, admin, app):
    from datetime import timedelta

    from flask_jwt_extended import create_access_token

    token = create_access_token(identity=admin, expires_delta=timedelta(seconds=-10))
    resp = client.get(f"{prefix}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403


def test_deleted_user_token_is_refused(client, prefix, app, auth, company):
    user = factories.UserFactory(company=company)
    headers = auth(user)
    db.session.delete(user)
    db.session.commit()
    assert client.get(f"{prefix}/auth/me", headers=headers).status_code == 403


def test_login_settings_hide_credentials_from_agents(client, prefix, agent, admin):
    from whaticket.services.team import settings as settings_service

    settings_service.update_setting(agent.company_id, "asaas", "real-asaas-token")
    db.session.commit()

    def asaas(user):
        body = _login(client, prefix, user.email).get_json()
        return {s["key"]: s["value"] for s in body["user"]["company"]["settings"]}["asaas"]

    assert asaas(agent) == "********"
    assert asaas(admin) == "real-asaas-token"
