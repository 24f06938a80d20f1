"""The database the channel and messaging tests share: SQLite in a tmp dir, or a fresh database
on the PostgreSQL server named by DATABASE_URL. ``messaging_db`` is registered once for the
whole run through tests/conftest.py, so both test packages use the same database."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import OperationalError

from bot.db import session_scope
from bot.messaging.schema import (
    InboundMessage,
    MessageStatusEvent,
    OptOutEvent,
    OutboundMessage,
    OutboxEntry,
)
from bot.records.migrate import upgrade
from tests.databases import fresh_postgres


@pytest.fixture(scope="session")
def messaging_db(tmp_path_factory):
    """SQLite in a tmp dir; or, when DATABASE_URL names a PostgreSQL server, a fresh database on
    that server (created, migrated with Alembic to heads, dropped at the end)."""
    previous = os.environ.get("DATABASE_URL")
    drop = None
    if previous and previous.startswith("postgresql"):
        url, drop = fresh_postgres(previous, "pp_channels")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('channels') / 'program.db'}"
    os.environ["DATABASE_URL"] = url
    upgrade(url)
    yield url
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    if drop is not None:
        drop()


def clean_messaging_tables(attempts: int = 5) -> None:
    """Empties the messaging tables. A status callback of the previous test may still be on its
    way and lock the same rows; PostgreSQL then picks one of the two as a deadlock victim, and
    the cleaning is tried again."""
    for attempt in range(attempts):
        try:
            with session_scope() as session:
                for table in (MessageStatusEvent, OutboxEntry, OutboundMessage, InboundMessage, OptOutEvent):
                    session.execute(delete(table))
            return
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)
