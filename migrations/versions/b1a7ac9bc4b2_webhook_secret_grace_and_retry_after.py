"""webhook secret grace and Retry-After: the previous secret of a subscription (encrypted,
with when it stops signing) and the wait a receiver asked for on each attempt

Revision ID: b1a7ac9bc4b2
Revises: 0dd9fab35429
Create Date: 2026-12-04 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)

# revision identifiers, used by Alembic.
revision = "b1a7ac9bc4b2"
down_revision = "0dd9fab35429"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_secret_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("previous_secret_expires_at", whaticket.db.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_after", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_column("retry_after")
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_expires_at")
        batch_op.drop_column("previous_secret_encrypted")
