"""Encryption at rest for provider secrets: Fernet, keyed by ENCRYPTION_KEY or SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    """The app's Fernet: ENCRYPTION_KEY when set, else a key derived from SECRET_KEY."""
    key = current_app.config.get("ENCRYPTION_KEY")
    if not key:
        digest = hashlib.sha256(("whaticket-at-rest:" + current_app.config["SECRET_KEY"]).encode())
        key = base64.urlsafe_b64encode(digest.digest()).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt_json(value: dict[str, Any] | None) -> str | None:
    """Encrypt a JSON-able dict (None stays None)."""
    if value is None:
        return None
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str | None) -> dict[str, Any]:
    """Decrypt what encrypt_json produced; {} for None. A wrong key raises ValueError."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("provider settings cannot be decrypted with this key") from exc


def encrypt_str(value: str | None) -> str | None:
    """Encrypt a secret string (None and "" stay None)."""
    if not value:
        return None
    return _fernet().encrypt(value.encode()).decode()


def decrypt_str(token: str | None) -> str | None:
    """Decrypt what encrypt_str produced; None for None. A wrong key raises ValueError."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with this key") from exc


def mask(secret: str | None) -> str | None:
    """A secret as the API shows it: only its last 4 characters."""
    if not secret:
        return secret
    return "*" * max(len(secret) - 4, 4) + secret[-4:]


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret, hex: what is stored to look it up without keeping it.

    Exact (a different case is a different digest), so the lookup is case-sensitive on
    every database whatever the column's collation.
    """
    return hashlib.sha256(secret.encode()).hexdigest()
