"""Requests for a person, queued for staff."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.records.schema import HumanRequest


def open_request_for(session: Session, phone: str) -> HumanRequest | None:
    query = select(HumanRequest).where(
        HumanRequest.phone == phone, HumanRequest.status.in_(["open", "in_progress"])
    )
    return session.execute(query).scalars().first()


def record_human_request(
    session: Session,
    phone: str,
    conversation_id: str,
    farmer_id: int | None,
    reason: str,
    last_message: str | None,
) -> tuple[HumanRequest, bool]:
    """Returns the request and whether it is new (one open request per number at a time)."""
    existing = open_request_for(session, phone)
    if existing is not None:
        existing.last_message = last_message or existing.last_message
        return existing, False
    request = HumanRequest(
        phone=phone,
        conversation_id=conversation_id,
        farmer_id=farmer_id,
        reason=reason,
        last_message=last_message,
    )
    session.add(request)
    session.flush()
    return request, True
