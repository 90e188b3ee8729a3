"""Full-text search objects on contact names and message bodies, per database.

The ticket search (`services/tickets/search.py`) reads contacts and messages through them:

* MariaDB/MySQL: InnoDB FULLTEXT indexes on `contacts.name` and `messages.body`, built
  without the stopword list (it holds "com", "for", "the"...). InnoDB indexes words of 3
  characters or more (`innodb_ft_min_token_size`) and shows a row to MATCH only once its
  transaction committed.
* PostgreSQL: pg_trgm GIN indexes on `name`, `number` and `body`; they serve ILIKE, LIKE
  and case-insensitive regular expressions, so the search keeps one exact condition there.
* SQLite: FTS5 tables over contacts and messages (external content: they hold only the
  index), kept in sync by triggers.

The same statements are run by the migration that adds them and, through the tables'
`after_create` events, by `db.create_all()` (the test suite's schema), so both paths build
the same objects. Every object's name starts with `search_`: Alembic's autogenerate
leaves them alone (`include_name`), as the models' metadata does not describe them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from whaticket.models.contact import Contact
from whaticket.models.message import Message

PREFIX = "search_"
#: SQLite FTS5 tables (their rowid is the contact's or message's id).
CONTACTS_FTS = "search_contacts"
MESSAGES_FTS = "search_messages"
#: Shortest word InnoDB indexes (its default `innodb_ft_min_token_size`).
MIN_WORD = 3

# (table, column, FTS5 table or index name) of each indexed text column.
_TEXT_COLUMNS = {
    "contacts": ("name", CONTACTS_FTS),
    "messages": ("body", MESSAGES_FTS),
}


def _is_mysql(dialect: sa.engine.Dialect) -> bool:
    return dialect.name in ("mysql", "mariadb")


def _sqlite_statements(table: str, column: str, fts: str) -> list[str]:
    """The FTS5 table over `table.column` and the triggers that keep it in sync."""
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
    return [
        # remove_diacritics 2: "pedído" finds "pedido" (InnoDB's collation does the same).
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({column}, content='{table}', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {column} ON {table} "
        f"BEGIN {delete} {insert} END",
        # Index the rows already there (a migration on a filled database).
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def create_statements(table: str, dialect: sa.engine.Dialect) -> list[str]:
    """The DDL that builds the search objects of `table` ("contacts" or "messages")."""
    column, name = _TEXT_COLUMNS[table]
    if _is_mysql(dialect):
        exists = " IF NOT EXISTS" if getattr(dialect, "is_mariadb", False) else ""
        return [
            # Read when the index is built: this index gets no stopword list.
            "SET SESSION innodb_ft_enable_stopword = OFF",
            f"CREATE FULLTEXT INDEX{exists} {name} ON {table} ({column})",
            "SET SESSION innodb_ft_enable_stopword = DEFAULT",
        ]
    if dialect.name == "postgresql":
        stmts = [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)",
        ]
        if table == "contacts":
            stmts.append(
                f"CREATE INDEX IF NOT EXISTS {PREFIX}contacts_number ON contacts "
                "USING gin (number gin_trgm_ops)"
            )
        return stmts
    if dialect.name == "sqlite":
        return _sqlite_statements(table, column, name)
    return []


def drop_statements(table: str, dialect: sa.engine.Dialect) -> list[str]:
    """The DDL that removes what `create_statements` built (the extension stays)."""
    name = _TEXT_COLUMNS[table][1]
    if _is_mysql(dialect):
        return [f"DROP INDEX {name} ON {table}"]
    if dialect.name == "postgresql":
        stmts = [f"DROP INDEX IF EXISTS {name}"]
        if table == "contacts":
            stmts.append(f"DROP INDEX IF EXISTS {PREFIX}contacts_number")
        return stmts
    if dialect.name == "sqlite":
        triggers = [f"DROP TRIGGER IF EXISTS {name}_{kind}" for kind in ("ai", "ad", "au")]
        return [*triggers, f"DROP TABLE IF EXISTS {name}"]
    return []


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Alembic's name filter: skip the search objects (built here, not by the metadata)."""
    return not (name or "").startswith(PREFIX)


def _after_create(table: sa.Table, connection: sa.Connection, **_: Any) -> None:
    for stmt in create_statements(table.name, connection.dialect):
        connection.exec_driver_sql(stmt)


def _before_drop(table: sa.Table, connection: sa.Connection, **_: Any) -> None:
    # MariaDB and PostgreSQL drop indexes with their table; an FTS5 table would stay.
    if connection.dialect.name == "sqlite":
        for stmt in drop_statements(table.name, connection.dialect):
            connection.exec_driver_sql(stmt)


for _table in (Contact.__table__, Message.__table__):
    sa.event.listen(_table, "after_create", _after_create)
    sa.event.listen(_table, "before_drop", _before_drop)
