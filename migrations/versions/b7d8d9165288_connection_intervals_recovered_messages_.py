"""connection intervals (up/down timeline, outage backfill), recovered messages, backfill
deliveries, and connections migrated to another number

`messages` and `inbound_events` get plain ADD COLUMNs, never a batch rebuild: on SQLite
a rebuild of `messages` would drop its full-text triggers.

Revision ID: b7d8d9165288
Revises: 7c41e0b9d2a6
Create Date: 2026-12-05 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa
import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "b7d8d9165288"
down_revision = "7c41e0b9d2a6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "connection_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("whatsapp_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("started_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.Column("ended_at", whaticket.db.UTCDateTime(), nullable=True),
        sa.Column("backfill_status", sa.String(length=20), nullable=True),
        sa.Column("recovered", sa.Integer(), nullable=False),
        sa.Column("backfill_detail", sa.String(length=500), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["whatsapp_id"], ["whatsapps.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("connection_intervals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connection_intervals_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            "ix_connection_intervals_whatsapp_started",
            ["whatsapp_id", "started_at"],
            unique=False,
        )

    op.add_column(
        "messages",
        sa.Column("recovered", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("inbound_events", sa.Column("origin", sa.String(length=20), nullable=True))

    with op.batch_alter_table("whatsapps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("migrated_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("migrated_at", whaticket.db.UTCDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_whatsapps_migrated_to_id"), ["migrated_to_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_whatsapps_migrated_to_id_whatsapps"),
            "whatsapps",
            ["migrated_to_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("whatsapps", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_whatsapps_migrated_to_id_whatsapps"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_whatsapps_migrated_to_id"))
        batch_op.drop_column("migrated_at")
        batch_op.drop_column("migrated_to_id")
    op.drop_column("inbound_events", "origin")
    op.drop_column("messages", "recovered")
    # The new table goes whole (on MariaDB its foreign keys' indexes cannot be dropped first).
    op.drop_table("connection_intervals")
