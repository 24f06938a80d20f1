"""Running the stand-in (and a Sanic app) in a background thread, for tests and the benchmark.

    standin = start_standin(port=4010, account_sid=..., auth_token=...)
    standin.url, standin.messages(), standin.control(fail_next=2), standin.stop()
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Optional

from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.twilio_standin.server import build_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_json(method: str, url: str, payload: Optional[dict] = None, timeout: float = 10) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode())


class StandinClient:
    """Talks to a running stand-in over HTTP (in this process or another)."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def messages(self, to: Optional[str] = None, since: int = 0, count: int = 0,
                 wait: float = 0) -> list[dict]:
        """Recorded messages; with ``count`` and ``wait`` the stand-in holds the request until
        that many match or ``wait`` seconds pass."""
        query = f"?since={since}" + (f"&to={urllib.request.quote(to)}" if to else "")
        if count and wait:
            query += f"&count={count}&wait={wait}"
        return _http_json("GET", f"{self.url}/_standin/messages{query}",
                          timeout=wait + 10)["messages"]

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

    def wait_for(self, count: int, to: Optional[str] = None, timeout: float = 15) -> list[dict]:
        return self.messages(to=to, count=count, wait=timeout)


class StandinHandle(StandinClient):
    def __init__(self, port: int, account_sid: str, auth_token: str, host: str = "127.0.0.1"):
        self.port = port or free_port()
        super().__init__(f"http://{host}:{self.port}")
        self._host = host
        self._app = build_app(account_sid, auth_token)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: Optional[web.AppRunner] = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._serve, name="twilio-standin", daemon=True)

    @property
    def state(self):
        return self._app["state"]

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._runner = web.AppRunner(self._app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self._host, self.port)
            self._loop.run_until_complete(site.start())
        except BaseException as exc:  # noqa: BLE001
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:  # status callbacks still on their way
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def start(self) -> "StandinHandle":
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def start_standin(port: int = 0, account_sid: str = "ACtest", auth_token: str = "test-token",
                  host: str = "127.0.0.1") -> StandinHandle:
    """Starts the stand-in in a daemon thread; port 0 picks a free port."""
    return StandinHandle(port, account_sid, auth_token, host).start()


def rasa_env(standin_url: str, public_base_url: str, account_sid: str = "ACtest",
             auth_token: str = "test-token") -> dict[str, str]:
    """The environment a `rasa run` needs so its WhatsApp and SMS channels use the stand-in."""
    return {
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_PUBLIC_BASE_URL": public_base_url.rstrip("/"),
        "TWILIO_API_BASE": standin_url.rstrip("/"),
        "TWILIO_SEND_ATTEMPTS": "3",
        "TWILIO_BACKOFF_BASE": "0.2",
        "TWILIO_OUTBOX_INTERVAL": "2",
    }


def twilio_address(phone: str, medium: str) -> str:
    """How Twilio writes a farmer's number: whatsapp:+521XXXXXXXXXX for a Mexican WhatsApp."""
    if medium == "whatsapp":
        if phone.startswith("+52") and len(phone) == 13:
            return f"whatsapp:+521{phone[3:]}"
        return f"whatsapp:{phone}"
    return phone


def webhook_params(
    phone: str,
    medium: str,
    body: str = "",
    *,
    to: str = "",
    message_sid: Optional[str] = None,
    profile_name: str = "",
    media: Optional[list[tuple[str, str]]] = None,
    location: Optional[tuple[float, float, str]] = None,
    account_sid: str = "ACtest",
) -> dict[str, str]:
    """The form Twilio posts for an incoming message (the fields we use, and a few more)."""
    sid = message_sid or ("MM" if media else "SM") + uuid.uuid4().hex
    address = twilio_address(phone, medium)
    params = {
        "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": account_sid,
        "From": address, "To": to or ("whatsapp:+14155238886" if medium == "whatsapp" else "+15005550006"),
        "Body": body, "NumMedia": str(len(media or [])), "NumSegments": "1",
        "SmsStatus": "received", "ApiVersion": "2010-04-01",
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


def signed_post(url: str, params: dict[str, str], auth_token: str,
                public_url: Optional[str] = None, timeout: float = 20) -> tuple[int, str, float]:
    """POSTs a form signed like Twilio's; returns (status, body, seconds taken)."""
    data = urllib.parse.urlencode(params).encode()
    signature = RequestValidator(auth_token).compute_signature(public_url or url, params)
    request = urllib.request.Request(
        url, data=data, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "X-Twilio-Signature": signature},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), time.perf_counter() - started



class SanicThread:
    """A Sanic app served from a background thread on its own loop (tests only; `rasa run` and
    Sanic's own runner are used everywhere else)."""

    def __init__(self, app, port: int = 0, host: str = "127.0.0.1"):
        self.app = app
        self.host = host
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.loop = asyncio.new_event_loop()
        self._server = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._serve, name="sanic-test", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._server = self.loop.run_until_complete(
                self.app.create_server(host=self.host, port=self.port, access_log=False,
                                       return_asyncio_server=True)
            )
            self.loop.run_until_complete(self._server.startup())
            self.loop.run_until_complete(self._server.before_start())
            self.loop.run_until_complete(self._server.after_start())
        except BaseException as exc:  # noqa: BLE001
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    def start(self) -> "SanicThread":
        self._thread.start()
        self._ready.wait(20)
        if self._error:
            raise self._error
        return self

    def call(self, coro, timeout: float = 60):
        """Runs a coroutine on the server's loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def _shutdown():
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self._server.after_stop()

        if self.loop.is_running():
            try:
                self.call(_shutdown(), timeout=20)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(20)
