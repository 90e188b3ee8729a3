"""ticket list: an index on (company, status, agent, updated_at, queue) for the agent views

Revision ID: c3a9e1f4d2b7
Revises: df35f5be3489
Create Date: 2026-12-03 21:00:00.000000
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c3a9e1f4d2b7"
down_revision = "df35f5be3489"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the index the ticket list's visibility filter and count read."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_company_status_user",
            ["company_id", "status", "user_id", "updated_at", "queue_id"],
            unique=False,
        )


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_company_status_user")
