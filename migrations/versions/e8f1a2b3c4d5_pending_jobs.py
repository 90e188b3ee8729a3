"""pending jobs: jobs that must not be lost are stored before they are queued

Revision ID: e8f1a2b3c4d5
Revises: c6098a82f6be
Create Date: 2026-12-03 15:00:00.000000

"""

from alembic import op
import sqlalchemy as sa
import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "e8f1a2b3c4d5"
down_revision = "c6098a82f6be"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("args_json", sa.Text(), nullable=False),
        sa.Column("queue", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=191), nullable=True),
        sa.Column("run_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.Column("claimed_at", whaticket.db.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pending_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_pending_jobs_claimed_run", ["claimed_at", "run_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pending_jobs_dedupe_key"), ["dedupe_key"], unique=False
        )


def downgrade():
    with op.batch_alter_table("pending_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_jobs_dedupe_key"))
        batch_op.drop_index("ix_pending_jobs_claimed_run")
    op.drop_table("pending_jobs")
