"""Twilio's status callbacks (queued, sent, delivered, read, failed ...), taken the same way by
every entry point that receives them (the Rasa channels, the webhook gateway) once the request has
passed the checks of bot/messaging/webhook_checks.py."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.messaging import delivery_status
from bot.messaging.twilio_form import FormParams
from bot.messaging.webhook_checks import BAD_REQUEST, UNAVAILABLE
from bot.messaging.work import in_session

logger = logging.getLogger(__name__)

OK = 200


async def take_status(medium: str, params: FormParams) -> int:
    """Records the callback's status for its message; returns the HTTP status to answer."""
    sid = params.first("MessageSid") or params.first("SmsSid")
    state = params.first("MessageStatus") or params.first("SmsStatus")
    if not sid or not state:
        logger.warning("%s status callback refused with %d: no MessageSid or status", medium, BAD_REQUEST)
        return BAD_REQUEST
    try:
        matched = await in_session(
            delivery_status.record_status, sid, state, params.first("ErrorCode") or None
        )
    except (SQLAlchemyError, OSError):
        logger.warning("status %s for %s not recorded: database unavailable", state, sid)
        return UNAVAILABLE
    if not matched:
        logger.info("status %s for %s kept (its reply is not recorded yet, or not ours)", state, sid)
    return OK
