"""The stand-in's status callbacks: posted, signed, to a message's StatusCallback the way Twilio
does, retried as the URL's connection overrides (``#rp=5xx&rc=2``) ask, and recorded."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, web
from twilio.request_validator import RequestValidator

from bot.twilio_standin.client import ConnectionOverrides, without_fragment
from bot.twilio_standin.state import StandinState


def _status_params(record: dict, status: str) -> dict[str, str]:
    params = {
        "MessageSid": record["sid"],
        "SmsSid": record["sid"],
        "AccountSid": record["account_sid"],
        "MessageStatus": status,
        "SmsStatus": status,
        "To": record["to"],
        "From": record["from"],
        "ApiVersion": "2010-04-01",
    }
    if status in ("failed", "undelivered"):
        params["ErrorCode"] = record.get("error_code") or "30003"
    return params


async def _post_once(session: ClientSession, target: str, params: dict, headers: dict) -> dict[str, Any]:
    try:
        async with session.post(target, data=params, headers=headers) as resp:
            return {"http_status": resp.status}
    except asyncio.TimeoutError:
        return {"error": "TimeoutError", "failure": "rt"}
    except Exception as exc:  # recorded for inspection
        return {"error": type(exc).__name__, "failure": "ct"}


async def post_callbacks(app: web.Application, record: dict, statuses: list[str]) -> None:
    state: StandinState = app["state"]
    validator = RequestValidator(state.auth_token or "")
    url = record["status_callback"]
    overrides = ConnectionOverrides.of(url)
    signed_url = without_fragment(url)  # what the server receives, and what is signed
    target = signed_url
    if state.callback_base:
        parts = urlsplit(signed_url)
        target = state.callback_base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    timeout = ClientTimeout(
        total=overrides.read_timeout_ms / 1000, sock_connect=overrides.connect_timeout_ms / 1000
    )
    async with ClientSession(timeout=timeout) as session:
        for status in statuses:
            await asyncio.sleep(state.callback_delay)
            params = _status_params(record, status)
            headers = {"X-Twilio-Signature": validator.compute_signature(signed_url, params)}
            started, attempts = time.monotonic(), 0
            while True:
                attempts += 1
                outcome = await _post_once(session, target, params, headers)
                spent_ms = (time.monotonic() - started) * 1000
                if (
                    attempts > overrides.retry_count
                    or spent_ms >= overrides.total_time_ms
                    or not overrides.retries(outcome.get("http_status"), outcome.get("failure", ""))
                ):
                    break
            outcome.update(sid=record["sid"], status=status, url=url, attempts=attempts)
            outcome.pop("failure", None)
            state.callbacks.append(outcome)
            record["status"] = status
