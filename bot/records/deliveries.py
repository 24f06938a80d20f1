"""A farmer's own deliveries: kilos delivered, accepted and rejected with the reasons, and the
grade and calibre breakdown. Always scoped to one farmer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.records.schema import Delivery


def recent_deliveries(
    session: Session, farmer_id: int, product: str | None = None, limit: int = 3
) -> list[Delivery]:
    """The farmer's latest deliveries (of one product when given), newest first, with their
    rejections and grades loaded."""
    query = (
        select(Delivery)
        .where(Delivery.farmer_id == farmer_id)
        .options(selectinload(Delivery.rejections), selectinload(Delivery.grades))
        .order_by(Delivery.delivered_on.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if product:
        query = query.where(Delivery.product == product)
    return list(session.execute(query).scalars())


def last_rejected_delivery(session: Session, farmer_id: int, product: str | None = None) -> Delivery | None:
    """The farmer's most recent delivery that had kilos rejected."""
    query = (
        select(Delivery)
        .where(Delivery.farmer_id == farmer_id, Delivery.kg_rejected > 0)
        .options(selectinload(Delivery.rejections), selectinload(Delivery.grades))
        .order_by(Delivery.delivered_on.desc(), Delivery.id.desc())
        .limit(1)
    )
    if product:
        query = query.where(Delivery.product == product)
    return session.execute(query).scalars().first()
