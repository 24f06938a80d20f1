"""Queries on console_corrections: an intent and entities corrected by staff for one message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.schema import ConsoleCorrection


def correction_of(session: Session, event_id: int) -> ConsoleCorrection | None:
    return session.execute(
        select(ConsoleCorrection).where(ConsoleCorrection.event_id == event_id)
    ).scalar_one_or_none()


def corrections_in(session: Session, sender_id: str) -> dict[int, ConsoleCorrection]:
    """A conversation's corrections by the event id of the message they correct."""
    return {
        c.event_id: c
        for c in session.execute(
            select(ConsoleCorrection).where(ConsoleCorrection.sender_id == sender_id)
        ).scalars()
    }


def latest_corrections(session: Session, limit: int = 500) -> list[ConsoleCorrection]:
    return list(
        session.execute(
            select(ConsoleCorrection).order_by(ConsoleCorrection.corrected_at.desc()).limit(limit)
        ).scalars()
    )


def corrections_by_intent(session: Session, since: datetime | None = None) -> list[ConsoleCorrection]:
    """All corrections (or those made since a moment), grouped by intent, oldest first."""
    query = select(ConsoleCorrection).order_by(ConsoleCorrection.intent, ConsoleCorrection.id)
    if since is not None:
        query = query.where(ConsoleCorrection.corrected_at >= since)
    return list(session.execute(query).scalars())
