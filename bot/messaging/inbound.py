"""Queries on inbound_messages: every message a farmer sent, stored before anything else can
fail. Functions take the caller's Session; the caller owns the unit of work."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.db import insert_ignoring_conflict
from bot.messaging.optout import opt_action
from bot.messaging.schema import InboundMessage
from bot.records.notices import notice_id_in
from bot.timeutil import as_utc, utcnow

# A notice handed to the farmer's conversation (bot/messaging/notices.py): stored with the
# farmer's messages, so it keeps its place among them, but not written by the farmer (it opens
# no WhatsApp window, counts for no rate limit, and is no address to answer to).
NOTICE = "notice"


def _written_by_the_farmer() -> Any:
    """Messages the farmer wrote: every stored message but a released notice."""
    return InboundMessage.kind != NOTICE


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
        if notice_id_in(self.message_sid) is not None:
            return NOTICE
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
    def from_json(cls, text: str) -> Inbound:
        return cls(**json.loads(text))


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.000001")) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def inbound_row(message: Inbound, **extra: Any) -> dict[str, Any]:
    """The message's columns in ``inbound_messages`` (with ``extra`` ones), as received."""
    location = message.location or {}
    return {
        "message_sid": message.message_sid,
        "medium": message.medium,
        "phone": message.phone,
        "from_address": message.from_address[:40],
        "to_address": (message.to_address or "")[:40] or None,
        "body": message.body,
        "kind": message.kind,
        "profile_name": (message.profile_name or None) and message.profile_name[:160],
        "wa_id": (message.wa_id or None) and message.wa_id[:20],
        "num_media": len(message.media),
        "media_json": json.dumps(message.media) if message.media else None,
        "latitude": _decimal(location.get("latitude")),
        "longitude": _decimal(location.get("longitude")),
        "location_label": (location.get("label") or None) and str(location["label"])[:200],
        "raw_params": json.dumps(message.raw_params, ensure_ascii=False),
        "status": "received",
        **extra,
    }


def store_inbound(session: Session, message: Inbound, **extra: Any) -> bool:
    """Stores the message (with ``extra`` columns); False when that MessageSid was stored already
    (a Twilio retry)."""
    # a Twilio retry is one statement that inserts nothing: it neither raises nor spoils the unit of work
    return insert_ignoring_conflict(
        session, InboundMessage.__table__, inbound_row(message, **extra), [InboundMessage.message_sid]
    )


def inbound_exists(session: Session, message_sid: str) -> bool:
    found = session.execute(
        select(InboundMessage.id).where(InboundMessage.message_sid == message_sid)
    ).first()
    return found is not None


def mark_inbound(session: Session, message_sid: str, status: str, error: str | None = None) -> None:
    """Moves a message on: "processing" counts an attempt; "processed" and "failed" are final."""
    values: dict[str, Any] = {"status": status}
    if status == "processing":
        values["attempts"] = InboundMessage.attempts + 1
    if status in ("processed", "failed"):
        values["processed_at"] = utcnow()
    if error is not None:
        values["error"] = error[:2000]
    session.execute(update(InboundMessage).where(InboundMessage.message_sid == message_sid).values(**values))


def _location_of(row: InboundMessage) -> dict[str, Any] | None:
    if row.latitude is None or row.longitude is None:
        return None
    return {"latitude": float(row.latitude), "longitude": float(row.longitude), "label": row.location_label}


def unfinished_inbound(
    session: Session, older_than_seconds: int, newer_than_hours: int, max_attempts: int
) -> list[Inbound]:
    """Messages stored but never answered (a crash mid-turn): for a second try at start-up."""
    now = utcnow()
    rows = (
        session.execute(
            select(InboundMessage)
            .where(
                InboundMessage.status.in_(("received", "processing")),
                InboundMessage.received_at <= now - timedelta(seconds=older_than_seconds),
                InboundMessage.received_at >= now - timedelta(hours=newer_than_hours),
                InboundMessage.attempts < max_attempts,
            )
            .order_by(InboundMessage.received_at)
        )
        .scalars()
        .all()
    )
    return [inbound_of(row) for row in rows]


# A notice not answered in this long is a fault for the recovery loops, no longer a backlog.
BACKLOG_WINDOW = timedelta(hours=1)


def unanswered_notices(session: Session) -> int:
    """Notices handed to farmers' conversations in the last hour whose turn has not run yet."""
    query = select(func.count(InboundMessage.id)).where(
        InboundMessage.status.in_(("received", "processing")),
        InboundMessage.kind == NOTICE,
        InboundMessage.received_at >= utcnow() - BACKLOG_WINDOW,
    )
    return int(session.execute(query).scalar() or 0)


def inbound_of(row: InboundMessage) -> Inbound:
    """A stored message as the channel parsed it (without the raw form)."""
    return Inbound(
        message_sid=row.message_sid,
        medium=row.medium,
        phone=row.phone,
        from_address=row.from_address,
        to_address=row.to_address or "",
        body=row.body or "",
        profile_name=row.profile_name,
        wa_id=row.wa_id,
        media=json.loads(row.media_json) if row.media_json else [],
        location=_location_of(row),
        raw_params={},
    )


def last_received_at(session: Session, phone: str, medium: str) -> datetime | None:
    """When the farmer last wrote from this phone on this medium (UTC), or None."""
    latest = session.execute(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.phone == phone, InboundMessage.medium == medium, _written_by_the_farmer()
        )
    ).scalar()
    return as_utc(latest) if latest else None


def last_from_address(session: Session, phone: str, medium: str) -> str | None:
    """Twilio's address the farmer last wrote from on this medium (whatsapp:+521...), or None."""
    return session.execute(
        select(InboundMessage.from_address)
        .where(InboundMessage.phone == phone, InboundMessage.medium == medium, _written_by_the_farmer())
        .order_by(InboundMessage.received_at.desc())
        .limit(1)
    ).scalar_one_or_none()


# -- the per-number rate limit (bot/messaging/rate_limit.py decides; staff read it) -------------

RATE_LIMITED = "rate_limited"  # inbound_messages.error of a message held back from the assistant


@dataclass(frozen=True)
class Arrival:
    """Where one stored message stands in its number's stream."""

    id: int
    phone: str
    received_at: datetime


def arrival(session: Session, message_sid: str) -> Arrival | None:
    row = session.execute(
        select(InboundMessage.id, InboundMessage.phone, InboundMessage.received_at).where(
            InboundMessage.message_sid == message_sid
        )
    ).first()
    return Arrival(row.id, row.phone, as_utc(row.received_at)) if row else None


@lru_cache(maxsize=1)
def _count_arrived_statement() -> Select:
    """Built once: the rate limit runs it before every turn."""
    return select(func.count(InboundMessage.id)).where(
        InboundMessage.phone == bindparam("phone"),
        InboundMessage.received_at >= bindparam("since"),
        InboundMessage.id <= bindparam("up_to_id"),
        _written_by_the_farmer(),
    )


def count_arrived(session: Session, phone: str, since: datetime, up_to_id: int) -> int:
    """Messages the number sent from ``since`` up to and including the one with ``up_to_id``
    (one answer for each message, whatever the order their turns run in)."""
    values = {"phone": phone, "since": since, "up_to_id": up_to_id}
    return int(session.execute(_count_arrived_statement(), values).scalar_one())


def count_held_back(session: Session, phone: str, since: datetime) -> int:
    """Messages of the number held back by the rate limit since then."""
    return session.execute(
        select(func.count(InboundMessage.id)).where(
            InboundMessage.phone == phone,
            InboundMessage.received_at >= since,
            InboundMessage.error == RATE_LIMITED,
        )
    ).scalar_one()


@dataclass(frozen=True)
class RateLimitedPhone:
    phone: str
    held_back: int  # messages stored but not sent to the assistant
    last_at: datetime  # the latest of them (UTC)


def rate_limited_phones(session: Session, since: datetime) -> list[RateLimitedPhone]:
    """For staff: the numbers the rate limit held back since then, the latest first."""
    last = func.max(InboundMessage.received_at)
    rows = session.execute(
        select(InboundMessage.phone, func.count(InboundMessage.id), last)
        .where(InboundMessage.error == RATE_LIMITED, InboundMessage.received_at >= since)
        .group_by(InboundMessage.phone)
        .order_by(last.desc())
    ).all()
    return [RateLimitedPhone(phone, count, as_utc(at)) for phone, count, at in rows]
