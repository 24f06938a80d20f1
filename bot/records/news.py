"""The farmer's choice on the program's news (new trainings near them, and broadcasts): a
voluntary purpose (separate from the payment notices and reminders the consent at first contact
covers), asked once in a conversation and recorded with its time; the latest answer counts
(bot/records/notice_schema.py, news_choices). A yes to the question asked before broadcasts
existed (new trainings only) does not cover broadcasts. Functions take the caller's Session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import chunks
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


def wants_broadcasts(session: Session, phone: str) -> bool:
    choice = latest_choice(session, phone)
    return bool(choice and choice.accepted and choice.covers_broadcasts)


def was_asked(session: Session, phone: str) -> bool:
    return latest_choice(session, phone) is not None


def record_choice(session: Session, phone: str, accepted: bool) -> None:
    session.add(NewsChoice(phone=phone, accepted=accepted, covers_broadcasts=True))
    session.flush()


def phones_wanting_news(session: Session, phones: list[str], *, broadcasts: bool = False) -> set[str]:
    """Of these phones, those whose latest answer is yes (with ``broadcasts``, a yes that covers
    broadcasts); one query per thousand phones."""
    latest: dict[str, bool] = {}
    for some in chunks(phones, 1000):
        rows = session.execute(
            select(NewsChoice.phone, NewsChoice.accepted, NewsChoice.covers_broadcasts)
            .where(NewsChoice.phone.in_(some))
            .order_by(NewsChoice.phone, NewsChoice.recorded_at, NewsChoice.id)
        ).all()
        # ordered by time: the last answer of each phone stays
        latest.update((phone, accepted and (covers or not broadcasts)) for phone, accepted, covers in rows)
    return {phone for phone, yes in latest.items() if yes}
