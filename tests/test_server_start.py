"""What the server refuses at start: a port another server holds, the public default
secrets on an address other machines reach outside development, and the seeded admin's
default password in production (server, worker and `flask seed`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import factories
from whaticket import startup
from whaticket.config import (
    DEFAULT_ADMIN_PASSWORD,
    DEFAULT_JWT_REFRESH_SECRET,
    DEFAULT_JWT_SECRET,
    DEFAULT_SECRET,
)
from whaticket.extensions import db
from whaticket.models import User
from whaticket.security import hash_password

ROOT = Path(__file__).resolve().parents[1]
STRONG = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET": "j" * 40,
    "JWT_REFRESH_SECRET": "r" * 40,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """`python wsgi.py` on its own SQLite file and media folder, no Redis, no APP_ENV and no
    secrets from this process's environment (each test says what it wants)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"APP_ENV", "REDIS_URL", *STRONG} and not k.startswith("TEST_")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path}/server.sqlite3",
        MEDIA_ROOT=str(tmp_path / "media"),
        HOST="127.0.0.1",
        PORT=str(_free_port()),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_a_second_server_on_the_same_port_exits_with_address_in_use(tmp_path):
    """eventlet's listen set SO_REUSEPORT: the second server started and took half the
    connections. Now it fails, saying why."""
    env = _server_env(tmp_path, APP_ENV="development")
    port = int(env["PORT"])
    first = _start(env, tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 90
        while not _listening(port):
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "the first server never listened"
            time.sleep(0.2)
        second = subprocess.run(
            [sys.executable, "wsgi.py"], cwd=ROOT, env=env, capture_output=True, timeout=90
        )
        assert second.returncode != 0
        assert "address in use" in second.stderr.decode().lower()
        assert first.poll() is None  # the first one keeps serving
    finally:
        _stop(first)


@pytest.mark.parametrize("app_env", [None, "testing", "staging"])
def test_outside_development_default_secrets_refuse_a_public_address(tmp_path, app_env):
    """APP_ENV unset ran the server with the public defaults while binding 0.0.0.0."""
    env = _server_env(tmp_path, HOST="0.0.0.0")
    if app_env:
        env["APP_ENV"] = app_env
    result = subprocess.run(
        [sys.executable, "wsgi.py"], cwd=ROOT, env=env, capture_output=True, timeout=90
    )
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "default" in err and "JWT_SECRET" in err and "APP_ENV=development" in err


def test_listen_address_check_matrix():
    defaults = {
        "SECRET_KEY": DEFAULT_SECRET,
        "JWT_SECRET_KEY": DEFAULT_JWT_SECRET,
        "JWT_REFRESH_SECRET": DEFAULT_JWT_REFRESH_SECRET,
    }
    strong = {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40, "JWT_REFRESH_SECRET": "r" * 40}
    for host in ("0.0.0.0", "::", "10.0.0.5", "example.com", ""):
        with pytest.raises(RuntimeError, match="default"):
            startup.check_listen_address({**defaults, "HOST": host}, None)
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            startup.check_listen_address({**strong, "SECRET_KEY": DEFAULT_SECRET, "HOST": host}, "")
        # `make run` (development), and real secrets, start anywhere.
        startup.check_listen_address({**defaults, "HOST": host}, "development")
        startup.check_listen_address({**strong, "HOST": host}, None)
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"):
        startup.check_listen_address({**defaults, "HOST": host}, None)


def _default_admin(company, email: str = "admin@admin.com") -> User:
    user = factories.AdminFactory(
        company=company,
        email=email,
        super=True,
        password_hash=hash_password(DEFAULT_ADMIN_PASSWORD),
    )
    db.session.commit()
    return user


@pytest.mark.real_db
def test_production_refuses_to_start_with_the_default_admin_password(app, company):
    app.config.update(APP_ENV="production", ADMIN_EMAIL="owner@example.com")
    user = _default_admin(company)
    with pytest.raises(RuntimeError, match=r"admin@admin\.com.*default password"):
        startup.check_admin_password(app)
    user.password_hash = hash_password("a much better password")
    db.session.commit()
    startup.check_admin_password(app)
    # ADMIN_EMAIL names the seeded admin too.
    _default_admin(company, email="owner@example.com")
    with pytest.raises(RuntimeError, match=r"owner@example\.com"):
        startup.check_admin_password(app)
    app.config["APP_ENV"] = "development"
    startup.check_admin_password(app)


def test_production_worker_refuses_the_default_admin_password(app, company):
    if not app.config.get("REDIS_URL"):
        pytest.skip("the worker command needs Redis (TEST_REDIS_URL)")
    _default_admin(company)
    app.config["APP_ENV"] = "production"
    # --burst: were the check missing, the worker would drain and exit 0, not hang.
    result = app.test_cli_runner().invoke(args=["worker", "--burst", "--no-cron"])
    assert result.exit_code != 0 and "default password" in result.output


def test_production_seed_refuses_to_create_the_admin_without_admin_password(app):
    app.config.update(APP_ENV="production", ADMIN_PASSWORD=DEFAULT_ADMIN_PASSWORD)
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code != 0 and "ADMIN_PASSWORD" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    app.config["ADMIN_PASSWORD"] = "a real password 123"
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    (admin,) = db.session.scalars(sa.select(User)).all()
    assert admin.super and admin.email == app.config["ADMIN_EMAIL"]


def test_production_server_refuses_the_default_admin_password(tmp_path):
    """`python wsgi.py` itself runs the check, before it listens."""
    env = _server_env(tmp_path, APP_ENV="development")
    seed = (
        "from wsgi import app\n"
        "from whaticket.extensions import db\n"
        "from whaticket.cli import seed_database\n"
        "with app.app_context():\n"
        "    db.create_all()\n"
        "    seed_database()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", seed], cwd=ROOT, env=env, capture_output=True, timeout=90
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    env.update(APP_ENV="production", **STRONG)
    result = subprocess.run(
        [sys.executable, "wsgi.py"], cwd=ROOT, env=env, capture_output=True, timeout=90
    )
    assert result.returncode != 0
    assert "default password" in result.stderr.decode()
    assert not _listening(int(env["PORT"]))
