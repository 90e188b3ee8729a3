"""account claim on connections: a provider account id belongs to one connection

Revision ID: b7c1d2e3f4a5
Revises: 19491ffd0512
Create Date: 2026-12-03 10:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b7c1d2e3f4a5"
down_revision = "19491ffd0512"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("whatsapps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_claim", sa.String(length=130), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_whatsapps_account_claim"), ["account_claim"]
        )


def downgrade():
    with op.batch_alter_table("whatsapps", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_whatsapps_account_claim"), type_="unique")
        batch_op.drop_column("account_claim")
