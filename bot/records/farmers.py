"""Who is writing: farmers registered under a phone number."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.records.schema import Farmer, FarmerPhone


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
