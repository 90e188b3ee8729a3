"""Login gives nothing away about accounts: an unknown e-mail costs the same bcrypt check
as a wrong password, and failures lock out one (IP, e-mail) pair, never the e-mail alone.

Time is never measured here (bench/auth_bench.py prints both timings): the tests count
the bcrypt checks the real login path makes.
"""

from __future__ import annotations

import bcrypt
import pytest

from tests.factories import PASSWORD
from whaticket import db as dbmod
from whaticket.services.team import password_reset

STRANGER = "203.0.113.66"
OWNER = "198.51.100.20"


def _login(client, prefix, email, password=PASSWORD, ip=OWNER):
    return client.post(
        f"{prefix}/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


@pytest.fixture
def bcrypt_checks(monkeypatch) -> list[bytes]:
    """The hashes bcrypt.checkpw is asked about (it still runs: the spy calls through)."""
    seen: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        seen.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return seen


def _cost(hashed: bytes) -> bytes:
    """The cost field of a bcrypt hash ($2b$<cost>$...)."""
    return hashed.split(b"$")[2]


def test_an_unknown_email_gets_the_same_bcrypt_check_as_a_wrong_password(
    client, prefix, admin, bcrypt_checks
):
    known = _login(client, prefix, admin.email, "wrong-password")
    assert len(bcrypt_checks) == 1 and bcrypt_checks[0] == admin.password_hash.encode()

    unknown = _login(client, prefix, "nobody-here@example.com", "wrong-password")
    assert known.status_code == unknown.status_code == 401
    assert known.get_json() == unknown.get_json() == {"error": "ERR_INVALID_CREDENTIALS"}
    # One check each, at the same cost: the unknown e-mail met a dummy hash, not a shortcut.
    assert len(bcrypt_checks) == 2
    dummy = bcrypt_checks[1]
    assert dummy != admin.password_hash.encode() and dummy.startswith(b"$2b$")
    assert _cost(dummy) == _cost(bcrypt_checks[0])

    # The dummy is made once per process.
    _login(client, prefix, "someone-else@example.com", "wrong-password")
    assert bcrypt_checks[2:] == [dummy]


def test_the_dummy_hash_follows_the_configured_cost(client, prefix, app, bcrypt_checks):
    app.config["BCRYPT_ROUNDS"] = 5
    _login(client, prefix, "nobody-here@example.com", "wrong-password")
    assert [_cost(h) for h in bcrypt_checks] == [b"05"]


def test_a_strangers_failures_do_not_lock_the_owner_out(client, prefix, admin, app):
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP_EMAIL"]
    assert limit == 5
    for _ in range(limit):
        assert _login(client, prefix, admin.email, "bad-pass", STRANGER).status_code == 401
    # The stranger's address is done with this account, even with the right password...
    resp = _login(client, prefix, admin.email, PASSWORD, STRANGER)
    assert resp.status_code == 429
    assert resp.get_json() == {"error": "ERR_TOO_MANY_ATTEMPTS"}
    assert int(resp.headers["Retry-After"]) > 0
    # ...but the owner, from their own address, signs in.
    assert _login(client, prefix, admin.email, PASSWORD, OWNER).status_code == 200


def test_an_unknown_email_is_locked_out_like_a_known_one(client, prefix, admin, app):
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP_EMAIL"]
    for email in (admin.email, "nobody-here@example.com"):
        codes = [
            _login(client, prefix, email, "bad-pass", STRANGER).status_code
            for _ in range(limit + 1)
        ]
        assert codes == [401] * limit + [429]


def test_the_lockout_of_a_pair_leaves_other_emails_to_the_per_ip_budget(
    client, prefix, admin, other_admin, app
):
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP_EMAIL"]
    for _ in range(limit):
        _login(client, prefix, admin.email, "bad-pass", STRANGER)
    assert _login(client, prefix, other_admin.email, PASSWORD, STRANGER).status_code == 200
    # Spraying many e-mails from one address still meets LOGIN_MAX_PER_IP.
    app.config["LOGIN_MAX_PER_IP"] = limit + 3
    codes = [
        _login(client, prefix, f"u{i}@example.com", "bad-pass", STRANGER).status_code
        for i in range(3)
    ]
    assert codes == [401, 401, 429]


def test_success_clears_the_failures_of_that_address(client, prefix, admin, app):
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP_EMAIL"]
    for _ in range(limit - 1):
        _login(client, prefix, admin.email, "bad-pass")
    assert _login(client, prefix, admin.email).status_code == 200
    for _ in range(limit - 1):
        assert _login(client, prefix, admin.email, "bad-pass").status_code == 401
    assert _login(client, prefix, admin.email).status_code == 200


def test_a_password_reset_unlocks_the_address_it_came_from(client, prefix, admin, app):
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP_EMAIL"]
    for _ in range(limit):
        _login(client, prefix, admin.email, "bad-pass")
    assert _login(client, prefix, admin.email).status_code == 429
    secrets = password_reset.issue(admin)
    dbmod.commit()
    resp = client.post(
        f"{prefix}/auth/reset-password",
        json={"token": secrets.token, "password": "n3w-secret"},
        environ_base={"REMOTE_ADDR": OWNER},
    )
    assert resp.status_code == 200, resp.get_json()
    assert _login(client, prefix, admin.email, "n3w-secret").status_code == 200
