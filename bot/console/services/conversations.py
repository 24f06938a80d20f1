"""The conversation list: staff's search and filters, one page of conversations with whose they
are and what happened in them; and keeping the console's copy of Rasa's events current."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.console import tracker
from bot.console.auth import StaffUser
from bot.console.config import ConsoleSettings
from bot.console.local_time import day_bounds
from bot.console.queries import audit
from bot.console.queries.conversations import (
    ConversationFilters,
    Search,
    Signals,
    conversations,
    count_conversations,
    signals,
)
from bot.console.queries.messages import known_intents
from bot.console.queries.reviews import reviews_of
from bot.console.schema import ConsoleReview
from bot.console.services import SessionFactory
from bot.console.services.paging import Page, fetch_page
from bot.console.services.records import farmer_search
from bot.console.services.review import split_tags
from bot.logs import failure
from bot.records.farmers import farmers_by_phone, phone_fragment
from bot.records.schema import Farmer
from bot.text import plain
from bot.timeutil import as_utc

__all__ = ["ConversationFilters", "ConversationRow", "list_conversations", "refresh"]
logger = logging.getLogger(__name__)


@dataclass
class ConversationRow:
    sender_id: str
    last_ts: datetime
    messages: int
    farmers: list[Farmer]
    last_text: str
    medium: str | None
    low_confidence: int
    fallbacks: int
    asked_human: bool
    reviewed: bool
    tags: list[str]


@dataclass
class ConversationList:
    page: Page  # of ConversationRow
    intents: list[str]  # for the intent filter


def refresh(separate_session: SessionFactory, tracker_url: str) -> bool:
    """Copies new events from Rasa's tracker; False (logged) when the tracker cannot be read."""
    try:
        tracker.sync(separate_session, tracker_url)
    except SQLAlchemyError as exc:
        logger.error("tracker sync failed: %s", failure(exc))
        logger.debug("tracker sync failed", exc_info=exc)
        return False
    return True


def list_conversations(
    session: Session, actor: StaffUser, filters: ConversationFilters, settings: ConsoleSettings
) -> ConversationList:
    """One page of the conversations that match; the listing is audited."""
    search = _search(session, actor, filters, settings)
    page = fetch_page(
        filters.page,
        settings.page_size,
        lambda: count_conversations(session, search),
        lambda limit, offset: conversations(session, search, limit=limit, offset=offset),
    )
    page.rows = _rows(session, search, page.rows)
    audit.record(session, actor, "list_conversations", detail=f"página {page.page}; {page.total} resultados")
    return ConversationList(page, known_intents(session))


def _search(
    session: Session, actor: StaffUser, filters: ConversationFilters, settings: ConsoleSettings
) -> Search:
    start, end = day_bounds(filters.date_from, filters.date_to, settings.timezone)
    text = filters.q.strip()
    return Search(
        filters,
        start,
        end,
        settings.low_confidence,
        text=plain(text),
        phone_digits=phone_fragment(text),
        farmer_phones=farmer_search(session, actor, text).phones_by_name if text else set(),
    )


def _rows(session: Session, search: Search, found: list[Any]) -> list[ConversationRow]:
    senders = [r.sender_id for r in found]
    farmers = farmers_by_phone(session, senders)
    reviews = reviews_of(session, senders)
    signs = signals(session, search, senders)
    return [_row(r, farmers.get(r.sender_id, []), reviews.get(r.sender_id), signs) for r in found]


def _row(found: Any, farmers: list[Farmer], review: ConsoleReview | None, signs: Signals) -> ConversationRow:
    sender, last_ts = found.sender_id, as_utc(found.last_ts)
    last_user = signs.last_user_message.get(sender)
    return ConversationRow(
        sender_id=sender,
        last_ts=last_ts,
        messages=found.n,
        farmers=farmers,
        last_text=(last_user.text if last_user else "") or "",
        medium=last_user.medium if last_user else None,
        low_confidence=signs.low_confidence.get(sender, 0),
        fallbacks=signs.not_understood.get(sender, 0),
        asked_human=sender in signs.asked_human,
        reviewed=_reviewed(review, last_ts),
        tags=split_tags(review.tags) if review else [],
    )


def _reviewed(review: ConsoleReview | None, last_ts: datetime) -> bool:
    """Reviewed, and nobody wrote after the review."""
    return bool(
        review and review.reviewed and review.reviewed_up_to and as_utc(review.reviewed_up_to) >= last_ts
    )
