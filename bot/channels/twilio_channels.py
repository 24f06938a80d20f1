"""WhatsApp and SMS input channels for Rasa, through Twilio.

Twilio is pointed at ``/webhooks/whatsapp/webhook`` and ``/webhooks/sms/webhook`` (messages) and
``/webhooks/{whatsapp,sms}/status`` (status callbacks). Each request:

1. is refused with 413 when its body is over ``TWILIO_MAX_BODY_BYTES`` (64 KB), before it is read
   or parsed (bot/messaging/webhook_checks.py);
2. is checked against ``X-Twilio-Signature`` (RequestValidator, public base URL + path): 403 if not;
3. gets 400 when its MessageSid does not look like Twilio's;
4. is stored (inbound_messages) before anything else can fail; if the database is down it is
   spooled to a local file and stored later; if neither can take it, 503 (and Twilio's retry of
   it, when the webhook URL asks for retries, is processed);
5. is deduplicated by MessageSid (Twilio's retries are answered, not processed again);
6. is answered at once with empty TwiML, while the turn runs in a background task
   (bot/channels/runtime.py: the per-number rate limit, then Rasa, its model inference on a
   worker thread) and the replies go out through Twilio's REST API (bot.messaging.delivery).

The Rasa sender_id is the normalised phone (+52XXXXXXXXXX), so a farmer's WhatsApp and SMS share
one conversation; the MessageSid is the Rasa message_id; medium, ProfileName, WaId, media and
location go in the message metadata (the form is read in bot/messaging/twilio_form.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.runtime import Accepted, OnNewMessage, Runtime, runtime_for
from bot.messaging import status_callbacks, webhook_checks
from bot.messaging.config import TwilioSettings
from bot.messaging.delivery import send_proactive
from bot.messaging.formatting import collected_texts
from bot.messaging.twilio_form import FormParams, parse_form, parse_inbound
from bot.phones import mask_phone, normalize_phone

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class TwilioOutput(OutputChannel):
    """For messages Rasa sends outside a webhook turn (e.g. POST /conversations/{id}/
    trigger_intent?output_channel=whatsapp): proactive, so opted-out numbers get nothing."""

    def __init__(self, runtime: Runtime, medium: str):
        self.runtime = runtime
        self.medium = medium

    @classmethod
    def name(cls) -> str:
        return "twilio_output"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await send_proactive(
            self.runtime.sender, phone=normalize_phone(recipient_id), medium=self.medium, text=text
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        messages = collected_texts([{"text": text, "buttons": buttons}])
        await self.send_text_message(recipient_id, "\n".join(messages))


class _TwilioInput(InputChannel):
    medium = ""

    def __init__(self, settings: TwilioSettings | None = None) -> None:
        self.settings = settings or TwilioSettings.from_env()
        self.runtime = runtime_for(self.settings)

    @classmethod
    def name(cls) -> str:
        return cls.medium

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Environment variables first; any key set in credentials.yml overrides them."""
        return cls(TwilioSettings.from_env(credentials or {}))

    def get_output_channel(self) -> OutputChannel | None:
        return TwilioOutput(self.runtime, self.medium)

    # -- signature ------------------------------------------------------------------------
    def signature_ok(self, request: Request, params: FormParams) -> bool:
        return webhook_checks.signature_valid(
            self.settings.auth_token,
            self.settings.public_url(request.path) if self.settings.public_base_url else "",
            request.query_string,
            params,
            request.headers.get("X-Twilio-Signature", ""),
        )

    def _forbidden(self, request: Request, what: str) -> HTTPResponse:
        reason = "missing" if not request.headers.get("X-Twilio-Signature") else "invalid"
        logger.warning("%s %s: %s X-Twilio-Signature, rejected with 403", self.medium, what, reason)
        return response.text("forbidden", status=403)

    def _refused(self, what: str, status: int, reason: str) -> HTTPResponse:
        logger.warning("%s %s refused with %d: %s", self.medium, what, status, reason)
        return response.text("", status=status)

    async def _read_form(self, request: Request) -> FormParams | None:
        """The form, or None when the body is over the limit (by its Content-Length, unread;
        or by what arrived). Sanic streams these routes, so nothing is read before this."""
        limit = self.settings.max_body_bytes
        body = await webhook_checks.read_body(
            request.headers.get("Content-Length"),
            request.stream.read if request.stream is not None else None,
            request.body,  # an app that buffered the body already
            limit,
        )
        if body is None:
            if request.stream is not None:  # Sanic drains no more than this, then closes
                request.stream.request_max_size = limit
            return None
        return parse_form(body)

    # -- routes ---------------------------------------------------------------------------
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"{self.medium}_twilio_webhook", __name__)
        runtime = self.runtime
        runtime.on_new_message = on_new_message

        @bp.listener("after_server_start")
        async def _start(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            runtime.start()

        @bp.listener("before_server_stop")
        async def _stop(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            if runtime.started:
                await runtime.stop()

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            return await self._webhook(request)

        @bp.route("/status", methods=["POST"], stream=True)
        async def status(request: Request) -> HTTPResponse:
            return await self._status(request)

        return bp

    async def _webhook(self, request: Request) -> HTTPResponse:
        params = await self._read_form(request)
        if params is None:
            return self._refused("webhook", webhook_checks.TOO_LARGE, "body over the limit")
        if not self.signature_ok(request, params):
            return self._forbidden(request, "webhook")
        runtime = self.runtime
        runtime.start()  # idempotent; also when the app was built without listeners
        try:
            message = parse_inbound(self.medium, params)
        except ValueError:  # InvalidPhone: no usable From number
            logger.warning("%s webhook without a usable From number: ignored", self.medium)
            return response.text(EMPTY_TWIML, content_type="text/xml")
        if not webhook_checks.looks_like_message_sid(message.message_sid):
            return self._refused("webhook", webhook_checks.BAD_REQUEST, "not a Twilio MessageSid")
        accepted = await runtime.accept(message)
        if accepted is Accepted.UNAVAILABLE:
            return response.text("", status=webhook_checks.UNAVAILABLE)
        if accepted is Accepted.REPEAT:
            logger.info("%s %s is a repeat: acknowledged, not processed", self.medium, message.message_sid)
            return response.text(EMPTY_TWIML, content_type="text/xml")
        logger.info(
            "%s %s from %s (%s)", self.medium, message.message_sid, mask_phone(message.phone), message.kind
        )
        runtime.schedule(message)
        return response.text(EMPTY_TWIML, content_type="text/xml")

    async def _status(self, request: Request) -> HTTPResponse:
        params = await self._read_form(request)
        if params is None:
            return self._refused("status callback", webhook_checks.TOO_LARGE, "body over the limit")
        if not self.signature_ok(request, params):
            return self._forbidden(request, "status callback")
        return response.text("", status=await status_callbacks.take_status(self.medium, params))


class WhatsAppInput(_TwilioInput):
    """Twilio WhatsApp: POST /webhooks/whatsapp/webhook, status at /webhooks/whatsapp/status."""

    medium = "whatsapp"


class SmsInput(_TwilioInput):
    """Twilio SMS: POST /webhooks/sms/webhook, status at /webhooks/sms/status."""

    medium = "sms"
