"""Talking to the bot and to the stand-in as Twilio and a farmer's phone would: the stand-in's
HTTP client, the form Twilio posts for an incoming message, signing and posting it. Used by the
command-line phone (bot/twilio_standin/phone.py), the channel benchmark and the tests.

    standin = StandinClient("http://127.0.0.1:4010")
    params = webhook_params("+524431000001", "sms", "hola")
    signed_post("http://127.0.0.1:5005/webhooks/sms/webhook", params, auth_token)
    standin.wait_for(1, to=twilio_address("+524431000001", "sms"))

A webhook URL may carry Twilio's connection overrides in its fragment (``#rc=3&rp=5xx``):
``post_like_twilio`` then retries as Twilio would (by default it does not retry an answer at all,
only a connection that failed, once). Twilio documents them at
https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from twilio.request_validator import RequestValidator

from bot.phones import twilio_address


def _http_json(method: str, url: str, payload: dict | None = None, timeout: float = 10) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode())


class StandinClient:
    """Talks to a running stand-in over HTTP (in this process or another)."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def messages(self, to: str | None = None, since: int = 0, count: int = 0, wait: float = 0) -> list[dict]:
        """Recorded messages; with ``count`` and ``wait`` the stand-in holds the request until
        that many match or ``wait`` seconds pass."""
        query = f"?since={since}" + (f"&to={urllib.parse.quote(to)}" if to else "")
        if count and wait:
            query += f"&count={count}&wait={wait}"
        return _http_json("GET", f"{self.url}/_standin/messages{query}", timeout=wait + 10)["messages"]

    def attempts(self) -> int:
        return _http_json("GET", f"{self.url}/_standin/messages")["attempts"]

    def attempt_times(self) -> list[float]:
        """When each POST to Messages.json reached the stand-in (epoch seconds)."""
        return _http_json("GET", f"{self.url}/_standin/messages")["attempt_times"]

    def rate_limited(self) -> int:
        """How many sends the stand-in refused with 429 for its ``rate_limit``."""
        return _http_json("GET", f"{self.url}/_standin/messages")["rate_limited"]

    def callbacks(self) -> list[dict]:
        return _http_json("GET", f"{self.url}/_standin/callbacks")["callbacks"]

    def control(self, **settings: Any) -> dict:
        return _http_json("POST", f"{self.url}/_standin/control", settings)

    def reset(self) -> dict:
        return self.control(reset=True)

    def wait_for(self, count: int, to: str | None = None, timeout: float = 15) -> list[dict]:
        return self.messages(to=to, count=count, wait=timeout)


def webhook_params(
    phone: str,
    medium: str,
    body: str = "",
    *,
    to: str = "",
    message_sid: str | None = None,
    profile_name: str = "",
    media: list[tuple[str, str]] | None = None,
    location: tuple[float, float, str] | None = None,
    account_sid: str = "ACtest",
) -> dict[str, str]:
    """The form Twilio posts for an incoming message (the fields we use, and a few more)."""
    sid = message_sid or ("MM" if media else "SM") + uuid.uuid4().hex
    address = twilio_address(phone, medium)
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": account_sid,
        "From": address,
        "To": to or ("whatsapp:+14155238886" if medium == "whatsapp" else "+15005550006"),
        "Body": body,
        "NumMedia": str(len(media or [])),
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    if medium == "whatsapp":
        params["ProfileName"] = profile_name or "Productor"
        params["WaId"] = address.split("+", 1)[-1]
        params["MessageType"] = "text"
    for index, (url, content_type) in enumerate(media or []):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    if media:
        params["MessageType"] = media[0][1].split("/", 1)[0]
    if location:
        params["Latitude"], params["Longitude"] = str(location[0]), str(location[1])
        if location[2]:
            params["Label"] = location[2]
        params["MessageType"] = "location"
    if medium == "sms":
        params.pop("MessageType", None)
    return params


def signed_post(
    url: str, params: dict[str, str], auth_token: str, public_url: str | None = None, timeout: float = 20
) -> tuple[int, str, float]:
    """POSTs a form signed like Twilio's; returns (status, body, seconds taken)."""
    data = urllib.parse.urlencode(params).encode()
    signature = RequestValidator(auth_token).compute_signature(public_url or url, params)
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), time.perf_counter() - started


# -- Twilio's connection overrides ---------------------------------------------------------------

RETRY_POLICIES = frozenset({"4xx", "5xx", "ct", "rt", "all"})


def _bounded(value: str | None, low: int, high: int, default: int) -> int:
    try:
        return max(low, min(high, int(value))) if value is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class ConnectionOverrides:
    """What a webhook URL's fragment asks of Twilio's HTTP client: ``ct`` connect timeout and
    ``rt`` read timeout (ms), ``tt`` total time for all tries (ms), ``rc`` retries (0 to 5,
    default 1) and ``rp`` which failures are retried (``4xx``, ``5xx``, ``ct``, ``rt``, ``all``;
    default ``ct``, a connection that could not be made)."""

    connect_timeout_ms: int = 5000
    read_timeout_ms: int = 15000
    total_time_ms: int = 15000
    retry_count: int = 1
    retry_policy: frozenset[str] = frozenset({"ct"})

    @classmethod
    def of(cls, url: str) -> ConnectionOverrides:
        fragment = urllib.parse.urlsplit(url).fragment
        values = dict(urllib.parse.parse_qsl(fragment))
        policy = frozenset(p.strip() for p in values.get("rp", "ct").split(",")) & RETRY_POLICIES
        return cls(
            connect_timeout_ms=_bounded(values.get("ct"), 100, 10000, 5000),
            read_timeout_ms=_bounded(values.get("rt"), 100, 15000, 15000),
            total_time_ms=_bounded(values.get("tt"), 100, 15000, 15000),
            retry_count=_bounded(values.get("rc"), 0, 5, 1),
            retry_policy=policy or frozenset({"ct"}),
        )

    def retries(self, status: int | None, failure: str = "") -> bool:
        """Whether a try that got ``status`` (or failed: "ct" connecting, "rt" reading) is
        tried again, attempts and time permitting."""
        policy = self.retry_policy
        if "all" in policy:
            return failure != "" or status is None or status >= 400
        if failure:
            return failure in policy
        return status is not None and (
            (500 <= status < 600 and "5xx" in policy) or (400 <= status < 500 and "4xx" in policy)
        )


def without_fragment(url: str) -> str:
    """What the server receives (and what the signature covers): the URL without its fragment."""
    return urllib.parse.urlsplit(url)._replace(fragment="").geturl()


@dataclass(frozen=True)
class WebhookResult:
    status: int  # 0 when no answer came
    body: str
    seconds: float
    attempts: int


def _try_once(request: urllib.request.Request, overrides: ConnectionOverrides) -> tuple[int, str, str]:
    """(status, body, failure): failure "ct" when no connection was made, "rt" when no answer."""
    timeout = max(overrides.connect_timeout_ms, overrides.read_timeout_ms) / 1000
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(), ""
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), ""
    except urllib.error.URLError:
        return 0, "", "ct"
    except (TimeoutError, ConnectionError):
        return 0, "", "rt"


def post_like_twilio(
    url: str, params: dict[str, str], auth_token: str, public_url: str | None = None
) -> WebhookResult:
    """POSTs a signed webhook the way Twilio does for this URL: its fragment's connection
    overrides decide whether a failed try is repeated (a 503 is retried only with ``rp=5xx``
    or ``rp=all``)."""
    overrides = ConnectionOverrides.of(url)
    target = without_fragment(url)
    signed_for = without_fragment(public_url or url)
    data = urllib.parse.urlencode(params).encode()
    signature = RequestValidator(auth_token).compute_signature(signed_for, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    started = time.perf_counter()
    attempts, status, body = 0, 0, ""
    while True:
        attempts += 1
        request = urllib.request.Request(target, data=data, method="POST", headers=headers)
        status, body, failure = _try_once(request, overrides)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if (
            attempts > overrides.retry_count
            or elapsed_ms >= overrides.total_time_ms
            or not overrides.retries(status or None, failure)
        ):
            return WebhookResult(status, body, time.perf_counter() - started, attempts)
