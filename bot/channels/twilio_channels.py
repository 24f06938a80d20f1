"""WhatsApp and SMS input channels for Rasa, through Twilio.

Twilio is pointed at ``/webhooks/whatsapp/webhook`` and ``/webhooks/sms/webhook`` (messages) and
``/webhooks/{whatsapp,sms}/status`` (status callbacks). Each request:

1. is checked against ``X-Twilio-Signature`` (RequestValidator, public base URL + path): 403 if not;
2. is stored (inbound_messages) before anything else can fail; if the database is down it is
   spooled to a local file and stored later;
3. is deduplicated by MessageSid (Twilio's retries are answered, not processed again);
4. is answered at once with empty TwiML, while the Rasa turn runs in a background task (its model
   inference on a worker thread, bot/channels/turn_threads.py, so it cannot hold up the next
   webhook) and the replies go out through Twilio's REST API (bot.messaging.delivery).

The Rasa sender_id is the normalised phone (+52XXXXXXXXXX), so a farmer's WhatsApp and SMS share
one conversation; the MessageSid is the Rasa message_id; medium, ProfileName, WaId, media and
location go in the message metadata (the form is read in bot/channels/twilio_form.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from bot.channels.turn_threads import TurnThreads
from bot.channels.twilio_form import (
    LOCATION_INTENT_TEXT,
    FormParams,
    media_parse_data,
    metadata_for,
    parse_form,
    parse_inbound,
)
from bot.messaging import delivery_status, inbound, optout, texts
from bot.messaging.config import TwilioSettings, spool_path
from bot.messaging.delivery import OutboxWorker, deliver_turn, send_proactive
from bot.messaging.formatting import collected_texts
from bot.messaging.inbound import Inbound
from bot.messaging.sender import TwilioSender
from bot.messaging.work import in_pool, in_session
from bot.phones import InvalidPhone, mask_phone, normalize_phone

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class _Runtime:
    """What the two channels of one process share: the sender, the outbox worker, the turn
    runner, the per-farmer locks that keep one farmer's turns (and replies) in order."""

    def __init__(self, settings: TwilioSettings):
        self.settings = settings
        self.sender = TwilioSender(settings)
        self.turns = TurnThreads(settings.turn_threads)
        self.on_new_message: OnNewMessage | None = None
        self.worker: OutboxWorker | None = None
        self.tasks: set[asyncio.Task] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._spool_lock = threading.Lock()
        self.started = False

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self.started:
            return
        self.started = True
        for problem in self.settings.problems():
            logger.error("twilio channel misconfigured: %s", problem)
        self.worker = OutboxWorker(self.sender, replay_inbound=self.replay)
        self.worker.start()

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.stop()
        for task in list(self.tasks):
            task.cancel()
        await self.sender.close()
        await asyncio.get_running_loop().run_in_executor(None, self.turns.shutdown)
        self.started = False

    async def drain(self, timeout: float = 30) -> None:
        """Waits for the running turns (tests and the benchmark use it)."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)

    # -- inbound --------------------------------------------------------------------------
    def remember(self, sid: str) -> bool:
        """In-memory dedupe, also while the database is down. False if seen already."""
        if sid in self._recent:
            return False
        self._recent[sid] = None
        if len(self._recent) > 20000:
            self._recent.popitem(last=False)
        return True

    async def store(self, message: Inbound) -> bool:
        try:
            return await in_session(inbound.store_inbound, message)
        except (SQLAlchemyError, OSError):
            logger.exception("database unavailable: inbound %s spooled to file", message.message_sid)
            await in_pool(self._spool, message)
            return True

    def _spool(self, message: Inbound) -> None:
        path = spool_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._spool_lock, path.open("a", encoding="utf-8") as handle:
            handle.write(message.to_json() + "\n")
            handle.flush()

    def schedule(self, message: Inbound) -> None:
        task = asyncio.get_running_loop().create_task(self.handle(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _mark(self, sid: str, status: str, error: str | None = None) -> None:
        try:
            await in_session(inbound.mark_inbound, sid, status, error)
        except (SQLAlchemyError, OSError):
            logger.warning("could not mark inbound %s as %s", sid, status)

    async def handle(self, message: Inbound) -> None:
        """One farmer turn: opt-out here; text, media or location through Rasa; then the replies."""
        lock = self._locks.setdefault(message.phone, asyncio.Lock())
        try:
            async with lock:
                await self._handle(message)
        except Exception:  # never let a background task die silently
            logger.exception("turn for %s failed", message.message_sid)
        finally:
            if not lock.locked() and len(self._locks) > 5000:
                self._locks.pop(message.phone, None)

    async def replay(self, message: Inbound) -> None:
        """A message a restart left unanswered: counted, so one that kills the process is not
        tried for ever."""
        await self._mark(message.message_sid, "processing")
        await self.handle(message)

    async def _handle(self, message: Inbound) -> None:
        kind = message.kind
        failed: str | None = None
        if kind in ("opt_out", "opt_in"):
            await in_session(
                optout.record_opt, message.phone, kind, optout.keyword_of(message.body), message.medium
            )
            replies = [texts.OPT_OUT_CONFIRMED if kind == "opt_out" else texts.OPT_IN_CONFIRMED]
            logger.info("%s recorded for %s", kind, mask_phone(message.phone))
        else:
            replies, failed = await self._rasa_turn(message)
        if replies:
            to = message.from_address
            await deliver_turn(
                self.sender,
                medium=message.medium,
                phone=message.phone,
                to_address=to,
                texts=replies,
                in_reply_to=message.message_sid,
            )
        await self._mark(message.message_sid, "failed" if failed else "processed", failed)

    async def _rasa_turn(self, message: Inbound) -> tuple[list[str], str | None]:
        if self.on_new_message is None:
            return [texts.TURN_FAILED], "no assistant attached"
        text = LOCATION_INTENT_TEXT if message.kind == "location" else message.body
        collector = CollectingOutputChannel()
        user_message = UserMessage(
            text=text,
            output_channel=collector,
            sender_id=message.phone,
            input_channel=message.medium,
            message_id=message.message_sid,
            metadata=metadata_for(message),
            parse_data=media_parse_data() if message.kind == "media" else None,
        )
        on_new_message = self.on_new_message
        try:
            await asyncio.wait_for(
                self.turns.run(lambda: on_new_message(user_message)), self.settings.turn_timeout
            )
        except Exception as exc:  # the farmer must hear back whatever failed
            logger.exception("assistant failed on %s", message.message_sid)
            sent_already = collected_texts(collector.messages)
            return sent_already + [texts.TURN_FAILED], type(exc).__name__
        replies = collected_texts(collector.messages)
        if not replies:
            logger.warning("assistant gave no reply to %s", message.message_sid)
        return replies, None


_RUNTIMES: dict[TwilioSettings, _Runtime] = {}


def runtime_for(settings: TwilioSettings) -> _Runtime:
    if settings not in _RUNTIMES:
        _RUNTIMES[settings] = _Runtime(settings)
    return _RUNTIMES[settings]


class TwilioOutput(OutputChannel):
    """For messages Rasa sends outside a webhook turn (e.g. POST /conversations/{id}/
    trigger_intent?output_channel=whatsapp): proactive, so opted-out numbers get nothing."""

    def __init__(self, runtime: _Runtime, medium: str):
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
        self.validator = RequestValidator(self.settings.auth_token or "")

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
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.settings.auth_token or not self.settings.public_base_url:
            return False
        url = self.settings.public_url(request.path)
        if request.query_string:
            url = f"{url}?{request.query_string}"
        return self.validator.validate(url, params, signature)

    def _forbidden(self, request: Request, what: str) -> HTTPResponse:
        reason = "missing" if not request.headers.get("X-Twilio-Signature") else "invalid"
        logger.warning("%s %s: %s X-Twilio-Signature, rejected with 403", self.medium, what, reason)
        return response.text("forbidden", status=403)

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

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            params = parse_form(request)
            if not self.signature_ok(request, params):
                return self._forbidden(request, "webhook")
            runtime.start()  # idempotent; also when the app was built without listeners
            try:
                message = parse_inbound(self.medium, params)
            except InvalidPhone:
                logger.warning("%s webhook without a usable From number: ignored", self.medium)
                return response.text(EMPTY_TWIML, content_type="text/xml")
            if not message.message_sid:
                return response.text("missing MessageSid", status=400)
            fresh = runtime.remember(message.message_sid)
            stored_new = await runtime.store(message) if fresh else False
            if not (fresh and stored_new):
                logger.info(
                    "%s %s is a repeat: acknowledged, not processed", self.medium, message.message_sid
                )
                return response.text(EMPTY_TWIML, content_type="text/xml")
            logger.info(
                "%s %s from %s (%s)",
                self.medium,
                message.message_sid,
                mask_phone(message.phone),
                message.kind,
            )
            runtime.schedule(message)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        @bp.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            params = parse_form(request)
            if not self.signature_ok(request, params):
                return self._forbidden(request, "status callback")
            sid = params.first("MessageSid") or params.first("SmsSid")
            state = params.first("MessageStatus") or params.first("SmsStatus")
            if not sid or not state:
                return response.text("missing MessageSid or MessageStatus", status=400)
            matched = await in_session(
                delivery_status.record_status, sid, state, params.first("ErrorCode") or None
            )
            if not matched:
                logger.info("status %s for %s kept (its reply is not recorded yet, or not ours)", state, sid)
            return response.text("", status=200)

        return bp


class WhatsAppInput(_TwilioInput):
    """Twilio WhatsApp: POST /webhooks/whatsapp/webhook, status at /webhooks/whatsapp/status."""

    medium = "whatsapp"


class SmsInput(_TwilioInput):
    """Twilio SMS: POST /webhooks/sms/webhook, status at /webhooks/sms/status."""

    medium = "sms"
