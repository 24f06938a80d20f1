"""Queries on outbound_messages and the outbox: every message we sent or tried to send, and the
ones waiting for another try. Functions take the caller's Session; the caller owns the unit of
work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select

from bot.db import insert_ignoring_conflict
from bot.messaging.delivery_status import adopt_early_events
from bot.messaging.formatting import pack_for_medium, sms_parts
from bot.messaging.schema import InboundMessage, OutboundMessage, OutboxEntry
from bot.messaging.statuses import OUTBOUND_STATUSES
from bot.records.notices import PRIORITIES
from bot.timeutil import as_utc, utcnow

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


def mark_outbound_sent(
    session: Session, outbound_id: int, twilio_sid: str, status: str, attempts: int
) -> None:
    """An outbox message Twilio finally accepted; its outbox entry is done."""
    now = utcnow()
    row = session.get(OutboundMessage, outbound_id)
    row.twilio_sid = twilio_sid
    row.attempts = (row.attempts or 0) + attempts
    row.sent_at = now
    row.status = _twilio_status(status)
    row.status_at = now
    session.flush()
    adopt_early_events(session, row)
    entry = session.execute(
        select(OutboxEntry).where(OutboxEntry.outbound_id == outbound_id)
    ).scalar_one_or_none()
    if entry is not None:
        entry.done_at = now
        entry.locked_until = None


# ------------------------------------------------------------------------------------------
# The outbox


@dataclass(frozen=True)
class OutboxItem:
    outbox_id: int
    outbound_id: int
    attempts: int
    created_at: datetime  # when it entered the outbox
    medium: str
    phone: str
    to_address: str
    body: str
    content_sid: str | None
    content_variables: str | None
    proactive: bool
    in_reply_to: str | None = None
    # An earlier try's answer was lost (status "uncertain"): when that try began.
    uncertain_since: datetime | None = None
    answers_opt: bool = False  # the reply to a BAJA / ALTA message itself (its confirmation)
    claimed_until: datetime | None = None  # this sender's lease, as it claimed it
    more_behind: bool = False  # another due entry of its phone waits behind it (claimable after)

    def __str__(self) -> str:
        """How log lines name it: no phone number, the MessageSid it answers."""
        return f"outbound {self.outbound_id} (in_reply_to {self.in_reply_to or '-'})"


def _item(
    entry: OutboxEntry, out: OutboundMessage, inbound_kind: str | None, lapsed_since: datetime | None = None
) -> OutboxItem:
    """``lapsed_since``: an earlier claim of this entry ran out unreleased (its sender died, or
    the database went away before the send was recorded), so Twilio may have the message: it is
    looked up from then, like an uncertain send, before it is sent."""
    uncertain_since = as_utc(out.status_at) if out.status == "uncertain" else lapsed_since
    return OutboxItem(
        outbox_id=entry.id,
        outbound_id=out.id,
        attempts=entry.attempts,
        created_at=as_utc(entry.created_at),
        medium=out.medium,
        phone=out.phone,
        to_address=out.to_address,
        body=out.body,
        content_sid=out.content_sid,
        content_variables=out.content_variables,
        proactive=out.proactive,
        in_reply_to=out.in_reply_to,
        uncertain_since=uncertain_since,
        answers_opt=inbound_kind in ("opt_out", "opt_in"),
        claimed_until=as_utc(entry.locked_until),
    )


def _due(now: datetime) -> list[ColumnElement[bool]]:
    """Due, not done, not claimed by a live lease, and the first undone entry of its phone: a
    farmer's messages leave in the order they were queued, whichever sender takes them."""
    earlier, earlier_out = aliased(OutboxEntry), aliased(OutboundMessage)
    ahead = (
        select(earlier.id)
        .join(earlier_out, earlier_out.id == earlier.outbound_id)
        .where(
            earlier_out.phone == OutboundMessage.phone, earlier.done_at.is_(None), earlier.id < OutboxEntry.id
        )
    )
    return [
        OutboxEntry.done_at.is_(None),
        OutboxEntry.next_attempt_at <= now,
        or_(OutboxEntry.locked_until.is_(None), OutboxEntry.locked_until < now),
        ~ahead.exists(),
    ]


def _claimable() -> Select:
    return (
        select(OutboxEntry, OutboundMessage, InboundMessage.kind)
        .join(OutboundMessage, OutboundMessage.id == OutboxEntry.outbound_id)
        .outerjoin(InboundMessage, InboundMessage.message_sid == OutboundMessage.in_reply_to)
    )


def _lapsed_since(locked_until: datetime | None, lock_seconds: int) -> datetime | None:
    """When a claim that ran out unreleased may have sent: no later than a lease before its end
    (each send renews the lease just before it goes)."""
    return as_utc(locked_until) - timedelta(seconds=lock_seconds) if locked_until is not None else None


def _claim(session: Session, entry_id: int, now: datetime, lock_seconds: int) -> OutboxItem | None:
    """Locks one entry for this worker; None when another worker holds it or it is done."""
    lapsed = session.execute(select(OutboxEntry.locked_until).where(OutboxEntry.id == entry_id)).scalar()
    claimed = session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.id == entry_id,
            OutboxEntry.done_at.is_(None),
            or_(OutboxEntry.locked_until.is_(None), OutboxEntry.locked_until < now),
        )
        .values(locked_until=now + timedelta(seconds=lock_seconds))
    )
    if claimed.rowcount != 1:
        return None
    entry, out, kind = session.execute(_claimable().where(OutboxEntry.id == entry_id)).one()
    return _item(entry, out, kind, _lapsed_since(lapsed, lock_seconds))


def claim_due_outbox(session: Session, limit: int, lock_seconds: int) -> list[OutboxItem]:
    """Claims due entries for this sender, for ``lock_seconds`` (a lease: the claims of a sender
    that died expire), replies to farmers who wrote before notices (``OutboxEntry.priority``),
    then the oldest first; any number of senders may claim at once. PostgreSQL locks the rows it
    takes with ``FOR UPDATE SKIP LOCKED``, so concurrent claims pass each other by without
    waiting; SQLite, one writer at a time, claims each row with a conditional update."""
    now = utcnow()
    claimed = _claim_due(session, now, limit, lock_seconds)
    behind = _phones_with_more(session, claimed, now)
    return [replace(item, more_behind=item.phone in behind) for item in claimed]


def _phones_with_more(session: Session, claimed: list[OutboxItem], now: datetime) -> set[str]:
    """The phones of these claimed entries that have another entry due, not among them: the
    sender claims again after sending these only when one has (or when its batch was full)."""
    if not claimed:
        return set()
    rows = session.execute(
        select(OutboundMessage.phone)
        .join(OutboxEntry, OutboxEntry.outbound_id == OutboundMessage.id)
        .where(
            OutboundMessage.phone.in_(sorted({item.phone for item in claimed})),
            OutboxEntry.done_at.is_(None),
            OutboxEntry.next_attempt_at <= now,
            OutboxEntry.id.not_in([item.outbox_id for item in claimed]),
        )
        .distinct()
    )
    return set(rows.scalars())


def _claim_due(session: Session, now: datetime, limit: int, lock_seconds: int) -> list[OutboxItem]:
    order = (OutboxEntry.priority, OutboxEntry.next_attempt_at, OutboxEntry.id)
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            _claimable()
            .where(*_due(now))
            .order_by(*order)
            .limit(limit)
            .with_for_update(skip_locked=True, of=OutboxEntry)
        ).all()
        lapsed = [_lapsed_since(entry.locked_until, lock_seconds) for entry, _out, _kind in rows]
        for entry, _out, _kind in rows:
            entry.locked_until = now + timedelta(seconds=lock_seconds)
        session.flush()
        return [
            _item(entry, out, kind, since) for (entry, out, kind), since in zip(rows, lapsed, strict=True)
        ]
    due = (
        session.execute(
            select(OutboxEntry.id)
            .join(OutboundMessage, OutboundMessage.id == OutboxEntry.outbound_id)
            .where(*_due(now))
            .order_by(*order)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    claimed = (_claim(session, entry_id, now, lock_seconds) for entry_id in due)
    return [item for item in claimed if item is not None]


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
    outbox entry due now, in order, claimed by the senders by ``priority`` (lower first). Idempotent on (``in_reply_to``, position): a turn finished
    twice records its replies once (the unique index decides, inside the caller's unit of work).
    Returns the ids of the messages recorded now."""
    now = utcnow()
    recorded = []
    for offset, message in enumerate(messages):
        parts = sms_parts(message.body) if message.medium == "sms" and message.body else None
        values = dict(
            asdict(message),
            sms_parts=parts.parts if parts else None,
            encoding=parts.encoding if parts else None,
            reply_position=first_position + offset,
            status="pending",
            attempts=0,
            created_at=now,
        )
        unique = [OutboundMessage.in_reply_to, OutboundMessage.reply_position]
        if not insert_ignoring_conflict(session, OutboundMessage.__table__, values, unique):
            continue
        outbound_id = session.execute(
            select(OutboundMessage.id).where(
                OutboundMessage.in_reply_to == message.in_reply_to,
                OutboundMessage.reply_position == values["reply_position"],
            )
        ).scalar_one()
        session.add(
            OutboxEntry(
                outbound_id=outbound_id, attempts=0, next_attempt_at=now, created_at=now, priority=priority
            )
        )
        recorded.append(outbound_id)
    session.flush()
    return recorded
