"""import jobs: big contact and contact-list spreadsheets imported by the worker

Revision ID: b5e2c9a1d7f3
Revises: a91c4e7d2b60
Create Date: 2026-12-12 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa
import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "b5e2c9a1d7f3"
down_revision = "a91c4e7d2b60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_path", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("existing", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error_rows", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=100), nullable=True),
        sa.Column("finished_at", whaticket.db.UTCDateTime(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_import_jobs_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_import_jobs_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_jobs_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            "ix_import_jobs_status_finished", ["status", "finished_at"], unique=False
        )


def downgrade():
    # Dropping the table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    op.drop_table("import_jobs")
