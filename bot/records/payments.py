"""Invoices and the deliveries behind them, always scoped to one farmer."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.records.schema import Delivery, Invoice, PaymentAccessLog


def recent_invoices(session: Session, farmer_id: int, limit: int = 3) -> list[Invoice]:
    query = (
        select(Invoice)
        .where(Invoice.farmer_id == farmer_id)
        .options(selectinload(Invoice.delivery).selectinload(Delivery.rejections))
        .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def invoice_by_folio(session: Session, farmer_id: int, folio: str) -> Invoice | None:
    """An invoice by folio, only if it is this farmer's: another farmer's folio finds nothing."""
    query = (
        select(Invoice)
        .where(Invoice.farmer_id == farmer_id, Invoice.folio == folio)
        .options(selectinload(Invoice.delivery).selectinload(Delivery.rejections))
    )
    return session.execute(query).scalars().first()


def log_payment_access(session: Session, phone: str, farmer_id: int, folios: list[str]) -> None:
    session.add(PaymentAccessLog(phone=phone, farmer_id=farmer_id, invoice_folios=",".join(folios)))
