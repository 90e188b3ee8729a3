"""GET /version: the package version and the applied migration id, public."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

import whaticket
from whaticket.extensions import db

# Creates and drops tables itself: a connection of its own, real commits.
pytestmark = pytest.mark.own_app

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def _head_from_files() -> str:
    """The revision no other revision revises, read straight from the scripts."""
    revisions, parents = set(), set()
    for path in VERSIONS.glob("*.py"):
        text = path.read_text()
        revisions.add(re.search(r"^revision = ['\"](\w+)['\"]", text, re.M).group(1))
        down = re.search(r"^down_revision = ['\"](\w+)['\"]", text, re.M)
        if down:
            parents.add(down.group(1))
    (head,) = revisions - parents
    return head


@pytest.fixture
def stamped(app):
    """stamped(rev) records `rev` as the applied migration; the table is dropped afterwards."""

    def _stamp(rev: str | None) -> None:
        # A read of alembic_version in the session's open transaction would hold MariaDB's
        # metadata lock and make the DROP wait forever.
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            if rev is not None:
                conn.execute(
                    sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
                )
                conn.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": rev})

    yield _stamp
    _stamp(None)


def test_version_is_public_and_names_the_applied_migration(client, prefix, stamped):
    head = _head_from_files()
    stamped(head)

    resp = client.get(f"{prefix}/version")

    assert resp.status_code == 200
    assert resp.get_json() == {
        "version": whaticket.__version__,
        "migration": head,
        "migrationHead": head,
        "upToDate": True,
    }


def test_an_older_database_is_not_up_to_date(client, prefix, stamped):
    stamped("91a0e9155e35")  # the first migration

    body = client.get(f"{prefix}/version").get_json()

    assert body["migration"] == "91a0e9155e35"
    assert body["migrationHead"] == _head_from_files()
    assert body["upToDate"] is False


def test_a_schema_made_without_alembic_has_no_migration(client, prefix, stamped):
    stamped(None)

    body = client.get(f"{prefix}/version").get_json()

    assert body["version"] == whaticket.__version__
    assert body["migration"] is None
    assert body["upToDate"] is False


def test_the_openapi_document_carries_the_same_version(client, prefix):
    spec = client.get(f"{prefix}/openapi.json")
    if spec.status_code == 404:
        spec = client.get("/openapi.json")
    assert spec.get_json()["info"]["version"] == whaticket.__version__
