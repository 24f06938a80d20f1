"""An officer's reply to a farmer: through the messaging layer's own send function (the same
channel code, shaping and opt-out rules as the assistant's replies), recorded in console_replies
so it shows in the transcript.

When Twilio is not configured for the medium (no account, token or sender), the reply is kept as
"pending" and the console says so: nothing is lost and nothing pretends to have been sent.
WhatsApp allows free text only within 24 hours of the farmer's last WhatsApp message; outside
that window the reply goes by SMS or as the approved template.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.queries import messages, replies
from bot.console.schema import ConsoleReply
from bot.console.services import SessionFactory
from bot.logs import failure
from bot.messaging.config import TwilioSettings, settings_for_medium
from bot.messaging.delivery import send_proactive
from bot.messaging.inbound import last_received_at
from bot.messaging.sender import SendResult, TwilioSender
from bot.phones import mask_phone
from bot.records.farmers import farmers_by_phone
from bot.records.requests import request_of_phone, take_on_reply
from bot.timeutil import utcnow

logger = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)


class WindowClosed(Exception):
    """Free text on WhatsApp more than 24 hours after the farmer last wrote there."""

    def __init__(self, template_available: bool):
        super().__init__(
            "Este productor no ha escrito por WhatsApp en las últimas 24 horas: WhatsApp no "
            "permite enviarle texto libre. Envíe el mensaje por SMS"
            + (" o con la plantilla aprobada." if template_available else ".")
        )


@dataclass(frozen=True)
class ReplyOutcome:
    reply_id: int
    status: str  # a code of vocabulary.REPLY_STATUSES
    message: str  # for the officer, in Spanish


def last_whatsapp_message_at(session: Session, phone: str) -> datetime | None:
    """When the farmer last wrote on WhatsApp: the later of the tracker copy and the channel's
    own record of inbound messages."""
    found = [
        moment
        for moment in (
            messages.last_user_message_at(session, phone, "whatsapp"),
            last_received_at(session, phone, "whatsapp"),
        )
        if moment
    ]
    return max(found) if found else None


def whatsapp_window_open(session: Session, phone: str, now: datetime | None = None) -> bool:
    last = last_whatsapp_message_at(session, phone)
    return last is not None and (now or utcnow()) - last < WHATSAPP_WINDOW


def reply_to_farmer(
    session: Session,
    separate_session: SessionFactory,
    actor: StaffUser,
    *,
    phone: str,
    medium: str,
    body: str,
    use_template: bool,
    human_request_id: int | None,
    template_sid: str,
) -> ReplyOutcome:
    """Sends an officer's reply (or keeps it pending) and records it; raises WindowClosed, before
    anything is recorded, for free text outside WhatsApp's window. A request for a person of
    this phone that the reply answers is taken on by the officer."""
    content_sid = None
    if medium == "whatsapp" and not whatsapp_window_open(session, phone):
        if not (use_template and template_sid):
            raise WindowClosed(bool(template_sid))
        content_sid = template_sid
    farmers = farmers_by_phone(session, [phone]).get(phone, [])
    request = request_of_phone(session, human_request_id, phone) if human_request_id is not None else None
    outcome = send_reply(
        separate_session,
        phone=phone,
        medium=medium,
        body=body,
        user_id=actor.id,
        username=actor.username,
        farmer_id=farmers[0].id if len(farmers) == 1 else None,
        human_request_id=request.id if request else None,
        content_sid=content_sid,
    )
    if request is not None and outcome.status in ("sent", "pending"):
        take_on_reply(request, actor.username)
    return outcome


def send_reply(
    separate_session: SessionFactory,
    *,
    phone: str,
    medium: str,
    body: str,
    user_id: int,
    username: str,
    farmer_id: int | None = None,
    human_request_id: int | None = None,
    content_sid: str | None = None,
) -> ReplyOutcome:
    """Records the reply as pending, sends it, records how it went: two short units of work of
    their own, with the network send between them."""
    with separate_session() as session:
        reply_id = replies.add_pending_reply(
            session,
            phone=phone,
            medium=medium,
            body=body,
            template=bool(content_sid),
            user_id=user_id,
            username=username,
            farmer_id=farmer_id,
            human_request_id=human_request_id,
        ).id
        session.commit()
    settings = settings_for_medium(medium)
    if settings is None:
        logger.warning("reply %d kept pending: Twilio is not configured for %s", reply_id, medium)
        return ReplyOutcome(
            reply_id,
            "pending",
            "Twilio no está configurado en este equipo: la respuesta quedó "
            "guardada como pendiente y no se envió.",
        )
    try:
        results, error = asyncio.run(_send(settings, phone, medium, body, content_sid)), None
    except Exception as exc:
        results, error = None, type(exc).__name__
        logger.error("reply %d to %s failed: %s", reply_id, mask_phone(phone), failure(exc))
        logger.debug("reply %d failed", reply_id, exc_info=exc)
    status, message = _outcome(results, error)
    with separate_session() as session:
        _record(replies.recorded_reply(session, reply_id), status, results, error)
        session.commit()
    logger.info("reply %d via %s: %s", reply_id, medium, status)
    return ReplyOutcome(reply_id, status, message)


def _outcome(results: list[SendResult] | None, error: str | None) -> tuple[str, str]:
    if error is not None or results is None:
        return "failed", f"No se pudo enviar ({error})."
    if results == []:
        return "skipped_opt_out", "No se envió: este número pidió BAJA de los mensajes del programa."
    if all(r.ok for r in results):
        return "sent", "Respuesta enviada."
    if any(r.retryable for r in results if not r.ok):
        return "pending", "Twilio no respondió: la respuesta quedó en cola y se reintentará."
    return "failed", "Twilio rechazó el mensaje: " + "; ".join(r.error for r in results if not r.ok)


def _record(reply: ConsoleReply, status: str, results: list[SendResult] | None, error: str | None) -> None:
    reply.status = status
    if results:
        reply.twilio_sids = ",".join(r.sid for r in results if r.sid) or None
        errors = [r.error for r in results if not r.ok and r.error]
        reply.error = "; ".join(errors)[:2000] or None
    elif error:
        reply.error = error


async def _send(
    settings: TwilioSettings, phone: str, medium: str, body: str, content_sid: str | None
) -> list[SendResult]:
    sender = TwilioSender(settings)
    try:
        if content_sid:
            return await send_proactive(
                sender, phone=phone, medium=medium, content_sid=content_sid, content_variables={"1": body}
            )
        return await send_proactive(sender, phone=phone, medium=medium, text=body)
    finally:
        await sender.close()
