"""inbound: failed deliveries kept with their reason, one drain per connection (lease and
row claims), receipts kept until their message exists, message bodies in MEDIUMTEXT

Revision ID: a91c4e7d2b60
Revises: e8f1a2b3c4d5
Create Date: 2026-12-10 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)


# revision identifiers, used by Alembic.
revision = "a91c4e7d2b60"
down_revision = "e8f1a2b3c4d5"
branch_labels = None
depends_on = None


def _mariadb() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade():
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", whaticket.db.UTCDateTime(), nullable=True))
        batch_op.create_index(
            "ix_inbound_events_whatsapp_status", ["whatsapp_id", "status", "id"], unique=False
        )
        batch_op.create_index(
            "ix_inbound_events_company_status", ["company_id", "status", "id"], unique=False
        )
    op.create_table(
        "inbound_drains",
        sa.Column("whatsapp_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=40), nullable=True),
        sa.Column("expires_at", whaticket.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["whatsapp_id"],
            ["whatsapps.id"],
            name=op.f("fk_inbound_drains_whatsapp_id_whatsapps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("whatsapp_id", name=op.f("pk_inbound_drains")),
    )
    op.create_table(
        "pending_acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("whatsapp_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.String(length=191), nullable=False),
        sa.Column("ack", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_pending_acks_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["whatsapp_id"],
            ["whatsapps.id"],
            name=op.f("fk_pending_acks_whatsapp_id_whatsapps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_acks")),
        sa.UniqueConstraint(
            "whatsapp_id", "provider_id", name=op.f("uq_pending_acks_whatsapp_id_provider_id")
        ),
    )
    with op.batch_alter_table("pending_acks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_acks_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pending_acks_whatsapp_id"), ["whatsapp_id"], unique=False
        )
    # WhatsApp's longest text is 65,536 characters, up to 4 bytes each: more than the
    # 65,535 bytes of a MariaDB TEXT. SQLite and PostgreSQL texts have no such limit.
    if _mariadb():
        op.alter_column(
            "messages",
            "body",
            existing_type=sa.Text(),
            type_=mysql.MEDIUMTEXT(),
            existing_nullable=False,
        )


def downgrade():
    if _mariadb():
        op.alter_column(
            "messages",
            "body",
            existing_type=mysql.MEDIUMTEXT(),
            type_=sa.Text(),
            existing_nullable=False,
        )
    op.drop_table("pending_acks")  # its indexes go with it (MariaDB keeps FK indexes)
    op.drop_table("inbound_drains")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_events_company_status")
        batch_op.drop_index("ix_inbound_events_whatsapp_status")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
