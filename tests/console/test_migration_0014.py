"""Revision 0014 on SQLite and PostgreSQL: the console's copied rows that carried a notice become
kind "notice" (which the kind's constraint now takes), the farmer's stay "user"; down and up again."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.db import engine_for, session_scope
from bot.records.migrate import alembic_config
from tests.databases import empty_database

PHONE = "+524431000099"
ROWS = (  # event_id, kind, intent, message_id
    (1, "user", "greet", "SMmig0001"),
    (2, "user", "notice", "NT00000000000000000000000000000001"),
    (3, "user", None, "NT00000000000000000000000000000002"),  # a notice's id, no intent parsed
    (4, "user", "notice", None),
    (5, "bot", None, None),
    (6, "action", None, None),
)


def _kinds(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.execute(text("SELECT kind FROM console_messages ORDER BY event_id")).scalars())


def _insert(url: str, event_id: int, kind: str, intent: str | None = None, message_id: str | None = None):
    with session_scope(url) as session:
        session.execute(
            text(
                "INSERT INTO console_messages (event_id, sender_id, ts, kind, intent, message_id)"
                " VALUES (:event_id, :phone, CURRENT_TIMESTAMP, :kind, :intent, :message_id)"
            ),
            {"event_id": event_id, "phone": PHONE, "kind": kind, "intent": intent, "message_id": message_id},
        )


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_revision_0014_reclassifies_the_notices_copied_before_and_goes_back_and_forth(kind, tmp_path):
    url, cleanup = empty_database(kind, tmp_path, prefix="pp_console_kind")
    config = alembic_config(url)
    try:
        command.upgrade(config, "0013")
        for row in ROWS:
            _insert(url, *row)
        with pytest.raises(IntegrityError):  # before 0014 the kind's constraint refuses a notice
            _insert(url, 7, "notice")
        command.upgrade(config, "0014")
        assert _kinds(url) == ["user", "notice", "notice", "notice", "bot", "action"]
        _insert(url, 7, "notice", "notice", "NT00000000000000000000000000000003")
        with pytest.raises(IntegrityError):  # the constraint still refuses an unknown kind
            _insert(url, 8, "other")
        command.downgrade(config, "0013")  # a notice is a user event again
        assert _kinds(url) == ["user"] * 4 + ["bot", "action", "user"]
        command.upgrade(config, "head")
        assert _kinds(url) == ["user", "notice", "notice", "notice", "bot", "action", "notice"]
    finally:
        engine_for(url).dispose()
        cleanup()
