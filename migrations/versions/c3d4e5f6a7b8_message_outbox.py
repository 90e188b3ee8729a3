"""message outbox: our messages are claimed by a sender after the commit that queued them

Revision ID: c3d4e5f6a7b8
Revises: 5d3e8a1c7f20
Create Date: 2026-12-03 14:00:00.000000

"""

from alembic import op
import sqlalchemy as sa
import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "c3d4e5f6a7b8"
down_revision = "5d3e8a1c7f20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_claimed_at", whaticket.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("send_after", whaticket.db.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_messages_ack_created", ["ack", "created_at"], unique=False)
    # Messages already stored are sent or failed for good: nothing for the outbox to take.
    op.execute("UPDATE messages SET send_claimed_at = created_at WHERE from_me")


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_ack_created")
        batch_op.drop_column("send_after")
        batch_op.drop_column("send_claimed_at")
