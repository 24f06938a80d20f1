"""Local Twilio stand-in: the Messages endpoints of the REST API, recorded, with failure modes.

    python -m bot.twilio_standin.server --port 4010

Speaks ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (answers 201 with a message
SID), records every message, and when a ``StatusCallback`` was given posts signed status
callbacks (sent, delivered, and read for WhatsApp) the way Twilio does: a callback URL with
connection overrides in its fragment (``#rp=5xx&rc=2``) is retried as Twilio would, and only then
(bot/twilio_standin/callbacks.py). ``GET`` on the same path is Twilio's message list, with its
``To``, ``From`` and ``DateSent`` filters and pages (bot/twilio_standin/listing.py).

Inspection and control (for tests, the phone and the benchmark):
    GET  /_standin/messages[?to=ADDRESS&since=N]  recorded messages (index, sid, to, body, ...)
         [&count=K&wait=SECONDS]                  ... held until K match or SECONDS pass, so a
                                                  waiting client does not poll; with the times
                                                  each send (attempt_times) and each list
                                                  request (list_times) came
    GET  /_standin/callbacks                      status callbacks posted and their HTTP answers
    POST /_standin/control  JSON: {"fail_next": N, "fail_status": 500, "retry_after": "2",
                                   "fail_for": SECONDS,
                                   "lose_answers": N, "lose_how": "reset"|"delay",
                                   "lose_delay": 30, "lose_received": true|false,
                                   "down": true|false,
                                   "statuses": ["sent", "delivered"], "latency": 0.05,
                                   "unsubscribed": ["+52..."], "callback_base": "http://127.0.0.1:5005",
                                   "templates": {"HX...": "text with {{1}}"},
                                   "enforce_window": true, "inbound": {"whatsapp:+52...": EPOCH},
                                   "rate_limit": 50, "reset": true}
"fail_next" answers the next N sends with "fail_status" (429 or 5xx; "retry_after" adds the
header), "fail_for" every send for that many seconds. "lose_answers" loses the answer of the next
N sends: the connection is reset ("reset") or the answer held past the client's timeout
("delay"), after the message was taken ("lose_received": true, the default: the phone gets it)
or without taking it. "Down" drops every connection without an answer, as an unreachable API
would (the list too). "templates" registers approved Content templates (a send with another
ContentSid gets 21655; the recorded body is the filled template); with "enforce_window", free
text to a WhatsApp address that has not written ("inbound": when each address last wrote) in 24
hours is taken and then fails with 63016, as Twilio does. "rate_limit" is Twilio's throughput per
sender: a send that would put its From (or Messaging Service) over that many units in the last
second (SMS: billed parts; WhatsApp: one a message) gets 429 (20429); GET /_standin/messages
reports how many it refused (``rate_limited``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import socket
import struct
import time
import uuid

from aiohttp import web

from bot.messaging.formatting import sms_parts
from bot.twilio_standin.callbacks import post_callbacks
from bot.twilio_standin.listing import list_page, resource
from bot.twilio_standin.state import StandinState

logger = logging.getLogger("twilio_standin")


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


def _drop(request: web.Request, reset: bool = False) -> web.HTTPException:
    """Closes the connection without an answer: cleanly (as an API that is down), or with a
    reset (as an answer lost on its way back)."""
    transport = request.transport
    if transport is not None:
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return web.HTTPServiceUnavailable()


async def create_message(request: web.Request) -> web.StreamResponse:
    state: StandinState = request.app["state"]
    state.attempts += 1
    state.attempt_times.append(time.time())
    if state.down:
        await request.read()  # the whole request read, then closed: no reset
        raise _drop(request)
    if state.latency:
        await asyncio.sleep(state.latency)
    if not _authorised(request, state):
        return _error(401, 20003, "Authenticate")
    if state.failing():
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
    if content_sid and state.templates and content_sid not in state.templates:
        return _error(400, 21655, "The ContentSid is Invalid")
    if content_sid in state.templates:
        body = fill_template(state.templates[content_sid], form_value("ContentVariables"))
    outside_window = (
        to.startswith("whatsapp:") and not content_sid and state.enforce_window
        and not state.in_window(to, time.time())
    )  # fmt: skip
    units = 1 if to.startswith("whatsapp:") else max(1, _segments(body))
    if state.over_rate(sender, units, time.time()):
        return _error(429, 20429, "Too Many Requests")
    losing = state.losing()
    if losing and not state.lose_received:
        return await _lose_answer(request, state)
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
    if outside_window:  # Twilio takes it, then it fails: free text outside the 24-hour window
        record["error_code"] = "63016"
    state.record(record)
    if record["status_callback"]:
        statuses = ["failed"] if outside_window else state.statuses
        if statuses is None:
            statuses = ["sent", "delivered"] + (["read"] if to.startswith("whatsapp:") else [])
        asyncio.get_running_loop().create_task(post_callbacks(request.app, record, list(statuses)))
    if losing:
        return await _lose_answer(request, state)
    return web.json_response(resource(record), status=201)


def fill_template(template: str, variables_json: str) -> str:
    """A Content template's text with its {{n}} variables filled in, as the phone shows it."""
    try:
        variables = json.loads(variables_json or "{}")
    except ValueError:
        variables = {}
    for key, value in (variables if isinstance(variables, dict) else {}).items():
        template = template.replace("{{" + str(key) + "}}", str(value))
    return template


async def _lose_answer(request: web.Request, state: StandinState) -> web.StreamResponse:
    if state.lose_how == "delay":
        await asyncio.sleep(state.lose_delay)  # the client has given up long before
        return _error(504, 20504, "Stand-in answer held back")
    raise _drop(request, reset=True)


async def list_twilio_messages(request: web.Request) -> web.StreamResponse:
    state: StandinState = request.app["state"]
    if state.down:
        raise _drop(request)
    if not _authorised(request, state):
        return _error(401, 20003, "Authenticate")
    return list_page(request, state)


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
            "list_times": state.list_times,
            "rate_limited": state.rate_limited,
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
    if "fail_for" in data:
        state.fail_until = time.time() + float(data["fail_for"] or 0)
    if "lose_answers" in data:
        state.lose_answers = int(data["lose_answers"])
    if "lose_how" in data:
        state.lose_how = "delay" if data["lose_how"] == "delay" else "reset"
    if "lose_delay" in data:
        state.lose_delay = float(data["lose_delay"])
    if "lose_received" in data:
        state.lose_received = bool(data["lose_received"])
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
    if "templates" in data:
        state.templates.update({str(sid): str(text) for sid, text in (data["templates"] or {}).items()})
    if "enforce_window" in data:
        state.enforce_window = bool(data["enforce_window"])
    if "rate_limit" in data:
        state.rate_limit = float(data["rate_limit"] or 0)
    for address, at in (data.get("inbound") or {}).items():  # the farmer wrote from it then (epoch)
        state.last_inbound[str(address)] = float(at or time.time())
    return web.json_response(
        {
            "fail_next": state.fail_next,
            "fail_status": state.fail_status,
            "fail_for": max(0.0, state.fail_until - time.time()),
            "lose_answers": state.lose_answers,
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
    app.router.add_get("/2010-04-01/Accounts/{account_sid}/Messages.json", list_twilio_messages)
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
