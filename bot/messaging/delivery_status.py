"""Queries on message_status_events: each status callback Twilio posts (queued, sent,
delivered, read, ...), applied to the outbound message it reports on. A late callback never
moves a message backwards (bot/messaging/statuses.py). Functions take the caller's Session; the
caller owns the unit of work."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.messaging.schema import MessageStatusEvent, OutboundMessage
from bot.messaging.statuses import moves_forward
from bot.timeutil import utcnow


def record_status(session: Session, twilio_sid: str, status: str, error_code: str | None) -> bool:
    """Records one status callback; True when it matched one of our outbound messages."""
    status = (status or "").strip().lower()[:20] or "unknown"
    row = session.execute(
        select(OutboundMessage).where(OutboundMessage.twilio_sid == twilio_sid)
    ).scalar_one_or_none()
    session.add(
        MessageStatusEvent(
            outbound_id=row.id if row else None,
            twilio_sid=twilio_sid[:64],
            status=status,
            error_code=(error_code or None) and str(error_code)[:12],
        )
    )
    if row is None:
        return False
    if moves_forward(row.status, status):
        row.status = status
        row.status_at = utcnow()
        if error_code:
            row.error_code = str(error_code)[:12]
    return True


@lru_cache(maxsize=1)
def _early_statement() -> Select:
    """Built once: the senders run it after every send."""
    return (
        select(MessageStatusEvent)
        .where(MessageStatusEvent.twilio_sid == bindparam("sid"), MessageStatusEvent.outbound_id.is_(None))
        .order_by(MessageStatusEvent.id)
    )


def early_events(session: Session, twilio_sid: str) -> list[MessageStatusEvent]:
    """The status callbacks recorded for ``twilio_sid`` before the reply holding it was (none of
    our messages held that SID then), oldest first."""
    return list(session.execute(_early_statement(), {"sid": twilio_sid}).scalars())


def adopt_early_events(
    session: Session, row: OutboundMessage, early: list[MessageStatusEvent] | None = None
) -> None:
    """Status callbacks can arrive before the reply is recorded: links them (``early``, or those
    of the reply's ``twilio_sid``, set and flushed) to the reply and applies the furthest status."""
    if early is None:
        early = early_events(session, row.twilio_sid)
    for event in early:
        event.outbound_id = row.id
        if moves_forward(row.status, event.status):
            row.status = event.status
            row.status_at = event.received_at
            if event.error_code:
                row.error_code = event.error_code
