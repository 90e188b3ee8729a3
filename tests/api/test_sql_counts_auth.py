"""What a signed-in request costs before its view runs: one SQL statement reads the caller
(user, company standing, plan flags) and checks its login is not ended, once per request
however many hooks verify the token; the rest of the user loads together, on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie

import sqlalchemy as sa
from flask_jwt_extended import decode_token

from tests import factories
from tests.factories import PASSWORD
from whaticket.extensions import db
from whaticket.models import User
from whaticket.security import token_user

#: `GET /auth/me` in all (issue 17's floor), and what it takes today: the caller's statement.
ME_BUDGET = 3
CALLER = 1
#: The test database runs each request inside a SAVEPOINT of the test's transaction
#: (tests/conftest.py): those statements are the harness's, not the request's.
_HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block (a listener on the engine's cursors)."""
    engine = db.session.get_bind().engine
    seen: list[str] = []

    def _on(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        if not statement.lstrip().upper().startswith(_HARNESS):
            seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", _on)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", _on)


def _login(app, prefix, user) -> dict[str, str]:
    """Headers with the access token of a real login (its token names its login: `fam`)."""
    resp = app.test_client().post(
        f"{prefix}/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert resp.status_code == 200, resp.get_json()
    assert any(h.startswith("jrt=") for h in resp.headers.getlist("Set-Cookie"))
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


def _request(client, method: str, url: str, headers: dict, **kw) -> tuple[object, list[str]]:
    """One request on a fresh session (as a server request has), and its statements."""
    db.session.expunge_all()
    with statements() as seen:
        resp = client.open(url, method=method, headers=headers, **kw)
    return resp, list(seen)


def test_me_is_one_statement_for_a_login_with_queues(app, client, prefix, company):
    agent = factories.UserFactory(company=company)
    queues = [factories.QueueFactory(company=company) for _ in range(3)]
    agent.queues.extend(queues)
    db.session.commit()
    headers = _login(app, prefix, agent)
    expected = {
        "id": agent.id,
        "name": agent.name,
        "profile": "user",
        "super": False,
        "companyId": company.id,
    }

    resp, seen = _request(client, "GET", f"{prefix}/auth/me", headers)

    assert resp.status_code == 200
    assert resp.get_json() == expected
    assert len(seen) <= ME_BUDGET, seen
    assert len(seen) == CALLER, seen
    (caller,) = seen
    # The login check rides along; the queues and the wide columns stay out.
    assert "refresh_tokens" in caller and "user_queues" not in caller
    for wide in ("password_hash", "companies.schedules", "plans.name"):
        assert wide not in caller, caller


def test_me_without_a_login_family_is_one_statement(client, prefix, admin, auth):
    resp, seen = _request(client, "GET", f"{prefix}/auth/me", auth(admin))
    assert resp.status_code == 200
    assert len(seen) == CALLER, seen
    assert "refresh_tokens" not in seen[0]


def test_the_caller_is_read_once_however_many_hooks_verify_the_token(app, client, prefix, admin):
    headers = _login(app, prefix, admin)
    # A feature-gated admin write: the plan hook, the role table and `admin_required` each
    # verify the token; the body is refused after all three ran.
    resp, seen = _request(client, "POST", f"{prefix}/prompt", headers, json={})
    assert resp.status_code in (400, 422), resp.get_json()
    callers = [s for s in seen if "refresh_tokens" in s]
    assert len(callers) == 1, seen


def test_the_rest_of_the_caller_loads_together_on_first_use(app, prefix, company):
    agent = factories.UserFactory(company=company, all_ticket="enabled")
    queue = factories.QueueFactory(company=company)
    agent.queues.append(queue)
    db.session.commit()
    token = _login(app, prefix, agent)["Authorization"].split()[1]
    claims = decode_token(token)
    email, queue_id, company_name = agent.email, queue.id, company.name
    db.session.expunge_all()

    with statements() as seen:
        user = token_user(claims, live_login=True)
    assert user is not None and len(seen) == 1

    with statements() as seen:
        # Read by the policies, the role checks and ticket visibility: loaded already.
        assert (user.profile, user.super, user.all_ticket) == ("user", False, "enabled")
        assert user.company.status and user.company.plan.use_campaigns in (True, False)
    assert seen == []

    with statements() as seen:
        assert (user.email, user.online) == (email, True)  # the login set it
        assert user.created_at is not None and user.password_hash
    assert len(seen) == 1, seen  # every other user column (and its company's), in one

    with statements() as seen:
        assert user.company.name == company_name and user.company.schedules is not None
    assert seen == []  # came with the user's statement

    with statements() as seen:
        assert [q.id for q in user.queues] == [queue_id]
    assert len(seen) == 1, seen
    # A write goes to the user's row, as on the ORM user.
    user.online = False
    db.session.commit()
    db.session.expunge_all()
    assert db.session.get(User, user.id).online is False


def test_the_callers_company_loads_alone_when_read_first(app, prefix, company):
    agent = factories.UserFactory(company=company)
    db.session.commit()
    claims = decode_token(_login(app, prefix, agent)["Authorization"].split()[1])
    name = company.name
    db.session.expunge_all()
    user = token_user(claims, live_login=True)
    with statements() as seen:
        assert user.company.name == name
    assert len(seen) == 1, seen  # the company's row, not the user's
    with statements() as seen:
        assert [q.id for q in user.queues] == []
    assert len(seen) == 1, seen


def test_an_ended_login_finds_no_caller_in_its_one_statement(app, client, prefix, admin):
    login = app.test_client()
    resp = login.post(f"{prefix}/auth/login", json={"email": admin.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {resp.get_json()['token']}"}
    cookie = next(
        SimpleCookie(h)["jrt"].value
        for h in resp.headers.getlist("Set-Cookie")
        if h.startswith("jrt=")
    )
    login.set_cookie("jrt", cookie)
    assert login.delete(f"{prefix}/auth/logout", headers=headers).status_code == 200

    resp, seen = _request(client, "GET", f"{prefix}/auth/me", headers)
    assert resp.status_code == 403 and resp.get_json() == {"error": "ERR_INVALID_TOKEN"}
    assert len(seen) == CALLER, seen
