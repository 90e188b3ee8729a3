"""queue assignment: assignment rule, capacity and reassignment delay per queue, capacity per
agent and queue, and the ticket_assignments log

Revision ID: a800fb6f5aab
Revises: b1a7ac9bc4b2
Create Date: 2026-12-05 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa
import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "a800fb6f5aab"
down_revision = "b1a7ac9bc4b2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("assignment", sa.String(length=20), server_default="manual", nullable=False)
        )
        batch_op.add_column(sa.Column("capacity", sa.Integer(), server_default="5", nullable=False))
        batch_op.add_column(sa.Column("reassign_after", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assign_cursor", sa.Integer(), nullable=True))
    with op.batch_alter_table("user_queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
    op.create_table(
        "ticket_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("assigned_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.Column("released_at", whaticket.db.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_assignments_queue_open",
            ["queue_id", "released_at", "assigned_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ticket_assignments_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ticket_assignments_ticket_id"), ["ticket_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ticket_assignments_user_id"), ["user_id"], unique=False
        )


def downgrade():
    # Whole tables go at once (MariaDB cannot drop an index a foreign key still uses).
    op.drop_table("ticket_assignments")
    with op.batch_alter_table("user_queues", schema=None) as batch_op:
        batch_op.drop_column("capacity")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("assign_cursor")
        batch_op.drop_column("reassign_after")
        batch_op.drop_column("capacity")
        batch_op.drop_column("assignment")
