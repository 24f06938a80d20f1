"""Keeping data no longer than its purpose needs: the records side of the purge (bot/retention.py).

Each function finds the rows of one kind of data older than ``before`` and deletes them, or empties
the columns that hold it, and returns how many rows it changed; with ``dry_run`` it only counts.
What is gone is not found again, so a second run with the same ``before`` changes nothing. The
generic helpers serve the messaging and console modules too. Farmers, invoices, deliveries,
consents and the phone releases are never touched here: the program must keep them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.config import Settings
from bot.records.notice_schema import Notice
from bot.records.schema import HandledMessage, HumanRequest, PaymentAccessLog
from bot.records.vocabulary import RETENTION_KINDS

# The environment variable that sets each kind's period (bot/config.py reads them).
PERIOD_SETTINGS: dict[str, str] = {
    "transcripts": "RETENTION_TRANSCRIPTS_DAYS",
    "raw_params": "RETENTION_RAW_PARAMS_DAYS",
    "media": "RETENTION_MEDIA_DAYS",
    "audit": "RETENTION_AUDIT_DAYS",
    "replies": "RETENTION_REPLIES_DAYS",
}


def periods(config: Settings) -> dict[str, int]:
    """Days each kind of data is kept, in the order of RETENTION_KINDS: what the purge applies and
    what the privacy notice tells farmers. Each must be at least one day."""
    days = {
        "transcripts": config.retention_transcripts_days,
        "raw_params": config.retention_raw_params_days,
        "media": config.retention_media_days,
        "audit": config.retention_audit_days,
        "replies": config.retention_replies_days,
    }
    for kind, value in days.items():
        if value < 1:
            raise ValueError(f"{PERIOD_SETTINGS[kind]} must be at least 1 (days)")
    return {kind: days[kind] for kind in RETENTION_KINDS}


def delete_where(session: Session, model: Any, *conditions: ColumnElement[bool], dry_run: bool) -> int:
    """Deletes the rows of ``model`` that meet every condition (counts them with ``dry_run``)."""
    if dry_run:
        return int(session.execute(select(func.count()).select_from(model).where(*conditions)).scalar() or 0)
    result = session.execute(delete(model).where(*conditions).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


def empty_columns(
    session: Session, model: Any, columns: list[Any], *conditions: ColumnElement[bool], dry_run: bool
) -> int:
    """Sets ``columns`` to NULL in the rows that meet the conditions and still hold one of them."""
    holding = or_(*(column.isnot(None) for column in columns))
    if dry_run:
        query = select(func.count()).select_from(model).where(holding, *conditions)
        return int(session.execute(query).scalar() or 0)
    result = session.execute(
        update(model)
        .where(holding, *conditions)
        .values({column.key: None for column in columns})
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def request_messages(session: Session, before: datetime, *, dry_run: bool) -> int:
    """The farmer's last message copied into a request for a person (the request itself stays)."""
    return empty_columns(
        session, HumanRequest, [HumanRequest.last_message], HumanRequest.created_at < before, dry_run=dry_run
    )


def payment_views(session: Session, before: datetime, *, dry_run: bool) -> int:
    """The log of payment data shown in chat (kept as long as the staff audit)."""
    return delete_where(session, PaymentAccessLog, PaymentAccessLog.shown_at < before, dry_run=dry_run)


def handled_replies(session: Session, before: datetime, *, dry_run: bool) -> int:
    """The replies kept to answer a redelivered message the same way (bot/assistant/redelivery.py)."""
    return delete_where(session, HandledMessage, HandledMessage.handled_at < before, dry_run=dry_run)


def sent_notices(session: Session, before: datetime, *, dry_run: bool) -> int:
    """Notices planned before then (what each phone was told is part of its transcript); one
    still waiting is kept, whatever its age."""
    return delete_where(
        session, Notice, Notice.created_at < before, Notice.status != "scheduled", dry_run=dry_run
    )
