"""Revision 0010 adds the outbound status "uncertain". SQLite changes a CHECK by copying the
table; the copy must keep every outbox entry and status event that points at the messages (with
foreign keys on, dropping the old copy would delete them first: ON DELETE CASCADE)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.config import PROJECT_ROOT
from bot.db import engine_for
from bot.records.migrate import upgrade
from tests.databases import empty_database


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_upgrade_keeps_the_outbox_and_allows_uncertain(kind, tmp_path):
    url, drop = empty_database(kind, tmp_path)
    try:
        config = Config(str(PROJECT_ROOT / "alembic.ini"))
        config.attributes.update(database_url=url, configure_logger=False)
        command.upgrade(config, "0009")
        database = engine_for(url)
        with database.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO outbound_messages (id, medium, phone, to_address, body, proactive, status,"
                    " attempts, created_at) VALUES (1, 'sms', '+524431112233', '+524431112233', 'Eco',"
                    " false, 'outbox', 1, '2026-12-01 10:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO outbox (outbound_id, attempts, next_attempt_at, created_at, gave_up)"
                    " VALUES (1, 0, '2026-12-01 10:00:00', '2026-12-01 10:00:00', false)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO message_status_events (outbound_id, twilio_sid, status, received_at)"
                    " VALUES (1, 'SMearly', 'sent', '2026-12-01 10:00:01')"
                )
            )
        upgrade(url)
        with database.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM outbox")).scalar() == 1
            assert connection.execute(text("SELECT outbound_id FROM message_status_events")).scalar() == 1
            connection.execute(text("UPDATE outbound_messages SET status = 'uncertain'"))
        with pytest.raises(IntegrityError), database.begin() as connection:
            connection.execute(text("UPDATE outbound_messages SET status = 'lost'"))
        if kind == "sqlite":
            with database.connect() as connection:
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        command.downgrade(config, "0009")
        with database.begin() as connection:
            assert connection.execute(text("SELECT status FROM outbound_messages")).scalar() == "outbox"
            assert connection.execute(text("SELECT count(*) FROM outbox")).scalar() == 1
    finally:
        engine_for(url).dispose()
        drop()
