"""A farmer's conversations in Rasa's tracker store, for an ARCO request: every event of their
numbers (Rasa's sender_id is the normalised phone), read through the read-only engine of
tracker.py; and, for a cancellation, deleted. Deleting is the one write the console ever makes to
Rasa's table, on an engine of its own that is closed right after."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, inspect, select
from sqlalchemy.engine import make_url

from bot.console.tracker import EVENTS, tracker_engine


def _exists(url: str) -> bool:
    """False for a SQLite tracker whose file was never written (no conversation yet)."""
    parsed = make_url(url)
    return not parsed.drivername.startswith("sqlite") or Path(parsed.database or "").exists()


def events_of(url: str, sender_ids: Collection[str]) -> list[dict[str, Any]]:
    """Every event of these conversations, in order, its ``data`` read back from JSON."""
    if not sender_ids or not _exists(url):
        return []
    with tracker_engine(url).connect() as conn:
        if not inspect(conn).has_table(EVENTS.name):
            return []
        rows = conn.execute(
            select(EVENTS).where(EVENTS.c.sender_id.in_(list(sender_ids))).order_by(EVENTS.c.id)
        ).all()
    found = []
    for row in rows:
        event = dict(row._mapping)
        try:
            event["data"] = json.loads(event["data"] or "{}")
        except ValueError:
            pass
        found.append(event)
    return found


def delete_events(url: str, sender_ids: Collection[str]) -> int:
    """Deletes every event of these conversations, in a transaction of its own; returns how
    many. Raises when the tracker store cannot be reached (nothing is deleted then)."""
    if not sender_ids or not _exists(url):
        return 0
    engine = create_engine(url, future=True, hide_parameters=True)
    try:
        with engine.begin() as conn:
            if not inspect(conn).has_table(EVENTS.name):
                return 0
            result = conn.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(list(sender_ids))))
            return int(result.rowcount or 0)
    finally:
        engine.dispose()
