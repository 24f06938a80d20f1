"""What the purge (bot/retention.py) removes from the messaging tables, older than ``before``:
whole messages (bodies, in and out, with their delivery statuses and outbox entries), the raw
webhook parameters Twilio sent (and the WhatsApp profile name and id copied from them), and the
media references (Twilio's URLs of photos, audio and video). BAJA / ALTA history is never
purged: it is what keeps a number from getting messages it refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.messaging.schema import InboundMessage, MessageStatusEvent, OutboundMessage, OutboxEntry
from bot.records.retention import delete_where, empty_columns


def inbound_messages(session: Session, before: datetime, *, dry_run: bool) -> int:
    return delete_where(session, InboundMessage, InboundMessage.received_at < before, dry_run=dry_run)


def outbound_messages(session: Session, before: datetime, *, dry_run: bool) -> int:
    """Messages we sent; their status callbacks and outbox entries go with them."""
    old = select(OutboundMessage.id).where(OutboundMessage.created_at < before).scalar_subquery()
    if not dry_run:
        delete_where(session, OutboxEntry, OutboxEntry.outbound_id.in_(old), dry_run=False)
        delete_where(session, MessageStatusEvent, MessageStatusEvent.outbound_id.in_(old), dry_run=False)
    return delete_where(session, OutboundMessage, OutboundMessage.created_at < before, dry_run=dry_run)


def status_events(session: Session, before: datetime, *, dry_run: bool) -> int:
    """Status callbacks for messages we have no record of (those of purged messages went with
    them)."""
    return delete_where(
        session,
        MessageStatusEvent,
        MessageStatusEvent.outbound_id.is_(None),
        MessageStatusEvent.received_at < before,
        dry_run=dry_run,
    )


def _received(before: datetime, since: datetime | None) -> list[ColumnElement[bool]]:
    """Received before ``before`` and, when given, from ``since`` on (older messages go whole)."""
    return [InboundMessage.received_at < before] + ([InboundMessage.received_at >= since] if since else [])


def raw_params(session: Session, before: datetime, *, since: datetime | None = None, dry_run: bool) -> int:
    columns = [InboundMessage.raw_params, InboundMessage.profile_name, InboundMessage.wa_id]
    return empty_columns(session, InboundMessage, columns, *_received(before, since), dry_run=dry_run)


def media_references(
    session: Session, before: datetime, *, since: datetime | None = None, dry_run: bool
) -> int:
    columns = [InboundMessage.media_json]
    return empty_columns(session, InboundMessage, columns, *_received(before, since), dry_run=dry_run)
