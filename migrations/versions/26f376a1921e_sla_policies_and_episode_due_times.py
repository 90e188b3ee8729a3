"""SLA policies, due times and marks on episodes, the ticket's SLA episode, SLA report keys

Revision ID: 26f376a1921e
Revises: a800fb6f5aab
Create Date: 2026-12-01 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import whaticket.db  # noqa: F401 - custom column types (UTCDateTime)

# revision identifiers, used by Alembic.
revision = "26f376a1921e"
down_revision = "a800fb6f5aab"
branch_labels = None
depends_on = None

_TRACKING_TIMES = (
    "sla_check_at",
    "first_response_due_at",
    "first_response_warn_at",
    "first_response_warned_at",
    "first_response_breached_at",
    "next_response_since",
    "next_response_due_at",
    "next_response_warn_at",
    "next_response_warned_at",
    "next_response_breached_at",
    "resolution_due_at",
    "resolution_warn_at",
    "resolution_warned_at",
    "resolution_breached_at",
)


def upgrade():
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column("warning_fraction", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("queue_ids", sa.JSON(), nullable=False),
        sa.Column("tag_ids", sa.JSON(), nullable=False),
        sa.Column("whatsapp_ids", sa.JSON(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", whaticket.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_sla_policies_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_sla_policies_company_id_name")),
    )
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_policies_company_id"), ["company_id"])

    with op.batch_alter_table("ticket_trackings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_policy_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sla_status", sa.String(length=10), nullable=True))
        for name in _TRACKING_TIMES:
            batch_op.add_column(sa.Column(name, whaticket.db.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_trackings_sla_policy_id_sla_policies"),
            "sla_policies",
            ["sla_policy_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_ticket_trackings_sla_policy_id"), ["sla_policy_id"])
        batch_op.create_index(batch_op.f("ix_ticket_trackings_sla_check_at"), ["sla_check_at"])

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_tracking_id", sa.Integer(), nullable=True))

    with op.batch_alter_table("report_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_policy_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sla_target", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("report_events", schema=None) as batch_op:
        batch_op.drop_column("sla_target")
        batch_op.drop_column("sla_policy_id")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("sla_tracking_id")
    with op.batch_alter_table("ticket_trackings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_trackings_sla_check_at"))
        # MariaDB refuses to drop a foreign key's index before the key.
        batch_op.drop_constraint(
            batch_op.f("fk_ticket_trackings_sla_policy_id_sla_policies"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_ticket_trackings_sla_policy_id"))
        for name in reversed(_TRACKING_TIMES):
            batch_op.drop_column(name)
        batch_op.drop_column("sla_status")
        batch_op.drop_column("sla_policy_id")
    op.drop_table("sla_policies")
