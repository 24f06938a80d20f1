"""Invoices and the deliveries behind them, always scoped to one farmer."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import func, or_, select
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


def last_paid_invoice(session: Session, farmer_id: int, skip: Collection[str] = ()) -> Invoice | None:
    """The farmer's most recent payment, leaving out the folios in ``skip`` (already shown)."""
    query = (
        select(Invoice)
        .where(Invoice.farmer_id == farmer_id, Invoice.status == "paid", Invoice.paid_on.isnot(None))
        .where(Invoice.folio.not_in(list(skip)))
        .order_by(Invoice.paid_on.desc(), Invoice.id.desc())
        .limit(1)
    )
    return session.execute(query).scalars().first()


def paid_between(session: Session, farmer_id: int, first: date, last: date) -> list[Invoice]:
    """The farmer's invoices paid from ``first`` to ``last`` (both days included), oldest first."""
    query = (
        select(Invoice)
        .where(
            Invoice.farmer_id == farmer_id,
            Invoice.status == "paid",
            Invoice.paid_on >= first,
            Invoice.paid_on <= last,
        )
        .order_by(Invoice.paid_on, Invoice.id)
    )
    return list(session.execute(query).scalars())


def unpaid_invoices(session: Session, farmer_id: int) -> list[Invoice]:
    """What the farmer is still owed or has to fix: every invoice not paid yet, newest first."""
    query = (
        select(Invoice)
        .where(Invoice.farmer_id == farmer_id, Invoice.status != "paid")
        .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
    )
    return list(session.execute(query).scalars())


def log_payment_access(session: Session, phone: str, farmer_id: int, folios: list[str]) -> None:
    session.add(PaymentAccessLog(phone=phone, farmer_id=farmer_id, invoice_folios=",".join(folios)))


# --- what staff read ----------------------------------------------------------------------------


def _invoice_conditions(status: str | None, text: str, farmer_ids: Collection[int] | None) -> list:
    conditions = []
    if status:
        conditions.append(Invoice.status == status)
    if text:
        conditions.append(
            or_(
                func.lower(Invoice.folio).like(f"%{text.lower()}%"),
                Invoice.farmer_id.in_(list(farmer_ids or [])),
            )
        )
    return conditions


def count_invoices(
    session: Session, *, status: str | None = None, text: str = "", farmer_ids: Collection[int] | None = None
) -> int:
    """Invoices in a status, and whose folio contains the text or whose farmer is one of these."""
    return (
        session.execute(
            select(func.count(Invoice.id)).where(*_invoice_conditions(status, text, farmer_ids))
        ).scalar()
        or 0
    )


def newest_invoices(
    session: Session,
    *,
    status: str | None = None,
    text: str = "",
    farmer_ids: Collection[int] | None = None,
    limit: int,
    offset: int = 0,
) -> list[Invoice]:
    """The same invoices, the newest first, with their farmer loaded."""
    return list(
        session.execute(
            select(Invoice)
            .options(selectinload(Invoice.farmer))
            .where(*_invoice_conditions(status, text, farmer_ids))
            .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
            .limit(limit)
            .offset(offset)
        ).scalars()
    )
