"""Reading Rasa's SQL tracker store, read-only, into the console's own table.

Rasa keeps every event in one table ``events`` (id, sender_id, type_name, timestamp, intent_name,
action_name, data) whose ``data`` is the event as JSON text. Searching that JSON in SQL differs
between SQLite and PostgreSQL (and Rasa escapes accents), so the console copies the user, bot and
action events it needs into ``console_messages`` once, parsed, in order of ``events.id``; what a
farmer typed as a check code or PIN is masked in the copy (masking.mask_codes). A user event that
carried a notice into the conversation (the scheduler's, not the farmer's) is copied as kind
"notice", so every reader tells the two apart by the kind alone. The
tracker is opened read-only (SQLite ``mode=ro``; a read-only transaction on PostgreSQL): the
console never writes Rasa's events.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from bot.assistant.intents import NOTICE
from bot.console.masking import mask_codes, mask_entities_json
from bot.console.queries.messages import last_user_messages
from bot.console.schema import ConsoleMessage, ConsoleSyncState
from bot.records.notices import notice_id_in
from bot.records.vocabulary import MEDIA
from bot.text import plain
from bot.timeutil import utcnow

logger = logging.getLogger(__name__)

# Rasa's table as rasa.core.tracker_store.SQLTrackerStore.SQLEvent defines it; on its own
# MetaData so Alembic never sees it.
_rasa_metadata = MetaData()
EVENTS = Table(
    "events",
    _rasa_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

SKIPPED_ACTIONS = {"action_listen", "action_session_start"}
BATCH = 2000
_lock = threading.Lock()


@lru_cache(maxsize=8)
def tracker_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        path = parsed.database or ""

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30, check_same_thread=False)

        return create_engine("sqlite://", creator=connect, future=True, hide_parameters=True)
    return create_engine(
        url,
        future=True,
        pool_pre_ping=True,
        hide_parameters=True,
        execution_options={"postgresql_readonly": True},
    )


def _as_dt(epoch: float | None) -> datetime:
    if epoch is None:
        return utcnow()
    return datetime.fromtimestamp(float(epoch), tz=timezone.utc)


def _json(value: Any) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value else None


def read_events(url: str, after_id: int, limit: int = BATCH) -> list[Any]:
    """Rows of Rasa's events after an id; [] when the tracker does not exist yet."""
    try:
        with tracker_engine(url).connect() as conn:
            return conn.execute(
                select(EVENTS)
                .where(EVENTS.c.id > after_id, EVENTS.c.type_name.in_(("user", "bot", "action")))
                .order_by(EVENTS.c.id)
                .limit(limit)
            ).all()
    except (OperationalError, ProgrammingError) as error:
        logger.warning("tracker store not readable yet: %s", type(error).__name__)
        return []


def tracker_max_id(url: str) -> int | None:
    try:
        with tracker_engine(url).connect() as conn:
            return conn.execute(select(func.max(EVENTS.c.id))).scalar()
    except (OperationalError, ProgrammingError):
        return None


def parse_event(row: Any, context: dict[str, dict[str, Any]]) -> ConsoleMessage | None:
    """One Rasa event row as a console message; ``context`` carries each sender's last user
    message or notice (its medium and id) so a bot reply knows what it answered."""
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        data = {}
    when = _as_dt(row.timestamp if row.timestamp is not None else data.get("timestamp"))
    last = context.get(row.sender_id, {})
    if row.type_name == "user":
        message = _user_message(row, data, when)
        context[row.sender_id] = {"medium": message.medium, "message_id": message.message_id}
        return message
    if row.type_name == "bot":
        return _bot_message(row, data, when, last)
    if row.type_name == "action":
        return _action(row, data, when, last)
    return None


def _entities(parse: dict[str, Any]) -> str | None:
    keys = ("entity", "value", "start", "end", "confidence_entity", "extractor")
    return _json([{k: e.get(k) for k in keys if e.get(k) is not None} for e in parse.get("entities") or []])


def user_event_kind(intent: str | None, message_id: str | None) -> str:
    """The kind of a copied user event: "notice" when it carried a notice the scheduler released
    into the conversation (intent notice, or a notice's NT... id), else "user" (the farmer wrote)."""
    return "notice" if intent == NOTICE or notice_id_in(message_id) is not None else "user"


def _user_message(row: Any, data: dict[str, Any], when: datetime) -> ConsoleMessage:
    metadata = data.get("metadata") or {}
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    intent_name = intent.get("name") or row.intent_name
    message_id = data.get("message_id") or metadata.get("message_sid")
    channel = data.get("input_channel")
    medium = metadata.get("medium") or (channel if channel in MEDIA else None)
    text = mask_codes(data.get("text") or "")  # a check code or PIN is never copied
    return ConsoleMessage(
        event_id=row.id,
        sender_id=row.sender_id,
        ts=when,
        kind=user_event_kind(intent_name, message_id),
        text=text,
        search_text=plain(text),
        intent=intent_name,
        confidence=intent.get("confidence"),
        entities_json=mask_entities_json(_entities(parse)),
        medium=medium,
        message_id=message_id,
        media_json=_json(metadata.get("media")),
        location_json=_json(metadata.get("location")),
    )


def _bot_message(row: Any, data: dict[str, Any], when: datetime, last: dict[str, Any]) -> ConsoleMessage:
    text = data.get("text") or ""
    metadata = data.get("metadata") or {}
    return ConsoleMessage(
        event_id=row.id,
        sender_id=row.sender_id,
        ts=when,
        kind="bot",
        text=text,
        search_text=plain(text),
        medium=metadata.get("medium") or last.get("medium"),
        in_reply_to=last.get("message_id"),
    )


def _action(row: Any, data: dict[str, Any], when: datetime, last: dict[str, Any]) -> ConsoleMessage | None:
    name = row.action_name or data.get("name")
    if not name or name in SKIPPED_ACTIONS:
        return None
    return ConsoleMessage(
        event_id=row.id,
        sender_id=row.sender_id,
        ts=when,
        kind="action",
        action_name=name,
        medium=last.get("medium"),
        in_reply_to=last.get("message_id"),
    )


def _context_for(session: Session, senders: set[str]) -> dict[str, dict[str, Any]]:
    """Each sender's last copied user message or notice (its medium and id), in one query: what
    parse_event carries from one event to the next, so a batch starts where the last one ended."""
    last = last_user_messages(session, senders, in_arrival_order=True, with_notices=True)
    return {sender: {"medium": row.medium, "message_id": row.message_id} for sender, row in last.items()}


def sync(
    session_factory: Callable[[], AbstractContextManager[Session]], tracker_url: str, max_batches: int = 50
) -> int:
    """Copies new tracker events into console_messages, one unit of work per batch; returns how
    many rows were added. If the tracker was reset (its ids went backwards) the copy is rebuilt
    from the start."""
    added = 0
    with _lock:
        for _ in range(max_batches):
            with session_factory() as session:
                state = _sync_state(session, tracker_url)
                rows = read_events(tracker_url, state.last_event_id)
                added += _copy(session, rows)
                if rows:
                    state.last_event_id = rows[-1].id
                state.synced_at = utcnow()
                session.commit()
            if len(rows) < BATCH:
                break
    return added


def _sync_state(session: Session, tracker_url: str) -> ConsoleSyncState:
    """How far the copy has read; back to the start when the tracker was reset."""
    state = session.get(ConsoleSyncState, "tracker")
    if state is None:
        state = ConsoleSyncState(key="tracker", last_event_id=0)
        session.add(state)
        session.flush()
    if state.last_event_id:
        top = tracker_max_id(tracker_url)
        if top is not None and top < state.last_event_id:
            logger.warning("tracker store was reset: rebuilding the console copy")
            session.execute(delete(ConsoleMessage))
            state.last_event_id = 0
    return state


def _copy(session: Session, rows: list[Any]) -> int:
    context = _context_for(session, {r.sender_id for r in rows}) if rows else {}
    added = 0
    for row in rows:
        message = parse_event(row, context)
        if message is not None:
            session.add(message)
            added += 1
    return added
