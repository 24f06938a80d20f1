"""ARCO requests (LFPDPPP): recording one, its steps (the request's audit trail), listing them,
closing them, correcting a farmer's record (rectification) and unlinking their numbers (the
bloqueo of a cancellation). What a cancellation erases is in bot/records/erasure.py; what an
opposition records, in bot/records/oppositions.py."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from bot.records.arco_schema import ArcoRequest, ArcoStep
from bot.records.schema import Farmer, FarmerPhone, Organisation
from bot.records.vocabulary import PENDING_ARCO_STATUSES
from bot.timeutil import utcnow

WEEKEND = (5, 6)  # Saturday, Sunday


def business_days_after(start: date, days: int) -> date:
    """The day ``days`` business days (Monday to Friday) after ``start``. Public holidays are
    not known to the program and are not skipped."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() not in WEEKEND:
            left -= 1
    return day


def record_request(
    session: Session,
    *,
    farmer_id: int,
    arco_right: str,
    identity_check: str,
    received_at: datetime,
    due_on: date | None,
    created_by: str,
    notes: str | None,
    detail: str,
) -> ArcoRequest:
    """A new request, open, with its first step."""
    request = ArcoRequest(
        farmer_id=farmer_id,
        arco_right=arco_right,
        identity_check=identity_check,
        received_at=received_at,
        due_on=due_on,
        status="open",
        created_by=created_by,
        notes=notes or None,
    )
    session.add(request)
    session.flush()
    add_step(session, request, "recorded", created_by, detail)
    return request


def add_step(
    session: Session, request: ArcoRequest, action: str, done_by: str, detail: str | None
) -> ArcoStep:
    step = ArcoStep(request_id=request.id, action=action, done_by=done_by, detail=detail, done_at=utcnow())
    session.add(step)
    session.flush()
    session.expire(request, ["steps"])
    return step


def request_by_id(session: Session, request_id: int) -> ArcoRequest | None:
    """A request with its farmer (and their phones) and its steps."""
    return session.execute(
        select(ArcoRequest)
        .where(ArcoRequest.id == request_id)
        .options(
            selectinload(ArcoRequest.farmer).selectinload(Farmer.phones),
            selectinload(ArcoRequest.steps),
        )
    ).scalar_one_or_none()


def _filtered(query: Select, farmer_id: int | None) -> Select:
    return query.where(ArcoRequest.farmer_id == farmer_id) if farmer_id is not None else query


def count_requests(session: Session, farmer_id: int | None = None) -> int:
    return session.execute(_filtered(select(func.count(ArcoRequest.id)), farmer_id)).scalar() or 0


def requests_in_order(
    session: Session, farmer_id: int | None = None, *, limit: int, offset: int = 0
) -> list[ArcoRequest]:
    """Requests still to answer first, the nearest due date first (those without one after),
    then the oldest received; closed requests after them, the latest closed first."""
    pending = case((ArcoRequest.status.in_(PENDING_ARCO_STATUSES), 0), else_=1)
    no_due_date = case((ArcoRequest.due_on.is_(None), 1), else_=0)
    query = (
        _filtered(select(ArcoRequest), farmer_id)
        .options(selectinload(ArcoRequest.farmer))
        .order_by(
            pending,
            no_due_date,
            ArcoRequest.due_on,
            ArcoRequest.received_at,
            ArcoRequest.closed_at.desc(),
            ArcoRequest.id,
        )
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(query).scalars())


def requests_of_farmer(session: Session, farmer_id: int) -> list[ArcoRequest]:
    return list(
        session.execute(
            select(ArcoRequest)
            .where(ArcoRequest.farmer_id == farmer_id)
            .options(selectinload(ArcoRequest.steps))
            .order_by(ArcoRequest.received_at, ArcoRequest.id)
        ).scalars()
    )


def close(session: Session, request: ArcoRequest, status: str, done_by: str, detail: str | None) -> None:
    """Ends a request as answered ("done") or refused ("rejected"), with a step saying so."""
    request.status, request.closed_at = status, utcnow()
    add_step(session, request, "closed" if status == "done" else "rejected", done_by, detail)


# --- rectification ------------------------------------------------------------------------------

RECTIFIABLE = ("name", "municipality", "state", "organisation_id", "preferred_medium")


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str | None


def organisations(session: Session) -> list[Organisation]:
    return list(session.execute(select(Organisation).order_by(Organisation.name)).scalars())


def _shown(farmer: Farmer, field: str, names: dict[int, str]) -> str | None:
    value = getattr(farmer, field)
    if field == "organisation_id":
        return names.get(value) if value is not None else None
    return value


def rectify(session: Session, farmer: Farmer, wanted: dict[str, object]) -> list[Change]:
    """Applies the corrections that differ from the record (fields of RECTIFIABLE); returns each
    change with its value before and after (an organisation by its name)."""
    names = {o.id: o.name for o in organisations(session)}
    changes = []
    for field in RECTIFIABLE:
        if field not in wanted or wanted[field] == getattr(farmer, field):
            continue
        before = _shown(farmer, field, names)
        setattr(farmer, field, wanted[field])
        changes.append(Change(field, before, _shown(farmer, field, names)))
    session.flush()
    return changes


# --- the bloqueo of a cancellation --------------------------------------------------------------


def phones_of(session: Session, farmer_id: int) -> list[str]:
    return list(
        session.execute(
            select(FarmerPhone.phone).where(FarmerPhone.farmer_id == farmer_id).order_by(FarmerPhone.phone)
        ).scalars()
    )


def other_holders(session: Session, phones: Collection[str], farmer_id: int) -> dict[str, list[Farmer]]:
    """The other farmers registered under each of these numbers (a shared family phone)."""
    rows = session.execute(
        select(FarmerPhone.phone, Farmer)
        .join(Farmer, Farmer.id == FarmerPhone.farmer_id)
        .where(FarmerPhone.phone.in_(list(phones)), Farmer.id != farmer_id)
        .order_by(Farmer.name, Farmer.id)
    ).all()
    found: dict[str, list[Farmer]] = {}
    for phone, farmer in rows:
        found.setdefault(phone, []).append(farmer)
    return found


def block(session: Session, request: ArcoRequest) -> list[str]:
    """Bloqueo: the farmer's numbers are unlinked from them (the assistant no longer knows them
    on those numbers, so it shows their data to no one) and kept on the request until the
    supresión. Returns the numbers."""
    phones = phones_of(session, request.farmer_id)
    session.execute(delete(FarmerPhone).where(FarmerPhone.farmer_id == request.farmer_id))
    request.blocked_phones = ",".join(phones)
    request.status = "blocked"
    session.flush()
    session.expire(request, ["farmer"])
    return phones


def blocked_phones(request: ArcoRequest) -> list[str]:
    return [p for p in (request.blocked_phones or "").split(",") if p]
