"""Queries for the broadcasts pages (issue 14): how a broadcast's messages went, by Twilio's
latest status (the broadcast's notices are in bot/records/broadcasts.py)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.messaging.schema import OutboundMessage
from bot.records.notice_schema import Notice


def sent_counts_by_subject(session: Session, subjects: list[str]) -> dict[str, dict[str, int]]:
    """For each broadcast's subject, how many of its notices' messages are in each delivery
    status (one query)."""
    found: dict[str, dict[str, int]] = {}
    if not subjects:
        return found
    rows = session.execute(
        select(Notice.subject, OutboundMessage.status, func.count(OutboundMessage.id))
        .join(Notice, Notice.message_sid == OutboundMessage.in_reply_to)
        .where(Notice.kind == "broadcast", Notice.subject.in_(subjects))
        .group_by(Notice.subject, OutboundMessage.status)
    )
    for subject, status, n in rows:
        found.setdefault(subject, {})[status] = n
    return found
