"""Signed public URLs of stored media: `{base}{API_PREFIX}/public/<cid>/<rel>?exp=...&sig=...`.

The signature is an HMAC of `<company_id>:<exp>:<rel>` keyed by SECRET_KEY: unguessable,
usable in `<img src>`, and good until `exp` (a Unix time). Every answer that carries a
URL signs it afresh, so a screen that lists messages always holds working links, while a
link copied out of the app stops opening after MEDIA_URL_TTL seconds (24 h by default).
Plain functions of the config, so the schemas that put these URLs in answers need no
service; `services/platform/media` stores the files they point to.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from flask import current_app

from whaticket.db import utcnow
from whaticket.utils.urls import backend_base_url

#: Expiries are rounded up to at most this step (seconds): a file's URL stays the same
#: within the step, so browsers reuse their cached copy across listings.
EXPIRY_STEP = 3600


def _now() -> int:
    """The app's clock as a Unix time (FROZEN_NOW in tests)."""
    return int(utcnow().timestamp())


def expiry() -> int:
    """When a URL signed now stops working: at least MEDIA_URL_TTL seconds from now,
    rounded up to a step (one hour, or the TTL when shorter) so URLs repeat."""
    ttl = max(1, int(current_app.config.get("MEDIA_URL_TTL") or 86400))
    step = min(EXPIRY_STEP, ttl)
    at = _now() + ttl
    return -(-at // step) * step


def signature(company_id: int, rel: str, exp: int) -> str:
    """The HMAC-SHA256 (hex) of `<company_id>:<exp>:<rel>` keyed by SECRET_KEY."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{int(company_id)}:{int(exp)}:{rel}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signature_valid(company_id: int, rel: str, exp: str | None, sig: str | None) -> bool:
    """True when `sig` signs `rel` until `exp` and `exp` has not passed.

    A link without `exp` (signed before links expired) is refused like a bad one.
    """
    if not sig or not exp or not exp.isascii() or not exp.isdigit() or len(exp) > 12:
        return False
    if int(exp) < _now():
        return False
    return hmac.compare_digest(signature(company_id, rel, int(exp)), sig)


def public_path(company_id: int, rel: str) -> str:
    """`<cid>/<rel>?exp=...&sig=...`: what follows `/public/` in the signed URL of `rel`."""
    exp = expiry()
    sig = signature(company_id, rel, exp)
    return f"{int(company_id)}/{quote(rel, safe='/')}?exp={exp}&sig={sig}"


def public_url(company_id: int, rel: str) -> str:
    """The signed URL serving `rel`: `{base}{API_PREFIX}/public/<cid>/<rel>?exp=...&sig=...`.

    The base is BACKEND_URL, else the host the request came to, else HOST:PORT (utils/urls).
    """
    base = backend_base_url() + current_app.config["API_PREFIX"]
    return f"{base}/public/{public_path(company_id, rel)}"
