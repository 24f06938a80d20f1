"""Opt-out and opt-in: the keywords (BAJA, ALTO, STOP, CANCELAR / ALTA, START, any case or
accents) and the history per phone in opt_out_events. The record functions take the caller's
Session; the caller owns the unit of work."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messaging.schema import OptOutEvent
from bot.text import plain

OPT_OUT_WORDS = frozenset({"baja", "alto", "stop", "cancelar", "unsubscribe", "darme de baja"})
OPT_IN_WORDS = frozenset({"alta", "start", "darme de alta"})


def _keyword(body: str | None) -> str:
    text = plain(body or "")
    return re.sub(r"[^\w ]+", "", text).strip()


def opt_action(body: str | None) -> str | None:
    """'opt_out', 'opt_in', or None when the message is not exactly one of the keywords."""
    word = _keyword(body)
    if word in OPT_OUT_WORDS:
        return "opt_out"
    if word in OPT_IN_WORDS:
        return "opt_in"
    return None


def keyword_of(body: str | None) -> str:
    return _keyword(body)[:20]


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


def is_opted_out(session: Session, phone: str) -> bool:
    """The latest BAJA/ALTA event for the number decides; no event means subscribed."""
    latest = session.execute(
        select(OptOutEvent.action)
        .where(OptOutEvent.phone == phone)
        .order_by(OptOutEvent.recorded_at.desc(), OptOutEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return latest == "opt_out"
