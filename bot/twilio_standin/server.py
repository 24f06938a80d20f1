"""Local Twilio stand-in: the Messages endpoint of the REST API, recorded, with failure modes.

    python -m bot.twilio_standin.server --port 4010

Speaks ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (answers 201 with a message
SID), records every message, and when a ``StatusCallback`` was given posts signed status
callbacks (sent, delivered, and read for WhatsApp) the way Twilio does: a callback URL with
connection overrides in its fragment (``#rp=5xx&rc=2``) is retried as Twilio would, and only then
(bot/twilio_standin/client.py, ConnectionOverrides).

Inspection and control (for tests, the phone and the benchmark):
    GET  /_standin/messages[?to=ADDRESS&since=N]  recorded messages (index, sid, to, body, ...)
         [&count=K&wait=SECONDS]                  ... held until K match or SECONDS pass, so a
                                                  waiting client does not poll
    GET  /_standin/callbacks                      status callbacks posted and their HTTP answers
    POST /_standin/control  JSON: {"fail_next": N, "fail_status": 500, "retry_after": "2",
                                   "down": true|false,
                                   "statuses": ["sent", "delivered"], "latency": 0.05,
                                   "unsubscribed": ["+52..."], "callback_base": "http://127.0.0.1:5005",
                                   "reset": true}
"Down" drops every connection without an answer, as an unreachable API would.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, web
from twilio.request_validator import RequestValidator

from bot.messaging.formatting import sms_parts
from bot.twilio_standin.client import ConnectionOverrides, without_fragment

logger = logging.getLogger("twilio_standin")


@dataclass
class StandinState:
    account_sid: str = ""
    auth_token: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 500
    down: bool = False
    statuses: list[str] | None = None  # None: sent, delivered (+ read on WhatsApp)
    latency: float = 0.0
    callback_delay: float = 0.05
    unsubscribed: set[str] = field(default_factory=set)
    attempts: int = 0  # every POST to Messages.json, failed ones included
    attempt_times: list[float] = field(default_factory=list)  # when each of them came
    retry_after: str = ""  # Retry-After header sent with the failures of fail_next
    # Deliver status callbacks to this base instead of the StatusCallback's own host (signed
    # for the URL as given, as Twilio signs what it was told): a public URL behind a tunnel.
    callback_base: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set on every new message

    def record(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self.arrived.set()
        self.arrived = asyncio.Event()  # waiters hold the set one; later waits get a fresh one

    def reset(self) -> None:
        self.messages.clear()
        self.callbacks.clear()
        self.fail_next = 0
        self.fail_status = 500
        self.down = False
        self.statuses = None
        self.latency = 0.0
        self.unsubscribed.clear()
        self.attempts = 0
        self.attempt_times.clear()
        self.retry_after = ""
        self.callback_base = ""


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


def _authorised(request: web.Request, state: StandinState) -> bool:
    if not state.auth_token:
        return True
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return password == state.auth_token and (not state.account_sid or user == state.account_sid)


def _segments(body: str) -> int:
    return sms_parts(body).parts if body else 0


async def create_message(request: web.Request) -> web.StreamResponse:
    state: StandinState = request.app["state"]
    state.attempts += 1
    state.attempt_times.append(time.time())
    if state.down:
        if request.transport is not None:
            request.transport.close()  # as if the API were unreachable
        raise web.HTTPServiceUnavailable()
    if state.latency:
        await asyncio.sleep(state.latency)
    if not _authorised(request, state):
        return _error(401, 20003, "Authenticate")
    if state.fail_next > 0:
        state.fail_next -= 1
        failure = _error(
            state.fail_status, 20500 if state.fail_status >= 500 else 20429, "Stand-in failure on request"
        )
        if state.retry_after:
            failure.headers["Retry-After"] = state.retry_after
        return failure
    posted = await request.post()

    def form_value(name: str) -> str:
        value = posted.get(name, "")
        return value if isinstance(value, str) else ""

    to = form_value("To")
    body = form_value("Body")
    content_sid = form_value("ContentSid")
    sender = form_value("From") or form_value("MessagingServiceSid")
    if not to:
        return _error(400, 21604, "A 'To' phone number is required.")
    if not sender:
        return _error(400, 21603, "A 'From' phone number is required.")
    if not body and not content_sid and not form_value("MediaUrl"):
        return _error(400, 21602, "Message body is required.")
    if len(body) > 1600:
        return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    bare_to = to.split(":", 1)[-1]
    if bare_to in state.unsubscribed or to in state.unsubscribed:
        return _error(400, 21610, "Attempt to send to unsubscribed recipient")
    sid = "SM" + uuid.uuid4().hex
    record = {
        "index": len(state.messages),
        "sid": sid,
        "account_sid": request.match_info["account_sid"],
        "to": to,
        "from": form_value("From"),
        "messaging_service_sid": form_value("MessagingServiceSid"),
        "body": body,
        "content_sid": content_sid,
        "content_variables": form_value("ContentVariables"),
        "status_callback": form_value("StatusCallback"),
        "num_segments": _segments(body),
        "status": "queued",
        "received_at": time.time(),
    }
    state.record(record)
    if record["status_callback"]:
        statuses = state.statuses
        if statuses is None:
            statuses = ["sent", "delivered"] + (["read"] if to.startswith("whatsapp:") else [])
        asyncio.get_running_loop().create_task(_post_callbacks(request.app, record, list(statuses)))
    payload = {
        "sid": sid,
        "account_sid": record["account_sid"],
        "to": to,
        "from": record["from"] or None,
        "messaging_service_sid": record["messaging_service_sid"] or None,
        "body": body,
        "status": "queued",
        "num_segments": str(record["num_segments"]),
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "price": None,
        "error_code": None,
        "error_message": None,
        "date_created": None,
        "date_sent": None,
        "date_updated": None,
        "uri": f"/2010-04-01/Accounts/{record['account_sid']}/Messages/{sid}.json",
        "subresource_uris": {},
    }
    return web.json_response(payload, status=201)


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
        params["ErrorCode"] = "30003"
    return params


async def _post_once(session: ClientSession, target: str, params: dict, headers: dict) -> dict[str, Any]:
    try:
        async with session.post(target, data=params, headers=headers) as resp:
            return {"http_status": resp.status}
    except asyncio.TimeoutError:
        return {"error": "TimeoutError", "failure": "rt"}
    except Exception as exc:  # recorded for inspection
        return {"error": type(exc).__name__, "failure": "ct"}


async def _post_callbacks(app: web.Application, record: dict, statuses: list[str]) -> None:
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


def _matching(state: StandinState, to: str | None, since: int) -> list[dict]:
    return [m for m in state.messages[since:] if not to or m["to"] == to or m["to"].split(":", 1)[-1] == to]


async def list_messages(request: web.Request) -> web.Response:
    state: StandinState = request.app["state"]
    to = request.query.get("to")
    since = int(request.query.get("since", "0"))
    count = int(request.query.get("count", "0"))
    deadline = time.monotonic() + min(float(request.query.get("wait", "0")), 120.0)
    found = _matching(state, to, since)
    while len(found) < count and time.monotonic() < deadline:
        try:
            await asyncio.wait_for(state.arrived.wait(), deadline - time.monotonic())
        except asyncio.TimeoutError:
            pass
        found = _matching(state, to, since)
    return web.json_response(
        {
            "messages": found,
            "total": len(state.messages),
            "attempts": state.attempts,
            "attempt_times": state.attempt_times,
        }
    )


async def list_callbacks(request: web.Request) -> web.Response:
    return web.json_response({"callbacks": request.app["state"].callbacks})


async def control(request: web.Request) -> web.Response:
    state: StandinState = request.app["state"]
    data = await request.json() if request.can_read_body else {}
    if data.get("reset"):
        state.reset()
    if "fail_next" in data:
        state.fail_next = int(data["fail_next"])
    if "fail_status" in data:
        state.fail_status = int(data["fail_status"])
    if "retry_after" in data:
        state.retry_after = str(data["retry_after"] or "")
    if "down" in data:
        state.down = bool(data["down"])
    if "statuses" in data:
        state.statuses = data["statuses"]
    if "latency" in data:
        state.latency = float(data["latency"])
    if "callback_base" in data:
        state.callback_base = str(data["callback_base"] or "")
    if "unsubscribed" in data:
        state.unsubscribed = set(data["unsubscribed"])
    return web.json_response(
        {
            "fail_next": state.fail_next,
            "fail_status": state.fail_status,
            "down": state.down,
            "statuses": state.statuses,
            "latency": state.latency,
            "messages": len(state.messages),
        }
    )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "down": request.app["state"].down})


def build_app(account_sid: str = "", auth_token: str = "") -> web.Application:
    app = web.Application()
    app["state"] = StandinState(account_sid=account_sid, auth_token=auth_token)
    app.router.add_post("/2010-04-01/Accounts/{account_sid}/Messages.json", create_message)
    app.router.add_get("/_standin/messages", list_messages)
    app.router.add_get("/_standin/callbacks", list_callbacks)
    app.router.add_post("/_standin/control", control)
    app.router.add_get("/_standin/health", health)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID", ""))
    parser.add_argument(
        "--auth-token",
        default=os.environ.get("TWILIO_AUTH_TOKEN", ""),
        help="checks Basic auth and signs status callbacks (default: env)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(
        f"Twilio stand-in on http://{args.host}:{args.port} "
        f"(point the bot at it with TWILIO_API_BASE=http://{args.host}:{args.port})",
        flush=True,
    )
    web.run_app(
        build_app(args.account_sid, args.auth_token),
        host=args.host,
        port=args.port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
