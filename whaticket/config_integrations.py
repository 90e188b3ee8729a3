"""Settings of the integrations: the connection send API, the public API v1 and its
scoped tokens, and company webhooks (a part of `Config`)."""

from __future__ import annotations

import os

from whaticket.env import env_int as _int


class IntegrationSettings:
    """The integrations' settings, read from the environment once, as Config's are."""

    #: External send API: requests per connection token per minute.
    EXTERNAL_API_MAX_PER_MINUTE = _int("EXTERNAL_API_MAX_PER_MINUTE", 60)
    #: Refused tokens per client IP per window before the IP gets 429 for the window.
    EXTERNAL_API_MAX_FAILURES_PER_IP = _int("EXTERNAL_API_MAX_FAILURES_PER_IP", 10)
    EXTERNAL_API_FAILURE_WINDOW_SECONDS = _int("EXTERNAL_API_FAILURE_WINDOW_SECONDS", 900)

    # -- Public API v1 and its scoped tokens (services/integrations/api_*) ---------------
    #: Requests per minute per API token, and per company (all its tokens together).
    API_TOKEN_MAX_PER_MINUTE = _int("API_TOKEN_MAX_PER_MINUTE", 120)
    API_COMPANY_MAX_PER_MINUTE = _int("API_COMPANY_MAX_PER_MINUTE", 600)
    #: Days a new token lives when its creator names no expiry, and the most allowed.
    API_TOKEN_DEFAULT_DAYS = _int("API_TOKEN_DEFAULT_DAYS", 365)
    API_TOKEN_MAX_DAYS = _int("API_TOKEN_MAX_DAYS", 1095)
    #: Active tokens (neither revoked nor expired) a company may hold.
    API_TOKEN_MAX_PER_COMPANY = _int("API_TOKEN_MAX_PER_COMPANY", 50)
    #: A change feed scan stops this many seconds before its start, so a write whose
    #: transaction commits late (its updated_at already past) is not stepped over.
    API_V1_FEED_SETTLE_SECONDS = _int("API_V1_FEED_SETTLE_SECONDS", 2)

    # -- Company webhooks (services/integrations) --------------------------------------
    #: Seconds to wait for a receiver's answer.
    WEBHOOK_TIMEOUT = _int("WEBHOOK_TIMEOUT", 10)
    #: Seconds before each retry, comma-separated (a failed delivery gets one more attempt
    #: than entries): 1 min, 5 min, 30 min, 2 h, 6 h, 15 h, about a day in all.
    WEBHOOK_RETRY_SCHEDULE = tuple(
        int(s)
        for s in os.environ.get("WEBHOOK_RETRY_SCHEDULE", "60,300,1800,7200,21600,54000").split(",")
        if s.strip()
    )
    #: Seconds of nothing but failed deliveries after which a subscription is switched off.
    WEBHOOK_DISABLE_AFTER_SECONDS = _int("WEBHOOK_DISABLE_AFTER_SECONDS", 24 * 3600)
    #: Days the delivery log keeps a finished delivery and its attempts.
    WEBHOOK_LOG_RETENTION_DAYS = _int("WEBHOOK_LOG_RETENTION_DAYS", 30)
    #: Seconds a rotated-out webhook secret keeps signing beside the new one.
    WEBHOOK_SECRET_GRACE_SECONDS = _int("WEBHOOK_SECRET_GRACE_SECONDS", 24 * 3600)
    #: Subscriptions per company (each event is one delivery per subscription).
    WEBHOOK_MAX_SUBSCRIPTIONS = _int("WEBHOOK_MAX_SUBSCRIPTIONS", 20)
    #: Deliveries one job sends at most: its own, and the due idle ones of its subscription.
    WEBHOOK_BATCH_SIZE = _int("WEBHOOK_BATCH_SIZE", 50)
    #: Seconds a delivery being sent is left to its worker before it is presumed dead...
    WEBHOOK_CLAIM_LEASE_SECONDS = _int("WEBHOOK_CLAIM_LEASE_SECONDS", 120)
    #: ...and seconds a due one may wait for its job before the sweep sends it.
    WEBHOOK_SWEEP_GRACE_SECONDS = _int("WEBHOOK_SWEEP_GRACE_SECONDS", 60)
