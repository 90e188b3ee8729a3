"""Sockets end with their session: a logout, a new password, a deleted user and a
deactivated or deleted company disconnect them (the others stay), and a socket whose
session ended some other way joins nothing more."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa
from flask_jwt_extended import create_access_token

from tests import factories
from tests.factories import PASSWORD
from whaticket.extensions import db
from whaticket.models import RefreshToken, User


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


def _logout(app, prefix, token: str, cookie: str | None = None):
    out = app.test_client()
    if cookie is not None:
        out.set_cookie("jrt", cookie)
    return out.delete(f"{prefix}/auth/logout", headers={"Authorization": f"Bearer {token}"})


def test_logout_disconnects_the_sockets_of_that_login_only(app, prefix, admin, socket_client):
    first_token, first_cookie = _login(app, prefix, admin)
    second_token, _ = _login(app, prefix, admin)
    first, second = socket_client(token=first_token), socket_client(token=second_token)
    assert first.is_connected() and second.is_connected()

    assert _logout(app, prefix, first_token, first_cookie).status_code == 200

    assert not first.is_connected()
    # The same user's other login (another device) goes on.
    assert second.is_connected()
    assert second.emit("joinTickets", "open", callback=True) == {"ok": True}


def test_logout_without_the_cookie_still_disconnects_that_login(app, prefix, admin, socket_client):
    token, _cookie = _login(app, prefix, admin)
    sock = socket_client(token=token)
    assert _logout(app, prefix, token).status_code == 200
    assert not sock.is_connected()


def test_logout_with_a_token_of_no_login_disconnects_every_socket_of_the_user(
    app, prefix, admin, agent, socket_client, auth
):
    # A token that names no login can only be revoked with all of the user's.
    mine, colleague = socket_client(admin), socket_client(agent)
    resp = app.test_client().delete(f"{prefix}/auth/logout", headers=auth(admin))
    assert resp.status_code == 200
    assert not mine.is_connected()
    assert colleague.is_connected()


def test_a_password_change_disconnects_every_socket_of_the_user(
    client, prefix, admin, agent, socket_client, auth
):
    token, _ = _login(client.application, prefix, admin)
    by_login, by_token, colleague = (
        socket_client(token=token),
        socket_client(admin),
        socket_client(agent),
    )
    resp = client.put(
        f"{prefix}/users/{admin.id}", json={"password": "n3w-secret"}, headers=auth(admin)
    )
    assert resp.status_code == 200
    assert not by_login.is_connected() and not by_token.is_connected()
    assert colleague.is_connected()


def test_a_name_change_keeps_the_socket(client, prefix, admin, socket_client, auth):
    sock = socket_client(admin)
    resp = client.put(f"{prefix}/users/{admin.id}", json={"name": "Renamed"}, headers=auth(admin))
    assert resp.status_code == 200
    assert sock.is_connected()


def test_deleting_a_user_disconnects_their_sockets(
    client, prefix, admin, agent, socket_client, auth
):
    gone, stays = socket_client(agent), socket_client(admin)
    assert client.delete(f"{prefix}/users/{agent.id}", headers=auth(admin)).status_code == 200
    assert not gone.is_connected()
    assert stays.is_connected()


def test_deactivating_a_company_disconnects_its_users_sockets(
    client, prefix, superuser, other_company, other_admin, socket_client, auth
):
    colleague = factories.UserFactory(company=other_company)
    theirs = [socket_client(other_admin), socket_client(colleague)]
    mine = socket_client(superuser)
    url = f"{prefix}/companies/{other_company.id}"

    assert client.put(url, json={"name": "Renamed Co"}, headers=auth(superuser)).status_code == 200
    assert all(sock.is_connected() for sock in theirs)

    assert client.put(url, json={"status": False}, headers=auth(superuser)).status_code == 200
    assert not any(sock.is_connected() for sock in theirs)
    assert mine.is_connected()
    # And they cannot come back while the company is inactive.
    assert not socket_client(other_admin).is_connected()


def test_deleting_a_company_disconnects_its_users_sockets(
    client, prefix, superuser, other_company, other_admin, socket_client, auth
):
    theirs, mine = socket_client(other_admin), socket_client(superuser)
    url = f"{prefix}/companies/{other_company.id}?force=true"
    assert client.delete(url, headers=auth(superuser)).status_code == 200
    assert not theirs.is_connected()
    assert mine.is_connected()


# -- a session that ended without a kick: each event re-checks it ---------------------


def _end_by_token_version(user: User, _token: str) -> None:
    user.token_version += 1  # a password changed by a process that kicked nobody


def _end_by_revoked_login(user: User, _token: str) -> None:
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.user_id == user.id)
        .values(revoked_at=sa.func.now())
    )


def _end_by_inactive_company(user: User, _token: str) -> None:
    user.company.status = False


def _end_by_deletion(user: User, _token: str) -> None:
    db.session.delete(user)


@pytest.mark.parametrize(
    "end",
    [_end_by_token_version, _end_by_revoked_login, _end_by_inactive_company, _end_by_deletion],
    ids=["password", "logout", "company", "deleted"],
)
def test_a_socket_whose_session_ended_joins_nothing(app, prefix, agent, socket_client, end):
    token, _ = _login(app, prefix, agent)
    sock = socket_client(token=token)
    assert sock.emit("joinNotification", callback=True) == {"ok": True}

    end(agent, token)
    db.session.commit()

    assert sock.emit("joinTickets", "pending", callback=True) == {"error": "ERR_SESSION_EXPIRED"}
    # The refusal also closes it: what it had joined before stops reaching it.
    assert not sock.is_connected()
    # And the same token cannot open a new one.
    assert not socket_client(token=token).is_connected()


def test_a_token_without_expiry_cannot_connect(admin, socket_client):
    forever = create_access_token(identity=admin, expires_delta=False)
    assert not socket_client(token=forever).is_connected()
    assert socket_client(admin).is_connected()
