"""Alembic environment: migrates the database named by DATABASE_URL (SQLite by default)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

import bot.console.schema
import bot.messaging.schema  # messaging tables, revision 0002
import bot.records.arco_schema  # ARCO requests, revision 0008
import bot.records.notice_schema  # noqa: F401  (notices, revision 0012)
from bot.db import engine
from bot.records.schema import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("database_url")
    with engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
