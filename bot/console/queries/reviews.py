"""Queries on console_reviews: a conversation marked reviewed, its tags and note."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from bot.console.schema import ConsoleMessage, ConsoleReview


def review_of(session: Session, sender_id: str) -> ConsoleReview | None:
    return session.execute(
        select(ConsoleReview).where(ConsoleReview.sender_id == sender_id)
    ).scalar_one_or_none()


def review_to_edit(session: Session, sender_id: str) -> ConsoleReview:
    """The conversation's review, new (and added to the session) if it had none."""
    review = review_of(session, sender_id)
    if review is None:
        review = ConsoleReview(sender_id=sender_id)
        session.add(review)
    return review


def reviews_of(session: Session, senders: Iterable[str]) -> dict[str, ConsoleReview]:
    wanted = sorted(set(senders))
    if not wanted:
        return {}
    return {
        r.sender_id: r
        for r in session.execute(select(ConsoleReview).where(ConsoleReview.sender_id.in_(wanted))).scalars()
    }


def reviewed_up_to_date() -> Select:
    """Conversations whose review covers their newest message, as a subquery: a conversation
    reviewed before the farmer wrote again is not."""
    newest = aliased(ConsoleMessage)
    return select(ConsoleReview.sender_id).where(
        ConsoleReview.reviewed.is_(True),
        ConsoleReview.reviewed_up_to
        >= select(func.max(newest.ts))
        .where(newest.sender_id == ConsoleReview.sender_id, newest.kind != "action")
        .scalar_subquery(),
    )
