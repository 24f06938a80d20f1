"""Who is writing: farmers registered under a phone number; staff searches by name, folio or
phone; everything the program keeps about one farmer."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.records.requests import requests_of_farmer
from bot.records.schema import Delivery, Enrolment, Farmer, FarmerPhone, HumanRequest, Invoice
from bot.text import plain


def farmers_for_phone(session: Session, phone: str) -> list[Farmer]:
    """All farmers registered under this (normalised) number, in a stable order."""
    query = (
        select(Farmer)
        .join(FarmerPhone, FarmerPhone.farmer_id == Farmer.id)
        .where(FarmerPhone.phone == phone)
        .order_by(Farmer.name, Farmer.id)
    )
    return list(session.execute(query).scalars())


def farmer_for_phone(session: Session, phone: str, farmer_id: int) -> Farmer | None:
    """The farmer only if this number really belongs to them: never trust an id from the chat."""
    return next((f for f in farmers_for_phone(session, phone) if f.id == farmer_id), None)


def farmers_by_phone(session: Session, phones: Iterable[str]) -> dict[str, list[Farmer]]:
    """The farmers registered under each of these numbers, by name; one query for all."""
    wanted = sorted(set(phones))
    found: dict[str, list[Farmer]] = {}
    if not wanted:
        return found
    rows = session.execute(
        select(FarmerPhone.phone, Farmer)
        .join(Farmer, Farmer.id == FarmerPhone.farmer_id)
        .where(FarmerPhone.phone.in_(wanted))
        .order_by(Farmer.name, Farmer.id)
    ).all()
    for phone, farmer in rows:
        found.setdefault(phone, []).append(farmer)
    return found


def farmers_by_id(session: Session, farmer_ids: Iterable[int]) -> dict[int, Farmer]:
    wanted = sorted({farmer_id for farmer_id in farmer_ids if farmer_id})
    if not wanted:
        return {}
    return {f.id: f for f in session.execute(select(Farmer).where(Farmer.id.in_(wanted))).scalars()}


# --- staff searches -----------------------------------------------------------------------------


def phone_fragment(text: str) -> str | None:
    """The digits to look for in phone numbers when staff type 4 digits or more (the last 10:
    '443 100 0001' and '+52 1 443 100 0001' look for the same number)."""
    digits = "".join(ch for ch in text or "" if ch.isdigit())
    return digits[-10:] if len(digits) >= 4 else None


@dataclass(frozen=True)
class FarmerMatches:
    """Whom a staff search finds: farmers by name or folio (accents and case ignored) with
    their phones, and farmers with a phone that contains the digits typed."""

    by_name: dict[int, list[str]] = field(default_factory=dict)
    by_phone: frozenset[int] = frozenset()

    @property
    def farmer_ids(self) -> list[int]:
        return sorted(set(self.by_name) | self.by_phone)

    @property
    def phones_by_name(self) -> set[str]:
        return {phone for phones in self.by_name.values() for phone in phones}


def search_farmers(session: Session, text: str) -> FarmerMatches:
    """Farmers whose name or folio contains the text, or one of whose phones contains the
    digits typed; one query (names are compared without accents, which SQL cannot do the same
    way on SQLite and PostgreSQL)."""
    needle, fragment = plain(text or ""), phone_fragment(text)
    if not needle and not fragment:
        return FarmerMatches()
    rows = session.execute(
        select(Farmer.id, Farmer.name, Farmer.folio, FarmerPhone.phone).outerjoin(
            FarmerPhone, FarmerPhone.farmer_id == Farmer.id
        )
    )
    by_name: dict[int, list[str]] = {}
    by_phone: set[int] = set()
    for farmer_id, name, folio, phone in rows:
        if needle and (needle in plain(name) or needle in plain(folio)):
            phones = by_name.setdefault(farmer_id, [])
            if phone:
                phones.append(phone)
        if fragment and phone and fragment in phone:
            by_phone.add(farmer_id)
    return FarmerMatches(by_name, frozenset(by_phone))


def count_farmers(session: Session, farmer_ids: Collection[int] | None = None) -> int:
    """All farmers, or those of these ids."""
    query = select(func.count(Farmer.id))
    if farmer_ids is not None:
        query = query.where(Farmer.id.in_(list(farmer_ids)))
    return session.execute(query).scalar() or 0


def farmers_by_name(
    session: Session, farmer_ids: Collection[int] | None = None, *, limit: int, offset: int = 0
) -> list[Farmer]:
    """Farmers in order of name, with their phones and organisation loaded."""
    query = select(Farmer).options(selectinload(Farmer.phones), selectinload(Farmer.organisation))
    if farmer_ids is not None:
        query = query.where(Farmer.id.in_(list(farmer_ids)))
    query = query.order_by(Farmer.name, Farmer.id).limit(limit).offset(offset)
    return list(session.execute(query).scalars())


# --- one farmer ---------------------------------------------------------------------------------


@dataclass
class FarmerFile:
    """What the program keeps about one farmer, newest first."""

    farmer: Farmer
    deliveries: list[Delivery]
    invoices: list[Invoice]
    enrolments: list[Enrolment]
    requests: list[HumanRequest]


def farmer_file(session: Session, farmer_id: int) -> FarmerFile | None:
    farmer = session.execute(
        select(Farmer)
        .where(Farmer.id == farmer_id)
        .options(selectinload(Farmer.phones), selectinload(Farmer.organisation), selectinload(Farmer.crops))
    ).scalar_one_or_none()
    if farmer is None:
        return None
    deliveries = (
        session.execute(
            select(Delivery).where(Delivery.farmer_id == farmer_id).order_by(Delivery.delivered_on.desc())
        )
        .scalars()
        .all()
    )
    invoices = (
        session.execute(
            select(Invoice).where(Invoice.farmer_id == farmer_id).order_by(Invoice.issued_on.desc())
        )
        .scalars()
        .all()
    )
    enrolments = (
        session.execute(
            select(Enrolment)
            .options(selectinload(Enrolment.training))
            .where(Enrolment.farmer_id == farmer_id)
            .order_by(Enrolment.created_at.desc())
        )
        .scalars()
        .all()
    )
    return FarmerFile(
        farmer, list(deliveries), list(invoices), list(enrolments), requests_of_farmer(session, farmer_id)
    )
