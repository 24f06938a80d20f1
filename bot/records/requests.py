"""Requests for a person, queued for staff: opened by the assistant, then assigned, taken on,
closed and reopened by staff."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.records.schema import HumanRequest
from bot.records.vocabulary import PENDING_REQUEST_STATUSES
from bot.timeutil import utcnow


def open_request_for(session: Session, phone: str) -> HumanRequest | None:
    query = select(HumanRequest).where(
        HumanRequest.phone == phone, HumanRequest.status.in_(PENDING_REQUEST_STATUSES)
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


# --- what staff read ----------------------------------------------------------------------------


def request_by_id(session: Session, request_id: int) -> HumanRequest | None:
    return session.get(HumanRequest, request_id)


def request_of_phone(session: Session, request_id: int, phone: str) -> HumanRequest | None:
    """The request only if it is this phone's."""
    request = session.get(HumanRequest, request_id)
    return request if request is not None and request.phone == phone else None


def requests_for_phone(session: Session, phone: str) -> list[HumanRequest]:
    """Every request of a phone, the newest first."""
    return list(
        session.execute(
            select(HumanRequest).where(HumanRequest.phone == phone).order_by(HumanRequest.created_at.desc())
        ).scalars()
    )


def requests_of_farmer(session: Session, farmer_id: int) -> list[HumanRequest]:
    """Every request of a farmer, the newest first."""
    return list(
        session.execute(
            select(HumanRequest)
            .where(HumanRequest.farmer_id == farmer_id)
            .order_by(HumanRequest.created_at.desc())
        ).scalars()
    )


def queue(
    session: Session,
    statuses: Collection[str] | None = None,
    assigned_to: str | None = None,
    limit: int = 500,
) -> list[HumanRequest]:
    """Requests in these statuses (all when None), optionally only one person's, the oldest
    first."""
    query = select(HumanRequest).order_by(HumanRequest.created_at)
    if statuses is not None:
        query = query.where(HumanRequest.status.in_(tuple(statuses)))
    if assigned_to is not None:
        query = query.where(HumanRequest.assigned_to == assigned_to)
    return list(session.execute(query.limit(limit)).scalars())


def created_between(session: Session, start: datetime, end: datetime) -> list[HumanRequest]:
    """Requests created in [start, end)."""
    return list(
        session.execute(
            select(HumanRequest).where(HumanRequest.created_at >= start, HumanRequest.created_at < end)
        ).scalars()
    )


def phones_that_asked() -> Select:
    """Every phone that ever asked for a person, as a subquery for other queries."""
    return select(HumanRequest.phone)


def which_asked(session: Session, phones: Iterable[str]) -> set[str]:
    """Which of these phones ever asked for a person."""
    wanted = sorted(set(phones))
    if not wanted:
        return set()
    return set(session.execute(select(HumanRequest.phone).where(HumanRequest.phone.in_(wanted))).scalars())


# --- what staff change --------------------------------------------------------------------------


def assign(request: HumanRequest, username: str | None) -> None:
    """Gives the request to a staff member; None leaves it unassigned."""
    request.assigned_to = username or None


def close(request: HumanRequest, now: datetime | None = None) -> None:
    """Closes it; a request already closed keeps when it was closed."""
    if request.status != "closed":
        request.closed_at = now or utcnow()
    request.status = "closed"


def reopen(request: HumanRequest, status: str = "open") -> None:
    """Back to open (or in progress): no longer closed."""
    if status not in PENDING_REQUEST_STATUSES:
        raise ValueError(f"not a pending status: {status}")
    request.status = status
    request.closed_at = None


def move_to(request: HumanRequest, status: str, now: datetime | None = None) -> None:
    """The status staff chose: closing, or (re)opening as open or in progress."""
    if status == "closed":
        close(request, now)
    else:
        reopen(request, status)


def take_on_reply(request: HumanRequest, username: str) -> None:
    """Staff answered the farmer: an open request is now in progress, and it is the replier's
    unless someone already has it."""
    if request.status == "open":
        request.status = "in_progress"
        request.assigned_to = request.assigned_to or username
