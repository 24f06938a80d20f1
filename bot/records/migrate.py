"""Bring a database to the latest schema with Alembic, from code (set-up, tests, CLI)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from bot.config import PROJECT_ROOT, settings


def upgrade(database_url: str | None = None) -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url or settings().database_url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
