"""import map: which row of ours each row of an imported Whaticket database became

Revision ID: df35f5be3489
Revises: b7d8d9165288
Create Date: 2026-12-20 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa
import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "df35f5be3489"
down_revision = "b7d8d9165288"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_map",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=191), nullable=False),
        sa.Column("source_table", sa.String(length=64), nullable=False),
        sa.Column("old_id", sa.String(length=191), nullable=False),
        sa.Column("new_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("source_updated_at", whaticket.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_map")),
        sa.UniqueConstraint(
            "source",
            "source_table",
            "old_id",
            name=op.f("uq_import_map_source_source_table_old_id"),
        ),
    )


def downgrade():
    op.drop_table("import_map")
