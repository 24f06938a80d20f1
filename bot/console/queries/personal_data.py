"""What the console's own tables hold about one farmer, for an ARCO request: who looked at their
data (console_audit), what staff wrote to them (console_replies), the reviews and intent
corrections of their conversations; and, for a cancellation, the same erased. The console's copy
of their conversations (console_messages) goes with Rasa's events (bot/console/tracker_data.py)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.console.schema import ConsoleAudit, ConsoleCorrection, ConsoleMessage, ConsoleReply, ConsoleReview
from bot.records.personal_data import Row, as_row


def console_rows(session: Session, farmer_id: int, own_phones: Collection[str]) -> dict[str, list[Row]]:
    """Rows about the farmer, or about a number of theirs that no other farmer shares."""
    own = list(own_phones)
    audit = session.execute(
        select(ConsoleAudit)
        .where(or_(ConsoleAudit.farmer_id == farmer_id, ConsoleAudit.phone.in_(own)))
        .order_by(ConsoleAudit.at, ConsoleAudit.id)
    ).scalars()
    replies = session.execute(
        select(ConsoleReply)
        .where(or_(ConsoleReply.farmer_id == farmer_id, ConsoleReply.phone.in_(own)))
        .order_by(ConsoleReply.created_at, ConsoleReply.id)
    ).scalars()
    reviews = session.execute(select(ConsoleReview).where(ConsoleReview.sender_id.in_(own))).scalars()
    corrections = session.execute(
        select(ConsoleCorrection)
        .where(ConsoleCorrection.sender_id.in_(own))
        .order_by(ConsoleCorrection.corrected_at)
    ).scalars()
    return {
        "console_audit": [as_row(r, skip=("user_id",)) for r in audit],
        "console_replies": [as_row(r, skip=("user_id",)) for r in replies],
        "console_reviews": [as_row(r) for r in reviews],
        "console_corrections": [as_row(r) for r in corrections],
    }


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def erase_console(
    session: Session, farmer_id: int, phones: Collection[str], own_phones: Collection[str], token: str
) -> dict[str, int]:
    """Deletes the copies, reviews and corrections of the numbers' conversations; erases what
    staff wrote to them; puts ``token`` where a number of theirs no other farmer keeps stood.
    The audit rows stay (who looked, when), without the number."""
    phones, own = list(phones), list(own_phones)
    sync = {"synchronize_session": False}
    counts = {
        "console_messages": _count(
            session.execute(
                delete(ConsoleMessage).where(ConsoleMessage.sender_id.in_(phones)).execution_options(**sync)
            )
        ),
        "console_reviews": _count(
            session.execute(
                delete(ConsoleReview).where(ConsoleReview.sender_id.in_(phones)).execution_options(**sync)
            )
        ),
        "console_corrections": _count(
            session.execute(
                delete(ConsoleCorrection)
                .where(ConsoleCorrection.sender_id.in_(phones))
                .execution_options(**sync)
            )
        ),
    }
    theirs = or_(ConsoleReply.farmer_id == farmer_id, ConsoleReply.phone.in_(own))
    counts["console_replies"] = _count(
        session.execute(
            update(ConsoleReply)
            .where(or_(theirs, ConsoleReply.phone.in_(phones)))
            .values(body="", error=None)
            .execution_options(**sync)
        )
    )
    session.execute(update(ConsoleReply).where(theirs).values(phone=token).execution_options(**sync))
    counts["console_audit"] = _count(
        session.execute(
            update(ConsoleAudit)
            .where(
                or_(
                    ConsoleAudit.phone.in_(own),
                    and_(ConsoleAudit.farmer_id == farmer_id, ConsoleAudit.phone.isnot(None)),
                )
            )
            .values(phone=token)
            .execution_options(**sync)
        )
    )
    session.flush()
    return counts
