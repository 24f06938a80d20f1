"""Queries on console_logins: every attempt to sign in, which the login throttle counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.console.schema import ConsoleLogin


def add_attempt(session: Session, username: str, address: str | None, outcome: str, at: datetime) -> int:
    """Writes an attempt; returns its id."""
    attempt = ConsoleLogin(
        username=username[:80], address=(address or "")[:45] or None, outcome=outcome, at=at
    )
    session.add(attempt)
    session.flush()
    return int(attempt.id)


def set_outcome(session: Session, attempt_id: int, outcome: str, user_id: int | None = None) -> None:
    session.execute(
        update(ConsoleLogin)
        .where(ConsoleLogin.id == attempt_id)
        .values(outcome=outcome, user_id=user_id)
        .execution_options(synchronize_session=False)
    )


def failures_by_username(session: Session, username: str, since: datetime, before_id: int) -> list[datetime]:
    """When the account's failed attempts since a moment, and since its last success, happened
    (oldest first); attempts from ``before_id`` on are not counted."""
    last_success = (
        select(func.max(ConsoleLogin.at))
        .where(ConsoleLogin.username == username, ConsoleLogin.outcome == "success")
        .scalar_subquery()
    )
    return list(
        session.execute(
            select(ConsoleLogin.at)
            .where(
                ConsoleLogin.username == username,
                ConsoleLogin.outcome == "failure",
                ConsoleLogin.at >= since,
                ConsoleLogin.at > func.coalesce(last_success, since),
                ConsoleLogin.id < before_id,
            )
            .order_by(ConsoleLogin.at)
        ).scalars()
    )


def failures_by_address(session: Session, address: str, since: datetime, before_id: int) -> list[datetime]:
    """When the failed attempts from an address since a moment happened (oldest first)."""
    return list(
        session.execute(
            select(ConsoleLogin.at)
            .where(
                ConsoleLogin.address == address,
                ConsoleLogin.outcome == "failure",
                ConsoleLogin.at >= since,
                ConsoleLogin.id < before_id,
            )
            .order_by(ConsoleLogin.at)
        ).scalars()
    )


def count_attempts(session: Session) -> int:
    return session.execute(select(func.count(ConsoleLogin.id))).scalar() or 0


def attempts(session: Session, *, limit: int, offset: int) -> list[ConsoleLogin]:
    """The newest first."""
    return list(
        session.execute(
            select(ConsoleLogin)
            .order_by(ConsoleLogin.at.desc(), ConsoleLogin.id.desc())
            .limit(limit)
            .offset(offset)
        ).scalars()
    )
