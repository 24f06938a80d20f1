"""Queries on the outbox for the senders, beside their claims (outbox_claims.py) and the retries
of outbound.py: what became of a claimed entry (not sent to a number that opted out, uncertain,
waiting out a sender's pause), claims given back, Twilio SIDs we know, the phones sent a WhatsApp
template lately (WhatsApp's messaging limit), the outbox's depth and lag, and the wake-up call to
the sender processes. Functions take the caller's Session; the caller owns the unit of work."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from bot.messaging.outbound import reschedule_outbox
from bot.messaging.schema import OutboundMessage, OutboxEntry
from bot.messaging.statuses import FAILED_STATUSES
from bot.timeutil import as_utc, utcnow

# PostgreSQL's NOTIFY channel the sender processes LISTEN on (bot/messaging/send_loop.py).
NOTIFY_CHANNEL = "outbox_due"


def mark_skipped_opt_out(session: Session, outbox_id: int) -> None:
    """Not sent: the number opted out after the message was queued. Done, and never failed."""
    now = utcnow()
    entry = session.get(OutboxEntry, outbox_id)
    entry.done_at, entry.locked_until = now, None
    entry.outbound.status, entry.outbound.status_at = "skipped_opt_out", now


def mark_uncertain(
    session: Session, outbox_id: int, since: datetime, error: str, attempts: int, delay_seconds: float
) -> None:
    """Twilio's answer to a try was lost: looked up before the next try, in ``delay_seconds``.
    An entry already uncertain keeps its first lost try's time (the lookup covers them all)."""
    reschedule_outbox(session, outbox_id, error, delay_seconds, give_up=False, requests=attempts)
    out = session.get(OutboxEntry, outbox_id).outbound
    if out.status != "uncertain":
        out.status, out.status_at = "uncertain", since


def defer(session: Session, outbox_id: int, delay_seconds: float) -> None:
    """Put back untried (its sender waits out a Retry-After): due again in ``delay_seconds``."""
    entry = session.get(OutboxEntry, outbox_id)
    entry.next_attempt_at = utcnow() + timedelta(seconds=delay_seconds)
    entry.locked_until = None


@lru_cache(maxsize=1)
def _renew_statement() -> Update:
    """Built once: the senders run it before every send."""
    return (
        update(OutboxEntry)
        .where(
            OutboxEntry.id == bindparam("outbox_id"),
            OutboxEntry.done_at.is_(None),
            OutboxEntry.locked_until == bindparam("claimed_until"),
        )
        .values(locked_until=bindparam("until"))
        .execution_options(synchronize_session=False)
    )


def renew_claim(
    session: Session, outbox_id: int, claimed_until: datetime | None, lease_seconds: float
) -> bool:
    """Renews this sender's claim for one send, if it still holds: False when the lease ran out
    and another sender claimed the entry (or it is done), which must then not be sent here."""
    if claimed_until is None:
        return False
    until = utcnow() + timedelta(seconds=lease_seconds)
    renewed = session.execute(
        _renew_statement(), {"outbox_id": outbox_id, "claimed_until": claimed_until, "until": until}
    )
    return bool(renewed.rowcount == 1)


def release_claims(session: Session, claims: Iterable[tuple[int, datetime | None]]) -> None:
    """Claims given back untried (a sender stopping), each as it was claimed (outbox id, lease):
    any sender may take them at once. A claim another sender holds by now is left alone."""
    for outbox_id, claimed_until in claims:
        session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.id == outbox_id,
                OutboxEntry.done_at.is_(None),
                OutboxEntry.locked_until == claimed_until,
            )
            .values(locked_until=None)
        )


def template_phones_since(session: Session, since: datetime) -> set[str]:
    """The phones sent a WhatsApp template since then (not refused, not skipped for BAJA)."""
    query = select(OutboundMessage.phone).where(
        OutboundMessage.medium == "whatsapp",
        OutboundMessage.content_sid.is_not(None),
        OutboundMessage.created_at > since,
        OutboundMessage.status.not_in(("skipped_opt_out", "canceled", *FAILED_STATUSES)),
    )
    return set(session.execute(query.distinct()).scalars())


def known_sids(session: Session, twilio_sids: Iterable[str]) -> set[str]:
    """Which of these Twilio SIDs are recorded on one of our messages already."""
    sids = sorted({sid for sid in twilio_sids if sid})
    if not sids:
        return set()
    rows = session.execute(select(OutboundMessage.twilio_sid).where(OutboundMessage.twilio_sid.in_(sids)))
    return {sid for (sid,) in rows}


@dataclass(frozen=True)
class OutboxDepth:
    pending: int  # entries not done
    oldest_due_seconds: float  # how long the oldest due entry has waited past its time (0: none)


def depth(session: Session) -> OutboxDepth:
    now = utcnow()
    pending, oldest = session.execute(
        select(
            func.count(OutboxEntry.id),
            func.min(OutboxEntry.next_attempt_at).filter(OutboxEntry.next_attempt_at <= now),
        ).where(OutboxEntry.done_at.is_(None))
    ).one()
    late = (now - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    return OutboxDepth(pending, max(0.0, late))


def notify_due(session: Session) -> None:
    """Wakes the sender processes when the caller's unit of work commits (PostgreSQL's NOTIFY is
    delivered at commit); nothing on SQLite, where they find new entries by polling."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
