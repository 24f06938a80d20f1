"""Queries on console_audit: every view of a farmer's personal or payment data."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console.schema import ConsoleAudit


class Staff(Protocol):
    """Who did it: a signed-in staff user."""

    id: int
    username: str


def record(
    session: Session,
    user: Staff,
    action: str,
    *,
    farmer_id: int | None = None,
    phone: str | None = None,
    detail: str | None = None,
) -> None:
    """Writes who (a signed-in staff user) did what; kept when the request's unit of work is."""
    session.add(
        ConsoleAudit(
            user_id=user.id,
            username=user.username,
            action=action,
            farmer_id=farmer_id,
            phone=phone,
            detail=detail,
        )
    )


def count_entries(session: Session) -> int:
    return session.execute(select(func.count(ConsoleAudit.id))).scalar() or 0


def entries(session: Session, *, limit: int, offset: int) -> list[ConsoleAudit]:
    """The newest first."""
    return list(
        session.execute(
            select(ConsoleAudit)
            .order_by(ConsoleAudit.at.desc(), ConsoleAudit.id.desc())
            .limit(limit)
            .offset(offset)
        ).scalars()
    )
