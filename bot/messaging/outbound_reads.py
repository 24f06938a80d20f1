"""What staff read of the messages we sent (the console's transcript and dashboard): the statuses
of the replies to a farmer's message, of Twilio's SIDs, and of what was sent in a period.
Functions take the caller's Session; the caller owns the unit of work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messaging.schema import OutboundMessage


def statuses_by_reply(session: Session, message_sids: Iterable[str]) -> dict[str, list[str]]:
    """For each inbound MessageSid, the statuses of the replies sent to it, in sending order."""
    refs = sorted({sid for sid in message_sids if sid})
    found: dict[str, list[str]] = defaultdict(list)
    if refs:
        rows = session.execute(
            select(OutboundMessage.in_reply_to, OutboundMessage.status)
            .where(OutboundMessage.in_reply_to.in_(refs))
            .order_by(OutboundMessage.id)
        )
        for ref, status in rows:
            found[ref].append(status)
    return found


def statuses_by_sid(session: Session, twilio_sids: Iterable[str]) -> dict[str, str]:
    """The latest status of each message Twilio accepted, by Twilio's SID."""
    sids = sorted({sid for sid in twilio_sids if sid})
    if not sids:
        return {}
    rows = session.execute(
        select(OutboundMessage.twilio_sid, OutboundMessage.status).where(OutboundMessage.twilio_sid.in_(sids))
    )
    return {sid: status for sid, status in rows}  # noqa: C416 - dict(result) would read it as a mapping


def created_between(session: Session, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """(created_at, status) of every outbound message created in [start, end)."""
    rows = session.execute(
        select(OutboundMessage.created_at, OutboundMessage.status).where(
            OutboundMessage.created_at >= start, OutboundMessage.created_at < end
        )
    )
    return [(created, status) for created, status in rows]
