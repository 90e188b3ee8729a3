"""whaticket: a multi-company WhatsApp help-desk backend (Flask application factory)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from whaticket import db_liveness
from whaticket.config import (
    DEFAULT_JWT_REFRESH_SECRET,
    DEFAULT_JWT_SECRET,
    DEFAULT_SECRET,
    Config,
    config_from_env,
    fake_enabled,
)
from whaticket.db import check_request_committed, holding_locks, note_request_start
from whaticket.ops import logs, request_id, sentry
from whaticket.services import listeners
from whaticket.utils import outbound
from whaticket.utils.origins import allowed_origins, register_cors_hooks, socket_origin_check
from whaticket.utils.strict_json import StrictJSONProvider, StrictRequest

__version__ = "1.0.0"

# The factory imports the app's layers (models, extensions, security, errors, services,
# views, socket handlers, CLI) inside its functions, as Flask's application-factory pattern
# does. Python runs this package before any `whaticket.<module>` is imported, so each of
# them imported up here would be loaded by every submodule anyone imports: Alembic's
# models, a job, `whaticket.config` alone; and the layer tests could no longer see what an
# adapter loads beyond this root. Each such import is marked "the package root stays light".


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` is a Config class, a dict of overrides, or None (APP_ENV)."""
    app = Flask(__name__, instance_relative_config=True)
    # Bodies too deep, with lone surrogates or NaN are a 400, not a 500 further on.
    app.json = StrictJSONProvider(app)
    app.request_class = StrictRequest
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if isinstance(config, dict):
        app.config.from_object(config_from_env())
        app.config.update(config)
    else:
        app.config.from_object(config or config_from_env())
    _finish_config(app)
    _check_secrets(app)
    # The SPA asks for some lists with a trailing slash ("/whatsapp/?session=0",
    # "/chats/", "/announcements/"): every route answers with or without it.
    app.url_map.strict_slashes = False
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_socket_handlers(app)
    register_commands(app)
    register_operations(app)
    # The domain event bus's listeners (reports, bots, campaigns, ratings...).
    listeners.connect()
    # Calls to providers and tenants' URLs must not hold a transaction open.
    outbound.set_transaction_probe(holding_locks)
    # A view that forgets to commit is caught, not silently rolled back.
    app.before_request(note_request_start)
    app.after_request(check_request_committed)
    # Outermost middleware: every request (Socket.IO's too) gets its id and access line.
    request_id.install(app)
    return app


def _finish_config(app: Flask) -> None:
    """Fill in what depends on the instance path, and defaults derived from other keys."""
    os.makedirs(app.instance_path, exist_ok=True)
    # One version everywhere: GET /version and the OpenAPI document.
    app.config["API_VERSION"] = __version__
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "whaticket.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config.get("MEDIA_ROOT"):
        app.config["MEDIA_ROOT"] = os.path.join(app.instance_path, "media")
    if app.config.get("SOCKETIO_MESSAGE_QUEUE") is None and not app.config.get("TESTING"):
        app.config["SOCKETIO_MESSAGE_QUEUE"] = app.config.get("REDIS_URL")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("mysql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "mysql+pymysql://" + uri[len("mysql://") :]
    elif uri.startswith(("postgres://", "postgresql://")):
        # SQLAlchemy 2.1 defaults to psycopg 3; we ship psycopg2.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg2://" + uri.split("://", 1)[1]
    elif uri.startswith("mariadb://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "mariadb+pymysql://" + uri[len("mariadb://") :]
    if uri.startswith(("mysql", "mariadb")):
        # READ COMMITTED: after losing an insert race (duplicate key), a re-select must see
        # the winner's row, which InnoDB's default REPEATABLE READ snapshot would hide.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        connect_args = dict(options.get("connect_args") or {})
        # MariaDB intersects single-column indexes (user_id with company_id) for the
        # ticket list's visibility filter and its count, reading every ticket an agent
        # ever had: 10-13 ms per count at 20,000 tickets, against 1-3 ms on the
        # (company, status, updated_at) index once intersections are off (bench/
        # workspace.py; EXPLAIN in the README's Performance section).
        connect_args.setdefault(
            "init_command", "SET SESSION optimizer_switch='index_merge_intersection=off'"
        )
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(
            options,
            pool_recycle=280,
            isolation_level="READ COMMITTED",
            connect_args=connect_args,
        )
    if not uri.startswith("sqlite"):
        _ride_out_outages(app)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind N reverse proxies, trust their X-Forwarded-* headers (login
        # throttling counts the client's address, not the proxy's).
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    # Text or JSON lines with their request id; the SaaS password-reset page puts e-mail,
    # code and new password in the URL, and no log record of this process (access logs
    # included) may keep them, nor any credential (utils/logredact.py).
    logs.configure(app.config)
    sentry.init(app.config)


def _ride_out_outages(app: Flask) -> None:
    """A database server that went away: pooled connections are tested before use (the
    first request after it is back must not fail on a dead one), and a connection attempt
    gives up after DATABASE_CONNECT_TIMEOUT seconds (503) instead of hanging the request."""
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    # Dead pooled connections are found on checkout without a round trip each time
    # (whaticket/db_liveness.py, installed in register_extensions), not by a ping.
    options["pool_pre_ping"] = False
    options.setdefault("pool_size", int(app.config["DATABASE_POOL_SIZE"]))
    options.setdefault("max_overflow", int(app.config["DATABASE_MAX_OVERFLOW"]))
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", int(app.config["DATABASE_CONNECT_TIMEOUT"]))
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _check_secrets(app: Flask) -> None:
    """In production, refuse to start with the development secrets."""
    if app.config.get("APP_ENV") != "production":
        return
    defaults = {
        "SECRET_KEY": DEFAULT_SECRET,
        "JWT_SECRET_KEY": DEFAULT_JWT_SECRET,
        "JWT_REFRESH_SECRET": DEFAULT_JWT_REFRESH_SECRET,
    }
    provider = str(app.config.get("PAYMENT_PROVIDER") or "").strip().lower()
    if provider == "fake" and not fake_enabled(app.config, "FAKE_PAYMENTS_ENABLED"):
        raise RuntimeError(
            "Refusing to start in production with PAYMENT_PROVIDER=fake: it marks invoices "
            "paid without any payment. Configure efi, or set FAKE_PAYMENTS_ENABLED=true "
            "for a demo deployment."
        )
    weak = [k for k, v in defaults.items() if not app.config.get(k) or app.config[k] == v]
    weak += [k for k in defaults if k not in weak and len(str(app.config.get(k))) < 32]
    if weak:
        raise RuntimeError(
            "Refusing to start in production with default or short secrets: "
            + ", ".join(sorted(weak))
            + " (set them in the environment, 32+ random characters each)"
        )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: enforce foreign keys (ON DELETE CASCADE) like the other databases do."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_extensions(app: Flask) -> None:
    """Bind db, migrate, jwt, socketio, cors and the OpenAPI Api to the app."""
    from whaticket import models  # noqa: F401 - registers every model; the root stays light
    from whaticket.api.errors import api  # the package root stays light
    from whaticket.extensions import (  # the package root stays light
        cors,
        db,
        jwt,
        migrate,
        socketio,
    )
    from whaticket.security import register_jwt_callbacks  # the package root stays light
    from whaticket.services.billing import policies  # the package root stays light

    db.init_app(app)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            db_liveness.install(db.engine, float(app.config["DATABASE_PING_IDLE_SECONDS"]))
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    jwt.init_app(app)
    register_jwt_callbacks(app)
    # Who may go on once signed in (overdue companies, plan features) is billing's call.
    policies.install(app)
    origins = allowed_origins(app.config)
    # Before cors.init_app: every preflight gets a 2xx, and Vary: Origin merges after it.
    register_cors_hooks(app)
    cors.init_app(app, origins=origins, supports_credentials=True)
    prefix = app.config["API_PREFIX"]
    app.config["OPENAPI_URL_PREFIX"] = prefix or "/"
    api.init_app(
        app,
        spec_kwargs={"security": [{"bearerAuth": []}]},
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    # Flask-SocketIO keeps the previous app's message-queue manager in its options;
    # drop it so each app (one per test) gets the queue its own config names.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        # FRONTEND_URL and the server's own origin (scheme + host the socket came to).
        cors_allowed_origins=socket_origin_check(origins, int(app.config["TRUSTED_PROXIES"] or 0)),
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        channel=app.config.get("SOCKETIO_CHANNEL", "whaticket-socketio"),
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE"),
        ping_timeout=20,
        ping_interval=25,
    )


def register_blueprints(app: Flask) -> None:
    """Mount every REST blueprint."""
    from whaticket.api import register_blueprints as _register  # the package root stays light

    _register(app)


def register_error_handlers(app: Flask) -> None:
    """Route every error through whaticket/api/errors.py."""
    from whaticket import db as dbmod  # the package root stays light
    from whaticket.api.errors import (  # the package root stays light
        register_error_handlers as _register,
    )

    # The handlers do not import the database layer: the unit of work is handed to them.
    _register(app, rollback=dbmod.rollback, commit=dbmod.commit)


def register_socket_handlers(app: Flask) -> None:
    """Attach the Socket.IO handlers."""
    from whaticket.extensions import socketio  # the package root stays light
    from whaticket.realtime.handlers import (  # the package root stays light
        register_socket_handlers as _register,
    )

    # socketio.on() binds to the server init_app just created, so every app
    # (one per test) gets its own handlers.
    _register(socketio)


def register_commands(app: Flask) -> None:
    """Add seed, create-superuser and worker to the flask CLI."""
    from whaticket.cli import register_commands as _register  # the package root stays light

    _register(app)


def register_operations(app: Flask) -> None:
    """Request metrics and the migration head readiness compares with (whaticket/ops)."""
    from whaticket.ops import instrument  # the package root stays light

    instrument.install(app)
