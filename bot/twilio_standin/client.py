"""Talking to the bot and to the stand-in as Twilio and a farmer's phone would: the stand-in's
HTTP client, the form Twilio posts for an incoming message, signing and posting it. Used by the
command-line phone (bot/twilio_standin/phone.py), the channel benchmark and the tests.

    standin = StandinClient("http://127.0.0.1:4010")
    params = webhook_params("+524431000001", "sms", "hola")
    signed_post("http://127.0.0.1:5005/webhooks/sms/webhook", params, auth_token)
    standin.wait_for(1, to=twilio_address("+524431000001", "sms"))
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
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
