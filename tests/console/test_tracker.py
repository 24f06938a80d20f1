"""The console's copy of Rasa's tracker store: read-only on Rasa's side, incremental, rebuilt
when the tracker is reset."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select, text

from bot.console.schema import ConsoleMessage
from bot.db import session_scope
from tests.console.conftest import FAMILY, token_of


def tracker_fingerprint(url: str) -> str:
    from bot.console.tracker import tracker_engine

    with tracker_engine(url).connect() as conn:
        rows = conn.execute(
            text("SELECT id, sender_id, type_name, timestamp, data FROM events ORDER BY id")
        ).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_console_never_writes_rasa_events(console_env, client_for):
    before = tracker_fingerprint(console_env.tracker_url)
    client = client_for("officer")
    for path in ("/conversaciones", f"/conversaciones/{FAMILY}", "/panel"):
        client.get(path)
    token = token_of(client, f"/conversaciones/{FAMILY}")
    client.post(f"/conversaciones/{FAMILY}/revision", data={"csrf_token": token, "tags": "x"})
    assert tracker_fingerprint(console_env.tracker_url) == before
    if console_env.kind == "sqlite":
        from bot.console.tracker import tracker_engine

        with (
            pytest.raises(Exception, match="readonly|read-only|read only"),
            tracker_engine(console_env.tracker_url).begin() as conn,
        ):
            conn.execute(text("DELETE FROM events"))


def test_sync_is_incremental_and_survives_a_tracker_reset(console_env):
    from contextlib import contextmanager

    from sqlalchemy.orm import sessionmaker

    from bot.console import tracker
    from bot.db import engine

    factory = sessionmaker(bind=engine(console_env.url), future=True)

    @contextmanager
    def session_factory():
        with factory() as session:
            yield session

    tracker.sync(session_factory, console_env.tracker_url)
    assert tracker.sync(session_factory, console_env.tracker_url) == 0
    with session_scope(console_env.url) as session:
        users = session.execute(
            select(func.count(ConsoleMessage.id)).where(ConsoleMessage.kind == "user")
        ).scalar()
        bots = (
            session.execute(
                select(ConsoleMessage).where(ConsoleMessage.kind == "bot", ConsoleMessage.sender_id == FAMILY)
            )
            .scalars()
            .all()
        )
    assert users >= 6
    assert bots[0].in_reply_to == "SMfam0001" and bots[0].medium == "sms"
