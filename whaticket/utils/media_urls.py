"""Signed public URLs of stored media: `{base}{API_PREFIX}/public/<cid>/<rel>?sig=...`.

The signature is an HMAC of `<company_id>/<rel>` keyed by SECRET_KEY: unguessable, and
usable in `<img src>`. Plain functions of the config, so the schemas that put these URLs
in answers need no service; `services/platform/media` stores the files they point to.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from flask import current_app

from whaticket.utils.urls import backend_base_url


def signature(company_id: int, rel: str) -> str:
    """The HMAC-SHA256 (hex) of `<company_id>/<rel>` keyed by SECRET_KEY."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{int(company_id)}/{rel}".encode(), hashlib.sha256).hexdigest()


def signature_valid(company_id: int, rel: str, sig: str | None) -> bool:
    """Constant-time check of a URL signature."""
    if not sig:
        return False
    return hmac.compare_digest(signature(company_id, rel), sig)


def public_path(company_id: int, rel: str) -> str:
    """`<cid>/<rel>?sig=...`: what follows `/public/` in the signed URL of `rel`."""
    return f"{int(company_id)}/{quote(rel, safe='/')}?sig={signature(company_id, rel)}"


def public_url(company_id: int, rel: str) -> str:
    """The signed URL serving `rel`: `{base}{API_PREFIX}/public/<cid>/<rel>?sig=...`.

    The base is BACKEND_URL, else the host the request came to, else HOST:PORT (utils/urls).
    """
    base = backend_base_url() + current_app.config["API_PREFIX"]
    return f"{base}/public/{public_path(company_id, rel)}"
