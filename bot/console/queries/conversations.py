"""The conversation list: which phones' conversations match staff's search and filters, one page
of them, and the signals each row shows. A bounded number of queries, whatever the page size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, not_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from bot.console.queries import messages
from bot.console.queries.reviews import reviewed_up_to_date
from bot.console.schema import ConsoleMessage as M
from bot.console.vocabulary import HUMAN_INTENT
from bot.records.requests import phones_that_asked, which_asked


@dataclass
class ConversationFilters:
    """Staff's search and filters, as the list page reads them from the request."""

    q: str = ""
    medium: str = ""
    date_from: date | None = None
    date_to: date | None = None
    intent: str = ""
    low_confidence: bool = False
    fallback: bool = False
    human: bool = False
    unreviewed: bool = False
    page: int = 1


@dataclass
class Search:
    """The filters resolved for SQL: time range, confidence threshold, and what the text
    search found outside console_messages (phone digits, farmers' phones by name or folio)."""

    filters: ConversationFilters
    start: datetime | None
    end: datetime | None
    low_confidence: float
    text: str = ""  # the search text without accents, lower case
    phone_digits: str | None = None
    farmer_phones: set[str] = field(default_factory=set)

    @property
    def in_range(self) -> list:
        return messages.in_range(self.start, self.end)


def _senders_with(search: Search, *conditions: Any) -> ColumnElement[bool]:
    return M.sender_id.in_(select(M.sender_id).where(*search.in_range, *conditions))


def _text_condition(search: Search) -> ColumnElement[bool]:
    options = []
    if search.text:
        options.append(_senders_with(search, M.search_text.like(f"%{search.text}%")))
    if search.phone_digits:
        options.append(M.sender_id.like(f"%{search.phone_digits}%"))
    if search.farmer_phones:
        options.append(M.sender_id.in_(sorted(search.farmer_phones)))
    return or_(*options) if options else M.id < 0


def _conditions(search: Search) -> list:
    f = search.filters
    conditions = [M.kind != "action", *search.in_range]
    user = M.kind == "user"
    if f.medium:
        conditions.append(_senders_with(search, user, M.medium == f.medium))
    if f.intent:
        conditions.append(_senders_with(search, user, M.intent == f.intent))
    if f.low_confidence:
        conditions.append(_senders_with(search, user, M.confidence < search.low_confidence))
    if f.fallback:
        conditions.append(_senders_with(search, messages.not_understood()))
    if f.human:
        conditions.append(
            or_(_senders_with(search, user, M.intent == HUMAN_INTENT), M.sender_id.in_(phones_that_asked()))
        )
    if f.unreviewed:
        conditions.append(not_(M.sender_id.in_(reviewed_up_to_date())))
    if f.q.strip():
        conditions.append(_text_condition(search))
    return conditions


def _grouped(search: Search) -> Select:
    return (
        select(M.sender_id, func.max(M.ts).label("last_ts"), func.count(M.id).label("n"))
        .where(*_conditions(search))
        .group_by(M.sender_id)
    )


def count_conversations(session: Session, search: Search) -> int:
    return session.execute(select(func.count()).select_from(_grouped(search).subquery())).scalar() or 0


def conversations(session: Session, search: Search, *, limit: int, offset: int) -> list[Any]:
    """(sender_id, last_ts, n) of one page of conversations, the most recent first."""
    return session.execute(
        _grouped(search).order_by(func.max(M.ts).desc(), M.sender_id).limit(limit).offset(offset)
    ).all()


@dataclass
class Signals:
    """What the list shows about each conversation on the page."""

    low_confidence: dict[str, int]
    not_understood: dict[str, int]
    asked_human: set[str]
    last_user_message: dict[str, Any]


def signals(session: Session, search: Search, senders: Iterable[str]) -> Signals:
    wanted = sorted(set(senders))
    if not wanted:
        return Signals({}, {}, set(), {})
    mine = M.sender_id.in_(wanted)
    low = dict(
        session.execute(
            select(M.sender_id, func.count(M.id))
            .where(mine, M.kind == "user", M.confidence < search.low_confidence, *search.in_range)
            .group_by(M.sender_id)
        ).all()
    )
    unclear = dict(
        session.execute(
            select(M.sender_id, func.count(M.id))
            .where(mine, messages.not_understood(), *search.in_range)
            .group_by(M.sender_id)
        ).all()
    )
    asked = set(
        session.execute(select(M.sender_id).where(mine, M.kind == "user", M.intent == HUMAN_INTENT)).scalars()
    )
    asked |= which_asked(session, wanted)
    last = messages.last_user_messages(session, wanted, *search.in_range)
    return Signals(low, unclear, asked, last)
