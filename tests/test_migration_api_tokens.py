"""The hashed-token migration keeps every existing external-API token working (backfill)
and its downgrade puts the clear tokens back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from whaticket.extensions import db
from whaticket.utils.crypto import decrypt_str, digest

# Creates and drops tables itself: a connection of its own, real commits.
pytestmark = pytest.mark.own_app

REVISION = "c6098a82f6be"
TOKENS = {"Legacy short": "abc", "Long": "Mixed-Case-Token-0123456789abcdefghij"}


def _previous_revision() -> str:
    """What the migration revises (read from it, so chaining heads does not break this)."""
    migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory)
    down = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def _insert(conn: sa.Connection, table_name: str, **values) -> int:
    """Insert a row, filling every other required column with a plain value of its type."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        if column.server_default is not None:
            continue
        try:
            kind = column.type.python_type
        except NotImplementedError:
            kind = str
        values[column.name] = {
            bool: False,
            int: 0,
            float: 0.0,
            datetime: datetime.now(UTC).replace(tzinfo=None),
        }.get(kind, "[]")  # a string that is valid JSON too (MariaDB checks JSON columns)
    result = conn.execute(table.insert().values(**values))
    return int(result.inserted_primary_key[0])


def _by_token(token: str) -> sa.Row | None:
    """The row the external API finds for `token` (looked up as `by_token` does), read
    with this revision's columns only: later migrations add columns the model maps."""
    with db.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT id, token_encrypted FROM whatsapps WHERE token_hash = :h"),
            {"h": digest(token)},
        ).first()


def _reset_schema() -> None:
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def scratch_schema(app):
    """The test migrates by hand; the models' schema is put back for the teardown."""
    _reset_schema()
    try:
        yield
    finally:
        db.session.remove()
        _reset_schema()
        db.create_all()


def test_existing_tokens_are_backfilled_and_restored(scratch_schema):
    previous = _previous_revision()
    upgrade(revision=previous)
    with db.engine.begin() as conn:
        company_id = _insert(conn, "companies", name="Acme")
        ids = {
            name: _insert(conn, "whatsapps", company_id=company_id, name=name, token=token)
            for name, token in TOKENS.items()
        }
        _insert(conn, "whatsapps", company_id=company_id, name="None", token=None)

    upgrade(revision=REVISION)
    db.session.remove()
    for name, token in TOKENS.items():
        found = _by_token(token)
        assert found is not None and found.id == ids[name]
        assert decrypt_str(found.token_encrypted) == token
    assert _by_token(TOKENS["Long"].lower()) is None
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("whatsapps")}
    assert "token" not in columns and {"token_hash", "token_encrypted"} <= columns
    db.session.remove()

    downgrade(revision=previous)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, token FROM whatsapps")).all()
    assert dict(rows) == {**TOKENS, "None": None}
