"""Reading and writing the messaging tables. Plain synchronous SQLAlchemy in short units of work;
the channels call these through a thread pool so Sanic's loop is never blocked."""
from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import session_scope
from bot.messaging.schema import (
    InboundMessage,
    MessageStatusEvent,
    OptOutEvent,
    OutboundMessage,
    OutboxEntry,
)
from bot.timeutil import as_utc, utcnow

if TYPE_CHECKING:
    from bot.messaging.sender import SendResult

# The messaging layer's own threads for database work, so that a burst of farmers never waits
# behind Rasa's (or anyone's) use of the loop's default executor.
_DB_POOL = ThreadPoolExecutor(
    max_workers=int(os.environ.get("TWILIO_DB_THREADS", "8") or 8),
    thread_name_prefix="messaging-db",
)


async def run_db(function, *args, **kwargs):
    """Runs a function of this module in the messaging thread pool, from the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_DB_POOL, lambda: function(*args, **kwargs))


# Twilio's statuses in the order a message moves through them; a late callback never moves a
# message backwards (e.g. "sent" arriving after "delivered").
_STATUS_RANK = {
    "pending": 0, "outbox": 0, "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3,
    "sent": 4, "delivered": 5, "read": 6,
    "undelivered": 7, "failed": 7, "canceled": 7, "partially_delivered": 5,
}


@dataclass(frozen=True)
class Inbound:
    """What the channel parsed from one Twilio webhook."""

    message_sid: str
    medium: str
    phone: str
    from_address: str
    to_address: str
    body: str
    profile_name: str | None
    wa_id: str | None
    media: list[dict[str, str]]
    location: dict[str, Any] | None
    raw_params: dict[str, str]

    @property
    def kind(self) -> str:
        from bot.messaging.optout import opt_action

        action = opt_action(self.body)
        if action:
            return action
        if self.location and not self.body.strip():
            return "location"
        if self.media and not self.body.strip():
            return "media"
        if not self.body.strip():
            return "empty"
        return "text"

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> "Inbound":
        return cls(**json.loads(text))


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.000001")) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def store_inbound(message: Inbound) -> bool:
    """Stores the message; False when that MessageSid was stored already (a Twilio retry)."""
    location = message.location or {}
    try:
        with session_scope() as session:
            session.add(
                InboundMessage(
                    message_sid=message.message_sid,
                    medium=message.medium,
                    phone=message.phone,
                    from_address=message.from_address[:40],
                    to_address=(message.to_address or "")[:40] or None,
                    body=message.body,
                    kind=message.kind,
                    profile_name=(message.profile_name or None) and message.profile_name[:160],
                    wa_id=(message.wa_id or None) and message.wa_id[:20],
                    num_media=len(message.media),
                    media_json=json.dumps(message.media) if message.media else None,
                    latitude=_decimal(location.get("latitude")),
                    longitude=_decimal(location.get("longitude")),
                    location_label=(location.get("label") or None)
                    and str(location["label"])[:200],
                    raw_params=json.dumps(message.raw_params, ensure_ascii=False),
                    status="received",
                )
            )
    except IntegrityError:
        return False
    return True


def inbound_exists(message_sid: str) -> bool:
    with session_scope() as session:
        found = session.execute(
            select(InboundMessage.id).where(InboundMessage.message_sid == message_sid)
        ).first()
        return found is not None


def mark_inbound(message_sid: str, status: str, error: str | None = None) -> None:
    values: dict[str, Any] = {"status": status}
    if status == "processing":
        values["attempts"] = InboundMessage.attempts + 1
    if status in ("processed", "failed"):
        values["processed_at"] = utcnow()
    if error is not None:
        values["error"] = error[:2000]
    with session_scope() as session:
        session.execute(
            update(InboundMessage).where(InboundMessage.message_sid == message_sid).values(**values)
        )


def unfinished_inbound(older_than_seconds: int, newer_than_hours: int, max_attempts: int) -> list[Inbound]:
    """Messages stored but never answered (a crash mid-turn): for a second try at start-up."""
    now = utcnow()
    with session_scope() as session:
        rows = session.execute(
            select(InboundMessage)
            .where(
                InboundMessage.status.in_(("received", "processing")),
                InboundMessage.received_at <= now - timedelta(seconds=older_than_seconds),
                InboundMessage.received_at >= now - timedelta(hours=newer_than_hours),
                InboundMessage.attempts < max_attempts,
            )
            .order_by(InboundMessage.received_at)
        ).scalars().all()
        result = []
        for row in rows:
            location = None
            if row.latitude is not None and row.longitude is not None:
                location = {
                    "latitude": float(row.latitude),
                    "longitude": float(row.longitude),
                    "label": row.location_label,
                }
            result.append(
                Inbound(
                    message_sid=row.message_sid, medium=row.medium, phone=row.phone,
                    from_address=row.from_address, to_address=row.to_address or "",
                    body=row.body or "", profile_name=row.profile_name, wa_id=row.wa_id,
                    media=json.loads(row.media_json) if row.media_json else [],
                    location=location, raw_params={},
                )
            )
        return result


# ------------------------------------------------------------------------------------------
# Outbound


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


def create_outbound(message: Outgoing, status: str = "pending") -> int:
    with session_scope() as session:
        row = message.row()
        row.status = status
        session.add(row)
        session.flush()
        return row.id


def record_outbound(message: Outgoing, result: "SendResult", retry_in_seconds: float = 0) -> int:
    """One reply and what became of it, in one transaction: sent (with Twilio's SID), or failed
    for good, or failed for now and put in the outbox to be tried again in ``retry_in_seconds``."""
    now = utcnow()
    with session_scope() as session:
        row = message.row()
        row.attempts, row.status_at = result.attempts, now
        if result.ok:
            row.twilio_sid = result.sid
            row.status = result.status if result.status in _STATUS_RANK else "queued"
            row.sent_at = now
        else:
            row.status = "outbox" if result.retryable else "failed"
            row.error = result.error[:2000]
            row.error_code = result.error_code
        session.add(row)
        session.flush()
        if result.ok and result.sid:
            _adopt_early_events(session, row)
        if not result.ok and result.retryable:
            session.add(OutboxEntry(outbound_id=row.id, attempts=0, last_error=result.error[:2000],
                                    next_attempt_at=now + timedelta(seconds=retry_in_seconds)))
        return row.id


def _adopt_early_events(session, row: OutboundMessage) -> None:
    """Status callbacks can arrive before the reply is recorded: link them and apply the
    furthest status."""
    early = session.execute(
        select(MessageStatusEvent).where(
            MessageStatusEvent.twilio_sid == row.twilio_sid, MessageStatusEvent.outbound_id.is_(None)
        ).order_by(MessageStatusEvent.id)
    ).scalars().all()
    for event in early:
        event.outbound_id = row.id
        if _STATUS_RANK.get(event.status, -1) >= _STATUS_RANK.get(row.status, 0):
            row.status = event.status
            row.status_at = event.received_at
            if event.error_code:
                row.error_code = event.error_code


def mark_outbound_sent(outbound_id: int, twilio_sid: str, status: str, attempts: int) -> None:
    now = utcnow()
    with session_scope() as session:
        row = session.get(OutboundMessage, outbound_id)
        row.twilio_sid = twilio_sid
        row.attempts = (row.attempts or 0) + attempts
        row.sent_at = now
        row.status = status if status in _STATUS_RANK else "queued"
        row.status_at = now
        session.flush()
        _adopt_early_events(session, row)
        entry = session.execute(
            select(OutboxEntry).where(OutboxEntry.outbound_id == outbound_id)
        ).scalar_one_or_none()
        if entry is not None:
            entry.done_at = now
            entry.locked_until = None


def mark_outbound_skipped(outbound_id: int) -> None:
    with session_scope() as session:
        row = session.get(OutboundMessage, outbound_id)
        row.status = "skipped_opt_out"
        row.status_at = utcnow()


@dataclass(frozen=True)
class OutboxItem:
    outbox_id: int
    outbound_id: int
    attempts: int
    created_at: datetime
    medium: str
    phone: str
    to_address: str
    body: str
    content_sid: str | None
    content_variables: str | None
    proactive: bool


def claim_due_outbox(limit: int, lock_seconds: int) -> list[OutboxItem]:
    """Claims due entries for this worker (several processes may run one each)."""
    now = utcnow()
    claimed: list[OutboxItem] = []
    with session_scope() as session:
        ids = session.execute(
            select(OutboxEntry.id)
            .where(
                OutboxEntry.done_at.is_(None),
                OutboxEntry.next_attempt_at <= now,
                or_(OutboxEntry.locked_until.is_(None), OutboxEntry.locked_until < now),
            )
            .order_by(OutboxEntry.next_attempt_at, OutboxEntry.id)
            .limit(limit)
        ).scalars().all()
    for entry_id in ids:
        with session_scope() as session:
            result = session.execute(
                update(OutboxEntry)
                .where(
                    OutboxEntry.id == entry_id,
                    OutboxEntry.done_at.is_(None),
                    or_(OutboxEntry.locked_until.is_(None), OutboxEntry.locked_until < now),
                )
                .values(locked_until=now + timedelta(seconds=lock_seconds))
            )
            if result.rowcount != 1:
                continue
            entry = session.get(OutboxEntry, entry_id)
            out = entry.outbound
            claimed.append(
                OutboxItem(
                    outbox_id=entry.id, outbound_id=out.id, attempts=entry.attempts,
                    created_at=as_utc(entry.created_at), medium=out.medium, phone=out.phone,
                    to_address=out.to_address, body=out.body, content_sid=out.content_sid,
                    content_variables=out.content_variables, proactive=out.proactive,
                )
            )
    return claimed


def reschedule_outbox(outbox_id: int, error: str, delay_seconds: float, give_up: bool) -> None:
    now = utcnow()
    with session_scope() as session:
        entry = session.get(OutboxEntry, outbox_id)
        entry.attempts += 1
        entry.last_error = error[:2000]
        entry.locked_until = None
        if give_up:
            entry.done_at = now
            entry.gave_up = True
            entry.outbound.status = "failed"
            entry.outbound.status_at = now
            entry.outbound.error = error[:2000]
        else:
            entry.next_attempt_at = now + timedelta(seconds=delay_seconds)


def pending_outbox_count() -> int:
    with session_scope() as session:
        return len(
            session.execute(select(OutboxEntry.id).where(OutboxEntry.done_at.is_(None))).all()
        )


# ------------------------------------------------------------------------------------------
# Status callbacks


def record_status(twilio_sid: str, status: str, error_code: str | None) -> bool:
    """Records one status callback; True when it matched one of our outbound messages."""
    status = (status or "").strip().lower()[:20] or "unknown"
    now = utcnow()
    with session_scope() as session:
        row = session.execute(
            select(OutboundMessage).where(OutboundMessage.twilio_sid == twilio_sid)
        ).scalar_one_or_none()
        session.add(
            MessageStatusEvent(
                outbound_id=row.id if row else None, twilio_sid=twilio_sid[:64], status=status,
                error_code=(error_code or None) and str(error_code)[:12],
            )
        )
        if row is None:
            return False
        if status in _STATUS_RANK and _STATUS_RANK[status] >= _STATUS_RANK.get(row.status, 0):
            row.status = status
            row.status_at = now
            if error_code:
                row.error_code = str(error_code)[:12]
        return True


# ------------------------------------------------------------------------------------------
# Opt-out


def record_opt(phone: str, action: str, keyword: str, medium: str | None, source: str = "keyword") -> None:
    with session_scope() as session:
        session.add(
            OptOutEvent(phone=phone, action=action, keyword=keyword[:20] or action,
                        medium=medium, source=source)
        )


def is_opted_out(phone: str) -> bool:
    """The latest BAJA/ALTA event for the number decides; no event means subscribed."""
    with session_scope() as session:
        latest = session.execute(
            select(OptOutEvent.action)
            .where(OptOutEvent.phone == phone)
            .order_by(OptOutEvent.recorded_at.desc(), OptOutEvent.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return latest == "opt_out"
