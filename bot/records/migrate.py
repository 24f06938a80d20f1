"""Bring a database to the latest schema with Alembic, from code (set-up, tests, CLI).

Several processes may start at once and each run the upgrade (`make production`, one systemd
unit per machine with ``python -m bot.cli migrate`` before it starts): on PostgreSQL the upgrade
runs under a session-level advisory lock, so one process migrates while the others wait, and then
find the database at head and do nothing. SQLite serialises writers by itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import PROJECT_ROOT, settings
from bot.db import engine_for

# Any fixed number all the program's processes agree on ("ppmi", pequeño productor migration).
MIGRATION_LOCK_KEY = 0x70706D69


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """Holds PostgreSQL's advisory lock for migrations (waits for another holder); nothing on
    SQLite."""
    engine = engine_for(database_url)
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for this database (the project's alembic.ini, our logging)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str | None = None) -> None:
    url = database_url or settings().database_url
    with migration_lock(url):
        command.upgrade(alembic_config(url), "head")


def create_database_if_missing(database_url: str) -> bool:
    """Creates the PostgreSQL database the URL names when it does not exist (connecting to the
    server's ``postgres`` database with the same role, which must be allowed to create one).
    True when it was created; nothing on SQLite (the file is made on first use)."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql") or not url.database:
        return False
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
            if exists:
                return False
            quoted = connection.dialect.identifier_preparer.quote(url.database)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def swap_check_constraints(op: Any, table: str, swaps: Mapping[str, tuple[str, str]]) -> None:
    """For a revision: changes named CHECK constraints of ``table``, ``{name: (old, new)}`` as
    SQL text. PostgreSQL drops and creates each. SQLite cannot alter a constraint, so the table is
    rebuilt from its own CREATE statement with only those texts changed, its rows and indexes
    kept (https://www.sqlite.org/lang_altertable.html section 7); a table other tables point to
    with a foreign key must not be rebuilt this way."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for name, (_old, new) in swaps.items():
            op.drop_constraint(name, table, type_="check")
            op.create_check_constraint(name, table, new)
        return
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    index_sqls = [
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        )
    ]
    for old, new in swaps.values():
        if old not in table_sql:
            raise RuntimeError(f"{table}: a constraint is not the one this revision expects")
        table_sql = table_sql.replace(old, new)
    bind.exec_driver_sql(table_sql.replace(table, f"{table}_rebuilt", 1))
    bind.exec_driver_sql(f"INSERT INTO {table}_rebuilt SELECT * FROM {table}")
    bind.exec_driver_sql(f"DROP TABLE {table}")
    bind.exec_driver_sql(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
    for index_sql in index_sqls:
        bind.exec_driver_sql(index_sql)
