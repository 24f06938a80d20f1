"""Opt-out and opt-in: the keywords (BAJA, ALTO, STOP, CANCELAR / ALTA, START, any case or
accents) and the history per phone in opt_out_events. The record functions take the caller's
Session; the caller owns the unit of work."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.db import chunks
from bot.messaging.schema import OptOutEvent
from bot.opt_words import keyword as plain_keyword
from bot.opt_words import opt_action
from bot.timeutil import as_utc

__all__ = ["opt_action"]  # the words themselves are defined in bot/opt_words.py


def keyword_of(body: str | None) -> str:
    return plain_keyword(body)[:20]


def record_opt(
    session: Session,
    phone: str,
    action: str,
    keyword: str,
    medium: str | None,
    source: str = "keyword",
) -> None:
    """One BAJA/ALTA event: ``source`` is keyword (the farmer wrote it), twilio_21610 (the
    carrier refused the number) or staff."""
    session.add(
        OptOutEvent(phone=phone, action=action, keyword=keyword[:20] or action, medium=medium, source=source)
    )


@lru_cache(maxsize=1)
def _latest_event_statement() -> Select:
    """Built once: the senders run it before every send."""
    return (
        select(OptOutEvent.action, OptOutEvent.recorded_at)
        .where(OptOutEvent.phone == bindparam("phone"))
        .order_by(OptOutEvent.recorded_at.desc(), OptOutEvent.id.desc())
        .limit(1)
    )


def opted_out_since(session: Session, phone: str) -> datetime | None:
    """When the number's opt-out began; None when it is subscribed. The latest BAJA/ALTA event
    for the number decides; no event means subscribed."""
    latest = session.execute(_latest_event_statement(), {"phone": phone}).one_or_none()
    if latest is None or latest.action != "opt_out":
        return None
    return as_utc(latest.recorded_at)


def is_opted_out(session: Session, phone: str) -> bool:
    return opted_out_since(session, phone) is not None


def opted_out_among(session: Session, phones: list[str]) -> set[str]:
    """Of these phones, those whose latest BAJA/ALTA event is a BAJA (a query per thousand)."""
    latest: dict[str, str] = {}
    for some in chunks(phones, 1000):
        rows = session.execute(
            select(OptOutEvent.phone, OptOutEvent.action)
            .where(OptOutEvent.phone.in_(some))
            .order_by(OptOutEvent.phone, OptOutEvent.recorded_at, OptOutEvent.id)
        )
        latest.update((phone, action) for phone, action in rows)  # ordered: the last one stays
    return {phone for phone, action in latest.items() if action == "opt_out"}
