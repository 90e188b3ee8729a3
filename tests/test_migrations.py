"""Migrations: upgrade builds exactly the models' schema; downgrade removes it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from whaticket.extensions import db
from whaticket.models.search_index import include_name

# Creates and drops tables itself: a connection of its own, real commits.
pytestmark = pytest.mark.own_app


def _drop_everything() -> None:
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def test_upgrade_matches_models_and_downgrade_cleans_up(app):
    _drop_everything()
    upgrade()
    with db.engine.connect() as conn:
        # The search objects are built by the migration's own statements, not the metadata.
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
    downgrade(revision="base")
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()  # and up again, so the fixture's teardown finds what it expects

    # GET /version reports what was just applied.
    from whaticket.services.platform import version as version_service

    body = app.test_client().get(f"{app.config['API_PREFIX']}/version").get_json()
    assert body["migration"] == version_service.migration_head() is not None
    assert body["upToDate"] is True
