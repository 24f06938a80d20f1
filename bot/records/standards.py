"""Reference tables: quality standards by product and grade, and the avocado Hass calibres."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.records.schema import AvocadoCalibre, QualityStandard


def standards_for(session: Session, product: str) -> dict[str, QualityStandard]:
    """The standards for a product, by grade, plus those that apply to every product."""
    query = select(QualityStandard).where(QualityStandard.product.in_([product, "todos"]))
    return {row.grade: row for row in session.execute(query).scalars()}


def products_with_standards(session: Session) -> list[str]:
    query = select(QualityStandard.product).where(QualityStandard.product != "todos").distinct()
    return sorted(session.execute(query).scalars())


def calibre_table(session: Session) -> list[AvocadoCalibre]:
    return list(session.execute(select(AvocadoCalibre).order_by(AvocadoCalibre.calibre)).scalars())
