"""Everything the program records hold about one farmer, as plain rows (for an ARCO access
request): their record, numbers, crops, deliveries, invoices, enrolments, the consents given from
their numbers, checks, every time payment data was shown, requests for a person, numbers
released, their ARCO requests and oppositions, and the notices sent to them. ``as_row`` turns
any table row into values that JSON can carry; the messages are in bot/messaging/personal_data.py, the console's own rows in
bot/console/queries/personal_data.py."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from bot.records.arco_schema import ArcoRequest, PurposeOpposition
from bot.records.notice_schema import NewsChoice, Notice
from bot.records.schema import (
    Consent,
    Delivery,
    Enrolment,
    Farmer,
    FarmerCrop,
    FarmerPhone,
    HumanRequest,
    Invoice,
    PaymentAccessLog,
    PhoneRelease,
    PhoneVerification,
)
from bot.timeutil import as_utc

Row = dict[str, Any]

# Never handed out, not even to the farmer: a hash of their PIN says nothing to them and helps
# whoever wants to guess it.
SECRET_COLUMNS = frozenset({"pin_hash", "password_hash"})


def plain_value(value: Any) -> Any:
    """A value JSON can carry: amounts as text (exact), moments in UTC and days in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_row(record: Any, skip: Iterable[str] = ()) -> Row:
    """A table row's columns and values, in the table's order, without secrets."""
    left_out = SECRET_COLUMNS | set(skip)
    return {
        column.name: plain_value(getattr(record, column.key))
        for column in record.__table__.columns
        if column.name not in left_out
    }


def _rows(session: Session, query: Any, skip: Iterable[str] = ()) -> list[Row]:
    return [as_row(record, skip) for record in session.execute(query).scalars()]


def farmer_records(
    session: Session, farmer_id: int, phones: Collection[str], own_phones: Collection[str]
) -> dict[str, list[Row]] | None:
    """The farmer's program records, by table; None when there is no such farmer. ``phones``
    are every number of theirs (consents are kept per number); ``own_phones`` those no other
    farmer shares (a request for a person from a shared number may be the other person's)."""
    farmer = session.execute(
        select(Farmer).where(Farmer.id == farmer_id).options(selectinload(Farmer.organisation))
    ).scalar_one_or_none()
    if farmer is None:
        return None
    me = as_row(farmer)
    me["organisation"] = farmer.organisation.name if farmer.organisation else None
    me["has_personal_pin"] = farmer.pin_hash is not None
    deliveries = []
    for delivery in session.execute(
        select(Delivery)
        .where(Delivery.farmer_id == farmer_id)
        .options(selectinload(Delivery.rejections), selectinload(Delivery.grades))
        .order_by(Delivery.delivered_on, Delivery.id)
    ).scalars():
        row = as_row(delivery)
        row["rejections"] = [as_row(r, skip=("delivery_id",)) for r in delivery.rejections]
        row["grades"] = [as_row(g, skip=("delivery_id",)) for g in delivery.grades]
        deliveries.append(row)
    enrolments = []
    for enrolment in session.execute(
        select(Enrolment)
        .where(Enrolment.farmer_id == farmer_id)
        .options(selectinload(Enrolment.training))
        .order_by(Enrolment.created_at, Enrolment.id)
    ).scalars():
        row = as_row(enrolment)
        row["training"] = f"{enrolment.training.code} {enrolment.training.title}"
        enrolments.append(row)
    by_farmer_or_own_phone = or_(
        HumanRequest.farmer_id == farmer_id, HumanRequest.phone.in_(list(own_phones))
    )
    return {
        "farmers": [me],
        "farmer_phones": _rows(session, select(FarmerPhone).where(FarmerPhone.farmer_id == farmer_id)),
        "farmer_crops": _rows(session, select(FarmerCrop).where(FarmerCrop.farmer_id == farmer_id)),
        "deliveries": deliveries,
        "invoices": _rows(
            session,
            select(Invoice).where(Invoice.farmer_id == farmer_id).order_by(Invoice.issued_on, Invoice.id),
        ),
        "enrolments": enrolments,
        "consents": _rows(
            session,
            select(Consent).where(Consent.phone.in_(list(phones))).order_by(Consent.recorded_at, Consent.id),
        ),
        "news_choices": _rows(
            session,
            select(NewsChoice)
            .where(NewsChoice.phone.in_(list(phones)))
            .order_by(NewsChoice.recorded_at, NewsChoice.id),
        ),
        "phone_verifications": _rows(
            session, select(PhoneVerification).where(PhoneVerification.farmer_id == farmer_id)
        ),
        "payment_access_log": _rows(
            session,
            select(PaymentAccessLog)
            .where(PaymentAccessLog.farmer_id == farmer_id)
            .order_by(PaymentAccessLog.shown_at, PaymentAccessLog.id),
        ),
        "human_requests": _rows(
            session,
            select(HumanRequest)
            .where(by_farmer_or_own_phone)
            .order_by(HumanRequest.created_at, HumanRequest.id),
        ),
        "phone_releases": _rows(
            session,
            select(PhoneRelease)
            .where(PhoneRelease.farmer_id == farmer_id)
            .order_by(PhoneRelease.released_at),
        ),
        "arco_requests": _arco_requests(session, farmer_id),
        "purpose_oppositions": _rows(
            session,
            select(PurposeOpposition)
            .where(PurposeOpposition.farmer_id == farmer_id)
            .order_by(PurposeOpposition.since, PurposeOpposition.id),
        ),
        "notices": _rows(
            session,
            select(Notice)
            .where(or_(Notice.farmer_id == farmer_id, Notice.phone.in_(list(own_phones))))
            .order_by(Notice.created_at, Notice.id),
        ),
    }


def _arco_requests(session: Session, farmer_id: int) -> list[Row]:
    found = []
    for request in session.execute(
        select(ArcoRequest)
        .where(ArcoRequest.farmer_id == farmer_id)
        .options(selectinload(ArcoRequest.steps))
        .order_by(ArcoRequest.received_at, ArcoRequest.id)
    ).scalars():
        row = as_row(request, skip=("blocked_phones",))
        row["steps"] = [as_row(step, skip=("request_id",)) for step in request.steps]
        found.append(row)
    return found
