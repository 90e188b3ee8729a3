"""Access tokens die with their session: after logout, a replayed refresh token, a
deactivated company; a token that never expires is refused. Refusals answer as any bad
token does: 403 ERR_INVALID_TOKEN (the SPA refreshes, the refresh answers 401, it logs out)."""

from __future__ import annotations

from http.cookies import SimpleCookie

import jwt as pyjwt
from flask_jwt_extended import create_access_token, decode_token

from tests.factories import PASSWORD
from whaticket.extensions import db

INVALID = {"error": "ERR_INVALID_TOKEN"}


def _login(app, prefix, user) -> tuple[str, str]:
    """A login of its own (its own cookie jar): its access token and its refresh cookie."""
    resp = app.test_client().post(
        f"{prefix}/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert resp.status_code == 200, resp.get_json()
    cookie = next(
        SimpleCookie(h)["jrt"].value
        for h in resp.headers.getlist("Set-Cookie")
        if h.startswith("jrt=")
    )
    return resp.get_json()["token"], cookie


def _me(app, prefix, token: str):
    return app.test_client().get(f"{prefix}/auth/me", headers={"Authorization": f"Bearer {token}"})


def _logout(app, prefix, token: str, cookie: str | None = None):
    out = app.test_client()
    if cookie is not None:
        out.set_cookie("jrt", cookie)
    return out.delete(f"{prefix}/auth/logout", headers={"Authorization": f"Bearer {token}"})


def _refresh(app, prefix, cookie: str):
    fresh = app.test_client()
    fresh.set_cookie("jrt", cookie)
    return fresh.post(f"{prefix}/auth/refresh_token")


def test_the_access_token_is_refused_after_logout(app, prefix, admin):
    token, cookie = _login(app, prefix, admin)
    assert _me(app, prefix, token).status_code == 200
    assert _logout(app, prefix, token, cookie).status_code == 200

    resp = _me(app, prefix, token)
    assert resp.status_code == 403 and resp.get_json() == INVALID
    # Logging out again with it is refused the same way.
    assert _logout(app, prefix, token).status_code == 403


def test_logout_without_the_cookie_ends_the_login_of_the_token(app, prefix, admin):
    token, cookie = _login(app, prefix, admin)
    assert _logout(app, prefix, token).status_code == 200
    assert _me(app, prefix, token).status_code == 403
    # Its refresh cookie belonged to the same login: the SPA's refresh is 401, it logs out.
    resp = _refresh(app, prefix, cookie)
    assert resp.status_code == 401 and resp.get_json() == {"error": "ERR_SESSION_EXPIRED"}


def test_logout_leaves_the_users_other_logins_alone(app, prefix, admin):
    phone, _ = _login(app, prefix, admin)
    laptop, laptop_cookie = _login(app, prefix, admin)
    assert _logout(app, prefix, phone).status_code == 200
    assert _me(app, prefix, phone).status_code == 403
    assert _me(app, prefix, laptop).status_code == 200
    assert _refresh(app, prefix, laptop_cookie).status_code == 200


def test_a_refreshed_token_dies_with_its_login(app, prefix, admin):
    token, cookie = _login(app, prefix, admin)
    refreshed = _refresh(app, prefix, cookie).get_json()["token"]
    assert _logout(app, prefix, refreshed).status_code == 200
    # The first token of that login is refused too: the login is what ended.
    assert _me(app, prefix, token).status_code == 403


def test_logout_with_a_token_of_no_login_ends_every_session(app, prefix, admin, auth):
    # Only a login's tokens name it; one that does not is revoked with all the user's.
    token, _ = _login(app, prefix, admin)
    headers = auth(admin)
    assert "fam" not in decode_token(headers["Authorization"].split()[1])
    assert app.test_client().delete(f"{prefix}/auth/logout", headers=headers).status_code == 200
    assert app.test_client().get(f"{prefix}/auth/me", headers=headers).status_code == 403
    assert _me(app, prefix, token).status_code == 403


def test_a_replayed_refresh_token_kills_the_access_tokens_of_its_login(app, prefix, admin):
    token, cookie = _login(app, prefix, admin)
    assert _refresh(app, prefix, cookie).status_code == 200
    assert _refresh(app, prefix, cookie).status_code == 401  # replayed: the login is revoked
    assert _me(app, prefix, token).status_code == 403


def test_a_token_without_expiry_is_refused(app, prefix, admin):
    forever = create_access_token(identity=admin, expires_delta=False)
    assert "exp" not in pyjwt.decode(forever, options={"verify_signature": False})
    resp = _me(app, prefix, forever)
    assert resp.status_code == 403 and resp.get_json() == INVALID


def test_a_deactivated_companys_tokens_are_refused(app, prefix, admin):
    token, cookie = _login(app, prefix, admin)
    admin.company.status = False
    db.session.commit()
    resp = _me(app, prefix, token)
    assert resp.status_code == 403 and resp.get_json() == INVALID
    # The SPA's refresh then answers 401, which logs it out.
    assert _refresh(app, prefix, cookie).status_code == 401
