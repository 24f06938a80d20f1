"""The farmer's choice on news of new trainings near them: a voluntary purpose (separate from
the payment notices and reminders the consent at first contact covers), asked once in a
conversation and recorded with its time; the latest answer counts (bot/records/notice_schema.py,
news_choices). Functions take the caller's Session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.records.notice_schema import NewsChoice


def latest_choice(session: Session, phone: str) -> NewsChoice | None:
    query = (
        select(NewsChoice)
        .where(NewsChoice.phone == phone)
        .order_by(NewsChoice.recorded_at.desc(), NewsChoice.id.desc())
        .limit(1)
    )
    return session.execute(query).scalars().first()


def wants_news(session: Session, phone: str) -> bool:
    choice = latest_choice(session, phone)
    return bool(choice and choice.accepted)


def was_asked(session: Session, phone: str) -> bool:
    return latest_choice(session, phone) is not None


def record_choice(session: Session, phone: str, accepted: bool) -> None:
    session.add(NewsChoice(phone=phone, accepted=accepted))
    session.flush()


def phones_wanting_news(session: Session, phones: list[str]) -> set[str]:
    """Of these phones, those whose latest answer is yes (one query)."""
    if not phones:
        return set()
    rows = session.execute(
        select(NewsChoice.phone, NewsChoice.accepted)
        .where(NewsChoice.phone.in_(phones))
        .order_by(NewsChoice.phone, NewsChoice.recorded_at, NewsChoice.id)
    ).all()
    latest: dict[str, bool] = dict(rows)  # ordered by time: the last answer of each phone stays
    return {phone for phone, accepted in latest.items() if accepted}
