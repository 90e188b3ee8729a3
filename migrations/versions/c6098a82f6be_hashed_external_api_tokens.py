"""hashed external API tokens: a connection's token as its SHA-256 and encrypted

Revision ID: c6098a82f6be
Revises: c3d4e5f6a7b8
Create Date: 2026-12-05 10:00:00.000000

The clear `whatsapps.token` column goes. Each existing token is kept working: its
SHA-256 (the lookup key, unique) and its Fernet-encrypted copy (what admins read back)
are written from it, with the app's key (ENCRYPTION_KEY, else derived from SECRET_KEY).
"""

import hashlib

import sqlalchemy as sa
from alembic import op

from whaticket.utils.crypto import decrypt_str, encrypt_str

# revision identifiers, used by Alembic.
revision = "c6098a82f6be"
down_revision = "c3d4e5f6a7b8"
branch_labels = None
depends_on = None


def _whatsapps(*columns: str) -> sa.Table:
    """A lightweight table for the backfill (only the columns it touches)."""
    return sa.table(
        "whatsapps",
        sa.column("id", sa.Integer),
        *(sa.column(name, sa.Text) for name in columns),
    )


def upgrade():
    with op.batch_alter_table("whatsapps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("token_encrypted", sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_whatsapps_token_hash"), ["token_hash"])

    conn = op.get_bind()
    table = _whatsapps("token", "token_hash", "token_encrypted")
    rows = conn.execute(sa.select(table.c.id, table.c.token).where(table.c.token.is_not(None)))
    for row_id, token in rows.all():
        token = (token or "").strip()
        if not token:
            continue
        conn.execute(
            table.update()
            .where(table.c.id == row_id)
            .values(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                token_encrypted=encrypt_str(token),
            )
        )

    with op.batch_alter_table("whatsapps", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_whatsapps_token"), type_="unique")
        batch_op.drop_column("token")


def downgrade():
    with op.batch_alter_table("whatsapps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_whatsapps_token"), ["token"])

    conn = op.get_bind()
    table = _whatsapps("token", "token_encrypted")
    rows = conn.execute(
        sa.select(table.c.id, table.c.token_encrypted).where(table.c.token_encrypted.is_not(None))
    )
    for row_id, encrypted in rows.all():
        try:
            token = decrypt_str(encrypted)
        except ValueError:
            continue  # encrypted under another key: that connection gets a new token
        conn.execute(table.update().where(table.c.id == row_id).values(token=token))

    with op.batch_alter_table("whatsapps", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_whatsapps_token_hash"), type_="unique")
        batch_op.drop_column("token_encrypted")
        batch_op.drop_column("token_hash")
