"""Sending messages through Twilio's REST API with the library's async client.

Each send has a timeout and is retried with exponential back-off (and jitter) on 429, 5xx,
timeouts and connection errors; other 4xx answers are final. A ``Retry-After`` header on 429 or
503 is obeyed: a wait up to ``backoff_max`` is waited here, a longer one is left to the outbox,
which will not try before it. TWILIO_API_BASE points the client at
the local stand-in instead of https://api.twilio.com.
"""

from __future__ import annotations

import asyncio
import logging
import random
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.messaging.config import TwilioSettings
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
    attempts: int
    sid: str = ""
    status: str = ""
    error: str = ""
    error_code: str | None = None
    retryable: bool = False
    retry_after: float | None = None  # seconds Twilio asked us to wait (Retry-After)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, TwilioRestException):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, OSError))


def _describe(exc: BaseException) -> tuple[str, str | None]:
    if isinstance(exc, TwilioRestException):
        return f"HTTP {exc.status} (code {exc.code})", str(exc.code) if exc.code else None
    return type(exc).__name__, None


class TwilioSender:
    """One per process and event loop; the aiohttp session is made on first use."""

    def __init__(self, settings: TwilioSettings):
        self.settings = settings
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

    async def send(
        self,
        *,
        medium: str,
        to_address: str,
        body: str = "",
        content_sid: str | None = None,
        content_variables: str | None = None,
        attempts: int | None = None,
    ) -> SendResult:
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
        last_exc: BaseException | None = None
        retry_after: float | None = None
        for attempt in range(1, attempts + 1):
            _retry_after.set(None)
            try:
                client = self._ensure_client()
                message = await client.messages.create_async(**params)
                return SendResult(True, attempt, sid=message.sid, status=message.status or "queued")
            except (TwilioException, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                last_exc = exc
                error, code = _describe(exc)
                if not _retryable(exc):
                    logger.warning("twilio send to %s refused: %s", mask_phone(to_address), error)
                    return SendResult(False, attempt, error=error, error_code=code, retryable=False)
                retry_after = _retry_after.get()
                if retry_after is not None and retry_after > self.settings.backoff_max:
                    logger.info(
                        "twilio asks to wait %.0fs before sending to %s: left to the outbox",
                        retry_after,
                        mask_phone(to_address),
                    )
                    return SendResult(
                        False, attempt, error=error, error_code=code, retryable=True, retry_after=retry_after
                    )
                if attempt < attempts:
                    delay = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt - 1))
                    delay *= random.uniform(0.8, 1.2)
                    if retry_after is not None:
                        delay = retry_after
                    logger.info(
                        "twilio send to %s failed (%s), retry %d in %.1fs",
                        mask_phone(to_address),
                        error,
                        attempt,
                        delay,
                    )
                    await asyncio.sleep(delay)
        error, code = _describe(last_exc) if last_exc else ("unknown", None)
        logger.warning(
            "twilio send to %s failed after %d attempts: %s", mask_phone(to_address), attempts, error
        )
        return SendResult(
            False, attempts, error=error, error_code=code, retryable=True, retry_after=retry_after
        )
