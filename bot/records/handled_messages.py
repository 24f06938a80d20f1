"""The ledger of handled messages (schema.HandledMessage): per conversation and message id, the
reply of a turn that changed the records. Each function takes the caller's Session; the row is
written in the turn's own unit of work, so it exists exactly when the turn's changes do."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import insert_ignoring_conflict
from bot.records.schema import HandledMessage
from bot.timeutil import utcnow

# The key's columns hold this many characters; a longer id is not recorded (nor looked up).
KEY_LENGTH = 64


def fits(conversation_id: str, message_id: str) -> bool:
    return 0 < len(conversation_id) <= KEY_LENGTH and 0 < len(message_id) <= KEY_LENGTH


def stored_reply(session: Session, conversation_id: str, message_id: str) -> dict[str, Any] | None:
    """The reply recorded for this message of the conversation, or None."""
    stored = session.execute(
        select(HandledMessage.reply_json).where(
            HandledMessage.conversation_id == conversation_id, HandledMessage.message_id == message_id
        )
    ).scalar_one_or_none()
    return json.loads(stored) if stored is not None else None


def record_reply(
    session: Session, conversation_id: str, message_id: str, phone: str | None, reply: dict[str, Any]
) -> bool:
    """Records the message's reply; False when the message is recorded already (another process
    handled it at the same moment and committed first: the caller's changes must not stay)."""
    return insert_ignoring_conflict(
        session,
        HandledMessage.__table__,
        {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "phone": phone,
            "reply_json": json.dumps(reply, ensure_ascii=False),
            "handled_at": utcnow(),
        },
        unique=[HandledMessage.conversation_id, HandledMessage.message_id],
    )
