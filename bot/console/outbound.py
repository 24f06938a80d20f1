"""An officer's reply to a farmer: through the messaging layer's own send function (the same
channel code, shaping and opt-out rules as the bot's replies), recorded in console_replies so it
shows in the transcript.

When Twilio is not configured for the medium (no account, token or sender), the reply is kept as
"pending" in console_replies and the console says so: nothing is lost and nothing pretends to have
been sent.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

import yaml
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from bot.config import PROJECT_ROOT
from bot.console.schema import ConsoleMessage, ConsoleReply
from bot.phones import mask_phone
from bot.timeutil import as_utc, utcnow

logger = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)
_CHANNEL_KEYS = {
    "whatsapp": "bot.channels.twilio_channels.WhatsAppInput",
    "sms": "bot.channels.twilio_channels.SmsInput",
}


@dataclass(frozen=True)
class ReplyOutcome:
    reply_id: int
    status: str  # pending / sent / failed / skipped_opt_out
    message: str  # for the officer, in Spanish


def last_whatsapp_inbound(session: Session, phone: str) -> Optional[datetime]:
    """When the farmer last wrote on WhatsApp: the later of the tracker copy and the channel's
    inbound_messages table (when it exists)."""
    latest = session.execute(
        select(func.max(ConsoleMessage.ts)).where(
            ConsoleMessage.sender_id == phone, ConsoleMessage.kind == "user",
            ConsoleMessage.medium == "whatsapp",
        )
    ).scalar()
    candidates = [as_utc(latest)] if latest else []
    if "inbound_messages" in inspect(session.get_bind()).get_table_names():
        from bot.messaging.schema import InboundMessage

        inbound = session.execute(
            select(func.max(InboundMessage.received_at)).where(
                InboundMessage.phone == phone, InboundMessage.medium == "whatsapp"
            )
        ).scalar()
        if inbound:
            candidates.append(as_utc(inbound))
    return max(candidates) if candidates else None


def whatsapp_window_open(session: Session, phone: str, now: Optional[datetime] = None) -> bool:
    last = last_whatsapp_inbound(session, phone)
    return last is not None and (now or utcnow()) - last < WHATSAPP_WINDOW


def _credentials_overrides(medium: str) -> dict[str, Any]:
    path = PROJECT_ROOT / "credentials.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return data.get(_CHANNEL_KEYS.get(medium, "")) or {}


def twilio_settings(medium: str):
    """The messaging layer's settings when it can send on this medium, else None."""
    try:
        from bot.messaging.config import TwilioSettings
    except ImportError:
        return None
    settings = TwilioSettings.from_env(_credentials_overrides(medium))
    if not (settings.account_sid and settings.auth_token):
        return None
    try:
        settings.sender_for(medium)
    except RuntimeError:
        return None
    return settings


async def _send(settings, phone: str, medium: str, body: str, content_sid: Optional[str]):
    from bot.messaging.delivery import send_proactive
    from bot.messaging.sender import TwilioSender

    sender = TwilioSender(settings)
    try:
        if content_sid:
            return await send_proactive(sender, phone=phone, medium=medium, content_sid=content_sid,
                                        content_variables={"1": body})
        return await send_proactive(sender, phone=phone, medium=medium, text=body)
    finally:
        await sender.close()


def send_reply(
    session_factory,
    *,
    phone: str,
    medium: str,
    body: str,
    user_id: int,
    username: str,
    farmer_id: Optional[int] = None,
    human_request_id: Optional[int] = None,
    content_sid: Optional[str] = None,
) -> ReplyOutcome:
    """Sends (or keeps pending) one officer reply and records it. ``session_factory`` gives a
    context-managed session (short units of work; the send itself happens between them)."""
    with session_factory() as session:
        reply = ConsoleReply(
            phone=phone, farmer_id=farmer_id, medium=medium, body=body,
            template=bool(content_sid), user_id=user_id, username=username, status="pending",
            human_request_id=human_request_id,
        )
        session.add(reply)
        session.commit()
        reply_id = reply.id
    settings = twilio_settings(medium)
    if settings is None:
        logger.warning("reply %d kept pending: Twilio is not configured for %s", reply_id, medium)
        return ReplyOutcome(reply_id, "pending",
                            "Twilio no está configurado en este equipo: la respuesta quedó "
                            "guardada como pendiente y no se envió.")
    try:
        results = asyncio.run(_send(settings, phone, medium, body, content_sid))
        error = None
    except Exception as exc:  # noqa: BLE001 - recorded and shown to the officer
        results, error = None, type(exc).__name__
        logger.exception("reply %d to %s failed", reply_id, mask_phone(phone))
    if error is not None:
        status, message = "failed", f"No se pudo enviar ({error})."
    elif results == []:
        status, message = "skipped_opt_out", (
            "No se envió: este número pidió BAJA de los mensajes del programa.")
    elif all(r.ok for r in results):
        status, message = "sent", "Respuesta enviada."
    elif any(r.retryable for r in results if not r.ok):
        status, message = "pending", (
            "Twilio no respondió: la respuesta quedó en cola y se reintentará.")
    else:
        status = "failed"
        message = "Twilio rechazó el mensaje: " + "; ".join(r.error for r in results if not r.ok)
    with session_factory() as session:
        reply = session.get(ConsoleReply, reply_id)
        reply.status = status
        if results:
            reply.twilio_sids = ",".join(r.sid for r in results if r.sid) or None
            errors = [r.error for r in results if not r.ok and r.error]
            reply.error = "; ".join(errors)[:2000] or None
        elif error:
            reply.error = error
        session.commit()
    logger.info("reply %d via %s: %s", reply_id, medium, status)
    return ReplyOutcome(reply_id, status, message)
