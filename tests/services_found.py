"""Which real services this run can use: Redis and a shared MariaDB, found if not named.

`make test` with nothing set still runs the durability and concurrency tests wherever
Redis (127.0.0.1:6379) and MariaDB (127.0.0.1:3306, root) answer; TEST_REDIS_URL and
TEST_SHARED_DATABASE_URL name others, or "off" turns a probe off. It runs when the
`tests` package is imported, before whaticket.config reads TEST_REDIS_URL.
"""

from __future__ import annotations

import os
import socket
import uuid

#: What the probes found, for the report header and the skip reasons.
FOUND: dict[str, str] = {}

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
MARIADB_HOST, MARIADB_PORT = "127.0.0.1", 3306


def _answers(host: str, port: int) -> bool:
    """Whether something accepts a TCP connection there within half a second."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _redis() -> None:
    """TEST_REDIS_URL, or a local Redis (database 14) when one answers a PING."""
    named = os.environ.get("TEST_REDIS_URL", "")
    if named == "off":
        os.environ.pop("TEST_REDIS_URL")
        FOUND["redis"] = "turned off (TEST_REDIS_URL=off): the Redis tests skip"
        return
    if named:
        FOUND["redis"] = f"{named} (TEST_REDIS_URL)"
        return
    if not _answers(REDIS_HOST, REDIS_PORT):
        FOUND["redis"] = f"nothing answers at {REDIS_HOST}:{REDIS_PORT}: the Redis tests skip"
        return
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/14"
    os.environ["TEST_REDIS_URL"] = url
    FOUND["redis"] = f"{url} (found)"


def _shared_database() -> None:
    """A database several processes share, for `shared_db` tests of a SQLite run.

    The main database serves when it is a server (TEST_DATABASE_URL); otherwise a
    throw-away MariaDB database is created on first use (tests/conftest.py).
    """
    main = os.environ.get("TEST_DATABASE_URL", "")
    named = os.environ.get("TEST_SHARED_DATABASE_URL", "")
    if main and not main.startswith("sqlite"):
        FOUND["shared_db"] = f"{main} (TEST_DATABASE_URL)"
    elif named == "off":
        FOUND["shared_db"] = "turned off (TEST_SHARED_DATABASE_URL=off): shared_db tests skip"
    elif named:
        FOUND["shared_db"] = f"{named} (TEST_SHARED_DATABASE_URL)"
        FOUND["shared_db_url"] = named
    elif _answers(MARIADB_HOST, MARIADB_PORT):
        name = f"wt_shared_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        url = f"mysql://root@{MARIADB_HOST}:{MARIADB_PORT}/{name}"
        FOUND["shared_db"] = f"{url} (found; created on first use, dropped at the end)"
        FOUND["shared_db_url"] = url
        FOUND["shared_db_create"] = name
    else:
        FOUND["shared_db"] = (
            f"nothing answers at {MARIADB_HOST}:{MARIADB_PORT}: the tests that need a "
            "database shared by threads or processes skip"
        )


def probe() -> None:
    """Run both probes once."""
    if not FOUND:
        _redis()
        _shared_database()
