"""Environment-driven configuration: one Config class per APP_ENV."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from whaticket.config_integrations import IntegrationSettings
from whaticket.env import env_bool as _bool
from whaticket.env import env_int as _int

DEFAULT_SECRET = "change-me-dev-secret-key-0000000000000"
DEFAULT_JWT_SECRET = "change-me-dev-jwt-secret-00000000000000"
DEFAULT_JWT_REFRESH_SECRET = "change-me-dev-jwt-refresh-secret-0000000"
#: The seeded super admin of a fresh install (the SaaS's): production refuses to start
#: while it still has this password, and to seed it without ADMIN_PASSWORD (whaticket/startup.py).
DEFAULT_ADMIN_EMAIL = "admin@admin.com"
DEFAULT_ADMIN_PASSWORD = "123456"


def fake_enabled(config: Any, name: str) -> bool:
    """Whether a fake provider may run: its flag when set, else anywhere but production.

    Fakes pay invoices and send nothing for real; in production they run only when the
    operator says so explicitly (`FAKE_GATEWAY_ENABLED`, `FAKE_PAYMENTS_ENABLED`).
    """
    raw = config.get(name)
    if raw is None or raw == "":
        return config.get("APP_ENV") != "production"
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in {"1", "true", "yes", "on"}


def _prefix(raw: str | None) -> str:
    """Normalise API_PREFIX: "" or "/something" without a trailing slash."""
    value = (raw if raw is not None else "/api").strip().rstrip("/")
    if value and not value.startswith("/"):
        value = "/" + value
    return value


class Config(IntegrationSettings):
    """Settings read from the environment once, when the class is built."""

    APP_ENV = os.environ.get("APP_ENV", "development")
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET)

    # Database: default is an embedded SQLite file in the instance folder,
    # filled in by create_app because the instance path is only known there.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    # Redis: RQ queues, Socket.IO message queue, rate-limit counters.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    #: First segment of every Redis key this deployment writes (rate limits, cron locks, the
    #: fake's outbox; RQ queues too unless RQ_QUEUE_PREFIX says otherwise): deployments
    #: sharing one Redis need different ones.
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX") or "whaticket"
    RQ_QUEUES = ["high", "default", "low"]

    # -- Outages (Redis or the database down) ---------------------------------------------
    #: Retry-After (seconds) of the 503 ERR_SERVICE_UNAVAILABLE answered while Redis or the
    #: database cannot be reached.
    SERVICE_RETRY_AFTER_SECONDS = _int("SERVICE_RETRY_AFTER_SECONDS", 5)
    #: Seconds to wait for a MariaDB/PostgreSQL connection before answering 503.
    DATABASE_CONNECT_TIMEOUT = _int("DATABASE_CONNECT_TIMEOUT", 5)
    # A pooled connection idle longer than this is pinged before use (a half-open one after
    # a network partition says nothing); a closed one is found without a ping.
    DATABASE_PING_IDLE_SECONDS = _int("DATABASE_PING_IDLE_SECONDS", 30)
    #: Connections a process keeps open (MariaDB/PostgreSQL). An eventlet web process serves
    #: many requests at once: with fewer kept than it serves, every request past the pool
    #: opens a connection and closes it on return (a TCP and login handshake each; measured:
    #: the floor's CPU per request tripled at 16 concurrent requests with SQLAlchemy's 5).
    DATABASE_POOL_SIZE = _int("DATABASE_POOL_SIZE", 20)
    #: Connections opened beyond the pool under a burst (closed when returned).
    DATABASE_MAX_OVERFLOW = _int("DATABASE_MAX_OVERFLOW", 20)
    #: Longest pause (seconds) of `flask worker` between two reconnection attempts; the
    #: pause doubles from 1 s after each failure. The worker never exits on an outage.
    WORKER_RETRY_MAX_SECONDS = _int("WORKER_RETRY_MAX_SECONDS", 30)
    #: Seconds the delayed-job scheduler's lock outlives its holder: every worker stands by
    #: and the first to find the lock expired takes over (the holder renews it each second).
    SCHEDULER_LOCK_SECONDS = _int("SCHEDULER_LOCK_SECONDS", 10)
    #: Jobs stored before they are queued (media downloads, webhooks, AI replies, reset
    #: mails, rollup rebuilds, payment checks): seconds a due one may wait for a worker
    #: before the sweep queues it again (a refused or lost enqueue)...
    PENDING_JOB_GRACE_SECONDS = _int("PENDING_JOB_GRACE_SECONDS", 60)
    #: ...seconds a started one may run before it is presumed dead and run again...
    PENDING_JOB_LEASE_SECONDS = _int("PENDING_JOB_LEASE_SECONDS", 600)
    #: ...and how many runs that raise it gets (backing off) before it is dropped and logged.
    PENDING_JOB_MAX_ATTEMPTS = _int("PENDING_JOB_MAX_ATTEMPTS", 5)
    # "rq" with Redis; "thread" runs jobs on an in-process worker; "inline"
    # runs them right after commit (tests).
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND") or None
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE") or None
    #: Redis pub/sub channel of the Socket.IO message queue (one per deployment).
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "whaticket-socketio")
    #: Number of reverse proxies in front of the app whose X-Forwarded-For is trusted.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)

    API_PREFIX = _prefix(os.environ.get("API_PREFIX"))
    FRONTEND_URL = os.environ.get("FRONTEND_URL", "http://localhost:3000")
    #: The public URL of this backend for absolute links (media, webhooks). Unset: the
    #: host each request came to, or HOST:PORT outside a request (utils/urls.py).
    BACKEND_URL = os.environ.get("BACKEND_URL") or None
    HOST = os.environ.get("HOST", "127.0.0.1")
    PORT = _int("PORT", 8080)
    # -- Logs, errors, stopping (whaticket/ops, docs/operations-logs.md) ---------------
    #: "text" (readable, `make run`) or "json" (one object a line, with request ids).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    #: Access lines: eventlet's own in text, one JSON line per request in json (werkzeug
    #: always logs in text). Unset: on with LOG_FORMAT=json, off in text. Password-reset
    #: paths and credentials are redacted (utils/logredact.py).
    ACCESS_LOG = _bool("ACCESS_LOG", LOG_FORMAT.strip().lower() == "json")
    #: Errors go to Sentry when set (sentry-sdk, Flask and RQ integrations, scrubbed).
    SENTRY_DSN = os.environ.get("SENTRY_DSN") or None
    #: Share of requests and jobs traced for Sentry's performance view (0 = none).
    SENTRY_TRACES_SAMPLE_RATE = float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE") or 0)
    #: Seconds SIGTERM leaves the web server for the requests in flight, and `flask worker`
    #: for its current job (then handed back to the queue), before the process exits.
    SHUTDOWN_GRACE_SECONDS = float(os.environ.get("SHUTDOWN_GRACE_SECONDS") or 25)

    # Auth: 15-minute access JWT, 7-day refresh JWT in the httpOnly `jrt` cookie.
    JWT_SECRET_KEY = os.environ.get("JWT_SECRET", DEFAULT_JWT_SECRET)
    JWT_REFRESH_SECRET = os.environ.get("JWT_REFRESH_SECRET", DEFAULT_JWT_REFRESH_SECRET)
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(minutes=_int("JWT_ACCESS_MINUTES", 15))
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=_int("JWT_REFRESH_DAYS", 7))
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ERROR_MESSAGE_KEY = "error"
    REFRESH_COOKIE_NAME = "jrt"
    REFRESH_COOKIE_SECURE = _bool("REFRESH_COOKIE_SECURE", APP_ENV == "production")
    REFRESH_COOKIE_SAMESITE = os.environ.get("REFRESH_COOKIE_SAMESITE", "Lax")
    # Several tabs or parallel 403s refresh with the same cookie at once; a
    # rotated token is still honoured for this many seconds so they do not
    # log each other out. 0 makes every refresh token strictly single-use.
    REFRESH_REUSE_GRACE_SECONDS = _int("REFRESH_REUSE_GRACE_SECONDS", 10)
    BCRYPT_ROUNDS = _int("BCRYPT_ROUNDS", 10)

    # Login throttling: attempts per IP, and failed attempts per (IP, e-mail): keyed by
    # the pair so that a stranger's wrong passwords never lock the owner out.
    LOGIN_MAX_PER_IP = _int("LOGIN_MAX_PER_IP", 30)
    LOGIN_MAX_FAILURES_PER_IP_EMAIL = _int(
        "LOGIN_MAX_FAILURES_PER_IP_EMAIL", _int("LOGIN_MAX_FAILURES_PER_EMAIL", 5)
    )
    LOGIN_WINDOW_SECONDS = _int("LOGIN_WINDOW_SECONDS", 900)

    USER_STALE_ONLINE_SECONDS = _int("USER_STALE_ONLINE_SECONDS", 300)

    ADMIN_EMAIL = os.environ.get("ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL)
    ADMIN_PASSWORD = os.environ.get("ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)

    MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or None
    #: Seconds a signed media URL opens its file (each answer signs its URLs afresh).
    MEDIA_URL_TTL = _int("MEDIA_URL_TTL", 24 * 3600)

    # -- retention (`flask purge`, and the worker's daily sweep) ------------------------
    #: Processed webhook deliveries (whole bodies, media included) are kept this long.
    RETENTION_INBOUND_EVENTS_DAYS = _int("RETENTION_INBOUND_EVENTS_DAYS", 7)
    #: Failed deliveries are kept longer: admins read why and may retry them.
    RETENTION_FAILED_INBOUND_EVENTS_DAYS = _int("RETENTION_FAILED_INBOUND_EVENTS_DAYS", 30)
    #: Refresh tokens are deleted this long after they expired or were revoked.
    RETENTION_REFRESH_TOKENS_DAYS = _int("RETENTION_REFRESH_TOKENS_DAYS", 30)
    #: Finished spreadsheet imports (their summaries) are kept this long.
    RETENTION_IMPORTS_DAYS = _int("RETENTION_IMPORTS_DAYS", 30)
    #: A media file no row references is deleted once it is this old (hours): younger
    #: files may belong to a request or job that has not committed its row yet.
    RETENTION_ORPHAN_FILES_GRACE_HOURS = _int("RETENTION_ORPHAN_FILES_GRACE_HOURS", 24)

    #: Fernet key for provider secrets at rest (default: derived from SECRET_KEY).
    ENCRYPTION_KEY = os.environ.get("ENCRYPTION_KEY") or None
    #: The address providers' webhooks can reach this backend at (Evolution webhook URL).
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or None

    #: The provider of connections added without one, or as "beta"/"stable" (what the
    #: SaaS frontend's connection modal sends): cloud, evolution or fake. Unset: evolution
    #: when EVOLUTION_BASE_URL is set, else fake where fakes may run.
    WHATSAPP_DEFAULT_PROVIDER = os.environ.get("WHATSAPP_DEFAULT_PROVIDER", "")
    #: The deployment's Evolution bridge: Evolution connections that name no baseUrl or
    #: apiKey of their own use these (the SaaS frontend's modal sends neither).
    EVOLUTION_BASE_URL = os.environ.get("EVOLUTION_BASE_URL", "")
    EVOLUTION_API_KEY = os.environ.get("EVOLUTION_API_KEY", "")

    #: A call to a provider or a tenant's URL made inside an open database transaction:
    #: "warn" (logged), "raise" (tests), or "ignore".
    OUTBOUND_IN_TRANSACTION = os.environ.get("OUTBOUND_IN_TRANSACTION", "warn")

    #: Internal hosts that tenants' URLs may reach anyway ("host" or "host:port", comma-
    #: separated): a self-hosted Typebot, Evolution bridge or model server. Every other
    #: loopback, private, link-local or reserved address is refused (utils/outbound.py).
    OUTBOUND_ALLOWED_HOSTS = os.environ.get("OUTBOUND_ALLOWED_HOSTS", "")

    #: Region for phone numbers typed without a country code.
    DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "BR")
    #: Largest contacts CSV/XLSX upload, in bytes.
    CONTACTS_UPLOAD_MAX_BYTES = _int("CONTACTS_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
    #: Contact and contact-list spreadsheets with more data rows are refused (400).
    IMPORT_MAX_ROWS = _int("IMPORT_MAX_ROWS", 50_000)
    #: Spreadsheets up to this many data rows are imported in the request; bigger ones
    #: become a job (202) that reports its progress on `company-{cid}-import`.
    IMPORT_INLINE_MAX_ROWS = _int("IMPORT_INLINE_MAX_ROWS", 500)
    #: Rows an import job writes per transaction (a progress event follows each).
    IMPORT_BATCH_ROWS = _int("IMPORT_BATCH_ROWS", 1000)
    #: Time zone for templated texts ({{ms}}, {{hora}}) until companies carry their own.
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "America/Sao_Paulo")

    # -- AI prompts (OpenAI-compatible chat completions) ------------------------------
    #: Base URL of the chat-completions API (".../v1"); a prompt may set its own.
    OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
    #: Model used when a prompt names none.
    OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    #: Seconds to wait for a completion before giving up on that message.
    OPENAI_TIMEOUT = _int("OPENAI_TIMEOUT", 30)

    # -- E-mail (password reset) ------------------------------------------------------
    #: SMTP server; with no host, mails are logged instead of sent (development).
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = _int("SMTP_PORT", 587)
    SMTP_USER = os.environ.get("SMTP_USER") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    #: "starttls" (port 587), "ssl" (port 465) or "none" (a local relay).
    SMTP_SECURITY = os.environ.get("SMTP_SECURITY", "starttls")
    SMTP_TIMEOUT = _int("SMTP_TIMEOUT", 20)
    MAIL_FROM = os.environ.get("MAIL_FROM", "whaticket <no-reply@localhost>")
    #: Forgot-password requests per client IP, and per e-mail, per window (seconds).
    PASSWORD_RESET_MAX_PER_IP = _int("PASSWORD_RESET_MAX_PER_IP", 10)
    PASSWORD_RESET_MAX_PER_EMAIL = _int("PASSWORD_RESET_MAX_PER_EMAIL", 3)
    PASSWORD_RESET_WINDOW_SECONDS = _int("PASSWORD_RESET_WINDOW_SECONDS", 3600)
    #: Minutes a mailed reset token (and its code) stays valid.
    PASSWORD_RESET_TOKEN_MINUTES = _int("PASSWORD_RESET_TOKEN_MINUTES", 60)
    #: Wrong tries after which a mailed reset code stops working.
    PASSWORD_RESET_CODE_MAX_ATTEMPTS = _int("PASSWORD_RESET_CODE_MAX_ATTEMPTS", 5)

    # -- Operations: health, metrics, status (whaticket/ops, docs/operations.md) ---------
    #: Seconds each readiness check (database, Redis, worker beats) may take.
    HEALTH_CHECK_TIMEOUT_SECONDS = float(os.environ.get("HEALTH_CHECK_TIMEOUT_SECONDS") or 2)
    #: With RQ, readiness needs a `flask worker` heartbeat at most this old (seconds)...
    HEALTH_WORKER_STALE_SECONDS = _int("HEALTH_WORKER_STALE_SECONDS", 60)
    #: ...and each worker beats this often (seconds).
    WORKER_HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS") or 10)
    #: GET /metrics: a Bearer token, and/or client networks (CIDRs, comma-separated); with
    #: neither, /metrics is 404; with both, a scrape must pass both.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    METRICS_ALLOW_CIDRS = os.environ.get("METRICS_ALLOW_CIDRS", "")

    # flask-smorest / OpenAPI
    API_TITLE = "whaticket"
    API_VERSION = "0.1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"
    JSON_SORT_KEYS = False

    # -- Billing (SaaS) ---------------------------------------------------------------
    #: Days after its due date that an unpaid company keeps working (then 402).
    BILLING_GRACE_DAYS = _int("BILLING_GRACE_DAYS", 3)
    #: Free days a self-signed-up company gets.
    TRIAL_DAYS = _int("TRIAL_DAYS", 7)
    #: "Someone tried to sign up with your e-mail" notices per e-mail per signup window.
    SIGNUP_NOTICES_PER_EMAIL = _int("SIGNUP_NOTICES_PER_EMAIL", 2)
    #: Self-signups allowed per client IP per window (seconds).
    SIGNUP_MAX_PER_IP = _int("SIGNUP_MAX_PER_IP", 5)
    SIGNUP_WINDOW_SECONDS = _int("SIGNUP_WINDOW_SECONDS", 3600)
    #: efi (Efí/Gerencianet Pix) or fake (development, tests). Unset: fake where fakes may
    #: run (not in production), else none (charges answer 503 until one is configured).
    PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "")
    #: "true"/"false"; unset means on everywhere except APP_ENV=production. Production
    #: refuses to start with PAYMENT_PROVIDER=fake unless this is "true".
    FAKE_PAYMENTS_ENABLED = os.environ.get("FAKE_PAYMENTS_ENABLED") or None
    EFI_BASE_URL = os.environ.get("EFI_BASE_URL", "https://pix.api.efipay.com.br")
    EFI_CLIENT_ID = os.environ.get("EFI_CLIENT_ID") or None
    EFI_CLIENT_SECRET = os.environ.get("EFI_CLIENT_SECRET") or None
    #: PEM file with the Efí certificate and key (mutual TLS).
    EFI_CERT_PATH = os.environ.get("EFI_CERT_PATH") or None
    #: The Pix key charges are paid to.
    EFI_PIX_KEY = os.environ.get("EFI_PIX_KEY") or None

    # -- Campaigns ------------------------------------------------------------------
    #: Dispatcher jobs per running campaign (claims keep them from sending twice).
    CAMPAIGN_DISPATCHERS = _int("CAMPAIGN_DISPATCHERS", 2)
    #: Seconds one dispatcher run lasts before handing over to a fresh job.
    CAMPAIGN_DISPATCH_BUDGET = _int("CAMPAIGN_DISPATCH_BUDGET", 120)
    #: Seconds after which a claimed contact is presumed left behind by a dead worker.
    CAMPAIGN_CLAIM_STALE = _int("CAMPAIGN_CLAIM_STALE", 120)
    #: Seconds a running campaign may go without a dispatcher before the watchdog acts.
    CAMPAIGN_STALL = _int("CAMPAIGN_STALL", 20)
    #: Most shipping rows (and list contacts) `GET /campaigns/<id>` embeds for the report page.
    CAMPAIGN_DETAIL_ROWS_MAX = _int("CAMPAIGN_DETAIL_ROWS_MAX", 50000)
    #: Seconds between two progress events (`company-{cid}-campaign`, every row of the
    #: report in each) of one sending campaign; 0 announces every send.
    CAMPAIGN_PROGRESS_EVERY = _int("CAMPAIGN_PROGRESS_EVERY", 5)
    #: RQ queue-name prefix (several apps may share one Redis); unset: REDIS_KEY_PREFIX.
    RQ_QUEUE_PREFIX = os.environ.get("RQ_QUEUE_PREFIX") or None

    # -- Fake WhatsApp provider and media storage --------------------------------
    #: "true"/"false"; unset means on everywhere except APP_ENV=production. Off, the fake
    #: WhatsApp provider cannot be chosen, started or sent through, and /fake-gateway is 404.
    FAKE_GATEWAY_ENABLED = os.environ.get("FAKE_GATEWAY_ENABLED") or None
    #: Acks the fake produces after each send, in order ("" disables them).
    FAKE_GATEWAY_AUTO_ACKS = os.environ.get("FAKE_GATEWAY_AUTO_ACKS", "delivered,read")
    #: Seconds between two automatic ack steps.
    FAKE_GATEWAY_ACK_DELAY = float(os.environ.get("FAKE_GATEWAY_ACK_DELAY") or 1.0)
    #: Extra segment of the fake's outbox keys, so several apps can share one Redis.
    FAKE_GATEWAY_NAMESPACE = os.environ.get("FAKE_GATEWAY_NAMESPACE") or None
    #: The outbox keeps this many newest entries per connection.
    FAKE_GATEWAY_OUTBOX_MAX = _int("FAKE_GATEWAY_OUTBOX_MAX", 500)
    MEDIA_MAX_BYTES = _int("MEDIA_MAX_BYTES", 16 * 1024 * 1024)
    #: Comma-separated MIME types ("type/*" wildcards allowed) accepted for uploads.
    MEDIA_ALLOWED_TYPES = [
        t.strip()
        for t in os.environ.get(
            "MEDIA_ALLOWED_TYPES",
            "image/*,video/*,audio/*,application/pdf,text/plain,text/csv,application/zip,"
            "application/msword,"
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
            "application/vnd.ms-excel,"
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
            "application/vnd.ms-powerpoint,"
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ).split(",")
        if t.strip()
    ]
    # Bodies larger than the media limit plus room for form fields are refused
    # by werkzeug before they are read (413 ERR_PAYLOAD_TOO_LARGE).
    MAX_CONTENT_LENGTH = MEDIA_MAX_BYTES + 1024 * 1024


class TestingConfig(Config):
    """Tests: TEST_DATABASE_URL (default in-memory SQLite), jobs run inline."""

    APP_ENV = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    JOBS_BACKEND = "inline"
    REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
    SOCKETIO_MESSAGE_QUEUE = None
    SOCKETIO_ASYNC_MODE = "threading"
    BCRYPT_ROUNDS = 4
    # Every test app documents the same routes: build the OpenAPI spec once per process.
    OPENAPI_REUSE_SPEC = True
    REFRESH_REUSE_GRACE_SECONDS = 0
    JWT_SECRET_KEY = "test-jwt-secret-0123456789abcdef0123456789"
    JWT_REFRESH_SECRET = "test-jwt-refresh-secret-0123456789abcdef"
    SECRET_KEY = "test-secret"
    # A test fails when code calls a provider or a tenant's URL inside a transaction,
    # and when a request leaves writes neither committed nor rolled back.
    OUTBOUND_IN_TRANSACTION = "raise"
    UNCOMMITTED_WRITES = "raise"


class ProductionConfig(Config):
    """Production: refuses default secrets (checked in create_app)."""

    APP_ENV = "production"


def config_from_env() -> type[Config]:
    """Pick the Config class named by APP_ENV."""
    env = os.environ.get("APP_ENV", "development")
    return {"production": ProductionConfig, "testing": TestingConfig}.get(env, Config)
