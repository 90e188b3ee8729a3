"""The running version: the package version and the database's applied migration."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import current_app

from whaticket.extensions import db

#: The Alembic scripts shipped with this code (not the working directory's).
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


@lru_cache(maxsize=1)
def migration_head() -> str | None:
    """The newest migration this code ships (None when the scripts are not deployed)."""
    if not (MIGRATIONS_DIR / "env.py").exists():
        return None
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    return heads[0] if len(heads) == 1 else None


def applied_migration() -> str | None:
    """The migration id recorded in `alembic_version` (None on a schema made without Alembic)."""
    if not sa.inspect(db.engine).has_table("alembic_version"):
        return None
    return db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))


def info() -> dict[str, Any]:
    """`{version, migration, migrationHead, upToDate}`."""
    applied = applied_migration()
    head = migration_head()
    return {
        # The package version, as create_app put it in the config (the app factory is the
        # layer above this one: reading it there keeps the imports pointing down).
        "version": current_app.config["API_VERSION"],
        "migration": applied,
        "migration_head": head,
        "up_to_date": applied is not None and applied == head,
    }
