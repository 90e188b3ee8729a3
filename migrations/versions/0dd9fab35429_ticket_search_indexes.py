"""ticket search indexes: full-text on contact names and message bodies (MariaDB FULLTEXT,
PostgreSQL pg_trgm GIN, SQLite FTS5 with its sync triggers)

The statements are whaticket.models.search_index's, the same that db.create_all() runs.
On MariaDB the first FULLTEXT index of a table rebuilds it (a hidden FTS_DOC_ID column):
minutes, writes blocked, on millions of messages.

Revision ID: 0dd9fab35429
Revises: a2dcab1a4e03
Create Date: 2026-12-03 15:20:00.000000

"""

from alembic import op

from whaticket.models import search_index

# revision identifiers, used by Alembic.
revision = "0dd9fab35429"
down_revision = "a2dcab1a4e03"
branch_labels = None
depends_on = None

TABLES = ("contacts", "messages")


def upgrade():
    dialect = op.get_bind().dialect
    for table in TABLES:
        for stmt in search_index.create_statements(table, dialect):
            op.execute(stmt)


def downgrade():
    dialect = op.get_bind().dialect
    for table in TABLES:
        for stmt in search_index.drop_statements(table, dialect):
            op.execute(stmt)
