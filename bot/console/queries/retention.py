"""What the purge (bot/retention.py) removes from the console's tables and from Rasa's tracker
store, older than ``before``: the copied conversation messages, officers' replies, corrections
and review notes (transcripts), the media references in the copy, and the staff audit and
sign-in log. Rasa's ``events`` table is written here only, by the purge: deleting whole events
past the transcript period, and removing the WhatsApp profile name and id, and the media
references, from the metadata of the farmer messages it keeps. The tracker functions take a
Session bound to the tracker's database (the caller owns it)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import and_, inspect, or_, select, update
from sqlalchemy.orm import Session

from bot.console.schema import (
    ConsoleAudit,
    ConsoleCorrection,
    ConsoleLogin,
    ConsoleMessage,
    ConsoleReply,
    ConsoleReview,
)
from bot.console.tracker import EVENTS
from bot.records.retention import delete_where, empty_columns

BATCH = 1000


def messages(session: Session, before: datetime, *, dry_run: bool) -> int:
    return delete_where(session, ConsoleMessage, ConsoleMessage.ts < before, dry_run=dry_run)


def replies(session: Session, before: datetime, *, dry_run: bool) -> int:
    return delete_where(session, ConsoleReply, ConsoleReply.created_at < before, dry_run=dry_run)


def corrections(session: Session, before: datetime, *, dry_run: bool) -> int:
    return delete_where(session, ConsoleCorrection, ConsoleCorrection.corrected_at < before, dry_run=dry_run)


def reviews(session: Session, before: datetime, *, dry_run: bool) -> int:
    return delete_where(session, ConsoleReview, ConsoleReview.updated_at < before, dry_run=dry_run)


def message_media(session: Session, before: datetime, *, since: datetime | None = None, dry_run: bool) -> int:
    """Media links in the copied messages older than ``before`` (from ``since`` on, when given:
    older messages go whole)."""
    window = [ConsoleMessage.ts < before] + ([ConsoleMessage.ts >= since] if since else [])
    return empty_columns(session, ConsoleMessage, [ConsoleMessage.media_json], *window, dry_run=dry_run)


def audit_entries(session: Session, before: datetime, *, dry_run: bool) -> int:
    return delete_where(session, ConsoleAudit, ConsoleAudit.at < before, dry_run=dry_run)


def sign_ins(session: Session, before: datetime, *, dry_run: bool) -> int:
    return delete_where(session, ConsoleLogin, ConsoleLogin.at < before, dry_run=dry_run)


# --- Rasa's tracker store -----------------------------------------------------------------------


def _has_events(tracker: Session) -> bool:
    return bool(inspect(tracker.connection()).has_table(EVENTS.name))


def tracker_events(tracker: Session, before: datetime, *, dry_run: bool) -> int:
    """Every event (messages, actions, slots) older than ``before``; 0 when there is no tracker."""
    if not _has_events(tracker):
        return 0
    return delete_where(tracker, EVENTS, EVENTS.c.timestamp < before.timestamp(), dry_run=dry_run)


def tracker_metadata(
    tracker: Session,
    before: datetime,
    keys: tuple[str, ...],
    *,
    since: datetime | None = None,
    dry_run: bool,
) -> int:
    """Removes ``keys`` from the metadata of farmer messages older than ``before`` (from ``since``
    on, when given); returns how many events held one. Events already without them are found by
    the text filter but not changed, so a second run changes nothing."""
    if not _has_events(tracker):
        return 0
    mentions = or_(*(EVENTS.c.data.contains(f'"{key}"') for key in keys))
    old = and_(EVENTS.c.type_name == "user", EVENTS.c.timestamp < before.timestamp(), mentions)
    if since is not None:
        old = and_(old, EVENTS.c.timestamp >= since.timestamp())
    changed, after_id = 0, 0
    while True:
        rows = tracker.execute(
            select(EVENTS.c.id, EVENTS.c.data)
            .where(old, EVENTS.c.id > after_id)
            .order_by(EVENTS.c.id)
            .limit(BATCH)
        ).all()
        for row in rows:
            data = _without(row.data, keys)
            if data is None:
                continue
            changed += 1
            if not dry_run:
                tracker.execute(update(EVENTS).where(EVENTS.c.id == row.id).values(data=data))
        if len(rows) < BATCH:
            return changed
        after_id = rows[-1].id


def _without(text: str | None, keys: tuple[str, ...]) -> str | None:
    """The event's JSON without those metadata keys; None when it holds none of them."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    metadata = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(metadata, dict) or not any(key in metadata for key in keys):
        return None
    data["metadata"] = {k: v for k, v in metadata.items() if k not in keys}
    return json.dumps(data, ensure_ascii=False)
