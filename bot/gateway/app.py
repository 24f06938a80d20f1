"""The gateway's routes: the same webhook routes the Rasa channels expose
(bot/channels/twilio_channels.py), plus liveness, readiness and Prometheus metrics.

    POST /webhooks/{whatsapp,sms}/webhook   a farmer's message
    POST /webhooks/{whatsapp,sms}/status    Twilio's status callback for a reply
    GET  /  and /webhooks/{whatsapp,sms}/   {"status": "ok"} (as Rasa answers them)
    GET  /healthz   alive (the process answers)
    GET  /readyz    200 when the database and the broker answer, else 503
    GET  /metrics   Prometheus

Each webhook: 413 over the size limit (unread), 403 without a valid signature, 400 without a
Twilio MessageSid, then bot.messaging.intake: stored, answered with empty TwiML, and published
meanwhile; while the database cannot store it, spooled to the gateway's disk and answered the
same (bot/messaging/gateway_spool.py; 503 only when the spool cannot take it either). /readyz
stays 200 while the spool can take messages, and says what waits in it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.messaging import status_callbacks, webhook_checks
from bot.messaging.broker import BrokerSettings, Publisher
from bot.messaging.config import TwilioSettings
from bot.messaging.gateway_spool import Spool, SpoolSettings
from bot.messaging.intake import Intake, Taken
from bot.messaging.twilio_form import FormParams, parse_form, parse_inbound
from bot.messaging.work import in_session

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MEDIA = ("whatsapp", "sms")

WEBHOOKS = Counter("gateway_webhooks_total", "Webhooks by medium and outcome", ["medium", "outcome"])
ACK_SECONDS = Histogram(
    "gateway_ack_seconds",
    "Time from a webhook's arrival to its answer",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
_names = itertools.count()


def _twiml() -> HTTPResponse:
    return response.text(EMPTY_TWIML, content_type="text/xml")


def _select_one(session: object) -> None:
    session.execute(text("SELECT 1"))  # type: ignore[attr-defined]


class Gateway:
    def __init__(self, twilio: TwilioSettings, broker: BrokerSettings, spool: SpoolSettings):
        self.twilio = twilio
        self.publisher = Publisher(broker)
        self.intake = Intake(self.publisher)
        self.spool = Spool(spool.path, self.intake, spool.max_bytes)

    async def read_form(self, request: Request) -> FormParams | None:
        """The signed form, or None when the body is over the limit (Sanic streams these routes,
        so nothing was read before this)."""
        stream, limit = request.stream, self.twilio.max_body_bytes
        length = request.headers.get("Content-Length")
        body = await webhook_checks.read_body(length, stream.read if stream else None, request.body, limit)
        if body is None and stream is not None:
            stream.request_max_size = limit  # Sanic drains no more than this, then closes
        return None if body is None else parse_form(body)

    def signed(self, request: Request, params: FormParams, medium: str, what: str) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        base = self.twilio.public_base_url
        if webhook_checks.signature_valid(
            self.twilio.auth_token,
            self.twilio.public_url(request.path) if base else "",
            request.query_string,
            params,
            signature,
        ):
            return True
        reason = "invalid" if signature else "missing"
        logger.warning("%s %s: %s X-Twilio-Signature, rejected with 403", medium, what, reason)
        return False

    async def webhook(self, request: Request, medium: str) -> HTTPResponse:
        params = await self.read_form(request)
        if params is None:
            logger.warning("%s webhook refused with 413: body over the limit", medium)
            return response.text("", status=webhook_checks.TOO_LARGE)
        if not self.signed(request, params, medium, "webhook"):
            return response.text("forbidden", status=webhook_checks.FORBIDDEN)
        try:
            message = parse_inbound(medium, params)
        except ValueError:  # InvalidPhone: no usable From number
            logger.warning("%s webhook without a usable From number: ignored", medium)
            return _twiml()
        if not webhook_checks.looks_like_message_sid(message.message_sid):
            logger.warning("%s webhook refused with 400: not a Twilio MessageSid", medium)
            return response.text("", status=webhook_checks.BAD_REQUEST)
        taken = await self.spool.take(message)
        WEBHOOKS.labels(medium, taken.value).inc()
        if taken is Taken.UNAVAILABLE:
            return response.text("", status=webhook_checks.UNAVAILABLE)
        if taken is Taken.REPEAT:
            logger.info("%s %s is a repeat: acknowledged, not stored again", medium, message.message_sid)
        return _twiml()

    async def status(self, request: Request, medium: str) -> HTTPResponse:
        params = await self.read_form(request)
        if params is None:
            return response.text("", status=webhook_checks.TOO_LARGE)
        if not self.signed(request, params, medium, "status callback"):
            return response.text("forbidden", status=webhook_checks.FORBIDDEN)
        return response.text("", status=await status_callbacks.take_status(medium, params))

    async def ready(self) -> tuple[bool, dict[str, str]]:
        """Ready while it can take messages: the database answers, or its spool takes them."""
        checks = {"broker": "ok" if self.publisher.ready else "unavailable"}
        try:
            await asyncio.wait_for(in_session(_select_one), timeout=3)
            checks["database"] = "ok"
        except (SQLAlchemyError, OSError, asyncio.TimeoutError):
            checks["database"] = "unavailable"
        waiting = self.spool.waiting()
        checks["spool"] = f"{waiting} waiting" if waiting else "empty"
        return checks["broker"] == "ok" and (checks["database"] == "ok" or self.spool.writable()), checks


def create_app(gateway: Gateway) -> Sanic:
    app = Sanic(f"pp_gateway_{next(_names)}", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = max(gateway.twilio.max_body_bytes, 1024) * 2

    async def _connect(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        gateway.publisher.start_in_background()  # not ready (/readyz) until it is connected
        gateway.spool.start()  # what a restart found in the spool goes first

    async def _close(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        await gateway.spool.stop()
        await gateway.intake.drain()
        await gateway.publisher.close()

    app.register_listener(_connect, "before_server_start")
    app.register_listener(_close, "before_server_stop")

    @app.middleware("request")
    async def _started(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    @app.middleware("response")
    async def _timed(request: Request, answer: HTTPResponse) -> None:
        if request.path.endswith(("/webhook", "/status")) and hasattr(request.ctx, "started"):
            ACK_SECONDS.observe(time.perf_counter() - request.ctx.started)

    async def health(request: Request, medium: str = "") -> HTTPResponse:
        return response.json({"status": "ok"})

    async def ready(request: Request) -> HTTPResponse:
        ok, checks = await gateway.ready()
        return response.json(checks, status=200 if ok else 503)

    async def metrics(request: Request) -> HTTPResponse:
        return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    app.add_route(health, "/", methods=["GET"], name="root")
    app.add_route(health, "/healthz", methods=["GET"], name="healthz")
    app.add_route(ready, "/readyz", methods=["GET"], name="readyz")
    app.add_route(metrics, "/metrics", methods=["GET"], name="metrics")
    for medium in MEDIA:
        _add_medium(app, gateway, medium)
    return app


def _add_medium(app: Sanic, gateway: Gateway, medium: str) -> None:
    async def webhook(request: Request) -> HTTPResponse:
        return await gateway.webhook(request, medium)

    async def status(request: Request) -> HTTPResponse:
        return await gateway.status(request, medium)

    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    base = f"/webhooks/{medium}"
    app.add_route(webhook, f"{base}/webhook", methods=["POST"], stream=True, name=f"{medium}_webhook")
    app.add_route(status, f"{base}/status", methods=["POST"], stream=True, name=f"{medium}_status")
    app.add_route(health, f"{base}/", methods=["GET"], name=f"{medium}_health")
