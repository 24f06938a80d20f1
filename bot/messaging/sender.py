"""Sending messages through Twilio's REST API with the library's async client.

Each send has a timeout and is retried with exponential back-off (and jitter) on 429, 5xx and
connections that could not be made or were closed before any answer; other 4xx answers are final.
Each try first waits for its turn on its sender's pace, shared by every process that sends
(bot/messaging/pacing.py), so together they stay under Twilio's rate. A ``Retry-After`` header on
429 or 503 is obeyed: it pauses that sender (its From address or
Messaging Service) in this process for that long, a wait up to ``backoff_max`` is waited here, and
a longer one is left to the outbox, which will not try before it.

Twilio's Messages API has no idempotency key, so a send whose answer was lost (a timeout after
the request went out, a connection reset while waiting for or reading the answer) is never retried
here: it comes back *uncertain*, and the outbox looks it up in Twilio's message list
(``list_sent``) before any retry (bot/messaging/dispatch.py). A connection closed cleanly before
a single byte of answer is taken as not received: Twilio answers every request it processes, and
that is what a pooled keep-alive connection the far end had dropped, or an API that is down, does.

TWILIO_API_BASE points the client at the local stand-in instead of https://api.twilio.com.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.messaging.config import TwilioSettings
from bot.messaging.pacing import SharedPace, units_of
from bot.phones import mask_phone
from bot.timeutil import utcnow

logger = logging.getLogger(__name__)
# The library logs every request and response at INFO (URL and headers): keep that out of the
# server log unless someone asks for it.
_http_logger = logging.getLogger("bot.messaging.twilio_http")
_http_logger.setLevel(logging.WARNING)

UNSUBSCRIBED_RECIPIENT = 21610  # Twilio: the recipient replied STOP at the carrier level
# The Retry-After of the last answer in this task (the library's exception does not carry headers;
# a context variable set in the awaited HTTP call is seen by the sending task, and by no other).
_retry_after: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - utcnow()).total_seconds())


class _HttpClient(AsyncTwilioHttpClient):
    """The library's async client with two fixes we need: the client-wide timeout is applied
    to every request (8.x ignores it), and the host can be rewritten to the stand-in."""

    def __init__(self, timeout: float, api_base: str = ""):
        super().__init__(pool_connections=True, timeout=timeout, logger=_http_logger)
        self._api_base = urlsplit(api_base) if api_base else None

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self._api_base is not None:
            parts = urlsplit(url)
            url = urlunsplit(
                (
                    self._api_base.scheme,
                    self._api_base.netloc,
                    self._api_base.path.rstrip("/") + parts.path,
                    parts.query,
                    parts.fragment,
                )
            )
        response = await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )
        waiting = None
        if response.status_code in (429, 503) and response.headers is not None:
            waiting = parse_retry_after(response.headers.get("Retry-After"))
        _retry_after.set(waiting)
        return response


@dataclass(frozen=True)
class SendResult:
    ok: bool
    attempts: int  # requests made; 0 when the sender was paused and nothing went out
    sid: str = ""
    status: str = ""
    error: str = ""
    error_code: str | None = None
    retryable: bool = False
    retry_after: float | None = None  # seconds Twilio asked us to wait (Retry-After)
    # The answer was lost: Twilio may have the message. When the try that lost it began.
    uncertain_since: datetime | None = None

    @property
    def uncertain(self) -> bool:
        return self.uncertain_since is not None

    @property
    def paused(self) -> bool:
        """Nothing was sent: the sender waits out a Retry-After."""
        return not self.ok and self.attempts == 0


@dataclass(frozen=True)
class ListedMessage:
    """One message of Twilio's message list, as far as reconciling a send needs it."""

    sid: str
    to: str
    body: str
    status: str
    direction: str
    created: datetime | None


class Sendable(Protocol):
    """What a message to send has (bot.messaging.outbound's Outgoing, outbox_claims' OutboxItem)."""

    @property
    def medium(self) -> str: ...
    @property
    def to_address(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def content_sid(self) -> str | None: ...
    @property
    def content_variables(self) -> str | None: ...
    @property
    def in_reply_to(self) -> str | None: ...


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, TwilioRestException):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, OSError))


def _answer_lost(exc: BaseException) -> bool:
    """Whether the request may have reached Twilio while its answer did not reach us."""
    if isinstance(exc, (TwilioRestException, aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)):
        return False  # an answer came, or no connection was made, or it closed before answering
    return isinstance(exc, (asyncio.TimeoutError, aiohttp.ClientOSError, aiohttp.ClientPayloadError))


def message_ref(to_address: str, in_reply_to: str | None) -> str:
    """How a log line names a message: the masked number and the MessageSid it answers."""
    return f"{mask_phone(to_address)} (in_reply_to {in_reply_to or '-'})"


def _describe(exc: BaseException) -> tuple[str, str | None]:
    if isinstance(exc, TwilioRestException):
        return f"HTTP {exc.status} (code {exc.code})", str(exc.code) if exc.code else None
    return type(exc).__name__, None


class SenderPauses:
    """Senders Twilio asked to wait (Retry-After), until when: nothing is sent from a paused
    From address or Messaging Service until its pause ends."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def pause(self, sender: str, seconds: float) -> None:
        until = time.monotonic() + seconds
        self._until[sender] = max(until, self._until.get(sender, 0.0))

    def remaining(self, sender: str) -> float:
        left = self._until.get(sender, 0.0) - time.monotonic()
        if left <= 0:
            self._until.pop(sender, None)
            return 0.0
        return left

    def clear(self) -> None:
        self._until.clear()


class TwilioSender:
    """One per process and event loop; the aiohttp session is made on first use."""

    def __init__(self, settings: TwilioSettings, pace: SharedPace | None = None):
        self.settings = settings
        self.pauses = SenderPauses()
        # Every try waits for its turn on its sender's pace, shared by all processes.
        self.pace = pace or SharedPace(settings.sends_per_second)
        self._client: Client | None = None
        self._http: _HttpClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ensure_client(self) -> Client:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._http = _HttpClient(self.settings.send_timeout, self.settings.api_base)
            self._client = Client(self.settings.account_sid, self.settings.auth_token, http_client=self._http)
            self._loop = loop
        return self._client

    async def close(self) -> None:
        if self._http is not None and self._http.session is not None:
            await self._http.session.close()
        self._client = self._http = None

    def status_callback(self, medium: str) -> str | None:
        if self.settings.status_callbacks and self.settings.public_base_url:
            return self.settings.public_url(f"/webhooks/{medium}/status")
        return None

    def sender_key(self, medium: str) -> str:
        """The From address or Messaging Service a medium sends from (what a pause applies to)."""
        return next(iter(self.settings.sender_for(medium).values()))

    async def send(
        self,
        *,
        medium: str,
        to_address: str,
        body: str = "",
        content_sid: str | None = None,
        content_variables: str | None = None,
        attempts: int | None = None,
        in_reply_to: str | None = None,
        reserved: float | None = None,
    ) -> SendResult:
        """``reserved``: the first try's turn on the pace, when the caller reserved it already
        (``reserve_turn``)."""
        attempts = max(1, attempts or self.settings.send_attempts)
        params = dict(self.settings.sender_for(medium))
        params["to"] = to_address
        if content_sid:
            params["content_sid"] = content_sid
            if content_variables:
                params["content_variables"] = content_variables
        else:
            params["body"] = body
        callback = self.status_callback(medium)
        if callback:
            params["status_callback"] = callback
        key = self.sender_key(medium)
        units = units_of(medium, body, content_sid)
        who = message_ref(to_address, in_reply_to)
        last_exc: BaseException | None = None
        retry_after: float | None = None
        for attempt in range(1, attempts + 1):
            waiting = self.pauses.remaining(key)
            if waiting > self.settings.backoff_max:
                logger.info(
                    "sender paused %.0fs more (Retry-After): reply to %s left to the outbox", waiting, who
                )
                return SendResult(
                    False, attempt - 1, error="paused (Retry-After)", retryable=True, retry_after=waiting
                )
            if waiting:
                await asyncio.sleep(waiting)
            client = self._ensure_client()  # made before the turn, so making it does not use the turn up
            await self.pace.wait(key, units, reserved if attempt == 1 else None)
            _retry_after.set(None)
            started = utcnow()
            try:
                message = await client.messages.create_async(**params)
                return SendResult(True, attempt, sid=message.sid, status=message.status or "queued")
            except (TwilioException, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                last_exc = exc
                error, code = _describe(exc)
                if _answer_lost(exc):
                    logger.warning(
                        "twilio's answer to %s lost (%s): uncertain, looked up before any retry", who, error
                    )
                    return SendResult(
                        False, attempt, error=error, error_code=code, retryable=True, uncertain_since=started
                    )
                if not _retryable(exc):
                    logger.warning("twilio send to %s refused: %s", who, error)
                    return SendResult(False, attempt, error=error, error_code=code, retryable=False)
                retry_after = _retry_after.get()
                if retry_after is not None:
                    self.pauses.pause(key, retry_after)
                if retry_after is not None and retry_after > self.settings.backoff_max:
                    logger.info(
                        "twilio asks to wait %.0fs before sending to %s: left to the outbox", retry_after, who
                    )
                    return SendResult(
                        False, attempt, error=error, error_code=code, retryable=True, retry_after=retry_after
                    )
                if attempt < attempts:
                    delay = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt - 1))
                    delay *= random.uniform(0.8, 1.2)
                    if retry_after is not None:
                        delay = 0.0  # the sender's pause, waited at the top of the loop
                    logger.info(
                        "twilio send to %s failed (%s), retry %d in %.1fs", who, error, attempt, delay
                    )
                    await asyncio.sleep(delay)
        error, code = _describe(last_exc) if last_exc else ("unknown", None)
        logger.warning("twilio send to %s failed after %d attempts: %s", who, attempts, error)
        return SendResult(
            False, attempts, error=error, error_code=code, retryable=True, retry_after=retry_after
        )

    def reserve_turn(self, session: Session, message: Sendable) -> float | None:
        """The message's first turn on its sender's pace, in the caller's unit of work: passed to
        ``send_message`` as ``reserved``, it saves the send a unit of work of its own."""
        units = units_of(message.medium, message.body, message.content_sid)
        return self.pace.reserve_in(session, self.sender_key(message.medium), units)

    async def send_message(
        self, message: Sendable, attempts: int | None = None, reserved: float | None = None
    ) -> SendResult:
        """``send`` for a reply or notice already shaped (an Outgoing, an outbox entry)."""
        return await self.send(
            medium=message.medium,
            to_address=message.to_address,
            body=message.body,
            content_sid=message.content_sid,
            content_variables=message.content_variables,
            attempts=attempts,
            in_reply_to=message.in_reply_to,
            reserved=reserved,
        )

    async def list_sent(
        self, to_address: str, since: datetime, in_reply_to: str | None = None
    ) -> list[ListedMessage] | None:
        """Twilio's messages to an address sent since the start of ``since``'s day (UTC), by
        ``GET Messages.json?To=…&DateSent>=…``; None when the list cannot be read now."""
        try:
            client = self._ensure_client()
            found = await client.messages.list_async(
                to=to_address, date_sent_after=since.date(), page_size=100, limit=1000
            )
        except (TwilioException, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            who = message_ref(to_address, in_reply_to)
            logger.warning("twilio's message list for %s unavailable: %s", who, _describe(exc)[0])
            return None
        return [
            ListedMessage(
                sid=m.sid or "",
                to=m.to or "",
                body=m.body or "",
                status=str(m.status or ""),
                direction=str(m.direction or ""),
                created=m.date_created or m.date_sent,
            )
            for m in found
        ]
