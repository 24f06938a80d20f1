"""Purposes a farmer opposed (the O of ARCO): their number is not used for notices or broadcasts,
while everything else goes on (payment answers, their records). Whatever sends notices or
broadcasts asks ``excluded`` first, for each farmer and number it would write to."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.records.arco_schema import PurposeOpposition
from bot.records.vocabulary import OPPOSITION_PURPOSES


def excluded(session: Session, farmer_id: int, purpose: str, phone: str | None = None) -> bool:
    """True when the farmer opposed this purpose: for all their numbers, or for this one."""
    if purpose not in OPPOSITION_PURPOSES:
        raise ValueError(f"unknown purpose: {purpose}")
    which = PurposeOpposition.phone.is_(None)
    if phone is not None:
        which = or_(which, PurposeOpposition.phone == phone)
    query = select(PurposeOpposition.id).where(
        PurposeOpposition.farmer_id == farmer_id, PurposeOpposition.purpose == purpose, which
    )
    return session.execute(query.limit(1)).first() is not None


def oppose(
    session: Session, farmer_id: int, purposes: Iterable[str], phone: str | None, request_id: int | None
) -> list[str]:
    """Records the farmer's opposition to each purpose (for one number, or all when None);
    returns the purposes that were not already opposed that way."""
    added = []
    for purpose in purposes:
        if purpose not in OPPOSITION_PURPOSES:
            raise ValueError(f"unknown purpose: {purpose}")
        if excluded(session, farmer_id, purpose, phone):
            continue  # already opposed for every number, or for this one
        session.add(
            PurposeOpposition(farmer_id=farmer_id, phone=phone, purpose=purpose, request_id=request_id)
        )
        added.append(purpose)
    session.flush()
    return added


def oppositions_of(session: Session, farmer_id: int) -> list[PurposeOpposition]:
    return list(
        session.execute(
            select(PurposeOpposition)
            .where(PurposeOpposition.farmer_id == farmer_id)
            .order_by(PurposeOpposition.since, PurposeOpposition.id)
        ).scalars()
    )
