"""Queries on outbound_messages and the outbox: every message we sent or tried to send, and the
ones waiting for another try. Functions take the caller's Session; the caller owns the unit of
work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, Update

from bot.db import insert_ignoring_conflict
from bot.messaging.delivery_status import adopt_early_events, early_events
from bot.messaging.formatting import pack_for_medium, sms_parts
from bot.messaging.schema import OutboundMessage, OutboxEntry
from bot.messaging.statuses import OUTBOUND_STATUSES
from bot.records.notices import PRIORITIES
from bot.timeutil import utcnow

if TYPE_CHECKING:
    from bot.messaging.sender import SendResult

# A reply to a farmer who wrote: claimed by the senders before any notice.
REPLY_PRIORITY = PRIORITIES["reply"]


@dataclass(frozen=True)
class Outgoing:
    """One message to a farmer, already shaped for its medium: a body, or a WhatsApp template."""

    medium: str
    phone: str
    to_address: str
    body: str = ""
    in_reply_to: str | None = None  # the MessageSid it answers
    proactive: bool = False
    sms_parts: int | None = None
    encoding: str | None = None
    content_sid: str | None = None
    content_variables: str | None = None

    def row(self) -> OutboundMessage:
        """The message itself; callers set how far it got."""
        return OutboundMessage(**asdict(self))


def _twilio_status(status: str | None) -> str:
    """Twilio's answer to a send, or "queued" when it gave none we know."""
    return status if status in OUTBOUND_STATUSES else "queued"


def record_outbound(
    session: Session, message: Outgoing, result: SendResult, retry_in_seconds: float = 0
) -> int:
    """One reply and what became of it: sent (with Twilio's SID), or failed for good, or failed
    for now and put in the outbox to be tried again in ``retry_in_seconds`` (uncertain when
    Twilio's answer was lost: looked up in Twilio's list before that)."""
    now = utcnow()
    row = message.row()
    row.attempts, row.status_at = result.attempts, now
    if result.ok:
        row.twilio_sid = result.sid
        row.status = _twilio_status(result.status)
        row.sent_at = now
    else:
        row.status = "uncertain" if result.uncertain else "outbox" if result.retryable else "failed"
        row.status_at = result.uncertain_since or now  # uncertain: when the try that lost it began
        row.error = result.error[:2000]
        row.error_code = result.error_code
    session.add(row)
    session.flush()
    if result.ok and result.sid:
        adopt_early_events(session, row)
    if not result.ok and result.retryable:
        session.add(
            OutboxEntry(
                outbound_id=row.id,
                attempts=0,
                last_error=result.error[:2000],
                next_attempt_at=now + timedelta(seconds=retry_in_seconds),
            )
        )
    return row.id


def record_skipped_opt_out(session: Session, message: Outgoing) -> int:
    """A proactive message not sent because the number opted out (BAJA), kept for staff."""
    row = message.row()
    row.status, row.status_at = "skipped_opt_out", utcnow()
    session.add(row)
    session.flush()
    return row.id


@lru_cache(maxsize=1)
def _sent_statements() -> tuple[Update, Update]:
    """A send recorded, built once: the message (``message_id``: its SID, requests, status and
    time) and its outbox entry, done."""
    message = (
        update(OutboundMessage)
        .where(OutboundMessage.id == bindparam("message_id"))
        .values(
            twilio_sid=bindparam("sid"),
            attempts=func.coalesce(OutboundMessage.attempts, 0) + bindparam("requests"),
            sent_at=bindparam("now"),
            status=bindparam("new_status"),
            status_at=bindparam("now"),
        )
        .execution_options(synchronize_session=False)
    )
    entry = (
        update(OutboxEntry)
        .where(OutboxEntry.outbound_id == bindparam("message_id"))
        .values(done_at=bindparam("now"), locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return message, entry


def mark_outbound_sent(
    session: Session, outbound_id: int, twilio_sid: str, status: str, attempts: int
) -> None:
    """An outbox message Twilio finally accepted; its outbox entry is done. Two updates, and the
    status callbacks that came before (seldom any) adopted."""
    values = {
        "message_id": outbound_id,
        "sid": twilio_sid,
        "requests": attempts,
        "now": utcnow(),
        "new_status": _twilio_status(status),
    }
    for statement in _sent_statements():
        session.execute(statement, values)
    early = early_events(session, twilio_sid)
    if early:
        adopt_early_events(session, session.get(OutboundMessage, outbound_id), early)


# ------------------------------------------------------------------------------------------
# The outbox


def reschedule_outbox(
    session: Session, outbox_id: int, error: str, delay_seconds: float, give_up: bool, requests: int = 0
) -> None:
    """A failed outbox try (``requests`` sent to Twilio): again in ``delay_seconds``, or given up
    (the message failed)."""
    now = utcnow()
    entry = session.get(OutboxEntry, outbox_id)
    entry.attempts += 1
    entry.last_error = error[:2000]
    entry.locked_until = None
    entry.outbound.attempts = (entry.outbound.attempts or 0) + requests
    if give_up:
        entry.done_at = now
        entry.gave_up = True
        entry.outbound.status = "failed"
        entry.outbound.status_at = now
        entry.outbound.error = error[:2000]
    else:
        entry.next_attempt_at = now + timedelta(seconds=delay_seconds)


def pending_outbox_count(session: Session) -> int:
    return session.execute(
        select(func.count(OutboxEntry.id)).where(OutboxEntry.done_at.is_(None))
    ).scalar_one()


# ------------------------------------------------------------------------------------------
# A turn's replies, queued for the senders (production mode: bot/worker records, the sender
# processes send)


def enqueue_replies(
    session: Session,
    *,
    medium: str,
    phone: str,
    to_address: str,
    texts: Sequence[str],
    in_reply_to: str,
    first_position: int = 0,
    priority: int = REPLY_PRIORITY,
) -> list[int]:
    """The turn's texts shaped for the medium, queued in order (``enqueue_outgoing``)."""
    messages = [
        Outgoing(medium, phone, to_address, body, in_reply_to=in_reply_to)
        for body in pack_for_medium(medium, texts)
    ]
    return enqueue_outgoing(session, messages, first_position, priority)


def enqueue_outgoing(
    session: Session, messages: Sequence[Outgoing], first_position: int = 0, priority: int = REPLY_PRIORITY
) -> list[int]:
    """Messages of one turn, already shaped, each recorded as a pending outbound message with an
    outbox entry due now, in order, claimed by the senders by ``priority`` (lower first).
    Idempotent on (``in_reply_to``, position): a turn finished twice records its replies once
    (the unique index decides, inside the caller's unit of work). Returns the ids of the
    messages recorded now. On PostgreSQL two statements whatever their number."""
    if not messages:
        return []
    now = utcnow()
    rows = [_outbound_row(message, first_position + offset, now) for offset, message in enumerate(messages)]
    if session.get_bind().dialect.name == "postgresql":
        statement = _insert_outbound_statement()  # one reply (most turns on SMS): built once
        inserted = (
            session.execute(statement, rows[0]) if len(rows) == 1 else session.execute(statement.values(rows))
        )
        recorded = [row.id for row in sorted(inserted.all(), key=lambda row: row.reply_position)]
    else:
        recorded = [outbound_id for row in rows if (outbound_id := _insert_one(session, row)) is not None]
    if recorded:
        entry = {"attempts": 0, "next_attempt_at": now, "created_at": now, "priority": priority}
        session.execute(
            OutboxEntry.__table__.insert(), [dict(entry, outbound_id=outbound_id) for outbound_id in recorded]
        )
    return recorded


def _outbound_row(message: Outgoing, position: int, now: datetime) -> dict[str, object]:
    parts = sms_parts(message.body) if message.medium == "sms" and message.body else None
    return dict(
        asdict(message),
        sms_parts=parts.parts if parts else None,
        encoding=parts.encoding if parts else None,
        reply_position=position,
        status="pending",
        attempts=0,
        created_at=now,
    )


_UNIQUE_REPLY = ("in_reply_to", "reply_position")


@lru_cache(maxsize=1)
def _insert_outbound_statement() -> Insert:
    """PostgreSQL: the turn's messages, a repeat of one recorded already left out, and the ids
    of those recorded now."""
    table = OutboundMessage.__table__
    return (
        postgresql.insert(table)
        .on_conflict_do_nothing(index_elements=[table.c[name] for name in _UNIQUE_REPLY])
        .returning(table.c.id, table.c.reply_position)
    )


def _insert_one(session: Session, row: dict[str, object]) -> int | None:
    """SQLite's way (no RETURNING in SQLAlchemy 1.4): the message, then its id."""
    unique = [OutboundMessage.__table__.c[name] for name in _UNIQUE_REPLY]
    if not insert_ignoring_conflict(session, OutboundMessage.__table__, row, unique):
        return None
    return int(
        session.execute(
            select(OutboundMessage.id).where(
                OutboundMessage.in_reply_to == row["in_reply_to"],
                OutboundMessage.reply_position == row["reply_position"],
            )
        ).scalar_one()
    )
