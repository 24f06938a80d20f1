"""Queries for the notices page (issue 14): notices (bot/records/notice_schema.py) newest first,
their counts per status, and the messages each released notice sent (outbound_messages whose
``in_reply_to`` is the notice's message id in the conversation, NT...). A phone's notices are in
bot/records/notices.py (``notices_for_phone``). Each function runs one statement."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.messaging.schema import OutboundMessage
from bot.records.notice_schema import Notice


class SentMessage(NamedTuple):
    """One message a notice sent, as Twilio last reported it."""

    status: str
    error_code: str | None


def _where(statuses: tuple[str, ...] | None) -> list:
    return [Notice.status.in_(statuses)] if statuses else []


def count_notices(session: Session, statuses: tuple[str, ...] | None = None) -> int:
    return session.execute(select(func.count(Notice.id)).where(*_where(statuses))).scalar() or 0


def newest_notices(
    session: Session, statuses: tuple[str, ...] | None = None, *, limit: int, offset: int
) -> list[Notice]:
    """The notices planned last first (in ``statuses``, or all)."""
    query = (
        select(Notice)
        .where(*_where(statuses))
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(query).scalars())


def counts_by_status(session: Session) -> dict[str, int]:
    """How many notices are in each status (statuses without any are absent)."""
    rows = session.execute(select(Notice.status, func.count(Notice.id)).group_by(Notice.status))
    return {status: n for status, n in rows}  # noqa: C416 - dict(result) would read it as a mapping


def sent_counts_by_status(session: Session) -> dict[str, int]:
    """How many of the notices' messages are in each delivery status (Twilio's latest)."""
    rows = session.execute(
        select(OutboundMessage.status, func.count(OutboundMessage.id))
        .join(Notice, Notice.message_sid == OutboundMessage.in_reply_to)
        .group_by(OutboundMessage.status)
    )
    return {status: n for status, n in rows}  # noqa: C416 - dict(result) would read it as a mapping


def sent_messages(session: Session, message_sids: Iterable[str | None]) -> dict[str, list[SentMessage]]:
    """For each notice's message id (NT...), the messages it sent, in sending order."""
    sids = sorted({sid for sid in message_sids if sid})
    found: dict[str, list[SentMessage]] = defaultdict(list)
    if not sids:
        return found
    rows = session.execute(
        select(OutboundMessage.in_reply_to, OutboundMessage.status, OutboundMessage.error_code)
        .where(OutboundMessage.in_reply_to.in_(sids))
        .order_by(OutboundMessage.id)
    )
    for sid, status, error_code in rows:
        found[sid].append(SentMessage(status, error_code))
    return found
