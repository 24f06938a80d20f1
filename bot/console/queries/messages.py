"""Queries on console_messages: the console's parsed copy of Rasa's user, bot and action events
(see tracker.py), one conversation per phone (sender_id). Kind "user" is what the farmer wrote;
a notice the scheduler released into the conversation has its own kind, "notice"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.console.domain import assistant_names
from bot.console.schema import ConsoleMessage as M
from bot.console.vocabulary import FALLBACK_ACTION, OUT_OF_SCOPE_INTENT
from bot.timeutil import as_utc


def farmer_wrote() -> ColumnElement[bool]:
    """A message the farmer wrote (a notice, of its own kind, opens no WhatsApp window and says
    nothing of the farmer)."""
    return M.kind == "user"


def came_in() -> ColumnElement[bool]:
    """A message that came into the conversation for the assistant to answer: the farmer's, or a
    notice the scheduler released."""
    return M.kind.in_(("user", "notice"))


def not_understood() -> ColumnElement[bool]:
    """A message that shows the assistant did not help: it asked to clarify, or the farmer's
    message was out of scope."""
    return or_(
        and_(M.kind == "action", M.action_name == FALLBACK_ACTION),
        and_(M.kind == "user", M.intent == OUT_OF_SCOPE_INTENT),
    )


def in_range(start: datetime | None, end: datetime | None) -> list:
    """Conditions for messages in [start, end); open on a side that is None."""
    conditions = []
    if start:
        conditions.append(M.ts >= start)
    if end:
        conditions.append(M.ts < end)
    return conditions


def conversation(session: Session, sender_id: str, limit: int = 1000) -> list[M]:
    """A phone's latest messages (at most ``limit``), in the order they happened."""
    rows = (
        session.execute(
            select(M).where(M.sender_id == sender_id).order_by(M.ts.desc(), M.event_id.desc()).limit(limit)
        )
        .scalars()
        .all()
    )
    return list(rows[::-1])


def user_message(session: Session, event_id: int) -> M | None:
    return session.execute(select(M).where(M.event_id == event_id, M.kind == "user")).scalar_one_or_none()


def last_medium(session: Session, sender_id: str) -> str | None:
    """The medium the farmer last wrote on."""
    return session.execute(
        select(M.medium)
        .where(M.sender_id == sender_id, farmer_wrote(), M.medium.isnot(None))
        .order_by(M.ts.desc())
        .limit(1)
    ).scalar()


def last_user_message_at(session: Session, sender_id: str, medium: str) -> datetime | None:
    latest = session.execute(
        select(func.max(M.ts)).where(M.sender_id == sender_id, farmer_wrote(), M.medium == medium)
    ).scalar()
    return as_utc(latest) if latest else None


def newest_message_at(session: Session, sender_id: str) -> datetime | None:
    """When the farmer or the assistant last wrote in this conversation."""
    return session.execute(
        select(func.max(M.ts)).where(M.sender_id == sender_id, M.kind != "action")
    ).scalar()


def last_user_messages(
    session: Session,
    senders: Iterable[str],
    *conditions: Any,
    in_arrival_order: bool = False,
    with_notices: bool = False,
) -> dict[str, Any]:
    """Each sender's newest message the farmer wrote (text, medium, message_id) among those
    meeting the conditions, or the newest that came in, notices too, ``with_notices``; one query
    for all senders. The newest is the latest in time, or the last copied from the tracker with
    ``in_arrival_order``."""
    wanted = sorted(set(senders))
    if not wanted:
        return {}
    newest_first = (M.event_id.desc(),) if in_arrival_order else (M.ts.desc(), M.event_id.desc())
    ranked = (
        select(
            M.sender_id,
            M.text,
            M.medium,
            M.message_id,
            func.row_number().over(partition_by=M.sender_id, order_by=newest_first).label("position"),
        )
        .where(M.sender_id.in_(wanted), came_in() if with_notices else farmer_wrote(), *conditions)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.sender_id, ranked.c.text, ranked.c.medium, ranked.c.message_id).where(
            ranked.c.position == 1
        )
    ).all()
    return {row.sender_id: row for row in rows}


def known_intents(session: Session) -> list[str]:
    """Every intent the assistant has, and any other it ever recognised in a message."""
    found = set(
        session.execute(select(M.intent).where(M.kind == "user", M.intent.isnot(None)).distinct()).scalars()
    )
    return sorted(found | set(assistant_names().intents))


def messages_between(session: Session, start: datetime, end: datetime) -> list[Any]:
    """(ts, medium, kind, intent, action_name, sender_id) of every message in [start, end)."""
    return session.execute(
        select(M.ts, M.medium, M.kind, M.intent, M.action_name, M.sender_id).where(M.ts >= start, M.ts < end)
    ).all()
