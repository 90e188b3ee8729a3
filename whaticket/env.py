"""Reading settings from the environment (and a .env file) for the Config classes."""

from __future__ import annotations

import os

from dotenv import load_dotenv

# A .env beside the code (or in the working directory) fills in what the real
# environment leaves unset; real variables always win.
load_dotenv(override=False)


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on")."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default
