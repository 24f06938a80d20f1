"""Queries on console_replies: what officers sent to farmers from the console."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.console.schema import ConsoleReply
from bot.records.schema import HumanRequest


def replies_to(session: Session, phone: str) -> list[ConsoleReply]:
    """Every reply to a phone, the oldest first."""
    return list(
        session.execute(
            select(ConsoleReply).where(ConsoleReply.phone == phone).order_by(ConsoleReply.created_at)
        ).scalars()
    )


def add_pending_reply(
    session: Session,
    *,
    phone: str,
    medium: str,
    body: str,
    template: bool,
    user_id: int,
    username: str,
    farmer_id: int | None,
    human_request_id: int | None,
) -> ConsoleReply:
    reply = ConsoleReply(
        phone=phone,
        farmer_id=farmer_id,
        medium=medium,
        body=body,
        template=template,
        user_id=user_id,
        username=username,
        status="pending",
        human_request_id=human_request_id,
    )
    session.add(reply)
    session.flush()
    return reply


def recorded_reply(session: Session, reply_id: int) -> ConsoleReply:
    """A reply recorded before (it must exist)."""
    return session.execute(select(ConsoleReply).where(ConsoleReply.id == reply_id)).scalar_one()


def first_replies(session: Session, request_ids: Iterable[int] | Select) -> dict[int, datetime]:
    """For each request for a person, when staff first replied to that phone after it was made
    (a failed reply does not count); requests without a reply are left out. One query for all:
    ``request_ids`` is a list of ids or a query that selects them."""
    ids = request_ids if isinstance(request_ids, Select) else sorted(set(request_ids))
    if not isinstance(ids, Select) and not ids:
        return {}
    rows = session.execute(
        select(HumanRequest.id, func.min(ConsoleReply.created_at))
        .join(
            ConsoleReply,
            and_(
                ConsoleReply.phone == HumanRequest.phone,
                ConsoleReply.created_at >= HumanRequest.created_at,
                ConsoleReply.status != "failed",
            ),
        )
        .where(HumanRequest.id.in_(ids))
        .group_by(HumanRequest.id)
    ).all()
    return {row[0]: row[1] for row in rows}
